"""Metrics: known values, and a missing target never reaches a score."""

from __future__ import annotations

import numpy as np
import pytest

from lstmcast.baselines import Persistence
from lstmcast.data import make_windows, read_table
from lstmcast.errors import DataError
from lstmcast.evaluation import mae, mase, naive_scale, per_step, rmse, score, skill, smape


def test_known_values():
    t, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0, 1.0, 4.0])
    assert rmse(t, p) == pytest.approx(np.sqrt(5 / 4))
    assert mae(t, p) == pytest.approx(3 / 4)
    assert smape(t, p) == pytest.approx(100 * (2 / 3 + 0 + 1 + 0) / 4)
    assert smape(np.zeros(2), np.zeros(2)) == 0.0
    assert naive_scale(np.array([1.0, 3.0, 2.0, np.nan, 5.0])) == pytest.approx(1.5)
    assert mase(t, p, scale=1.5) == pytest.approx(0.5)
    assert skill(0.8, 1.0) == pytest.approx(0.2)


def test_planted_missing_targets_never_reach_a_metric():
    rng = np.random.default_rng(0)
    t, p = rng.normal(size=(50, 6, 2)), rng.normal(size=(50, 6, 2))
    mask = rng.random(t.shape) > 0.3
    planted = np.where(mask, t, 1e9)  # masked out by `mask`
    nan_planted = np.where(mask, t, np.nan)  # masked out by being NaN
    for metric in (rmse, mae, smape):
        clean = metric(t[mask], p[mask])
        assert metric(planted, p, mask) == pytest.approx(clean)
        assert metric(nan_planted, p) == pytest.approx(clean)
    steps = per_step(rmse, planted, p, mask)
    for h in range(6):
        assert steps[h] == pytest.approx(rmse(t[:, h][mask[:, h]], p[:, h][mask[:, h]]))


def test_missing_values_in_a_table_stay_out_of_the_score(tmp_path):
    rows = [f"2020-01-01 {h:02d}:00,{v}" for h, v in enumerate([1, 2, "NA", 4, 5, "NA", 7, 8])]
    (tmp_path / "s.csv").write_text("time,y\n" + "\n".join(rows) + "\n")
    table = read_table(
        tmp_path / "s.csv", fill="interpolate"
    )  # inputs interpolated: 3 and 6 fill the NA rows
    w = make_windows(table.frame.to_numpy(), 1, 1, inputs=[0], targets=[0],
                     observed=table.observed.to_numpy())  # fmt: skip
    pred = Persistence([0]).fit(w.X, w.Y, w.mask).predict(w.X)
    result = score(w.Y, pred, w.mask)
    assert result["n_scored"] == 5  # targets at rows 1, 3, 4, 6, 7; rows 2 and 5 were NA
    assert result["mae"] == pytest.approx(1.0)  # every observed step is 1 more than the last


def test_score_dictionary_and_per_step_nan_for_unscored_steps():
    t = np.arange(12.0).reshape(3, 2, 2)
    mask = np.ones_like(t, dtype=bool)
    mask[:, 1] = False
    result = score(t, t + 1.0, mask, mase_scale=2.0)
    assert result["rmse"] == 1.0 and result["mae"] == 1.0 and result["mase"] == 0.5
    assert result["n_scored"] == 6
    assert result["rmse_per_step"][0] == 1.0 and np.isnan(result["rmse_per_step"][1])


def test_errors():
    with pytest.raises(DataError, match="no value to score"):
        rmse(np.array([np.nan]), np.array([1.0]))
    with pytest.raises(DataError, match="same shape"):
        mae(np.zeros(3), np.zeros(4))
    with pytest.raises(DataError, match="y_pred holds 1 NaN/inf values where targets are scored"):
        rmse(np.zeros(2), np.array([0.0, np.nan]))
    with pytest.raises(DataError, match="mase scale must be a positive number"):
        mase(np.zeros(2), np.zeros(2), scale=0.0)
