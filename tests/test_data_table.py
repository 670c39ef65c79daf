"""read_table: both time layouts, duplicates and gaps, categorical encoding, validation, filling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmcast.data import read_table
from lstmcast.errors import DataError


def _hourly_csv(tmp_path, rows: list[str], header: str = "No,year,month,day,hour,pm,TEMP,cbwd"):
    path = tmp_path / "t.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


PARTS = [
    "1,2010,1,1,0,NA,-11,NW",
    "2,2010,1,1,1,10,-12,NW",
    "3,2010,1,1,2,20,-11,cv",
    "4,2010,1,1,3,40,-14,SE",
    "5,2010,1,1,4,30,-12,NE",
]


def test_year_month_day_hour_layout(tmp_path):
    table = read_table(_hourly_csv(tmp_path, PARTS))
    assert table.freq == "h"
    assert table.frame.index.name == "time"
    assert table.frame.index[0] == pd.Timestamp("2010-01-01 00:00")
    assert list(table.frame.columns) == ["pm", "TEMP", "cbwd"]  # No and the time parts dropped
    assert (table.frame.dtypes == "float64").all()
    # label encoding is alphabetical: NE=0, NW=1, SE=2, cv=3
    assert table.frame["cbwd"].tolist() == [1, 1, 3, 2, 0]
    assert table.encodings["cbwd"]["categories"] == ["NE", "NW", "SE", "cv"]


def test_time_column_layout_and_parquet_agree(tmp_path):
    frame = pd.DataFrame(
        {"when": pd.date_range("2021-03-01", periods=6, freq="D").astype(str), "x": np.arange(6.0)}
    )
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    from_csv = read_table(tmp_path / "a.csv", time_col="when")
    from_parquet = read_table(tmp_path / "a.parquet", time_col="when")
    pd.testing.assert_frame_equal(from_csv.frame, from_parquet.frame)
    assert from_csv.freq == "D"
    assert from_csv.frame["x"].tolist() == list(range(6))


def test_a_column_named_date_is_found_and_rows_are_sorted(tmp_path):
    (tmp_path / "d.csv").write_text("date,x\n2020-01-03,3\n2020-01-01,1\n2020-01-02,2\n")
    table = read_table(tmp_path / "d.csv")
    assert table.frame["x"].tolist() == [1, 2, 3]


def test_no_time_column_names_the_fix(tmp_path):
    (tmp_path / "n.csv").write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(DataError, match=r"cannot tell which column holds the time.*--time-col"):
        read_table(tmp_path / "n.csv")
    with pytest.raises(DataError, match=r"time column 'nope' not found"):
        read_table(tmp_path / "n.csv", time_col="nope")


def test_duplicate_timestamps_are_listed(tmp_path):
    rows = [*PARTS, "6,2010,1,1,2,25,-11,cv"]
    with pytest.raises(DataError, match=r"1 duplicate timestamps \(first: 2010-01-01 02:00:00\)"):
        read_table(_hourly_csv(tmp_path, rows))


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_local_times_repeated_when_the_clocks_went_back_get_the_offsets_advice(tmp_path, zone):
    """Wall-clock times of a daylight-saving change were told to "remove or aggregate the
    repeated rows", which loses a real hour; the readings with offsets are read in UTC."""
    local = pd.date_range("2021-11-06 22:00", periods=40, freq="15min", tz="UTC").tz_convert(zone)
    if zone == "Europe/Berlin":
        local = pd.date_range("2021-10-30 22:00", periods=40, freq="15min", tz=zone)
    wall = local.tz_localize(None)
    day = wall[wall.duplicated()][0].date()
    frame = pd.DataFrame({"time": wall.strftime("%Y-%m-%d %H:%M:%S"), "load": range(40)})
    frame.to_csv(tmp_path / "wall.csv", index=False)
    expected = (
        rf"4 duplicate timestamps \(first: {day} 0[12]:00:00, .*\); if they are local times "
        rf"repeated when the clocks went back on {day}, give them with UTC offsets \(e\.g\. "
        rf"{day}T0[12]:00:00\+02:00, then \+01:00 in Central Europe\) or in UTC; else remove "
        r"or aggregate the repeated rows$"
    )
    with pytest.raises(DataError, match=expected):
        read_table(tmp_path / "wall.csv")
    frame["time"] = local.map(lambda t: t.isoformat())  # the same readings, with offsets
    frame.to_csv(tmp_path / "offsets.csv", index=False)
    table = read_table(tmp_path / "offsets.csv")
    assert table.freq == "15min" and len(table) == 40 and table.observed.all().all()


