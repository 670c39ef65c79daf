"""read_table on DataFrames: pandas category columns, time columns beside calendar features, and
indexes that hold no usable time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmcast.config import ForecastConfig
from lstmcast.data import read_table
from lstmcast.data.columns import resolve_columns
from lstmcast.errors import DataError

HOURS = pd.date_range("2021-01-01", periods=6, freq="h")


def _frame(**columns) -> pd.DataFrame:
    return pd.DataFrame({"y": np.arange(6.0), **columns}, index=HOURS)


def test_a_category_of_numbers_is_encoded_as_categories_not_magnitudes():
    station = pd.Categorical([101, 205, 307, 101, 205, 307])
    onehot = read_table(_frame(station=station), categorical="onehot")
    assert list(onehot.frame.columns) == ["y", "station_101", "station_205", "station_307"]
    assert onehot.frame["station_307"].tolist() == [0, 0, 1, 0, 0, 1]
    label = read_table(_frame(station=station))
    assert label.frame["station"].tolist() == [0, 1, 2, 0, 1, 2]
    assert label.encodings["station"]["categories"] == ["101", "205", "307"]
    # like a text category, it is an input only: never a target of target=["all"]
    targets, inputs = resolve_columns(label, ForecastConfig(target=["all"]))
    assert targets == ["y"] and inputs == ["y", "station"]


def test_a_category_of_booleans_is_encoded_as_categories():
    flag = pd.Categorical([True, False, True, True, False, True], categories=[True, False])
    table = read_table(_frame(flag=flag))
    assert table.encodings["flag"]["categories"] == ["True", "False"]
    assert table.frame["flag"].tolist() == [0, 1, 0, 0, 1, 0]


def test_a_category_column_keeps_its_declared_order_for_the_label_codes():
    levels = ["low", "medium", "high"]
    level = pd.Categorical(["low", "high", "medium", "low", "high", None], levels, ordered=True)
    table = read_table(_frame(level=level), fill="none")
    assert table.encodings["level"]["categories"] == levels
    np.testing.assert_array_equal(table.frame["level"], [0, 2, 1, 0, 2, np.nan])
    # unordered too: the declared categories are the user's order, used or not
    table = read_table(_frame(level=pd.Categorical(["b", "a"] * 3, ["c", "b", "a"])))
    assert table.encodings["level"]["categories"] == ["c", "b", "a"]
    assert table.frame["level"].tolist() == [1, 2] * 3


def test_new_rows_of_a_category_column_get_the_fitted_codes():
    fitted = read_table(_frame(station=pd.Categorical([101, 205, 307] * 2)))
    codes = fitted.encodings
    # the same categorical, plain integers, floats, text, and a categorical in another order
    for new in (
        pd.Categorical([307, 101, 205] * 2),
        [307, 101, 205] * 2,
        [307.0, 101.0, 205.0] * 2,
        ["307", "101", "205"] * 2,
        pd.Categorical([307, 101, 205] * 2, [307, 205, 101]),
    ):
        table = read_table(_frame(station=new), encodings=codes)
        assert table.frame["station"].tolist() == [2, 0, 1] * 2, new
    with pytest.raises(DataError, match=r"column 'station' holds 999 at data row 2, not one of "):
        read_table(_frame(station=pd.Categorical([101, 999] * 3)), encodings=codes)


def test_a_complex_column_is_refused_by_name_where_it_is_used():
    with pytest.raises(
        DataError,
        match=r"^DataFrame: column 'z' holds complex numbers, not real measurements "
        r"\(its .real and .imag, or abs, as two columns can be\); drop it with columns=\[...\]$",
    ):
        read_table(_frame(z=np.arange(6) + 1j))
    # left out by the inputs (features), it is no one's business: as at 2afbc68
    table = read_table(_frame(z=np.arange(6) + 1j, x=np.ones(6)), free_text="skip")
    assert list(table.frame.columns) == ["y", "x"] and "z" in table.skipped


def _calendar(time_name: str) -> pd.DataFrame:
    days = pd.date_range("2020-01-30", periods=6, freq="D")
    frame = pd.DataFrame({time_name: days, "y": np.arange(6.0)})
    return frame.assign(year=days.year, month=days.month, day=days.day)


@pytest.mark.parametrize("time_name", ["date", "Timestamp"])
def test_a_datetime_time_column_wins_over_year_month_day_features(time_name):
    table = read_table(_calendar(time_name))
    assert table.freq == "D" and table.frame.index[0] == pd.Timestamp("2020-01-30")
    assert list(table.frame.columns) == ["y", "year", "month", "day"]
    assert table.frame["month"].tolist() == [1, 1, 2, 2, 2, 2]


def test_year_month_day_hour_still_build_the_time_beside_a_coarser_datetime_date():
    """A day-only datetime `date` beside year/month/day/hour took over the time (a regression):
    '17 duplicate timestamps', where the parts had always built the hours."""
    hours = pd.date_range("2020-01-01", periods=48, freq="h")
    frame = pd.DataFrame({"date": hours.normalize(), "year": hours.year, "month": hours.month,
                          "day": hours.day, "hour": hours.hour, "y": np.arange(48.0)})  # fmt: skip
    table = read_table(frame, columns=["y"])
    assert table.freq == "h" and (table.frame.index == hours).all()
    assert list(read_table(frame).frame.columns) == ["y"]  # a copy of the time, no input


def test_category_values_that_read_as_the_same_number_keep_their_own_codes():
    """'01' and '1' are different categories; matching by number gave both the code of '1'."""
    for categories in (["01", "1", "2"], ["1", "1.0", "2"], ["007", "7", "8"]):
        table = read_table(_frame(c=pd.Categorical(categories * 2, categories)))
        assert table.frame["c"].tolist() == [0.0, 1.0, 2.0] * 2


def test_year_month_day_still_build_the_time_beside_a_text_date_column():
    frame = _calendar("date").assign(date=lambda f: f["date"].dt.strftime("%d %b"))
    table = read_table(frame)  # the parts build the time; the text is a category, as before
    assert table.freq == "D" and list(table.frame.columns) == ["date", "y"]


@pytest.mark.parametrize(
    "index",
    [HOURS.date, HOURS.strftime("%Y-%m-%d %H:%M"), list(HOURS.strftime("%d/%m/%Y %H:%M"))],
)
def test_an_index_of_dates_that_is_no_datetime_index_names_the_fix(index):
    with pytest.raises(
        DataError,
        match=r"^DataFrame: the index holds dates but is not a DatetimeIndex \(it holds .*\); "
        r"make it one first: df\.index = pd\.to_datetime\(df\.index\)$",
    ):
        read_table(_frame().set_axis(index))


def test_a_frame_without_any_time_names_the_ways_to_give_one(tmp_path):
    with pytest.raises(
        DataError,
        match=r"^DataFrame: no time column or DatetimeIndex \(columns \['y'\], index of "
        r"RangeIndex\); set one with df\.index = pd\.to_datetime\(\.\.\.\), or pass time_col=",
    ):
        read_table(_frame().reset_index(drop=True))
    with pytest.raises(DataError, match=r"no time column or DatetimeIndex .*index of Index\)"):
        read_table(_frame().set_axis(list("abcdef")))
    _frame().to_csv(tmp_path / "n.csv", index=False)  # a file has no index to set
    with pytest.raises(DataError, match=r"cannot tell which column holds the time.*--time-col"):
        read_table(tmp_path / "n.csv")


@pytest.mark.parametrize("name, shown", [(None, "the index"), ("stamp", "the index 'stamp'")])
def test_an_empty_timestamp_in_the_index_is_named_as_the_index(name, shown):
    index = pd.DatetimeIndex([*HOURS[:3], pd.NaT, *HOURS[4:]], name=name)
    with pytest.raises(
        DataError,
        match=rf"^DataFrame: {shown} holds an empty value \(NaT\) at row 4 \(df\.iloc\[3\]\); "
        r"drop or fix those rows first, e.g\. df = df\[df\.index\.notna\(\)\]$",
    ):
        read_table(_frame().set_axis(index))


def test_category_names_that_read_alike_are_refused():
    alike = pd.Categorical([1, "1"] * 3)
    with pytest.raises(DataError, match=r"column 'c' has two categories that both read '1'; give "):
        read_table(_frame(c=alike))


def _export(n=80):
    """A CSV export of a frame with a time column and calendar features, as ymd_*.csv."""
    hours = pd.date_range("2020-01-01", periods=n, freq="h")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"time": hours.strftime("%Y-%m-%d %H:%M:%S"), "a": rng.normal(size=n),
                         "b": rng.normal(size=n), "year": hours.year, "month": hours.month,
                         "day": hours.day, "hour": hours.hour,
                         "date": hours.strftime("%Y-%m-%d")})  # fmt: skip


def test_a_text_time_column_beside_calendar_parts_is_the_time_and_a_day_only_date_no_input(
    tmp_path,
):
    """A text `time` beside year/month/day/hour (> 32 values) was refused as free text with
    "name the inputs with --features"; a day-only text `date` (<= 32 values) became a category
    input, so the model could not forecast later dates ("not one of the categories")."""
    from lstmcast.forecaster import Forecaster

    frame = _export()
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = read_table(tmp_path / "t.csv")  # the time column, unique: the time
    assert table.freq == "h" and table.frame.index[-1] == pd.Timestamp("2020-01-04 07:00")
    assert list(table.frame.columns) == ["a", "b", "year", "month", "day", "hour"]  # no date
    frame.drop(columns="time").to_csv(tmp_path / "d.csv", index=False)
    table = read_table(tmp_path / "d.csv")  # the date repeats: the parts build the time
    assert table.freq == "h" and list(table.frame.columns) == ["a", "b"] and not table.skipped
    cfg = ForecastConfig(target=["a"], epochs=1, units=[4], lookback=4, progress=False)
    fc = Forecaster(cfg).fit(str(tmp_path / "d.csv"))
    later = _export(120).iloc[90:].drop(columns="time")  # dates the model never saw
    assert fc.inputs_ == ["a", "b"] and len(fc.predict(later)) == 1
    # a model that read the date as a category (before this) still reads it so
    codes = {"date": {"kind": "label", "categories": ["2020-01-01"], "columns": ["date"]}}
    table = read_table(frame.drop(columns="time").iloc[:24], encodings=codes)
    assert list(table.frame.columns) == ["a", "b", "date"] and table.frame.index[1].hour == 1


@pytest.mark.parametrize(("setting", "name", "what", "fix"), [
    ("features", "date", "feature", "leave it out of --features"),
    ("features", "hour", "feature", "leave it out of --features"),
    ("target", "hour", "target", "pick another --target"),
])  # fmt: skip
def test_a_column_read_into_the_timestamps_is_named_as_such_when_asked_for(setting, name, what,
                                                                           fix):  # fmt: skip
    """--features hour (or the repeating date) beside year/month/day/hour said "not found",
    though the column is in the file: it went into the timestamps."""
    table = read_table(_export().drop(columns="time"))
    assert table.time_columns == ("year", "month", "day", "hour", "date")
    cfg = ForecastConfig(
        **{"target": ["a"], setting: [name, "a"] if setting == "features" else [name]}
    )
    with pytest.raises(DataError, match=rf"^{what} column '{name}' is one of the columns the "
                       r"table's timestamps were read from \(year, month, day, hour, date\), "
                       rf"not a value column: {fix}, or copy it into a column of another name "
                       "to read it as a value too$"):  # fmt: skip
        resolve_columns(table, cfg)
    assert resolve_columns(table, ForecastConfig(target=["a"], features=["b", "a"])) == (
        ["a"], ["b", "a"])  # fmt: skip


def test_a_time_column_that_is_not_the_time_is_refused_naming_time_col():
    frame = _export(40).assign(time=lambda f: f["time"].str.replace("2020-01-0", "2021-02-0"))
    with pytest.raises(DataError, match=r"^DataFrame: text column 'time' has 40 distinct values "
                       r"\(more than 32, so not categorical; if it holds the time, pass "
                       r"--time-col time\); drop it"):  # fmt: skip
        read_table(frame)


@pytest.mark.filterwarnings("ignore:feature column .* is constant")
def test_a_model_that_reads_calendar_parts_forecasts_from_rows_without_its_time_column(tmp_path):
    """Trained beside a unique `time`, year/month/day/hour are inputs; new rows without `time`
    (or with a day-only `date`) built the time from the parts and dropped them, so the model
    said the rows lacked ['year', 'month', 'day', 'hour']: the parts it reads are now kept."""
    from lstmcast.forecaster import Forecaster

    frame = _export(120)
    frame.iloc[:90].to_csv(tmp_path / "t.csv", index=False)
    cfg = ForecastConfig(target=["a"], epochs=1, units=[4], lookback=4, progress=False)
    fc = Forecaster(cfg).fit(str(tmp_path / "t.csv"))
    assert fc.inputs_ == ["a", "b", "year", "month", "day", "hour"]
    later = frame.iloc[90:]
    expected = fc.predict(later.drop(columns="date"))
    for new in (later.drop(columns=["time", "date"]), later.drop(columns="time")):
        pd.testing.assert_frame_equal(fc.predict(new), expected)


def test_a_table_of_new_rows_is_named_as_itself_in_messages(tmp_path):
    """A hand-built Table re-read as new rows was named 'DataFrame' in its errors."""
    from lstmcast.data.table import Table
    from lstmcast.forecaster import Forecaster

    wind = pd.Series(["N", "S", "E"] * 20, dtype=object)
    hours = pd.date_range("2021-01-01", periods=60, freq="h")
    frame = pd.DataFrame({"y": np.sin(np.arange(60.0)), "wind": wind.to_numpy()}, index=hours)
    cfg = ForecastConfig(target=["y"], epochs=1, units=[4], lookback=4, progress=False)
    fc = Forecaster(cfg).fit(frame)
    codes = frame.assign(wind=np.tile([1.0, 2.0, 0.0], 20))  # codes, but no encodings given
    hand = Table(frame=codes, observed=codes.notna(), freq="h", name="mine")
    with pytest.raises(DataError, match=r"^mine: column 'wind' holds 1\.0 at data row 1, not one "):
        fc.predict(hand)
