"""The printed results table of train / evaluate / compare: skill and number formats."""

import re

import numpy as np
import pandas as pd

from lstmcast.cli import main
from lstmcast.commands.output import format_results


def _row(name, rmse, mae, per=None):
    r = {"name": name, "inputs": "univariate", "rmse": rmse, "mae": mae, "n_scored": 8}
    return r if per is None else {**r, "per_target": per}


def _column_ends(lines):
    """Where the RMSE, MAE and skill columns end on each line: aligned when these agree."""
    return [[m.end() for m in re.finditer(r"\S+", line)][2:5] for line in lines]


def test_ordinary_values_keep_three_decimals():
    text = format_results({"results": [_row("persistence", 22.0, 12.9), _row("lstm", 20.0, 11.5)]})
    assert text.splitlines() == [
        "model                inputs             RMSE       MAE   skill  n scored    fit s",
        "lstm                 univariate       20.000    11.500   +9.1%         8         ",
        "persistence          univariate       22.000    12.900   +0.0%         8         ",
    ]


def test_skill_is_a_dash_when_persistence_is_exact():
    per = [
        {"target": "rain", "rmse": 0.0, "mae": 0.0, "n_scored": 8},
        {"target": "temp", "rmse": 2.0, "mae": 1.0, "n_scored": 8},
    ]
    lstm_per = [{**per[0], "rmse": 0.5, "mae": 0.25}, {**per[1], "rmse": 1.5}]
    result = {"results": [_row("persistence", 0.0, 0.0, per), _row("lstm", 0.53, 0.4, lstm_per)]}
    lines = format_results(result).splitlines()
    assert lines[1].split() == ["persistence", "univariate", "0.0000", "0.0000", "–", "8"]
    assert lines[2].split() == ["lstm", "univariate", "0.5300", "0.4000", "–", "8"]
    rain = lines[lines.index("target rain:") + 1 :][:2]
    assert [line.split()[4] for line in rain] == ["–", "–"]
    temp = lines[lines.index("target temp:") + 1 :][:2]
    assert [line.split()[4] for line in temp] == ["+25.0%", "+0.0%"]


def test_tiny_values_are_printed_to_four_significant_figures():
    rows = [_row("persistence", 2.5e-6, 1.25e-6), _row("lstm", 1.234e-6, 9.876e-7)]
    lines = format_results({"results": rows}).splitlines()
    assert lines[1].split()[2:5] == ["0.000001234", "0.0000009876", "+50.6%"]
    assert lines[2].split()[2:5] == ["0.000002500", "0.0000012500", "+0.0%"]
    assert len(set(map(tuple, _column_ends(lines)))) == 1  # still aligned


def test_tiny_values_per_target():
    per = [{"target": "x", "rmse": 3e-6, "mae": 2e-6, "n_scored": 8}]
    lstm_per = [{**per[0], "rmse": 1.5e-6}]
    rows = [_row("persistence", 3e-6, 2e-6, per), _row("lstm", 1.5e-6, 2e-6, lstm_per)]
    lines = format_results({"results": rows}).splitlines()
    table = lines[lines.index("target x:") + 1 :]
    assert [line.split()[2:5] for line in table] == [
        ["0.000001500", "0.000002000", "+50.0%"],
        ["0.000003000", "0.000002000", "+0.0%"],
    ]


def test_round_off_does_not_set_the_decimals():
    rows = [_row("persistence", 0.0, 0.0), _row("ridge", 1e-17, 1e-17), _row("lstm", 2.5, 1.0)]
    lines = format_results({"results": rows}).splitlines()
    assert lines[2].split()[:4] == ["ridge", "univariate", "0.000", "0.000"]


def test_train_on_a_target_that_is_zero_in_the_test_split(tmp_path, capsys):
    n = 300
    rng = np.random.default_rng(0)
    rain = np.where(rng.random(n) < 0.3, rng.gamma(2.0, 1.0, n), 0.0)
    rain[200:] = 0.0  # a dry scored period: persistence is exact
    time = pd.date_range("2021-06-01", periods=n, freq="h")
    csv = tmp_path / "rain.csv"
    pd.DataFrame({"time": time, "rain": rain}).to_csv(csv, index=False)
    out = tmp_path / "m"
    argv = ["train", "--data", str(csv), "--target", "rain", "--lookback", "12", "--units", "8"]
    assert main([*argv, "--epochs", "1", "--no-progress", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    persistence = next(line for line in lines if line.startswith("persistence"))
    rmse, mae, skill = persistence.split()[2:5]
    assert float(rmse) == float(mae) == 0 and skill == "–"
    assert (out / "manifest.json").is_file()
    assert main(["evaluate", str(out), "--baselines", "persistence"]) == 0
    assert "–" in capsys.readouterr().out
