"""The tool on the real Beijing PM2.5 data (skipped with a reason when the file is absent)."""

import json

import pytest

from lstmcast.cli import main


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
