"""make_windows: shapes and alignment, views, split boundaries, masked targets, short tables."""

from __future__ import annotations

import numpy as np
import pytest

from lstmcast.data import chronological_split, make_windows, split_windows
from lstmcast.errors import ConfigError, DataError


def _values(n: int = 50, f: int = 3) -> np.ndarray:
    # value = 100 * row + column: every element says where it came from
    return 100.0 * np.arange(n)[:, None] + np.arange(f)[None, :]


def test_alignment_inputs_before_t0_targets_from_t0():
    v = _values()
    w = make_windows(v, 4, 3, inputs=[0, 1, 2], targets=[1])
    assert w.X.shape == (50 - 4 - 3 + 1, 4, 3) and w.Y.shape == (44, 3, 1)
    for s in (0, 17, 43):
        t0 = w.t0[s]
        np.testing.assert_array_equal(w.X[s], v[t0 - 4 : t0])
        np.testing.assert_array_equal(w.Y[s, :, 0], v[t0 : t0 + 3, 1])
    assert w.mask.all() and w.mask.shape == w.Y.shape


def test_contiguous_inputs_are_views_others_copy_only_the_columns():
    v = _values()
    w = make_windows(v, 5, 1, inputs=range(3), targets=[0])
    assert np.shares_memory(w.X, v) and np.shares_memory(w.Y, v)
    picked = make_windows(v, 5, 1, inputs=[2, 0], targets=[0])
    assert not np.shares_memory(picked.X, v)
    assert picked.X.base is not None  # still a window view, of one (N, 2) copy
    np.testing.assert_array_equal(picked.X[0, :, 0], v[0:5, 2])


def test_stride():
    w = make_windows(_values(), 4, 2, inputs=[0], targets=[0], stride=5)
    np.testing.assert_array_equal(w.t0, np.arange(4, 49, 5))
    np.testing.assert_array_equal(w.X[1, :, 0], 100.0 * np.arange(5, 9))


def test_no_target_crosses_its_split_and_inputs_may_look_back():
    v = _values(100)
    index = np.datetime64("2020-01-01T00") + np.arange(100).astype("timedelta64[h]")
    import pandas as pd

    split = chronological_split(pd.DatetimeIndex(index), fractions=(0.6, 0.2))
    parts = split_windows(v, split, 8, 4, inputs=[0, 1], targets=[0])
    for part, rows in zip(parts, (split.train, split.val, split.test), strict=True):
        target_rows = part.t0[:, None] + np.arange(4)
        assert target_rows.min() >= rows.start and target_rows.max() < rows.stop
        assert (part.t0 - 8).min() >= 0
        np.testing.assert_array_equal(part.Y[..., 0] // 100, target_rows)
    val = parts[1]
    assert val.t0[0] == split.val.start  # the first val window looks back into train
    assert val.X[0, 0, 0] == 100.0 * (split.val.start - 8)


def test_planted_missing_targets_are_masked_and_nan():
    v = _values(30)
    observed = np.ones_like(v, dtype=bool)
    observed[[12, 20], 0] = False
    v[20, 0] = np.nan  # a NaN value also counts as missing
    w = make_windows(v, 3, 2, inputs=[1], targets=[0], observed=observed)
    hit = (w.t0[:, None] + np.arange(2) == 12) | (w.t0[:, None] + np.arange(2) == 20)
    np.testing.assert_array_equal(~w.mask[..., 0], hit)
    assert np.isnan(w.Y[..., 0][hit]).all() and np.isfinite(w.Y[..., 0][~hit]).all()


def test_too_few_rows_says_how_many_are_needed():
    with pytest.raises(DataError, match=r"need lookback \+ horizon = 12 rows .* got 10"):
        make_windows(_values(10), 8, 4, inputs=[0], targets=[0])
    with pytest.raises(DataError, match=r"with every target in rows 45:50, got 10"):
        make_windows(_values(50), 5, 6, inputs=[0], targets=[0], rows=slice(45, 50))


def test_bad_arguments():
    with pytest.raises(ConfigError, match="lookback must be a positive integer, got 0"):
        make_windows(_values(), 0, 1, inputs=[0], targets=[0])
    with pytest.raises(ConfigError, match=r"targets must be non-empty column positions in 0..2"):
        make_windows(_values(), 2, 1, inputs=[0], targets=[3])
