"""The registry entries and their presets, on the real Beijing file and statsmodels' macro data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmcast.data import REGISTRY, chronological_split, dataset_info, load_dataset
from lstmcast.errors import DataError

FEATURES = ["pollution", "dew", "temp", "press", "wnd_dir", "wnd_spd", "snow", "rain"]


def test_registry_entries_are_complete():
    for info in REGISTRY.values():
        assert info.description and info.licence and info.source and info.columns and info.rows
    assert REGISTRY["beijing-pm25"].rows == 43_824
    assert REGISTRY["beijing-pm25"].preset["features"] == FEATURES
    with pytest.raises(
        DataError, match=r"unknown dataset 'beijing'; known datasets: \['beijing-pm25'"
    ):
        dataset_info("beijing")


def test_beijing_preset(beijing_path):
    table = load_dataset("beijing-pm25", data_dir=beijing_path.parent, download=False)
    assert list(table.frame.columns) == FEATURES
    assert table.frame.shape == (43_800, 8) and table.freq == "h"
    assert table.frame.index[0] == pd.Timestamp("2010-01-02 00:00")
    assert table.frame.index[-1] == pd.Timestamp("2014-12-31 23:00")
    assert not table.frame.isna().any().any()  # inputs interpolated
    assert (~table.observed["pollution"]).sum() == 2_067 - 24  # the NA hours after the first day
    assert table.observed.drop(columns="pollution").all().all()
    first = table.frame.iloc[0]
    assert first.tolist() == [129.0, -16.0, -4.0, 1020.0, 2.0, 1.79, 0.0, 0.0]  # SE = 2
    split = chronological_split(table.frame.index, train_end="2012-12-31", val_end="2013-12-31")
    assert split.sizes() == {"train": 26_280, "val": 8_760, "test": 8_760}


def test_beijing_onehot_and_no_fill(beijing_path):
    table = load_dataset("beijing-pm25", data_dir=beijing_path, categorical="onehot", fill="none")
    assert table.frame.columns[4:8].tolist() == [
        "wnd_dir_NE",
        "wnd_dir_NW",
        "wnd_dir_SE",
        "wnd_dir_cv",
    ]
    assert table.encodings["wnd_dir"]["columns"] == table.frame.columns[4:8].tolist()
    assert table.frame["pollution"].isna().sum() == 2_043


def test_us_macro_is_quarterly_and_complete():
    table = load_dataset("us-macro")
    assert table.freq == "QS-JAN" and table.frame.shape == (203, 12)
    assert table.frame.index[0] == pd.Timestamp("1959-01-01")
    assert table.frame.index[-1] == pd.Timestamp("2009-07-01")
    assert table.frame.columns[0] == "realgdp"
    np.testing.assert_allclose(table.frame["realgdp"].iloc[0], 2710.349)


def test_units_name_only_preset_columns_and_stay_off_other_tables():
    from lstmcast.data.registry import column_units

    for info in REGISTRY.values():
        assert set(info.units) <= set(info.preset["features"]), info.name
    assert column_units("beijing-pm25", ["temp", "pollution", "wnd_dir"]) == {
        "temp": "°C",
        "pollution": "µg/m³",
    }  # wnd_dir is a category: no unit
    assert column_units("my.csv", ["pollution"]) == {}
    assert column_units(None, ["pollution"]) == {}


def test_a_path_is_read_as_a_table(tmp_path):
    (tmp_path / "x.csv").write_text("time,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n")
    assert load_dataset(tmp_path / "x.csv").frame["y"].tolist() == [1, 2, 3]
    with pytest.raises(DataError, match="neither a registered dataset .* nor an existing file"):
        load_dataset("no-such-thing")


def test_datasets_command(capsys, tmp_path, monkeypatch):
    from lstmcast.cli import main

    assert main(["datasets", "list"]) == 0
    assert "beijing-pm25    43,824 rows" in capsys.readouterr().out
    assert main(["datasets", "info", "us-macro"]) == 0
    out = capsys.readouterr().out
    assert "local copy:  bundled" in out
    assert "units:       realgdp bn chained 2005 US$, realcons bn chained 2005 US$," in out
    monkeypatch.delenv("LSTMCAST_DATA", raising=False)
    monkeypatch.setenv("LSTMCAST_CACHE", str(tmp_path))
    assert main(["datasets", "fetch", "beijing-pm25", "--no-download"]) == 2
    assert "download is off; to use a local copy, set LSTMCAST_DATA=" in capsys.readouterr().err
    assert main(["datasets", "info"]) == 2
    assert "datasets info needs a NAME" in capsys.readouterr().err
