"""lstmcast.config: the settings of a run, importable without torch or pandas."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lstmcast.config import OPTIMIZERS, PRESETS, ForecastConfig, TrainConfig
from lstmcast.errors import ConfigError


def _modules_after(code: str) -> set[str]:
    """The heavy modules a fresh interpreter has loaded after running ``code``."""
    heavy = "('torch', 'pandas')"
    probe = f"{code}\nimport sys; print(' '.join(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(out.stdout.split())


def test_the_config_module_imports_neither_torch_nor_pandas():
    assert _modules_after(
        "from lstmcast.config import ForecastConfig\nForecastConfig(horizon=24, preset='stacked')"
    ) == {"pandas"}  # checking the categorical setting reads the encodings the table reader knows
    assert _modules_after("import lstmcast.config") == set()


def test_help_builds_every_flag_without_importing_torch():
    """`lstmcast --help` and `lstmcast train --help` used to take 3-4 s: the parser read
    ForecastConfig from the module that trains, which imports torch."""
    loaded = _modules_after(
        "import lstmcast.cli as cli\ncli._load_commands()\n"
        "parser = cli.build_parser()\n"
        "assert '--units' in parser._subparsers._group_actions[0].choices['train'].format_help()"
    )
    assert "torch" not in loaded


def test_help_never_shows_a_python_none_a_user_cannot_type():
    """`--progress` read "progress bar; None: only on a terminal (default: None)"."""
    import lstmcast.cli as cli

    cli._load_commands()
    choices = cli.build_parser()._subparsers._group_actions[0].choices
    for name in ("train", "compare", "evaluate", "predict", "tune"):
        text = " ".join(choices[name].format_help().split())
        assert "None" not in text, name
    train = " ".join(choices["train"].format_help().split())
    assert "--no-progress progress bar; default: only on a terminal" in train
    assert "--val-end VAL_END last timestamp of the validation split (default: unset)" in train
    assert "unset: adamw 0.01, else 0 --seed" in train  # its own words say what unset means


def test_the_training_loop_has_an_optimiser_class_for_every_name():
    from lstmcast.train import OPTIMIZERS as CLASSES

    assert tuple(CLASSES) == OPTIMIZERS


def test_the_old_import_paths_still_name_the_same_classes():
    import lstmcast
    from lstmcast.forecaster import ForecastConfig as FromForecaster
    from lstmcast.models import PRESETS as FromModels
    from lstmcast.train import TrainConfig as FromTrain

    assert FromForecaster is ForecastConfig is lstmcast.ForecastConfig
    assert FromTrain is TrainConfig and FromModels is PRESETS


def test_a_preset_resolves_its_fields_and_refuses_a_clash():
    assert ForecastConfig(preset="stacked").units == [64, 32]
    with pytest.raises(ConfigError, match=r"preset 'stacked' sets the network .* --units"):
        ForecastConfig(preset="stacked", units=[8])
    with pytest.raises(ConfigError, match=r"optimizer must be one of adam, adamw, sgd, rmsprop"):
        ForecastConfig(optimizer="lbfgs")


def test_stored_configs_that_older_lstmcast_wrote_still_load():
    """Settings a new run is refused (huber_delta without the huber loss, fractions on
    beijing-pm25) or that torch takes (seeds up to 2**64 - 1) are what older model files and
    checkpoints hold: reading them back must not call the files damaged."""
    from lstmcast.config import ForecastConfig

    ForecastConfig(huber_delta=2.0)
    ForecastConfig(data="beijing-pm25", train_fraction=0.6)
    ForecastConfig(seed=2**64 - 1)
    with pytest.raises(
        ConfigError, match=r"^seed must be a whole number in \[-2\*\*63, 2\*\*64 - "
    ):
        ForecastConfig(seed=2**64 - 1, ensemble=2)  # the second network's seed overflows
