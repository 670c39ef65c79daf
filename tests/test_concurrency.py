"""A model loaded while another save replaces it: the old model or the new one, never an error
(``lstmcast predict runs/x`` from cron during a nightly ``lstmcast train --out runs/x``)."""

from __future__ import annotations

import threading

import pytest
import torch
from conftest import make_synthetic_frame

import lstmcast
import lstmcast.modelfile as modelfile
from lstmcast.forecaster import ForecastConfig, Forecaster

LOADS = 150  # each load meets several saves: the unfixed loader failed about one load in three


@pytest.fixture(scope="module")
def two_models(tmp_path_factory) -> list[Forecaster]:
    """Two tiny models of the same shape and data, trained from different seeds."""
    path = tmp_path_factory.mktemp("race") / "synthetic.csv"
    make_synthetic_frame().to_csv(path, index=False)
    fits = []
    for seed in (1, 2):
        cfg = ForecastConfig(data=str(path), time_col="time", target=["load"], units=[4],
                             epochs=1, lookback=6, seed=seed, progress=False)  # fmt: skip
        fits.append(Forecaster(cfg).fit())
    return fits


def _which(fc: Forecaster, models: list[Forecaster]) -> int:
    """The index of the model in ``models`` whose weights ``fc`` holds; -1 if none."""
    loaded = fc.network_.state_dict()
    for i, model in enumerate(models):
        saved = model.network_.state_dict()
        if all(torch.equal(loaded[k], saved[k]) for k in saved):
            return i
    return -1


def _load_during_saves(models: list[Forecaster], model_dir) -> tuple[list, list, int]:
    """Load ``model_dir`` LOADS times while a thread saves the two models into it in turn: the
    models loaded, the errors raised, and how many saves ran meanwhile."""
    models[0].save(model_dir)
    stop, saves = threading.Event(), [0]

    def save_in_a_loop() -> None:
        while not stop.is_set():
            models[saves[0] % 2].save(model_dir)
            saves[0] += 1

    saver = threading.Thread(target=save_in_a_loop)
    saver.start()
    loaded, errors = [], []
    try:
        for _ in range(LOADS):
            try:
                loaded.append(lstmcast.load(model_dir))
            except Exception as err:  # every error here is the defect: record, count, show
                errors.append(f"{type(err).__name__}: {err}")
    finally:
        stop.set()
        saver.join()
    return loaded, errors, saves[0]


def test_a_load_during_saves_gets_the_old_or_the_new_model_never_an_error(two_models, tmp_path):
    model_dir = tmp_path / "model"
    loaded, errors, saves = _load_during_saves(two_models, model_dir)
    assert saves > 10  # the loads did meet saves
    assert errors == [], f"{len(errors)} of {LOADS} loads failed, e.g. {errors[0]}"
    seen = [_which(fc, two_models) for fc in loaded]
    assert -1 not in seen
    # no mix of two saves: the manifest read (its training history) is that of the weights read
    for fc, i in zip(loaded, seen, strict=True):
        assert fc.history_.to_dict() == two_models[i].history_.to_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporaries left


@pytest.mark.skipif(modelfile._renameat2() is None, reason="renameat2 swaps only on Linux")
def test_saving_over_a_model_swaps_it_in_one_step_so_the_path_never_goes_missing(
    two_models, tmp_path, monkeypatch
):
    model_dir = tmp_path / "model"
    two_models[0].save(model_dir)
    renames = []
    real_replace = modelfile.os.replace

    def replace(src, dst):
        renames.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(modelfile.os, "replace", replace)
    two_models[1].save(model_dir)
    assert renames == []  # the two renames, between which the path is missing, are not used
    assert _which(lstmcast.load(model_dir), two_models) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_failed_swap_leaves_the_old_model_and_no_temporaries(two_models, tmp_path, monkeypatch):
    model_dir = tmp_path / "model"
    two_models[0].save(model_dir)
    before = {p.name: p.read_bytes() for p in model_dir.iterdir()}

    def exchange(a, b):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(modelfile, "_exchange", exchange)
    with pytest.raises(OSError, match="Input/output error"):
        two_models[1].save(model_dir)
    assert {p.name: p.read_bytes() for p in model_dir.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_without_renameat2_a_failed_second_rename_puts_the_old_model_back(
    two_models, tmp_path, monkeypatch
):
    model_dir = tmp_path / "model"
    two_models[0].save(model_dir)
    before = {p.name: p.read_bytes() for p in model_dir.iterdir()}
    monkeypatch.setattr(modelfile, "_renameat2", lambda: None)  # as on macOS or Windows
    calls = []
    real_replace = modelfile.os.replace

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the new directory moving into place
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(modelfile.os, "replace", replace)
    with pytest.raises(OSError, match="Input/output error"):
        two_models[1].save(model_dir)
    assert {p.name: p.read_bytes() for p in model_dir.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
