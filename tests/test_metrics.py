"""Metrics: known values, and a missing target never reaches a score."""

from __future__ import annotations

import numpy as np
import pytest

from lstmcast.baselines import Persistence
from lstmcast.data import make_windows, read_table
from lstmcast.errors import DataError
from lstmcast.evaluation import (
    diebold_mariano,
    mae,
    mase,
    naive_scale,
    per_step,
    rmse,
    score,
    skill,
    smape,
)


def test_known_values():
    t, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0, 1.0, 4.0])
    assert rmse(t, p) == pytest.approx(np.sqrt(5 / 4))
    assert mae(t, p) == pytest.approx(3 / 4)
    assert smape(t, p) == pytest.approx(100 * (2 / 3 + 0 + 1 + 0) / 4)
    assert smape(np.zeros(2), np.zeros(2)) == 0.0
    assert naive_scale(np.array([1.0, 3.0, 2.0, np.nan, 5.0])) == pytest.approx(1.5)
    # seasonal: |y[t] - y[t - 2]| = |2-1|, |nan|, |5-2|, |4-nan| -> mean of 1 and 3
    assert naive_scale(np.array([1.0, 3.0, 2.0, np.nan, 5.0, 4.0]), period=2) == pytest.approx(2)
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


# ---------------------------------------------------------------- Diebold–Mariano
def _ar1(rng, n: int, rho: float) -> np.ndarray:
    """A stationary AR(1) series of unit variance: errors that persist, like hourly weather's."""
    from scipy.signal import lfilter

    shocks = rng.normal(size=n) * np.sqrt(1 - rho**2)
    shocks[0] = rng.normal()
    return lfilter([1.0], [1.0, -rho], shocks)


def test_diebold_mariano_is_a_t_test_on_block_means_of_the_mse_difference():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(203, 4, 2))
    a, b = y + rng.normal(0, 1.0, y.shape), y + rng.normal(0, 1.1, y.shape)
    mask = rng.random(y.shape) > 0.2
    mask[10:15] = False  # windows with nothing scored are dropped
    y_nan = np.where(rng.random(y.shape) > 0.9, np.nan, y)  # NaN truth is not scored either
    keep = mask & np.isfinite(y_nan)
    test = diebold_mariano(y_nan, a, b, mask, blocks=7)
    mse = lambda p: ((p - y)[keep] ** 2).mean()  # noqa: E731
    assert test["mse_diff"] == pytest.approx(mse(a) - mse(b))
    # by hand: each block's summed difference over the mean scored pairs per block
    sums = np.where(keep, (a - y) ** 2 - (b - y) ** 2, 0).sum(axis=(1, 2))[keep.any(axis=(1, 2))]
    values = np.array([part.sum() for part in np.array_split(sums, 7)]) * 7 / keep.sum()
    assert values.mean() == pytest.approx(test["mse_diff"])
    t = values.mean() / (values.std(ddof=1) / np.sqrt(7))
    assert test["statistic"] == pytest.approx(t)
    assert test["blocks"] == 7 and test["n_windows"] == 198
    swapped = diebold_mariano(y_nan, b, a, mask, blocks=7)
    assert swapped["statistic"] == pytest.approx(-t) and swapped["p_value"] == test["p_value"]


