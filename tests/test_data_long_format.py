"""Tables that are not one series on a clean clock: several series stacked in long format (one
row per station and hour, at the same or at interleaved timestamps) and jittered timestamps,
each told the fix that keeps the data intact (pivot, round) rather than one that averages the
stations or empties hours (aggregate, resample)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lstmcast.cli import main
from lstmcast.data.checks import check_new_table, check_regular
from lstmcast.data.table import read_table
from lstmcast.data.timestamps import check_duplicates
from lstmcast.errors import DataError

FAST = ["--time-col", "time", "--target", "pm25", "--units", "4", "--epochs", "1",
        "--lookback", "6", "--horizon", "1", "--no-progress"]  # fmt: skip
PIVOT = (
    r"make one column per station, e.g\. df\.pivot\(index='time', columns='station', "
    r"values=\['pm25', \.\.\.\]\) then flatten the names, or keep one station's rows"
)


def _long(stations: list, n: int = 48, offset: str = "0min") -> pd.DataFrame:
    """Hourly pm25 and temp of ``stations`` (each its own level), one station after another;
    station s is stamped ``offset`` times s after the hour."""
    rng = np.random.default_rng(0)
    parts = []
    for s, station in enumerate(stations):
        time = pd.date_range("2021-01-01", periods=n, freq="h") + s * pd.Timedelta(offset)
        pm25 = 30 + 20 * s + np.cumsum(rng.normal(0, 1, n))
        temp = 5 + np.sin(np.arange(n) * 2 * np.pi / 24) + rng.normal(0, 0.3, n)
        parts.append(pd.DataFrame({"station": station, "time": time, "pm25": pm25, "temp": temp}))
    return pd.concat(parts, ignore_index=True)


def _duplicates(frame: pd.DataFrame) -> None:
    """check_duplicates as read_table would call it with the raw columns."""
    index = pd.DatetimeIndex(frame["time"], name="time")
    check_duplicates(index.sort_values(), "long.csv", frame.drop(columns="time").set_axis(index))


def _table(frame: pd.DataFrame, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_table(frame, **kwargs)


# ------------------------------------------------------------------ stacked at the same times
@pytest.mark.parametrize(
    "stations", [["BJ01", "BJ02", "BJ03", "BJ04"], [1, 2, 3, 4]], ids=["text", "number"]
)
def test_stations_stacked_at_the_same_times_are_told_to_pivot_not_aggregate(stations):
    with pytest.raises(
        DataError,
        match=r"^long\.csv: 4 series stacked in one table \(long format\): column 'station' "
        rf"takes 4 values at each timestamp; {PIVOT}$",
    ):
        _duplicates(_long(stations))


def test_reading_a_long_table_names_its_station_column_whatever_else_stops_it(tmp_path):
    """read_table (what train calls): the station column is named also with 40 stations (more
    names than a category may hold: "free text" came first) and when features leave it out."""
    frame = _long([f"S{k:02d}" for k in range(40)], n=24)
    frame.to_csv(tmp_path / "long.csv", index=False)
    for columns in (None, ["pm25", "temp"]):
        with pytest.raises(DataError, match=r"40 series stacked in one table \(long format\): "
                           r"column 'station' takes 40 values at each timestamp"):  # fmt: skip
            read_table(tmp_path / "long.csv", columns=columns)


def test_stacked_stations_missing_some_hours_are_still_long_format():
    frame = _long(["A", "B", "C"]).drop(index=[3, 50, 51])
    with pytest.raises(DataError, match=r"3 series stacked in one table \(long format\)"):
        _duplicates(frame)


def test_rows_repeated_with_other_values_are_told_to_remove_or_aggregate():
    frame = _long(["A"])
    frame = pd.concat([frame, frame.iloc[:5].assign(pm25=0.0)], ignore_index=True)
    with pytest.raises(
        DataError, match=r"5 duplicate timestamps \(first: .*\); remove or aggregate the repeated"
    ):
        _duplicates(frame)


def test_one_repeated_hour_whose_flag_differs_is_not_long_format():
    frame = _long(["A"]).assign(rain=[0, 1] * 24)
    frame = pd.concat([frame, frame.iloc[[4]].assign(rain=1)], ignore_index=True)
    with pytest.raises(DataError, match=r"^long\.csv: 1 duplicate timestamps \(first: "):
        _duplicates(frame)


# ------------------------------------------------------------------ interleaved
@pytest.mark.parametrize("categorical", ["label", "onehot"])
def test_stations_interleaved_in_time_warn_of_long_format(categorical):
    table = _table(_long(["A", "B"], offset="30min"), categorical=categorical)
    assert table.freq == "30min"  # reads as one regular half-hourly series
    with pytest.warns(
        UserWarning,
        match=r"^DataFrame: the table may hold 2 series stacked \(long format\): column "
        r"'station' takes turns between 2 values row by row \(A, B, A, \.\.\.\) and rows 2 apart "
        r"differ less than neighbouring ones; put the series on one clock, e\.g\. df\['time'\] = "
        rf"df\['time'\]\.dt\.floor\('h'\), and {PIVOT}$",
    ):
        check_regular(table)


def test_interleaved_stations_warn_in_one_line_when_training(tmp_path, capsys):
    csv = tmp_path / "long.csv"
    _long(["A", "B"], offset="30min").to_csv(csv, index=False)
    assert main(["train", "--data", str(csv), "--out", str(tmp_path / "m"), *FAST]) == 0
    lines = [x for x in capsys.readouterr().err.splitlines() if "long format" in x]
    assert len(lines) == 1 and lines[0].startswith("lstmcast train: warning: "), lines


def test_a_weekday_column_of_a_smooth_daily_series_does_not_warn():
    days = pd.date_range("2021-01-04", periods=70, freq="D")
    level = np.cumsum(np.random.default_rng(0).normal(0, 1, 70))
    table = _table(pd.DataFrame({"time": days, "y": level, "weekday": days.day_name()}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_regular(table)


# ------------------------------------------------------------------ jittered timestamps
def _jittered(n: int = 200, minute: int = 0) -> pd.DataFrame:
    """Hourly rows at ``minute`` past the hour, each stamp up to 4 s early or late."""
    rng = np.random.default_rng(0)
    hours = pd.date_range("2021-01-01", periods=n, freq="h") + pd.Timedelta(minutes=minute)
    time = hours + pd.to_timedelta(rng.integers(-4, 5, n), unit="s")
    return pd.DataFrame({"time": time, "pm25": rng.normal(30, 5, n)})


@pytest.mark.parametrize(
    ("minute", "unit", "words"), [(0, "h", "a whole hour"), (30, "30min", "a half hour")]
)
def test_jittered_hours_are_told_to_round_not_resample(minute, unit, words):
    table = _table(_jittered(minute=minute))
    assert table.freq is None
    with pytest.raises(
        DataError,
        match=r"^DataFrame: the timestamps are irregular \(steps from 0 days 00:59:5\d to 0 days "
        rf"01:00:0\d, no common frequency\) but each lies within 4 s of {words}: round them, "
        rf"e\.g\. frame\.index = frame\.index\.round\('{unit}'\) \(or df\['time'\] = "
        rf"df\['time'\]\.dt\.round\('{unit}'\)\)$",
    ):
        check_regular(table)


def test_jittered_new_rows_are_told_to_round_to_the_trained_step():
    table = _table(_jittered(40))
    with pytest.raises(
        DataError,
        match=r"^DataFrame: the timestamps are irregular, but the model was trained on 'h' "
        r"steps and each lies within 4 s of a whole hour: round them, e\.g\. frame\.index = "
        r"frame\.index\.round\('h'\)",
    ):
        check_new_table(table, ["pm25"], "h")


def test_timestamps_far_from_any_grid_are_still_told_to_resample():
    rng = np.random.default_rng(0)
    time = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        np.cumsum(rng.integers(40, 80, 200)), unit="min"
    )
    table = _table(pd.DataFrame({"time": time, "y": rng.normal(size=200)}))
    with pytest.raises(DataError, match=r"resample the table to a regular step first"):
        check_regular(table)