def test_missing_timestamps_are_reported_and_reindexed(tmp_path):
    rows = [PARTS[0], PARTS[1], PARTS[3], PARTS[4]]  # 02:00 is missing
    with pytest.warns(UserWarning, match=r"1 timestamps missing at frequency 'h' \(first gap at "
                      r"2010-01-01 02:00:00\); re-indexed"):  # fmt: skip
        table = read_table(_hourly_csv(tmp_path, rows), fill="interpolate")
    assert len(table.frame) == 5
    assert not table.observed.loc["2010-01-01 02:00"].any()
    assert table.frame.loc["2010-01-01 02:00", "pm"] == 25.0  # linear between 10 and 40
    assert table.frame.loc["2010-01-01 02:00", "TEMP"] == -13.0
    assert table.frame.loc["2010-01-01 02:00", "cbwd"] == 1.0  # codes are carried, not interpolated
    with pytest.warns(UserWarning, match="pass reindex=True"):
        kept = read_table(_hourly_csv(tmp_path, rows), reindex=False)
    assert len(kept.frame) == 4 and kept.freq is None


def test_gappy_quarterly_series_is_reindexed_at_its_calendar_frequency():
    index = pd.date_range("2000-01-01", periods=12, freq="QS-JAN").delete(5)
    frame = pd.DataFrame({"gdp": np.arange(11.0)}, index=index)
    with pytest.warns(UserWarning, match="1 timestamps missing at frequency 'QS-JAN'"):
        table = read_table(frame)
    assert len(table.frame) == 12 and table.freq == "QS-JAN"


def test_non_numeric_text_names_column_row_and_value(tmp_path):
    rows = [*PARTS[:3], "4,2010,1,1,3,oops,-14,SE", "5,2010,1,1,4,30,-12,NE"]
    with pytest.raises(DataError, match=r"numeric column 'pm' holds the text 'oops' at data row 4"):
        read_table(_hourly_csv(tmp_path, rows))


def test_onehot_encoding(tmp_path):
    table = read_table(_hourly_csv(tmp_path, PARTS), categorical="onehot")
    assert list(table.frame.columns) == ["pm", "TEMP", "cbwd_NE", "cbwd_NW", "cbwd_SE", "cbwd_cv"]
    assert table.frame.iloc[:, 2:].sum(axis=1).tolist() == [1.0] * 5
    assert table.frame["cbwd_cv"].tolist() == [0, 0, 1, 0, 0]


def test_fill_modes_and_the_observed_mask(tmp_path):
    path = _hourly_csv(tmp_path, [*PARTS[:3], "4,2010,1,1,3,NA,-14,SE", "5,2010,1,1,4,30,-12,NE"])
    interpolated = read_table(path, fill="interpolate")
    assert interpolated.frame["pm"].tolist() == [10, 10, 20, 25, 30]  # leading edge back-filled
    assert interpolated.observed["pm"].tolist() == [False, True, True, False, True]
    assert read_table(path, fill="ffill").frame["pm"].tolist() == [10, 10, 20, 20, 30]
    assert read_table(path, fill="none").frame["pm"].isna().sum() == 2
    with pytest.raises(DataError, match=r"missing values in pm \(2\) and fill='refuse'"):
        read_table(path, fill="refuse")


def test_columns_selects_and_orders(tmp_path):
    table = read_table(_hourly_csv(tmp_path, PARTS), columns=["TEMP", "pm"])
    assert list(table.frame.columns) == ["TEMP", "pm"]
    with pytest.raises(DataError, match=r"columns \['rain'\] not found"):
        read_table(_hourly_csv(tmp_path, PARTS), columns=["rain"])


def test_bad_arguments():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.date_range("2020", periods=3, freq="h"))
    with pytest.raises(DataError, match="fill must be one of"):
        read_table(frame, fill="zero")
    with pytest.raises(DataError, match="categorical must be one of"):
        read_table(frame, categorical="hash")
    with pytest.raises(DataError, match="no such file"):
        read_table("/nonexistent/table.csv")