def test_diebold_mariano_ignores_windows_with_nothing_scored():
    """Windows whose targets are all missing change nothing, wherever they lie: before, they
    counted as no difference and moved the block boundaries."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=(700, 2, 1))
    a, b = y + rng.normal(0, 1.0, y.shape), y + rng.normal(0, 1.05, y.shape)
    test = diebold_mariano(y, a, b)
    gaps = np.r_[np.arange(100), np.arange(300), np.arange(600, 700).repeat(3)]  # (1000,)
    spread = np.insert(y, gaps, np.nan, axis=0)
    padded = [np.insert(p, gaps, 0.0, axis=0) for p in (a, b)]
    assert diebold_mariano(spread, *padded) == pytest.approx(test)
    mask = np.isfinite(spread)
    assert diebold_mariano(np.nan_to_num(spread), *padded, mask) == pytest.approx(test)


def test_diebold_mariano_blocks_grow_with_the_horizon_and_short_splits_are_not_tested():
    """Each block holds at least 5 (H + 24) scored windows, up to 20 blocks, at least 5."""
    rng = np.random.default_rng(2)

    def blocks(windows: int, horizon: int) -> int:
        y = np.zeros((windows, horizon, 1))
        return diebold_mariano(y, rng.normal(size=y.shape), rng.normal(size=y.shape))["blocks"]

    assert [blocks(2000, h) for h in (1, 3, 24)] == [16, 14, 8]
    assert blocks(625, 1) == 5 and blocks(1200, 24) == 5 and blocks(9000, 24) == 20
    y = np.zeros((1199, 24, 1))
    needs = (
        r"the Diebold–Mariano test needs 5 blocks of 240 scored windows at horizon 24 "
        r"\(1200 windows\), got 1199: score a longer split"
    )
    with pytest.raises(DataError, match=needs):
        diebold_mariano(y, y + 1, y - 1)
    # 40 windows at horizon 24 (2 per block before) called equal forecasts different in 67%
    with pytest.raises(DataError, match="needs 5 blocks of 240 scored windows"):
        diebold_mariano(y[:40], rng.normal(size=(40, 24, 1)), rng.normal(size=(40, 24, 1)))


def test_diebold_mariano_keeps_its_level_on_persistent_errors_and_finds_a_real_gap():
    """Equal forecasts with AR(1) errors (rho 0.98) on a short split (700 windows) are called
    different about 5% of the time at p < 0.05 (the 20 blocks of 35 windows used before said so
    in about 15%; more cells: benchmarks/dm_level.py), and a forecast with half the error
    variance is told apart."""
    rng = np.random.default_rng(11)
    n, runs = 700, 400
    y = np.zeros(n)
    rejected = sum(
        diebold_mariano(y, _ar1(rng, n, 0.98), _ar1(rng, n, 0.98))["p_value"] < 0.05
        for _ in range(runs)
    )
    assert 0.02 <= rejected / runs <= 0.09
    n = 4000
    better = diebold_mariano(np.zeros(n), np.sqrt(0.5) * _ar1(rng, n, 0.95), _ar1(rng, n, 0.95))
    assert better["statistic"] < 0 and better["p_value"] < 1e-3


def test_diebold_mariano_needs_windows_and_differences():
    y = np.zeros(39)
    needs = r"at least 2 scored windows per block \(40 for 20 blocks\), got 39: score a longer"
    with pytest.raises(DataError, match=needs):
        diebold_mariano(y, y + 1, y - 1, blocks=20)
    with pytest.raises(DataError, match="blocks must be an integer of at least 2, got 1"):
        diebold_mariano(np.zeros(50), np.ones(50), np.ones(50), blocks=1)
    same = diebold_mariano(np.zeros(700), np.ones(700), -np.ones(700))  # equal squared errors
    assert np.isnan(same["statistic"]) and np.isnan(same["p_value"]) and same["mse_diff"] == 0
    with pytest.raises(DataError, match="same shape"):
        diebold_mariano(np.zeros(50), np.ones(50), np.ones(49))


def test_diebold_mariano_gives_no_p_value_when_the_errors_differ_by_a_constant():
    """Every block's difference the same (or none at all) leaves nothing to test: NaN, not the
    p = 0 a t-test on zero spread would give."""
    y = np.zeros(1000)
    test = diebold_mariano(y, np.ones(1000), -np.ones(1000), blocks=5)  # equal squared errors
    assert np.isnan(test["p_value"]) and np.isnan(test["statistic"]) and test["mse_diff"] == 0
    shifted = diebold_mariano(y, np.full(1000, 2.0), np.ones(1000), blocks=5)  # 4 - 1 everywhere
    assert np.isnan(shifted["p_value"]) and shifted["mse_diff"] == pytest.approx(3.0)
