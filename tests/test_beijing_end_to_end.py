"""The tool on the real Beijing PM2.5 data (skipped with a reason when the file is absent)."""

import json

import pandas as pd
import pytest

import lstmcast
from lstmcast.cli import main
from lstmcast.data.registry import BEIJING_RENAME


def test_train_and_evaluate_on_beijing_score_persistence_as_the_protocol(
    beijing_path, tmp_path, monkeypatch
):
    monkeypatch.setenv("LSTMCAST_DATA", str(beijing_path.parent))
    model, scores = tmp_path / "pm25", tmp_path / "scores.json"
    assert (
        main(
            [
                "train",
                "--data",
                "beijing-pm25",
                "--units",
                "8",
                "--epochs",
                "1",
                "--batch-size",
                "512",
                "--no-progress",
                "--out",
                str(model),
            ]
        )
        == 0
    )
    assert main(["evaluate", str(model), "--json", str(scores)]) == 0
    doc = json.loads(scores.read_text())
    assert (doc["dataset"], doc["split"], doc["horizon"]) == ("beijing-pm25", "test", 1)
    rows = {r["name"]: r for r in doc["results"]}
    # PROTOCOL B2a on the 2014 test split: persistence (last observed value) RMSE 22.14
    assert rows["persistence"]["rmse"] == pytest.approx(22.14, abs=0.005)
    assert rows["persistence"]["n_scored"] == rows["lstm"]["n_scored"] == 8661
    assert {"ridge", "var", "seasonal_naive"} <= set(rows)

    # the last two days of the UCI file, as they are, forecast like the same rows renamed
    raw = pd.read_csv(beijing_path).tail(48)
    latest, forecast = tmp_path / "latest.csv", tmp_path / "forecast.csv"
    raw.to_csv(latest, index=False)
    assert main(["predict", str(model), "--data", str(latest), "--output", str(forecast)]) == 0
    renamed = raw.rename(columns=BEIJING_RENAME).assign(
        time=pd.to_datetime(raw[["year", "month", "day", "hour"]])
    )[["time", *BEIJING_RENAME.values()]]
    expected = lstmcast.load(model).predict(renamed)
    got = pd.read_csv(forecast, index_col="time", parse_dates=True)
    assert list(got.index) == [pd.Timestamp("2015-01-01 00:00")]
    pd.testing.assert_frame_equal(got, expected, check_freq=False, atol=1e-9)
