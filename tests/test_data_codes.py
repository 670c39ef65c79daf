"""Tables written by agencies and spreadsheets: missing-value codes (-999), '.' or ',' between
thousands, and metadata lines above the header are named, not read as data."""

import warnings

import numpy as np
import pandas as pd
import pytest

from lstmcast.data.registry import load_dataset
from lstmcast.data.table import read_table
from lstmcast.errors import DataError
from lstmcast.forecaster import ForecastConfig, Forecaster


def _hourly(n: int = 48, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "time": pd.date_range("2021-01-01", periods=n, freq="h"),
            "pm25": (30 + 10 * rng.random(n)).round(1),
            "temp": (5 + rng.standard_normal(n)).round(2),
        }
    )


# missing-value codes


def test_a_missing_value_code_far_outside_a_column_is_warned_about_and_left_as_it_is(tmp_path):
    frame = _hourly()
    frame.loc[[3, 7, 20], "pm25"] = -999
    frame.loc[[5], "temp"] = 9999.0
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    low, high = frame.pm25[frame.pm25 > -999].min(), frame.pm25.max()
    with pytest.warns(UserWarning) as caught:
        table = read_table(path)
    messages = [str(w.message) for w in caught]
    assert (
        f"{path}: column 'pm25' holds -999 in 3 rows, far outside its other values ({low:g} to "
        f"{high:g}): a missing-value code? write those cells empty (or NA), e.g. "
        "df.replace(-999, float('nan'))"
    ) in messages
    assert any(m.startswith(f"{path}: column 'temp' holds 9999 in 1 row, far") for m in messages)
    assert table.frame["pm25"].min() == -999  # only a warning: the data are not changed


