"""Property-based tests: random frames with NAs, gaps and odd dtypes through windowing, scaling
and the table reader give a correct result or a clean LstmcastError, never another exception."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lstmcast.data import make_scaler, make_windows, read_table, scaler_from_dict
from lstmcast.errors import LstmcastError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FLOATS = st.floats(-1e6, 1e6) | st.just(np.nan)


# ---------------------------------------------------------------- windowing
@st.composite
def window_cases(draw):
    n = draw(st.integers(0, 30))
    f = draw(st.integers(1, 4))
    values = draw(hnp.arrays(np.float64, (n, f), elements=FLOATS | st.just(np.inf)))
    columns = st.lists(st.integers(-1, f), min_size=0, max_size=4)
    start = draw(st.none() | st.integers(-5, 35))
    stop = draw(st.none() | st.integers(-5, 35))
    observed = draw(st.none() | hnp.arrays(bool, (n, f)))
    return dict(
        values=values,
        lookback=draw(st.integers(0, 8)),
        horizon=draw(st.integers(0, 5)),
        inputs=draw(columns),
        targets=draw(columns),
        rows=slice(start, stop),
        stride=draw(st.integers(1, 3)),
        observed=observed,
    )


@FUZZ
@given(window_cases())
def test_windows_are_right_or_refused(case):
    values, L, H = case["values"], case["lookback"], case["horizon"]
    inputs, targets = case["inputs"], case["targets"]
    try:
        w = make_windows(values, L, H, inputs=inputs, targets=targets, rows=case["rows"],
                         stride=case["stride"], observed=case["observed"])  # fmt: skip
    except LstmcastError:
        return
    start, stop, _ = case["rows"].indices(len(values))
    S = len(w.t0)
    assert S > 0
    assert w.X.shape == (S, L, len(inputs)) and w.Y.shape == w.mask.shape == (S, H, len(targets))
    assert np.all(np.diff(w.t0) == case["stride"])
    assert w.t0[0] >= max(start, L) and w.t0[-1] + H <= stop  # targets inside `rows`
    observed = np.ones_like(values, bool) if case["observed"] is None else case["observed"]
    for s, t0 in enumerate(w.t0):
        np.testing.assert_array_equal(w.X[s], values[t0 - L : t0][:, inputs])  # NaN == NaN
        truth = values[t0 : t0 + H][:, targets]
        mask = np.isfinite(truth) & observed[t0 : t0 + H][:, targets]
        np.testing.assert_array_equal(w.mask[s], mask)
        np.testing.assert_array_equal(w.Y[s][mask], truth[mask])
        assert np.isnan(w.Y[s][~mask]).all()


# ---------------------------------------------------------------- scaling
@FUZZ
@given(
    kind=st.sampled_from(["minmax", "standard"]),
    train=hnp.arrays(np.float64, st.tuples(st.integers(0, 20), st.integers(1, 4)), elements=FLOATS),
    data=st.data(),
)
def test_scalers_round_trip_or_refuse(kind, train, data):
    try:
        scaler = make_scaler(kind).fit(train)
    except LstmcastError:
        assert len(train) == 0 or np.isnan(train).all(axis=0).any()
        return
    f = train.shape[1]
    new = data.draw(hnp.arrays(np.float64, (data.draw(st.integers(0, 10)), f), elements=FLOATS))
    for x in (train, new):
        scaled = scaler.transform(x)
        np.testing.assert_array_equal(np.isnan(scaled), np.isnan(x))
        back = scaler.inverse_transform(scaled)
        np.testing.assert_allclose(
            back, x, rtol=1e-9, atol=1e-9 * (1 + np.nanmax(np.abs(x), initial=0))
        )
    scaled = scaler.transform(train)
    if kind == "minmax":
        finite = scaled[~np.isnan(scaled)]
        assert np.all((finite >= -1e-12) & (finite <= 1 + 1e-12))
    cols = data.draw(st.lists(st.integers(0, f - 1), min_size=1, max_size=f))
    np.testing.assert_array_equal(scaler.transform(train[:, cols], columns=cols), scaled[:, cols])
    again = scaler_from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.transform(train), scaled)
    with pytest.raises(LstmcastError):
        scaler.transform(np.zeros((2, f + 1)))


# ---------------------------------------------------------------- the table reader
def _column(draw, kind: str, n: int) -> list:
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "float":
        return [np.nan if rng.random() < 0.2 else round(float(v), 3) for v in rng.normal(size=n)]
    if kind == "int":
        return rng.integers(-5, 5, n).tolist()
    if kind == "bool":
        return (rng.random(n) < 0.5).tolist()
    if kind == "category":
        return [None if rng.random() < 0.1 else str(c) for c in rng.choice(["N", "E", "cv"], n)]
    if kind == "numeric text":
        return [f"{v:.2f}" for v in rng.normal(size=n)]
    if kind == "mixed":
        return [("x" if rng.random() < 0.2 else float(v)) for v in rng.normal(size=n)]
    if kind == "all missing":
        return [np.nan] * n
    if kind == "inf":
        return [np.inf if i == n // 2 else 1.0 for i in range(n)]
    if kind == "many labels":
        return [f"id{i}" for i in range(n)]
    raise AssertionError(kind)


KINDS = ["float", "int", "bool", "category", "numeric text", "mixed", "all missing", "inf",
         "many labels"]  # fmt: skip


@st.composite
def tables(draw):
    n = draw(st.integers(0, 40))
    step = draw(st.sampled_from(["h", "D", "15min", "MS"]))
    times = pd.date_range("2020-01-01", periods=n, freq=step)
    keep = draw(hnp.arrays(bool, (n,), elements=st.booleans() | st.just(True)))  # gaps
    frame = pd.DataFrame({"time": times})
    for k, kind in enumerate(draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))):
        frame[f"c{k}"] = _column(draw, kind, n)
    frame = frame[keep]
    order = draw(st.sampled_from(["sorted", "shuffled", "duplicated", "irregular", "bad time"]))
    if order == "shuffled":
        frame = frame.sample(frac=1, random_state=0)
    elif order == "duplicated" and len(frame):
        frame = pd.concat([frame, frame.iloc[:1]])
    elif order == "irregular" and len(frame):
        jitter = np.random.default_rng(len(frame)).integers(0, 50, len(frame))
        frame["time"] = frame["time"] + pd.to_timedelta(jitter, unit="min")
    elif order == "bad time" and len(frame):
        frame["time"] = frame["time"].astype(str)
        frame.iloc[0, 0] = "yesterday"
    return frame.reset_index(drop=True)


@FUZZ
@given(
    frame=tables(),
    how=st.sampled_from(["frame", ",", ";", "\t"]),
    fill=st.sampled_from(["interpolate", "ffill", "none", "refuse"]),
    categorical=st.sampled_from(["label", "onehot"]),
)
def test_read_table_gives_a_clean_table_or_a_clean_error(tmp_path_factory, frame, how, fill,
                                                         categorical):  # fmt: skip
    source = frame
    if how != "frame":
        source = tmp_path_factory.mktemp("fuzz") / "t.csv"
        frame.to_csv(source, index=False, sep=how)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = read_table(source, time_col="time", fill=fill, categorical=categorical)
    except LstmcastError as err:
        event(f"refused: {str(err).split(': ', 1)[-1][:40]}")
        return
    event("table")
    index = table.frame.index
    assert index.name == "time" and index.is_monotonic_increasing and index.is_unique
    assert (table.frame.dtypes == "float64").all()
    assert table.observed.shape == table.frame.shape and (table.observed.dtypes == "bool").all()
    assert table.observed.index.equals(index) and list(table.observed.columns) == table.columns
    assert np.isfinite(table.frame.to_numpy()[table.observed.to_numpy()]).all()
    if table.freq is not None:
        assert index.equals(pd.date_range(index[0], periods=len(index), freq=table.freq))
    if fill in ("interpolate", "ffill"):
        empty = ~table.observed.any()
        assert not table.frame.loc[:, ~empty].isna().any().any()
    source_times = pd.to_datetime(frame["time"])
    for col in frame.columns[1:]:
        if col in table.columns and pd.api.types.is_float_dtype(frame[col]):
            original = pd.Series(frame[col].to_numpy(), index=source_times)
            seen = table.observed[col]
            np.testing.assert_allclose(
                table.frame[col][seen].to_numpy(), original.loc[index[seen]].to_numpy()
            )
