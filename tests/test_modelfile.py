"""Model files: the committed fixture still loads and predicts; damaged, foreign or malicious files
are refused with a ModelFileError and never run code."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

import lstmcast
from lstmcast.cli import main
from lstmcast.errors import ModelFileError
from lstmcast.modelfile import FORMAT_VERSION, MANIFEST, WEIGHTS

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class Evil:
    """A pickle that creates a directory when it is unpickled: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A fresh copy of the fixture model that a test may damage."""
    return Path(shutil.copytree(FIXTURES / "model_v1", tmp_path / "model"))


def _manifest(model: Path) -> dict:
    return json.loads((model / MANIFEST).read_text())


def _write_manifest(model: Path, manifest: dict) -> None:
    (model / MANIFEST).write_text(json.dumps(manifest))


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the fixture
def test_the_fixture_model_loads_and_predicts_the_stored_forecast():
    fc = lstmcast.load(FIXTURES / "model_v1")
    forecast = fc.predict(str(FIXTURES / "recent.csv"))
    expected = pd.read_csv(FIXTURES / "expected_forecast.csv", index_col="time", parse_dates=True)
    assert list(forecast.index) == list(expected.index)
    assert list(forecast.columns) == ["load"]
    np.testing.assert_allclose(forecast.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-6)
    assert fc.config.units == [4] and fc.config.lookback == 6 and fc.config.horizon == 2


def test_the_fixture_is_small_and_of_the_current_format():
    size = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert size < 50_000
    assert _manifest(FIXTURES / "model_v1")["format_version"] == FORMAT_VERSION == 1


def test_the_cli_predicts_the_fixture_forecast(tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert main(["predict", str(FIXTURES / "model_v1"), "--data", str(FIXTURES / "recent.csv"),
                 "--output", str(out)]) == 0  # fmt: skip
    got = pd.read_csv(out, index_col="time")
    expected = pd.read_csv(FIXTURES / "expected_forecast.csv", index_col="time")
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-6)


def test_a_frequency_in_the_old_spelling_loads_and_stamps_the_same_forecast(model_dir):
    """pandas 2 wrote 'H' where pandas 3 writes 'h' (and refuses 'H'): such a file still works."""
    manifest = _manifest(model_dir)
    assert manifest["freq"] == "h"
    manifest["freq"] = "H"
    _write_manifest(model_dir, manifest)
    fc = lstmcast.load(model_dir)
    assert fc.freq_ == "h"
    forecast = fc.predict(str(FIXTURES / "recent.csv"))
    expected = pd.read_csv(FIXTURES / "expected_forecast.csv", index_col="time", parse_dates=True)
    assert list(forecast.index) == list(expected.index)
    np.testing.assert_allclose(forecast.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-6)


# ---------------------------------------------------------------- damaged and foreign files
def test_a_newer_format_asks_for_an_upgrade(model_dir):
    manifest = _manifest(model_dir)
    manifest["format_version"] = FORMAT_VERSION + 1
    _write_manifest(model_dir, manifest)
    with pytest.raises(ModelFileError, match=r"format version 2, newer than .*: upgrade lstmcast"):
        lstmcast.load(model_dir)


def test_truncated_weights_fail_the_checksum(model_dir):
    data = (model_dir / WEIGHTS).read_bytes()
    (model_dir / WEIGHTS).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="does not match the checksum in its manifest"):
        lstmcast.load(model_dir)


def test_a_flipped_byte_in_the_weights_fails_the_checksum(model_dir):
    data = bytearray((model_dir / WEIGHTS).read_bytes())
    data[-3] ^= 0x40  # inside the last tensor: safetensors alone would load it silently
    (model_dir / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupted or was replaced"):
        lstmcast.load(model_dir)


def test_truncated_weights_without_a_checksum_are_not_readable_safetensors(model_dir):
    manifest = _manifest(model_dir)
    del manifest["weights_sha256"]  # as an older file would be
    _write_manifest(model_dir, manifest)
    data = (model_dir / WEIGHTS).read_bytes()
    (model_dir / WEIGHTS).write_bytes(data[: len(data) - 100])
    with pytest.raises(ModelFileError, match="is not a readable safetensors file .*truncated"):
        lstmcast.load(model_dir)


def test_missing_weights(model_dir):
    (model_dir / WEIGHTS).unlink()
    with pytest.raises(ModelFileError, match="is missing: the model directory is incomplete"):
        lstmcast.load(model_dir)


def test_a_truncated_manifest_is_not_valid_json(model_dir):
    text = (model_dir / MANIFEST).read_text()
    (model_dir / MANIFEST).write_text(text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="is not valid JSON .*truncated or corrupted"):
        lstmcast.load(model_dir)


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.pop("inputs"),
        lambda m: m.update(config=["not", "a", "dict"]),
        lambda m: m["config"].update(units=[0]),
        lambda m: m.update(scaler={"kind": "robust"}),
    ],
)
def test_a_damaged_manifest_is_named(model_dir, damage):
    manifest = _manifest(model_dir)
    damage(manifest)
    _write_manifest(model_dir, manifest)
    with pytest.raises(ModelFileError, match="manifest.json is damaged .*retrain"):
        lstmcast.load(model_dir)


def _set_scaler(key, index, value):
    return lambda m: m["scaler"][key].__setitem__(index, value)


# (damage done by hand to the fixture's manifest, the words that must name it)
HAND_DAMAGE = {
    "encoding not a mapping": (
        lambda m: m.update(encodings={"wind": "abc"}),
        r"encodings\['wind'\] must be a mapping of kind, categories, columns, got 'abc'",
    ),
    "encodings a number": (
        lambda m: m.update(encodings=5),
        "encodings must map text columns to their encoding, got 5",
    ),
    "unknown encoding kind": (
        lambda m: m["encodings"]["wind"].update(kind="hash"),
        r"encodings\['wind'\] kind must be one of \['label', 'onehot'\], got 'hash'",
    ),
    "one-hot with too few columns": (
        lambda m: m["encodings"]["wind"].update(kind="onehot"),
        r"encodings\['wind'\] columns must be a list of 3 name\(s\), got \['wind'\]",
    ),
    "split ends out of order": (
        lambda m: m.update(split_ends=["2021-03-05 00:00:00", "2021-03-01 00:00:00"]),
        r"split_ends must be \[last training time, last validation time\], got \['2021-03-05",
    ),
    "split ends not times": (
        lambda m: m.update(split_ends=["soon", "later"]),
        r"split_ends must be \[last training time, last validation time\], got \['soon'",
    ),
    "split ends a number": (
        lambda m: m.update(split_ends=3),
        r"split_ends must be \[last training time, last validation time\], got 3",
    ),
    "unknown frequency": (
        lambda m: m.update(freq="bogus"),
        "freq 'bogus' is not a frequency pandas understands",
    ),
    "frequency a number": (
        lambda m: m.update(freq=5),
        "freq must be a pandas frequency such as 'h', or null, got 5",
    ),
    "target not a column": (
        lambda m: m.update(targets=["zzz"]),
        r"targets \['zzz'\] are not among the columns \['load', 'temp', 'wind'\]",
    ),
    "input not a column": (
        lambda m: m.update(inputs=["load", "temp", "gust"]),
        r"inputs \['gust'\] are not among the columns",
    ),
    "columns out of order": (
        lambda m: m.update(inputs=["temp", "load", "wind"]),
        r"columns must be the inputs, then the targets that are not inputs: "
        r"expected \['temp', 'load', 'wind'\], got \['load', 'temp', 'wind'\]",
    ),
    "targets empty": (
        lambda m: m.update(targets=[]),
        r"targets must be a non-empty list of distinct column names, got \[\]",
    ),
    "columns a string": (
        lambda m: m.update(columns="load,temp,wind"),
        "columns must be a non-empty list of distinct column names, got 'load,temp,wind'",
    ),
    "duplicate input": (
        lambda m: m.update(inputs=["load", "load", "wind"]),
        "inputs must be a non-empty list of distinct column names",
    ),
    "scaler statistics truncated": (
        lambda m: m["scaler"].update(data_min_=m["scaler"]["data_min_"][:2]),
        r"scaler data_min_ holds 2 numbers for the 3 columns \['load', 'temp', 'wind'\]",
    ),
    "scaler statistic NaN": (
        _set_scaler("data_max_", 0, float("nan")),
        "scaler data_max_ holds nan, not a finite number",
    ),
    "scaler statistic null": (
        _set_scaler("data_max_", 1, None),
        "scaler data_max_ holds None, not a finite number",
    ),
    "scaler statistic text": (
        _set_scaler("data_min_", 0, "7.2"),
        "scaler data_min_ holds '7.2', not a finite number",
    ),
    "scaler statistic infinite": (
        _set_scaler("data_min_", 0, float("-inf")),
        "scaler data_min_ holds -inf, not a finite number",
    ),
    "scaler statistic missing": (
        lambda m: m["scaler"].pop("data_max_"),
        "scaler lacks data_max_",
    ),
    "scaler range not numbers": (
        lambda m: m["scaler"].update(feature_range=[0, "one"]),
        "scaler feature_range holds 'one', not a finite number",
    ),
    "scaler max below min": (
        _set_scaler("data_max_", 1, -5.0),
        r"scaler data_max_ is below data_min_ for the columns \['temp'\]",
    ),
    "unknown scaler kind": (
        lambda m: m["scaler"].update(kind="robust"),
        "scaler must be a minmax or standard scaler state",
    ),
    "lookback missing": (
        lambda m: m["config"].pop("lookback"),
        "config lacks lookback",
    ),
    "residual as text": (
        lambda m: m["config"].update(residual="no"),
        "residual must be true or false, got 'no'",
    ),
    "unknown categorical": (
        lambda m: m["config"].update(categorical="hash"),
        r"categorical must be one of label, onehot, got 'hash'",
    ),
    "unknown activation": (  # checked by ForecastConfig now, before any table is read
        lambda m: m["config"].update(activation="sigmoid"),
        r"activation must be one of tanh, relu, got 'sigmoid'",
    ),
    "unknown fill": (
        lambda m: m["config"].update(fill="zero"),
        r"fill must be ffill, interpolate or refuse, got 'zero'",
    ),
    "history a list": (
        lambda m: m.update(history=[1, 2]),
        r"history must be a mapping of training curves, got \[1, 2\]",
    ),
    "checksum a number": (
        lambda m: m.update(weights_sha256=123),
        "weights_sha256 must be text or null, got 123",
    ),
    "manifest checksum a number": (
        lambda m: m.update(manifest_sha256=123),
        "manifest_sha256 must be text or null, got 123",
    ),
    # null reads as "not given" and took the default: a relu model ran as tanh, exit 0
    "activation null": (
        lambda m: m["config"].update(activation=None),
        "config activation is null, but a saved model records its value",
    ),
    "units null": (
        lambda m: m["config"].update(units=None),
        "config units is null, but a saved model records its value",
    ),
    "bidirectional and dropout null": (
        lambda m: m["config"].update(bidirectional=None, dropout=None),
        "config bidirectional, dropout is null, but a saved model records its value",
    ),
    # frequencies pandas reads but no table steps by (they crashed the loader or blamed the table)
    "frequency of zero steps": (
        lambda m: m.update(freq="0h"),
        "freq '0h' is not a positive step such as 'h' or 'D' that fits pandas' calendar",
    ),
    "frequency backwards": (
        lambda m: m.update(freq="-1h"),
        "freq '-1h' is not a positive step",
    ),
    "frequency beyond the calendar in days": (
        lambda m: m.update(freq="1000000000000D"),
        "freq '1000000000000D' is not a positive step",
    ),
    "frequency beyond the calendar in years": (
        lambda m: m.update(freq="100000Y"),
        "freq '100000Y' is not a positive step",
    ),
    "split ends with a UTC offset": (  # tables are naive UTC: evaluate crashed comparing them
        lambda m: m.update(split_ends=["2021-03-05 00:00+05:00", "2021-03-08 00:00:00"]),
        r"split_ends must be times without a UTC offset, got \['2021-03-05 00:00\+05:00'",
    ),
}


@pytest.mark.parametrize("case", list(HAND_DAMAGE))
def test_hand_damage_to_the_manifest_is_named_never_loaded(model_dir, case):
    damage, words = HAND_DAMAGE[case]
    manifest = _manifest(model_dir)
    damage(manifest)
    _write_manifest(model_dir, manifest)
    with pytest.raises(ModelFileError, match=rf"manifest.json is damaged \({words}.*\): retrain"):
        lstmcast.load(model_dir)


@pytest.mark.parametrize("version", ["1", 1.0, True, 0, None])
def test_a_format_version_that_is_no_whole_number_is_damage_not_newer(model_dir, version):
    manifest = _manifest(model_dir)
    manifest["format_version"] = version
    _write_manifest(model_dir, manifest)
    expected = (
        "manifest.json is damaged (format_version must be a positive whole number, this "
        f"lstmcast writes 1, got {version!r}): retrain and save the model again"
    )
    with pytest.raises(ModelFileError, match=re.escape(expected)):
        lstmcast.load(model_dir)


def test_the_fixture_manifest_has_no_problem():
    from lstmcast.manifest import manifest_problem

    assert manifest_problem(_manifest(FIXTURES / "model_v1")) is None


@pytest.mark.parametrize("freq", ["h", "H", "15min", "D", "B", "W-SUN", "MS", "QS-JAN", "Y", None])
def test_every_real_frequency_passes_the_check(freq):
    from lstmcast.manifest import manifest_problem

    manifest = _manifest(FIXTURES / "model_v1")
    manifest["freq"] = freq
    assert manifest_problem(manifest) is None


def test_the_cli_answers_a_hand_damaged_manifest_in_one_line(model_dir, capsys):
    manifest = _manifest(model_dir)
    manifest["targets"] = ["zzz"]
    _write_manifest(model_dir, manifest)
    for command in ("predict", "evaluate"):
        code = main([command, str(model_dir), "--data", str(FIXTURES / "recent.csv")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "Traceback" not in err[0]
        assert err[0].startswith(f"lstmcast {command}: error: ")
        assert "is damaged (targets ['zzz'] are not among the columns" in err[0]


def test_weights_of_another_model_do_not_match_the_manifest(model_dir):
    other = {"network.weight": torch.zeros(3, 3)}
    save_file(other, str(model_dir / WEIGHTS))
    manifest = _manifest(model_dir)
    manifest["weights_sha256"] = _sha256(model_dir / WEIGHTS)
    _write_manifest(model_dir, manifest)
    with pytest.raises(ModelFileError, match="does not match its manifest .*mixes files"):
        lstmcast.load(model_dir)


def test_nan_weights_are_refused(model_dir):
    from safetensors.torch import load_file

    state = load_file(str(model_dir / WEIGHTS))
    next(iter(state.values()))[0] = float("nan")
    save_file(state, str(model_dir / WEIGHTS))
    manifest = _manifest(model_dir)
    manifest["weights_sha256"] = _sha256(model_dir / WEIGHTS)
    _write_manifest(model_dir, manifest)
    with pytest.raises(ModelFileError, match="holds NaN or inf weights"):
        lstmcast.load(model_dir)


def test_foreign_directories_are_refused(tmp_path):
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / MANIFEST).write_text('{"name": "bert-base", "layers": 12}')
    with pytest.raises(ModelFileError, match="is not an lstmcast model manifest"):
        lstmcast.load(tmp_path / "bert")
    (tmp_path / "torch").mkdir()
    torch.save({"weight": torch.zeros(2)}, tmp_path / "torch" / "model.pt")
    with pytest.raises(ModelFileError, match=r"is not an lstmcast model directory \(no manifest"):
        lstmcast.load(tmp_path / "torch")
    with pytest.raises(ModelFileError, match="is not an lstmcast model directory"):
        lstmcast.load(tmp_path / "torch" / "model.pt")  # a file, not a directory
    with pytest.raises(ModelFileError, match="no model at .*lstmcast train --out"):
        lstmcast.load(tmp_path / "nothing")
    (tmp_path / "training" / "checkpoint").mkdir(parents=True)  # a run before its first save
    with pytest.raises(ModelFileError, match=r"^\S+training holds no model yet: a run is training "
                       r"into it, or was interrupted \(continue it with `lstmcast train --resume "
                       r"\S+training`\); wait for it to save the model$"):  # fmt: skip
        lstmcast.load(tmp_path / "training")


# ---------------------------------------------------------------- code must never run
def test_the_evil_pickle_does_run_code_when_unpickled(tmp_path):
    """The premise of the tests below: unpickling ``Evil`` creates its marker."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Evil(marker)))
    assert marker.exists()


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_a_pickle_posing_as_weights_never_runs(model_dir, tmp_path, how):
    marker = tmp_path / "pwned"
    weights = model_dir / WEIGHTS
    if how == "pickle":
        weights.write_bytes(pickle.dumps({"w": Evil(marker)}))
    else:
        torch.save({"w": Evil(marker)}, weights)
    manifest = _manifest(model_dir)
    manifest["weights_sha256"] = _sha256(weights)  # the attacker fixed the checksum too
    _write_manifest(model_dir, manifest)
    with pytest.raises(ModelFileError, match="is not a readable safetensors file"):
        lstmcast.load(model_dir)
    assert not marker.exists()


def test_a_pickle_beside_a_good_model_is_never_opened(model_dir, tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"w": Evil(marker)}, model_dir / "model.pt")
    (model_dir / "extra.pkl").write_bytes(pickle.dumps(Evil(marker)))
    lstmcast.load(model_dir).predict(str(FIXTURES / "recent.csv"))
    assert not marker.exists()


def test_a_pickle_posing_as_a_training_checkpoint_never_runs(tmp_path):
    from lstmcast.checkpoint import CHECKPOINT, load_checkpoint

    marker = tmp_path / "pwned"
    (tmp_path / "ck").mkdir()
    torch.save({"version": 1, "model": Evil(marker)}, tmp_path / "ck" / CHECKPOINT)
    with pytest.raises(ModelFileError, match="is not a readable lstmcast checkpoint"):
        load_checkpoint(tmp_path / "ck")
    assert not marker.exists()


def test_the_cli_answers_a_damaged_model_in_one_line(model_dir, capsys):
    (model_dir / WEIGHTS).write_bytes(b"\x00" * 10)
    assert main(["predict", str(model_dir), "--data", str(FIXTURES / "recent.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert err[0].startswith("lstmcast predict: error: ") and "checksum" in err[0]