def test_a_code_like_value_within_a_wide_column_or_in_a_clean_table_is_not_warned_about(
    tmp_path,
):
    frame = _hourly()
    frame["level"] = np.linspace(-2000, 2000, len(frame))
    frame.loc[10, "level"] = -999.0  # inside -2000..2000: a real value
    frame["count"] = np.arange(len(frame)) * 400.0  # 0..18800: 9999 is 1 step from its values
    frame.loc[11, "count"] = 9999
    frame.to_csv(tmp_path / "wide.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_table(tmp_path / "wide.csv")
        read_table(_hourly())


def test_new_rows_for_predict_with_a_code_are_warned_about(tmp_path, synthetic_csv):
    config = ForecastConfig(
        data=str(synthetic_csv), time_col="time", target=["load"], units=[4], epochs=1,
        batch_size=64, lookback=6, horizon=1, progress=False,
    )  # fmt: skip
    fc = Forecaster(config).fit()
    recent = pd.read_csv(synthetic_csv).tail(30)
    recent.loc[recent.index[-3:], "temp"] = -9999
    recent.to_csv(tmp_path / "recent.csv", index=False)
    with pytest.warns(UserWarning, match=r"recent.csv: column 'temp' holds -9999 in 3 rows, far"):
        fc.predict(str(tmp_path / "recent.csv"))


def test_beijing_raises_no_missing_code_warning(beijing_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = load_dataset("beijing-pm25", data_dir=beijing_path.parent, download=False)
    assert table.frame["pollution"].min() >= 0


# '.' or ',' between thousands


def _european(pnc: list[str]) -> str:
    rows = [f"01.01.2021 {h:02d}:00;{v};28" for h, v in enumerate(pnc)]
    return "\n".join(["Zeit;PNC;NO2", *rows]) + "\n"


def test_a_semicolon_file_with_dots_between_thousands_is_refused(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text(_european(["5.000", "5.089", "4.740", "929", "814", "1.002"]))
    with pytest.raises(
        DataError,
        match=r"eu.csv: column 'PNC' writes '5.000' \(data row 1\) beside whole numbers such as "
        r"'929': '5.000' reads as 5 with '.' as the decimal mark; if '.' separates thousands "
        r"there, re-export without thousands separators$",
    ):
        read_table(path, time_col="Zeit")


@pytest.mark.parametrize(
    "pnc",
    [
        ["5.000", "5.089", "4.740", "929.000", "814.000", "1.002"],  # three decimals throughout
        ["5.125", "5.089", "4.741", "929", "814", "1.002"],  # trailing zeros dropped: decimals
        ["5.000", "5.089", "0.740", "929", "814", "1.002"],  # '0.740' is no thousands
        ["5.000", "5.089", "4.740", "1929", "814", "1.002"],  # 1929 without its '.'
        ["5.000", "5.089", "4.74", "929", "814", "1.002"],
    ],
)
def test_a_semicolon_file_with_three_decimals_that_may_be_decimals_reads(tmp_path, pnc):
    path = tmp_path / "eu.csv"
    path.write_text(_european(pnc))
    assert read_table(path, time_col="Zeit").frame["PNC"].iloc[1] == 5.089


def _with_pnc(values: list[str]) -> str:
    frame = _hourly(len(values)).assign(pnc=values)
    return frame.to_csv(index=False)


def test_a_thousands_comma_is_named_as_either_reading(tmp_path):
    path = tmp_path / "thou.csv"
    path.write_text(_with_pnc(["1,000", "1,037", "2,074", "999"] * 3))
    with pytest.raises(
        DataError,
        match=r"thou.csv: column 'pnc' writes numbers with a ',' \('1,000' at data row 1\): a "
        r"thousands separator or a decimal comma; re-export without thousands separators and "
        r"with '.' as the decimal mark$",
    ):
        read_table(path)


def test_a_thousands_comma_with_a_decimal_point_is_not_free_text(tmp_path):
    path = tmp_path / "thou.csv"
    path.write_text(_with_pnc([f"{1 + k},{k:03d}.5" for k in range(40)]))
    with pytest.raises(
        DataError,
        match=r"thou.csv: column 'pnc' writes numbers with ',' between thousands \('1,000.5' at "
        r"data row 1\); re-export the table without thousands separators$",
    ):
        read_table(path)


def test_a_decimal_comma_beside_thousands_like_values_is_still_a_decimal_comma(tmp_path):
    path = tmp_path / "dec.csv"
    path.write_text(_with_pnc(["1,000", "30,25", "2,074", "31,5"] * 3))
    with pytest.raises(DataError, match=r"writes numbers with a decimal comma \('30,25' at data "):
        read_table(path)


# metadata lines above the header

ROWS = "time,pm25,temp,wind\n" + "".join(
    f"2021-01-01 {h:02d}:00:00,{30 + h},{h / 10},2.5\n" for h in range(24)
)


@pytest.mark.parametrize(
    ("preamble", "message"),
    [
        (
            "Station: BJ01\nLatitude: 39.9\nLongitude: 116.4\n\n",
            r"the first 4 lines \('Station: BJ01', ...\) do not look like the header of the rows "
            r"below \(1 field against 4 from line 5\): delete the lines above the header "
            r"\(metadata or comments\) so that the first line is the header$",
        ),
        (
            "Station,BJ01\nLatitude,39.9\nLongitude,116.4\n",
            r"the first 3 lines \('Station,BJ01', ...\) do not look like the header of the rows "
            r"below \(2 fields against 4 from line 4\)",
        ),
        (
            "# Station BJ01, exported 2021-03-01\n# units: ug/m3\n",
            r"the first 2 lines \('# Station BJ01, exported 2021-03-01', ...\) do not look like "
            r"the header of the rows below \(2 fields against 4 from line 3\)",
        ),
        (
            "# one, two, three, four, five\n",
            r"the first line \('# one, two, three, four, five'\) does not look like the header "
            r"of the rows below \(5 fields against 4 from line 2\)",
        ),
    ],
)
def test_lines_above_the_header_are_named(tmp_path, preamble, message):
    path = tmp_path / "data.csv"
    path.write_text(preamble + ROWS)
    with pytest.raises(DataError, match=r"data.csv: " + message):
        read_table(path)


def test_a_header_one_field_short_of_its_rows_still_reads_as_before(tmp_path):
    """pandas reads rows one field longer than the header with their first field as index."""
    path = tmp_path / "indexed.csv"
    lines = ROWS.splitlines()
    path.write_text("\n".join([lines[0]] + [f"{k},{row}" for k, row in enumerate(lines[1:])]))
    assert read_table(path).columns == ["pm25", "temp", "wind"]