def test_a_pipe_is_read_like_the_file_behind_it_and_a_folder_is_named(tmp_path):
    """`--data <(zcat data.csv.gz)` hands over a pipe: it was refused as 'no such file'."""
    import os
    import threading

    path = _hourly_csv(tmp_path, PARTS)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(path.read_bytes()))
    writer.start()
    piped = read_table(fifo)
    writer.join()
    pd.testing.assert_frame_equal(piped.frame, read_table(path).frame)
    with pytest.raises(DataError) as err:
        read_table(tmp_path)
    assert str(err.value) == (
        f"{tmp_path} is a folder; pass the path of a CSV or Parquet table in it"
    )


def test_encodings_from_training_give_new_data_the_same_columns(tmp_path):
    train = read_table(_hourly_csv(tmp_path, PARTS), categorical="onehot")
    later = ["6,2010,1,1,5,30,-12,NE", "7,2010,1,1,6,30,-12,NE"]  # only one category appears
    table = read_table(_hourly_csv(tmp_path, later), encodings=train.encodings)
    assert list(table.frame.columns) == list(train.frame.columns)
    assert table.frame["cbwd_NE"].tolist() == [1.0, 1.0] and table.frame["cbwd_cv"].sum() == 0
    unseen = ["6,2010,1,1,5,30,-12,SW"]
    with pytest.raises(DataError, match=r"column 'cbwd' holds 'SW' at data row 1, not one of the "):
        read_table(_hourly_csv(tmp_path, unseen), encodings=train.encodings)


def test_a_dataframe_with_a_datetime_index():
    index = pd.date_range("2020-01-01", periods=4, freq="h", name="stamp")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "t": index.astype(str)}, index=index)
    assert read_table(frame[["x"]]).frame["x"].tolist() == [1, 2, 3, 4]
    table = read_table(frame, time_col="t")  # an explicit time column wins over the index
    assert list(table.frame.columns) == ["x"] and table.freq == "h"


def test_all_numeric_frames_keep_values_missing_marks_and_inf_errors():
    """Every column numeric (the one-conversion path): nullable integers and booleans become
    float64 with NaN where missing, and an inf is named by column and row as elsewhere."""
    when = pd.date_range("2024-01-01", periods=4, freq="h")
    frame = pd.DataFrame(
        {
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
            "flag": pd.array([True, False, None, True], dtype="boolean"),
            "x": [0.5, 1.5, 2.5, 3.5],
        },
        index=when,
    )
    table = read_table(frame, fill="none")
    assert list(table.frame.dtypes) == [np.float64] * 3
    np.testing.assert_array_equal(table.frame["count"], [1, np.nan, 3, 4])
    np.testing.assert_array_equal(table.frame["flag"], [1, 0, np.nan, 1])
    assert table.observed.to_numpy().sum(axis=0).tolist() == [3, 3, 4]
    frame.loc[when[2], "x"] = -np.inf
    with pytest.raises(DataError, match=r"column 'x' holds -inf at data row 3"):
        read_table(frame)


def test_utc_offsets_across_a_daylight_saving_change_become_regular_utc_hours(tmp_path):
    """Offsets that change (+01:00 to +02:00 in spring, back in autumn) are read as UTC."""
    spring = [
        "2021-03-28T00:00:00+01:00",
        "2021-03-28T01:00:00+01:00",
        "2021-03-28T03:00:00+02:00",
        "2021-03-28T04:00:00+02:00",
    ]
    autumn = [
        "2021-10-31T01:00:00+02:00",
        "2021-10-31T02:00:00+02:00",
        "2021-10-31T02:00:00+01:00",
        "2021-10-31T03:00:00+01:00",
    ]
    for stamps, first in ((spring, "2021-03-27 23:00"), (autumn, "2021-10-30 23:00")):
        rows = [f"{stamp},{i}" for i, stamp in enumerate(stamps)]
        (tmp_path / "dst.csv").write_text("\n".join(["time,load", *rows]) + "\n")
        table = read_table(tmp_path / "dst.csv")
        assert table.freq == "h" and table.frame.index.tz is None
        assert list(table.frame.index) == list(pd.date_range(first, periods=4, freq="h"))
        assert table.frame["load"].tolist() == [0, 1, 2, 3]


