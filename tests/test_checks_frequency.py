"""The table checks of lstmcast.data.checks and the season of baselines.season_length: new data
at the trained frequency whatever its first day, resample advice that fits the data, a test
split that holds a window, a --features suggestion that leaves out every useless column."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lstmcast.baselines import season_length
from lstmcast.data.checks import (
    check_columns_used,
    check_length,
    check_new_table,
    check_regular,
)
from lstmcast.data.split import Split
from lstmcast.data.table import read_table
from lstmcast.errors import DataError
from lstmcast.forecaster import ForecastConfig, Forecaster


def _table(index, **columns):
    """A Table over ``index`` with a seeded column y (and any ``columns`` given)."""
    rng = np.random.default_rng(0)
    data = {"y": rng.standard_normal(len(index)), **columns}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_table(pd.DataFrame(data, index=pd.DatetimeIndex(index, name="time")))


# ------------------------------------------------------------------ new data, trained frequency
@pytest.mark.parametrize("start", pd.date_range("2024-01-01", periods=5, freq="D"))  # Mon..Fri
def test_a_business_day_table_is_refused_by_a_daily_model_whatever_its_first_day(start):
    table = _table(pd.bdate_range(start, periods=12))
    assert table.freq == "B"
    with pytest.raises(DataError, match=r"is at frequency 'B', but the model was trained on 'D' "):
        check_new_table(table, ["y"], "D")


# US exchange holidays of 2024 on weekdays: New Year, MLK, Presidents, Good Friday, Memorial Day
HOLIDAYS = pd.DatetimeIndex(["2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27"])


@pytest.mark.parametrize("start", pd.date_range("2024-01-02", periods=7, freq="D"))
def test_business_days_with_holidays_read_as_business_days_whatever_the_first_day(start):
    """From a Monday the first five rows read as daily, and 'D' (which holds every business
    day) was taken: weekends became filled rows and forecasts after a Friday fell on Saturday."""
    days = pd.bdate_range(start, "2024-06-28")
    table = _table(days[~days.isin(HOLIDAYS)])
    assert table.freq == "B"
    assert table.frame.index.equals(days)  # the holidays re-indexed as missing rows, no weekends
    assert not table.observed.loc[HOLIDAYS.intersection(days), "y"].any()


def test_a_forecast_after_a_friday_falls_on_monday_with_holidays_in_the_table():
    days = pd.bdate_range("2024-01-08", "2024-06-28")  # a Monday to a Friday
    days = days[~days.isin(HOLIDAYS)]
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"close": 100 + rng.standard_normal(len(days)).cumsum()},
        index=pd.DatetimeIndex(days, name="time"),
    )
    config = ForecastConfig(target="close", lookback=5, horizon=3, units=[4], epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the holidays re-indexed
        fc = Forecaster(config.replace(progress=False)).fit(frame)
        forecast = fc.predict()
        recent = fc.predict(frame.loc["2024-05-20":])  # Memorial Day is missing, a Monday first
    assert fc.freq_ == "B"
    expected = pd.DatetimeIndex(["2024-07-01", "2024-07-02", "2024-07-03"], name="time")
    assert forecast.index.equals(expected) and recent.index.equals(expected)


def test_business_month_starts_and_month_starts_are_told_apart_whatever_the_first_month():
    # 1999-01 to 1999-04 start on weekdays, so the first four BMS and MS dates agree
    bms = _table(pd.date_range("1999-01-01", periods=12, freq="BMS"))
    assert bms.freq == "BMS"
    with pytest.raises(DataError, match=r"is at frequency 'BMS', but the model was trained on "):
        check_new_table(bms, ["y"], "MS")
    ms = _table(pd.date_range("1999-01-01", periods=12, freq="MS"))
    with pytest.raises(DataError, match=r"is at frequency 'MS', but the model was trained on "):
        check_new_table(ms, ["y"], "BMS")


@pytest.mark.parametrize(
    ("table_freq", "model_freq"),
    [("h", "h"), ("h", "H"), ("h", "60min"), ("15min", "15min"), ("D", "D"), ("B", "B"),
     ("W-SUN", "W-SUN"), ("W-SUN", "W"), ("MS", "MS"), ("ME", "ME"), ("BMS", "BMS"),
     ("QS-JAN", "QS-JAN"), ("QE-DEC", "QE-DEC"), ("YS", "YS-JAN")],
)  # fmt: skip
def test_new_data_at_the_trained_frequency_passes(table_freq, model_freq):
    table = _table(pd.date_range("2001-01-01", periods=30, freq=table_freq))
    check_new_table(table, ["y"], model_freq)


def test_three_weekdays_in_a_row_pass_a_business_day_model():
    table = _table(pd.date_range("2024-01-01", periods=3, freq="D"))  # Mon, Tue, Wed
    check_new_table(table, ["y"], "B")


def test_two_rows_an_hour_apart_are_refused_by_a_daily_model():
    table = _table(pd.DatetimeIndex(["2020-10-01 00:00", "2020-10-01 01:00"]))
    with pytest.raises(
        DataError,
        match=r"DataFrame: the timestamps 2020-10-01 00:00:00 and 2020-10-01 01:00:00 are not "
        r"consecutive 'D' steps, the steps the model was trained on: pass rows 'D' apart",
    ):
        check_new_table(table, ["y"], "D")


@pytest.mark.parametrize(
    ("index", "freq"),
    [(["2020-10-01", "2020-10-02"], "D"), (["2020-10-01 00:00", "2020-10-01 01:00"], "h"),
     (["2020-10-01", "2020-11-01"], "MS"), (["2020-10-31", "2020-11-30"], "ME"),
     (["2020-10-01"], "MS")],
)  # fmt: skip
def test_one_or_two_rows_one_step_apart_pass(index, freq):
    check_new_table(_table(pd.DatetimeIndex(index)), ["y"], freq)


@pytest.mark.parametrize(
    "index", [["2020-01-15", "2020-02-15"], ["2020-01-01", "2020-03-01"], ["2020-01-15"]]
)
def test_one_or_two_rows_off_the_monthly_steps_are_refused(index):
    with pytest.raises(DataError, match=r"'MS' steps, the steps the model was trained on"):
        check_new_table(_table(pd.DatetimeIndex(index)), ["y"], "MS")


# ------------------------------------------------------------------ season lengths
@pytest.mark.parametrize(
    ("freq", "season"),
    [("h", 24), ("H", 24), ("2h", 12), ("7h", 1), ("12h", 2), ("15min", 96), ("30min", 48),
     ("10min", 144), ("min", 1440), ("s", 1), ("ms", 1), ("D", 7), ("3D", 1), ("7D", 52),
     ("B", 5), ("2B", 1), ("W", 52), ("W-MON", 52), ("2W", 26), ("MS", 12), ("ME", 12),
     ("BMS", 12), ("BME", 12), ("3MS", 4), ("5MS", 1), ("SMS", 24), ("QS-JAN", 4),
     ("QE-DEC", 4), ("BQS", 4), ("YS", 1), ("YE-DEC", 1), ("BYS", 1), (None, 1), ("", 1),
     ("nonsense", 1)],
)  # fmt: skip
def test_season_length_is_the_natural_cycle_in_steps(freq, season):
    assert season_length(freq) == season


# ------------------------------------------------------------------ resample advice
def test_minute_irregular_timestamps_are_told_to_resample_hourly():
    steps = np.random.default_rng(0).integers(1, 100, 200)
    index = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.cumsum(steps), unit="min")
    with pytest.raises(DataError, match=r"resample the table to a regular step first, e\.g\. "
                       r"frame\.resample\('h'\)\.mean\(\)"):  # fmt: skip
        check_regular(_table(index))


@pytest.mark.parametrize(
    ("index", "rule"),
    [([f"2000-{m:02d}-15" for m in range(1, 13)], "MS"),
     ([f"200{y}-{m:02d}-15" for y in range(4) for m in (2, 5, 8, 11)], "QS"),
     ([f"{y}-07-04" for y in range(2000, 2010)], "YS")],
)  # fmt: skip
def test_calendar_data_stamped_mid_period_is_told_to_resample_at_its_period(index, rule):
    table = _table(pd.DatetimeIndex(index))
    assert table.freq is None
    with pytest.raises(DataError, match=rf"e\.g\. frame\.resample\('{rule}'\)\.mean\(\)$"):
        check_regular(table)


def test_local_daily_dates_converted_to_utc_are_told_to_write_the_local_dates(tmp_path):
    """Local midnights written in UTC without an offset (23 or 25 h apart across a change)."""
    days = pd.date_range("2021-03-20", periods=20, freq="D", tz="Europe/Berlin")
    path = tmp_path / "tzdaily.csv"
    utc = days.tz_convert("UTC").tz_localize(None)
    pd.DataFrame({"time": utc.astype(str), "y": np.arange(20.0)}).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = read_table(path)
    with pytest.raises(
        DataError,
        match=r"tzdaily.csv: the timestamps are irregular \(steps from 0 days 23:00:00 to 1 "
        r"days 00:00:00\): whole days give or take an hour, as local dates converted to UTC "
        r"across a daylight-saving change; write the local dates instead",
    ):
        check_regular(table)


# ------------------------------------------------------------------ split lengths
def test_a_date_split_that_leaves_the_test_split_short_of_one_window_is_refused():
    table = _table(pd.date_range("2020-01-01", periods=26, freq="D"))
    split = Split(slice(0, 20), slice(20, 25), slice(25, 26))
    with pytest.raises(
        DataError,
        match=r"^the split leaves 1 test row; horizon 3 needs at least 3 to score one window: "
        r"move val_end earlier or shorten horizon$",
    ):
        check_length(table, split, 12, 3, None)
    check_length(table, Split(slice(0, 18), slice(18, 23), slice(23, 26)), 12, 3, None)


def test_fractions_that_leave_the_test_split_short_name_it_and_the_rows_needed():
    table = _table(pd.date_range("2020-01-01", periods=40, freq="D"))
    split = Split(slice(0, 32), slice(32, 39), slice(39, 40))  # fractions 0.8, 0.18
    with pytest.raises(
        DataError,
        match=r"DataFrame has 40 rows, too few for lookback 12 \+ horizon 3: the test split gets "
        r"1 and needs 3; pass at least \d+ rows, shorten --lookback/--horizon, or give that split "
        r"a larger share "
        r"\(--train-fraction/--val-fraction\)",
    ):
        check_length(table, split, 12, 3, (0.8, 0.18))


def test_plan_refuses_split_dates_that_leave_a_test_split_too_short_for_the_horizon():
    frame = pd.DataFrame(
        {"y": np.sin(np.arange(40.0))}, index=pd.date_range("2020-01-01", periods=40, name="time")
    )
    config = ForecastConfig(data="DataFrame", target=["y"], lookback=5, horizon=3,
                            train_end="2020-01-30", val_end="2020-02-07")  # fmt: skip
    with pytest.raises(DataError, match=r"the split leaves 2 test rows; horizon 3 needs"):
        Forecaster(config).fit(frame)


# ------------------------------------------------------------------ columns
def test_the_features_suggestion_leaves_out_every_constant_or_empty_column():
    n = 30
    table = _table(pd.date_range("2020-01-01", periods=n, freq="D"), const=np.full(n, 5.0),
                   x=np.arange(n, dtype=float), empty=np.full(n, np.nan))  # fmt: skip
    with pytest.warns(UserWarning) as caught, pytest.raises(DataError) as refused:
        check_columns_used(table, slice(0, 20), ["y", "const", "x", "empty"], ["y"])
    assert [str(w.message) for w in caught] == [
        "feature column 'const' is constant (5) in the training split: it tells the model "
        "nothing; leave it out: --features y x"
    ]
    assert str(refused.value) == (
        "feature column 'empty' holds no value at all: leave it out: --features y x"
    )


def test_the_features_suggestion_says_so_when_no_column_varies():
    n = 30
    table = _table(pd.date_range("2020-01-01", periods=n, freq="D"), const=np.full(n, 5.0))
    table.frame["y"] = 1.0
    with pytest.warns(UserWarning) as caught:
        check_columns_used(table, slice(0, 20), ["y", "const"], ["y"])
    assert str(caught[-1].message) == (
        "feature column 'const' is constant (5) in the training split: it tells the model "
        "nothing; leave it out, though no other column varies in the training split either"
    )


def test_a_long_step_against_a_long_table_is_another_frequency_not_a_crash():
    """A yearly model against 300,000 hourly rows built a yearly range to year 302019 and
    raised OutOfBoundsDatetime; the table is simply not at the model's steps."""
    from lstmcast.data.checks import _steps_of

    hourly = pd.date_range("2000-01-01", periods=300_000, freq="h")
    assert _steps_of(hourly, "YS", "h") is False
    assert _steps_of(hourly, "h", "h") is True
