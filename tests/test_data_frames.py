"""read_table on DataFrames: pandas category columns and other dtypes."""

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


def test_a_complex_column_is_refused_by_name():
    with pytest.raises(
        DataError, match=r"^DataFrame: column 'z' holds complex numbers; pass real "
    ):
        read_table(_frame(z=np.arange(6) + 1j))