def test_a_table_remembers_the_zone_of_timestamps_it_indexes_in_utc(tmp_path):
    """The index of a table with offsets is naive UTC; ``Table.tz`` keeps the zone forecasts
    are stamped in: a tz-aware index's zone, the one offset every stamp shares, else UTC."""
    utc = pd.date_range("2021-03-27 20:00", periods=12, freq="h", tz="UTC")
    berlin, kolkata = utc.tz_convert("Europe/Berlin"), utc.tz_convert("Asia/Kolkata")
    y = np.arange(12.0)
    for stamps, name in ((berlin, "berlin.csv"), (kolkata, "kolkata.csv")):
        text = "time,y\n" + "".join(
            f"{t.isoformat()},{v}\n" for t, v in zip(stamps, y, strict=True)
        )
        (tmp_path / name).write_text(text)
    assert "+01:00" in (tmp_path / "berlin.csv").read_text()  # both offsets: DST on 03-28
    assert "+02:00" in (tmp_path / "berlin.csv").read_text()
    naive = list(utc.tz_localize(None))
    for source, zone in (
        (pd.DataFrame({"y": y}, index=berlin), "Europe/Berlin"),
        (tmp_path / "berlin.csv", "UTC"),  # offsets that change name no zone: UTC
        (tmp_path / "kolkata.csv", "UTC+05:30"),
        (pd.DataFrame({"time": kolkata, "y": y}), "Asia/Kolkata"),
    ):
        table = read_table(source)
        assert table.frame.index.tz is None and list(table.frame.index) == naive
        assert str(table.tz) == zone and table.freq == "h"
    (tmp_path / "naive.csv").write_text(
        "time,y\n" + "".join(f"{t},{v}\n" for t, v in zip(naive, y, strict=True))
    )
    assert read_table(tmp_path / "naive.csv").tz is None


def test_local_dates_with_offsets_across_a_daylight_saving_change_stay_local_dates(tmp_path):
    """Midnights at +01:00 then +02:00 are 23 h apart in UTC but a day apart on the calendar:
    read as the local dates, at frequency 'D' (a CSV, a tz-aware index, month starts)."""
    days = pd.date_range("2021-03-20", periods=20, freq="D", tz="Europe/Berlin")
    text = "time,y\n" + "".join(f"{d.isoformat()},{i}\n" for i, d in enumerate(days))
    assert "2021-03-28T00:00:00+01:00" in text and "2021-03-29T00:00:00+02:00" in text
    (tmp_path / "tzdaily.csv").write_text(text)
    local = pd.date_range("2021-03-20", periods=20, freq="D")
    for source in (tmp_path / "tzdaily.csv", pd.DataFrame({"y": np.arange(20.0)}, index=days)):
        table = read_table(source)
        assert table.freq == "D" and table.frame.index.tz is None and table.tz is None
        assert list(table.frame.index) == list(local)
        assert table.frame["y"].tolist() == list(range(20))
    months = pd.date_range("2020-01-01", periods=24, freq="MS", tz="America/New_York")
    table = read_table(pd.DataFrame({"y": np.arange(24.0)}, index=months))
    assert table.freq == "MS" and table.frame.index[0] == pd.Timestamp("2020-01-01")


def test_timestamps_with_and_without_offsets_are_refused(tmp_path):
    (tmp_path / "m.csv").write_text(
        "time,load\n2021-03-28T00:00:00,1\n2021-03-28T01:00:00+01:00,2\n2021-03-28T02:00:00,3\n"
    )
    message = (
        r"'time' mixes timestamps with a UTC offset \('2021-03-28T01:00:00\+01:00' at data row 2"
    )
    with pytest.raises(DataError, match=message):
        read_table(tmp_path / "m.csv")


