"""Scalers: statistics from the training split only, exact inverse, NaN and constant columns."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmcast.data import MinMaxScaler, StandardScaler, make_scaler, scaler_from_dict
from lstmcast.errors import ConfigError, DataError, NotFittedError


def _series(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(10, 3, size=(200, 3))


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_statistics_come_from_the_training_split_only(kind):
    values = _series()
    train = slice(0, 140)
    before = make_scaler(kind).fit(values[train]).to_dict()
    values[180, 1] = 1e9  # a huge value planted in the test split
    after = make_scaler(kind).fit(values[train]).to_dict()
    assert before == after
    scaled = make_scaler(kind).fit(values[train]).transform(values)
    assert scaled[180, 1] > 1e6  # the test value is scaled, not absorbed


def test_minmax_maps_training_range_to_unit_interval():
    values = _series()
    scaled = MinMaxScaler().fit(values).transform(values)
    np.testing.assert_allclose(scaled.min(axis=0), 0.0)
    np.testing.assert_allclose(scaled.max(axis=0), 1.0)
    ranged = MinMaxScaler(feature_range=(-1, 1)).fit(values).transform(values)
    np.testing.assert_allclose(ranged.min(axis=0), -1.0)


def test_standard_gives_zero_mean_unit_std():
    values = _series()
    scaled = StandardScaler().fit(values).transform(values)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0)


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_inverse_round_trips_windows_and_target_columns(kind):
    values = _series(1)
    scaler = make_scaler(kind).fit(values[:100])
    windows = values[:120].reshape(10, 12, 3)  # (S, L, F)
    np.testing.assert_allclose(
        scaler.inverse_transform(scaler.transform(windows)), windows, rtol=1e-13
    )
    forecast = values[:24, [2]].reshape(2, 12, 1)  # (S, H, Ft) of column 2 only
    back = scaler.inverse_transform(scaler.transform(forecast, columns=[2]), columns=[2])
    np.testing.assert_allclose(back, forecast, rtol=1e-13)
    restored = scaler_from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(restored.transform(values), scaler.transform(values))


def test_nan_is_ignored_in_fit_and_constant_columns_do_not_divide_by_zero():
    values = np.array([[1.0, 5.0], [np.nan, 5.0], [3.0, 5.0]])
    for scaler in (MinMaxScaler().fit(values), StandardScaler().fit(values)):
        out = scaler.transform(values)
        assert np.isnan(out[1, 0]) and np.isfinite(out[:, 1]).all()
        np.testing.assert_allclose(scaler.inverse_transform(out), values)
    np.testing.assert_array_equal(MinMaxScaler().fit(values).transform(values)[:, 1], 0.0)


def test_errors():
    with pytest.raises(NotFittedError, match="MinMaxScaler is not fitted"):
        MinMaxScaler().transform(np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="scaler must be one of"):
        make_scaler("robust")
    with pytest.raises(DataError, match=r"columns \[1\] hold only NaN"):
        StandardScaler().fit(np.array([[1.0, np.nan], [2.0, np.nan]]))
    with pytest.raises(DataError, match="the last axis must hold 2 columns, got shape"):
        StandardScaler().fit(np.zeros((3, 2))).transform(np.zeros((3, 5)))


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_a_spread_too_small_to_divide_by_counts_as_constant(kind):
    """Training values 2.2e-309 and 0 (found by the fuzz test): 1.0 scaled to inf and came
    back as inf, not 1.0."""
    scaler = make_scaler(kind).fit(np.array([[2.22507386e-309], [0.0]]))
    x = np.array([[1.0], [-1e6]])
    scaled = scaler.transform(x)
    assert np.isfinite(scaled).all()
    np.testing.assert_allclose(scaler.inverse_transform(scaled), x)
