"""Model files edited by hand or made to hurt: the manifest's own checksum refuses edits that pass
every other check, a manifest that lies about the network's size is refused from the weights'
header before anything large is built, and hostile JSON is damage, never a traceback."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_synthetic_frame

import lstmcast
from lstmcast import ForecastConfig, Forecaster
from lstmcast.cli import main
from lstmcast.errors import ModelFileError
from lstmcast.manifest import MANIFEST, manifest_sha256
from lstmcast.modelfile import check_replaceable

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EDITED = "manifest.json does not match its checksum: it was edited or corrupted; restore"


def _frame():
    """200 hourly rows of load (with a few NA) and temp."""
    return make_synthetic_frame().iloc[:200].drop(columns="wind")


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, Forecaster]:
    """A tiny relu ensemble of 2 bidirectional networks trained from a CSV, saved by this
    lstmcast (so its manifest holds its checksum), and the Forecaster that saved it."""
    root = tmp_path_factory.mktemp("saved")
    csv = root / "train.csv"
    _frame().to_csv(csv, index=False)
    config = ForecastConfig(data=str(csv), time_col="time", target=["load"], units=[4],
                            activation="relu", bidirectional=True, ensemble=2, lookback=6,
                            horizon=2, epochs=1, batch_size=32, progress=False)  # fmt: skip
    fc = Forecaster(config).fit()
    fc.save(root / "model")
    return root / "model", fc


@pytest.fixture
def model(saved, tmp_path) -> Path:
    """A copy of the saved model that a test may edit."""
    return Path(shutil.copytree(saved[0], tmp_path / "model"))


@pytest.fixture
def old_model(tmp_path) -> Path:
    """A copy of the committed fixture: written before the manifest held its own checksum."""
    return Path(shutil.copytree(FIXTURES / "model_v1", tmp_path / "model"))


def _edit(model: Path, change) -> None:
    manifest = json.loads((model / MANIFEST).read_text())
    change(manifest)
    (model / MANIFEST).write_text(json.dumps(manifest, indent=2))


# ---------------------------------------------------------------- the manifest's own checksum
def test_save_then_load_predicts_the_same_numbers_bit_for_bit(saved):
    path, fc = saved
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["manifest_sha256"] == manifest_sha256(manifest)
    frame = _frame()
    expected = fc.predict(frame)
    got = lstmcast.load(path).predict(frame)
    assert got.index.equals(expected.index)
    assert np.array_equal(got.to_numpy(), expected.to_numpy())


def _swap_inputs(m: dict) -> None:
    m["inputs"] = m["columns"] = m["inputs"][::-1]


# edits that every entry check passes and that changed the forecast or the score, exit 0
PLAUSIBLE_EDITS = {
    "a digit of a scaler statistic": lambda m: m["scaler"]["data_max_"].__setitem__(
        0, m["scaler"]["data_max_"][0] + 1
    ),
    "residual flipped": lambda m: m["config"].update(residual=not m["config"]["residual"]),
    "relu made tanh": lambda m: m["config"].update(activation="tanh"),
    "inputs and columns reordered": _swap_inputs,
    "split moved to 1900": lambda m: m.update(split_ends=["1900-01-01", "1900-01-02"]),
    "the weights' checksum removed": lambda m: m.pop("weights_sha256"),
}


@pytest.mark.parametrize("edit", list(PLAUSIBLE_EDITS))
def test_an_edit_that_passes_every_check_fails_the_manifest_checksum(model, edit):
    _edit(model, PLAUSIBLE_EDITS[edit])
    with pytest.raises(ModelFileError, match=re.escape(EDITED)):
        lstmcast.load(model)


def test_the_cli_answers_an_edited_manifest_in_one_line(model, capsys):
    _edit(model, PLAUSIBLE_EDITS["residual flipped"])
    assert main(["predict", str(model), "--data", str(FIXTURES / "recent.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and EDITED in err[0]


def test_reformatting_the_manifest_keeps_its_checksum(model):
    """The checksum covers the content, not its layout: key order, indentation, spacing."""
    manifest = json.loads((model / MANIFEST).read_text())
    (model / MANIFEST).write_text(json.dumps(dict(reversed(manifest.items()))))
    lstmcast.load(model)


def test_data_source_may_point_at_a_moved_table(model, tmp_path):
    """Where evaluate re-reads the training table stays outside the checksum: fix a moved path."""
    source = json.loads((model / MANIFEST).read_text())["data_source"]
    moved = tmp_path / "moved.csv"
    shutil.copy(source, moved)
    _edit(model, lambda m: m.update(data_source=str(moved)))
    fc = lstmcast.load(model)
    assert fc.data_source_ == str(moved)
    scores = fc.evaluate(baselines=("persistence",))
    assert sorted(r["name"] for r in scores["results"]) == ["lstm", "persistence"]


def test_a_manifest_without_its_checksum_loads_as_an_older_file(model, saved):
    _edit(model, lambda m: m.pop("manifest_sha256"))
    frame = _frame()
    got = lstmcast.load(model).predict(frame)
    assert np.array_equal(got.to_numpy(), saved[1].predict(frame).to_numpy())


# ---------------------------------------------------------------- the network against the header
# (config change, the words that name it): the fixture has 3 inputs, units [4], horizon 2
LIES = {
    "a million units": (
        {"units": [10**6]},
        r"tensor lstm.weight_ih_l0 is [16, 3] in the file, the manifest's network needs "
        r"[4000000, 3]",
    ),
    "a horizon of a billion": (
        {"horizon": 10**9},
        "tensor head.weight is [2, 4] in the file, the manifest's network needs [1000000000, 4]",
    ),
    "2000 units": (  # built before the weights were refused: 2.5 GB for 12000 units
        {"units": [2000]},
        "tensor lstm.weight_ih_l0 is [16, 3] in the file, the manifest's network needs [8000, 3]",
    ),
    "ten million networks": (  # hung, building the networks one by one
        {"ensemble": 10**7},
        "the manifest's 10000000 network(s) of 1 layer(s) need more tensors than the 6 the file "
        "holds",
    ),
    "two networks": (
        {"ensemble": 2},
        "the file lacks tensor members.0.lstm.weight_ih_l0 of the manifest's network",
    ),
    "one unit more": (  # said only "(Error(s) in loading state_dict for LSTMNetwork:)"
        {"units": [5]},
        "tensor lstm.weight_ih_l0 is [16, 3] in the file, the manifest's network needs [20, 3]",
    ),
}


@pytest.mark.parametrize("lie", list(LIES))
def test_a_network_the_weights_do_not_hold_is_refused_before_it_is_built(
    old_model, lie, monkeypatch
):
    change, words = LIES[lie]
    _edit(old_model, lambda m: m["config"].update(change))
    devices = []  # where each network was built: only sized on the meta device, never allocated
    real = Forecaster._new_network

    def spy(self):
        devices.append(str(torch.get_default_device()))
        if len(devices) > 10:
            raise AssertionError("built more than 10 networks")
        return real(self)

    monkeypatch.setattr(Forecaster, "_new_network", spy)
    with pytest.raises(ModelFileError, match=re.escape(f"does not match its manifest ({words})")):
        lstmcast.load(old_model)
    assert set(devices) <= {"meta"}


# ---------------------------------------------------------------- hostile JSON
def _long_number(model: Path) -> None:
    text = (model / MANIFEST).read_text()
    (model / MANIFEST).write_text(text.replace('"lookback": 6', '"lookback": ' + "9" * 5000))


def _deep_lists(model: Path) -> None:
    depth = 200_000
    (model / MANIFEST).write_text(
        '{"format": "lstmcast-model", "x": ' + "[" * depth + "]" * depth + "}"
    )


HOSTILE = {"a 5000-digit number": _long_number, "lists 200000 deep": _deep_lists}
DAMAGED = "manifest.json is damaged (it holds a number of thousands of digits or lists nested"


@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_hostile_json_is_damage_not_a_traceback(old_model, hostile):
    HOSTILE[hostile](old_model)
    with pytest.raises(ModelFileError, match=re.escape(DAMAGED)):
        lstmcast.load(old_model)


@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_train_out_refuses_a_folder_whose_hostile_manifest_sits_beside_other_files(
    old_model, hostile
):
    HOSTILE[hostile](old_model)
    (old_model / "notes.txt").write_text("mine")
    with pytest.raises(ModelFileError, match="holds files that are not an lstmcast model"):
        check_replaceable(old_model)