def test_parquet_with_a_datetime_index_uses_it_as_time(tmp_path):
    index = pd.date_range("2020-01-01", periods=5, freq="h", name="timestamp")
    frame = pd.DataFrame({"load": np.arange(5.0), "temp": -np.arange(5.0)}, index=index)
    frame.to_parquet(tmp_path / "idx.parquet")
    for time_col in (None, "timestamp"):
        table = read_table(tmp_path / "idx.parquet", time_col=time_col)
        assert list(table.frame.columns) == ["load", "temp"] and table.freq == "h"
        assert list(table.frame.index) == list(index)
    frame.rename_axis(None).to_parquet(tmp_path / "unnamed.parquet")  # an index without a name
    assert list(read_table(tmp_path / "unnamed.parquet").frame.index) == list(index)
    with pytest.raises(DataError, match=r"time column 'when' not found; the columns are \['load'"):
        read_table(tmp_path / "unnamed.parquet", time_col="when")


def test_a_numeric_time_column_is_refused_not_read_as_nanoseconds():
    frame = pd.DataFrame({"step": [0, 1, 2], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=r"time column 'step' holds numbers \(0 at data row 1\)"):
        read_table(frame, time_col="step")


def _dates_csv(tmp_path, dates: list[str]):
    path = tmp_path / "dates.csv"
    path.write_text("date,load\n" + "".join(f"{d},{i}\n" for i, d in enumerate(dates)))
    return path


def test_day_first_dates_are_read_only_when_no_value_can_be_month_first(tmp_path):
    european = [f"{d:02d}/01/2020" for d in range(1, 15)]  # 13/01/2020 settles the order
    table = read_table(_dates_csv(tmp_path, european))
    assert table.freq == "D" and table.frame.index[-1] == pd.Timestamp("2020-01-14")
    hourly = [f"13.01.2020 {h:02d}:00" for h in range(4)]
    assert read_table(_dates_csv(tmp_path, hourly)).freq == "h"
    american = [f"01/{d:02d}/2020" for d in range(10, 15)]
    assert read_table(_dates_csv(tmp_path, american)).frame.index[0] == pd.Timestamp("2020-01-10")


def test_dates_whose_day_month_order_cannot_be_told_are_refused(tmp_path):
    ambiguous = [f"{d:02d}/01/2020" for d in range(1, 6)]  # 2 January or 1 February?
    message = (
        r"dates such as '02/01/2020' \(data row 2\) that read both day-first and month-first; "
        "write the dates as ISO YYYY-MM-DD"
    )
    with pytest.raises(DataError, match=message):
        read_table(_dates_csv(tmp_path, ambiguous))
    mixed = ["01/13/2020", "14/01/2020", "01/15/2020"]
    message = (
        r"mixes day-first and month-first dates \('14/01/2020' at data row 2, '01/13/2020' at "
        r"data row 1\); write the dates as ISO"
    )
    with pytest.raises(DataError, match=message):
        read_table(_dates_csv(tmp_path, mixed))


def test_messages_show_plain_values_not_numpy_reprs(tmp_path):
    when = pd.date_range("2020-01-01", periods=3, freq="h")
    train = read_table(pd.DataFrame({"code": ["a", "b", "a"]}, index=when))
    codes = pd.DataFrame({"code": np.array([0, 3, 1], dtype="int64")}, index=when)
    with pytest.raises(DataError, match=r"column 'code' holds 0 at data row 1, not one of"):
        read_table(codes, encodings=train.encodings)
    (tmp_path / "p.csv").write_text("year,month,day,x\n2020,1,1,1\n2020,1,2.5,2\n")
    with pytest.raises(DataError, match=r"time part 'day' holds 2.5 at data row 2; expected"):
        read_table(tmp_path / "p.csv")
    (tmp_path / "e.csv").write_text("date,x\n2020-01-01,1\n,2\n2020-01-03,3\n")
    with pytest.raises(DataError, match=r"time column 'date' holds an empty value at data row 2"):
        read_table(tmp_path / "e.csv")


@pytest.mark.parametrize(
    "suffix, kind",
    [
        (".json", "JSON"),
        (".xlsx", "Excel"),
        (".feather", "Feather"),
        (".pkl", "pickle"),
        (".h5", "HDF5"),
    ],
)
def test_non_csv_formats_are_refused_by_extension(tmp_path, suffix, kind):
    path = tmp_path / f"h{suffix}"
    path.write_text('{"time": {"0": 1}, "load": {"0": 1}}')
    message = rf"h\{suffix}: {kind} files are not supported; pass a CSV or Parquet table \(\.csv"
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_other_extensions_are_read_as_csv(tmp_path):
    (tmp_path / "t.txt").write_text("time\tload\n2020-01-01\t1\n2020-01-02\t2\n2020-01-03\t3\n")
    assert read_table(tmp_path / "t.txt").frame["load"].tolist() == [1, 2, 3]


def _plain_frame(n: int = 30) -> pd.DataFrame:
    time = pd.date_range("2020-01-01", periods=n, freq="h")
    return pd.DataFrame({"time": time, "y": np.arange(n) * 0.5, "x": np.arange(n) % 7 * 1.0})


def test_text_where_a_model_read_numbers_is_free_text_not_codes(tmp_path):
    """New rows for a trained model (encodings given, here none): a text column with few values
    was label-coded and read as the numbers the model was trained on."""
    frame = _plain_frame().assign(x=lambda d: np.where(d.x > 3, "hi", "lo"))
    table = read_table(frame, encodings={}, free_text="skip")
    assert "x" not in table.frame.columns and table.encodings == {}
    assert table.skipped == {"x": "DataFrame: column 'x' holds the text 'lo' at data row 1"}
    with pytest.raises(DataError, match=r"column 'x' holds the text 'lo' at data row 1; drop it"):
        read_table(frame.astype({"x": "category"}), encodings={})
    frame.to_parquet(tmp_path / "b.parquet")  # bytes, as some writers store text
    pd.DataFrame({**frame, "x": frame.x.str.encode("ascii")}).to_parquet(tmp_path / "b.parquet")
    table = read_table(tmp_path / "b.parquet", encodings={}, free_text="skip")
    assert "x" not in table.frame.columns and "holds the text b'lo'" in table.skipped["x"]
    # without encodings the column is categorical, as when training
    assert read_table(frame).encodings["x"]["categories"] == ["hi", "lo"]


def test_a_file_with_a_repeated_column_name_is_refused(tmp_path):
    """pandas renamed the second x of a CSV to x.1, so the first x was read, silently."""
    frame = _plain_frame()
    (tmp_path / "d.csv").write_text(frame.assign(z=0.0).to_csv(index=False).replace(",z", ",x", 1))
    message = (
        r"d\.{}: column name\(s\) \['x'\] appear more than once; rename or drop the repeats so "
        "that each column has its own name"
    )
    with pytest.raises(DataError, match=message.format("csv")):
        read_table(tmp_path / "d.csv")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table([frame.time, frame.y, frame.x, frame.x], names=["time", "y", "x", "x"]),
                   tmp_path / "d.parquet")  # fmt: skip
    with pytest.raises(DataError, match=message.format("parquet")):
        read_table(tmp_path / "d.parquet")


def test_compressed_csvs_are_read_whatever_their_name(tmp_path):
    """The separator was guessed from the compressed bytes (data.csv.gz read as one column
    'time;y;x'), and a gzip file named .csv was 'not UTF-8 text'."""
    import bz2
    import gzip
    import lzma
    import zipfile

    text = _plain_frame().to_csv(index=False, sep=";").encode()
    plain = read_table(_write(tmp_path / "plain.csv", text)).frame
    files = [
        _write(tmp_path / "a.csv.gz", gzip.compress(text, mtime=0)),
        _write(tmp_path / "a.csv", gzip.compress(text, mtime=0)),
        _write(tmp_path / "a.csv.bz2", bz2.compress(text)),
        _write(tmp_path / "a.dat", lzma.compress(text)),
    ]
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        archive.writestr("a.csv", text)
    for path in [*files, tmp_path / "a.zip"]:
        pd.testing.assert_frame_equal(read_table(path).frame, plain, obj=path.name)
    _write(tmp_path / "cut.csv.gz", gzip.compress(text, mtime=0)[:40])
    with pytest.raises(DataError, match=r"cut.csv.gz: cannot be read as a table \(Compressed "):
        read_table(tmp_path / "cut.csv.gz")


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_separators_in_column_names_do_not_change_the_separator(tmp_path):
    """A header with more '|' than ',' (a name like a|b|c|d) was split at '|': 'time column
    not found; the columns are ['time,y,a|b|c|d']'."""
    frame = _plain_frame().rename(columns={"x": "a|b|c|d"})
    (tmp_path / "p.csv").write_text(frame.to_csv(index=False))
    assert read_table(tmp_path / "p.csv", time_col="time").columns == ["y", "a|b|c|d"]
    (tmp_path / "s.csv").write_text(frame.rename(columns={"y": "u;v;w;z"}).to_csv(index=False))
    assert read_table(tmp_path / "s.csv").columns == ["u;v;w;z", "a|b|c|d"]
    (tmp_path / "c.csv").write_text(frame.rename(columns={"y": "y,z"}).to_csv(index=False, sep="|"))
    assert read_table(tmp_path / "c.csv").columns == ["y,z", "a|b|c|d"]
    (tmp_path / "colon.csv").write_text("time:y:x\n2020-01-01:1:2\n")
    with pytest.raises(DataError, match=r"colon.csv: the header 'time:y:x' reads as a single "
                       r"column: use a comma-separated file \(';', tab and '\|' are recognised "
                       r"too; the first lines read as ','-separated\)"):  # fmt: skip
        read_table(tmp_path / "colon.csv")


def test_a_semicolon_header_longer_than_the_sniffed_head_still_reads(tmp_path):
    """A ';' CSV whose header alone passed the bytes read to guess the separator fell back to
    ',' and was refused as a single column (it read before the separator sniffing changed)."""
    names = [f"column_number_{k}" for k in range(4000)]
    path = tmp_path / "wide.csv"
    rows = [";".join(["time", *names])]
    rows += [";".join([f"2020-01-01 0{h}:00", *["1"] * len(names)]) for h in range(3)]
    path.write_text("\n".join(rows) + "\n")
    assert len(rows[0]) > 65536
    assert read_table(path, time_col="time").frame.shape == (3, 4000)


def test_a_corrupt_gzip_file_is_one_line_not_a_traceback(tmp_path):
    import gzip

    data = bytearray(gzip.compress(b"time,a\n" + b"2020-01-01 00:00,1\n" * 24))
    data[12:-8] = bytes(x ^ 0x55 for x in data[12:-8])
    path = tmp_path / "corrupt.csv"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"corrupt.csv: cannot be read as a table \("):
        read_table(path)


def test_a_file_that_is_not_utf8_names_the_line_of_its_first_bad_byte(tmp_path):
    """pandas reports the offset in its own chunk: a bad byte on line 201 read "byte 3"."""
    rows = ["time,y,x"] + [f"2021-01-01 {h % 24:02d}:00,{h},a" for h in range(300)]
    text = "\n".join(rows).encode()
    path = tmp_path / "latin.csv"
    path.write_bytes(text.replace(b"2021-01-01 07:00,199,a", b"2021-01-01 07:00,199,caf\xe9"))
    message = r"invalid continuation byte, b'\\xe9' on line 201\); re-save it as UTF-8 CSV$"
    with pytest.raises(DataError, match=r"^\S+latin\.csv: is not UTF-8 text \(" + message):
        read_table(path)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))  # old Mac line ends: line 1 before
    with pytest.raises(DataError, match=r"^\S+latin\.csv: is not UTF-8 text \(" + message):
        read_table(path)


def test_a_column_named_like_a_row_number_is_dropped_only_when_it_counts_rows(tmp_path):
    """`No` that counts 1, 2, 3 is the row number (dropped); `index` holding data is an input."""
    rows = ["1,2010,1,1,0,5,7", "2,2010,1,1,1,6,3", "3,2010,1,1,2,7,9", "4,2010,1,1,3,8,1"]
    table = read_table(_hourly_csv(tmp_path, rows, header="No,year,month,day,hour,pm,index"))
    assert list(table.frame.columns) == ["pm", "index"]
    assert table.frame["index"].tolist() == [7.0, 3.0, 9.0, 1.0]


def test_year_month_day_hour_minute_parts_build_quarter_hours(tmp_path):
    times = [divmod(q * 15, 60) for q in range(8)]  # (hour, minute)
    rows = [f"2021,3,1,{h},{m},{k}" for k, (h, m) in enumerate(times)]
    path = _hourly_csv(tmp_path, rows, header="year,month,day,hour,minute,load")
    table = read_table(path)
    assert table.freq == "15min" and list(table.frame.columns) == ["load"]
    assert table.frame.index[5] == pd.Timestamp("2021-03-01 01:15")
    assert table.frame["load"].tolist() == [float(k) for k in range(8)]
