"""The forecasting commands end to end on a synthetic CSV: train, evaluate, predict, errors."""

import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_synthetic_frame

from lstmcast.cli import main
from lstmcast.errors import ConfigError
from lstmcast.modelfile import load as lstmcast_load

FAST = [
    "--time-col",
    "time",
    "--target",
    "load",
    "--units",
    "8",
    "--epochs",
    "2",
    "--lookback",
    "12",
    "--no-progress",
]


@pytest.fixture
def trained(synthetic_csv, tmp_path):
    out = tmp_path / "model"
    assert (
        main(["train", "--data", str(synthetic_csv), "--horizon", "2", "--out", str(out), *FAST])
        == 0
    )
    return synthetic_csv, out


def test_train_evaluate_predict(trained, tmp_path, capsys):
    csv, model = trained
    assert (model / "manifest.json").is_file() and (model / "weights.safetensors").is_file()
    scores = tmp_path / "scores.json"
    assert main(["evaluate", str(model), "--json", str(scores)]) == 0
    doc = json.loads(scores.read_text())
    assert set(doc) == {"dataset", "split", "horizon", "results"}
    assert doc["split"] == "test" and doc["horizon"] == 2 and doc["dataset"] == str(csv)
    names = [r["name"] for r in doc["results"]]
    assert names[0] == "lstm" and {"persistence", "ridge", "var"} <= set(names)
    assert "seasonal_naive" not in names  # a 24-hour season does not fit a 12-hour window
    for r in doc["results"]:
        assert {"name", "inputs", "rmse", "mae", "n_scored"} <= set(r)
        assert r["n_scored"] == doc["results"][0]["n_scored"] > 0
    recent = tmp_path / "recent.csv"
    pd.read_csv(csv).iloc[-50:].to_csv(recent, index=False)
    capsys.readouterr()
    assert main(["predict", str(model), "--data", str(recent)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "time,load" and len(out) == 3
    assert out[1].startswith(
        str(pd.Timestamp(pd.read_csv(recent)["time"].iloc[-1]) + pd.Timedelta("1h"))
    )
    assert (
        main(["predict", str(model), "--data", str(recent), "--output", str(tmp_path / "f.csv")])
        == 0
    )
    assert (tmp_path / "f.csv").read_text().splitlines() == out
    # recent rows with an offset: the forecast times carry it, at the same instants
    times = pd.to_datetime(pd.read_csv(recent)["time"]).dt.tz_localize("UTC")
    local = pd.read_csv(recent).assign(time=times.dt.tz_convert("Asia/Kolkata").astype(str))
    local.to_csv(tmp_path / "kolkata.csv", index=False)
    assert main(["predict", str(model), "--data", str(tmp_path / "kolkata.csv")]) == 0
    zoned = capsys.readouterr().out.splitlines()
    first = pd.Timestamp(zoned[1].split(",")[0])
    assert (
        zoned[1].split(",")[0].endswith("+05:30")
        and zoned[1].split(",")[1:] == out[1].split(",")[1:]
    )
    assert first.tz_convert("UTC").tz_localize(None) == pd.Timestamp(out[1].split(",")[0])


def test_predict_writes_the_time_of_day_also_when_every_forecast_falls_at_midnight(
    synthetic_csv, tmp_path, capsys
):
    """An hourly next-step forecast after 23:00 was written as a date alone ('2021-03-26'),
    once in 24 runs of an hourly job; a daily model still writes dates."""
    out = tmp_path / "model"
    assert main(["train", "--data", str(synthetic_csv), "--horizon", "1", "--out", str(out),
                 *FAST, "--epochs", "1"]) == 0  # fmt: skip
    frame = pd.read_csv(synthetic_csv, parse_dates=["time"])
    ends = frame.index[frame["time"].dt.hour == 23][-1]
    frame.iloc[ends - 30 : ends + 1].to_csv(tmp_path / "to_23h.csv", index=False)
    capsys.readouterr()
    assert main(["predict", str(out), "--data", str(tmp_path / "to_23h.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    midnight = frame["time"].iloc[ends] + pd.Timedelta("1h")
    assert lines[0] == "time,load" and lines[1].startswith(f"{midnight:%Y-%m-%d} 00:00:00,")
    daily = frame.set_index("time").resample("D").mean(numeric_only=True).reset_index()
    daily.to_csv(tmp_path / "daily.csv", index=False)
    assert main(["train", "--data", str(tmp_path / "daily.csv"), "--horizon", "1", "--out",
                 str(tmp_path / "d"), *FAST, "--lookback", "3", "--epochs", "1",
                 "--train-fraction", "0.6", "--val-fraction", "0.2"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "d"), "--data", str(tmp_path / "daily.csv")]) == 0
    day = daily["time"].iloc[-1] + pd.Timedelta("1D")
    assert capsys.readouterr().out.splitlines()[1].startswith(f"{day:%Y-%m-%d},")


def test_evaluate_from_another_directory_finds_the_training_table(
    synthetic_csv, tmp_path, monkeypatch, capsys
):
    work = synthetic_csv.parent
    monkeypatch.chdir(work)
    argv = ["train", "--data", synthetic_csv.name, "--out", "model", *FAST]
    assert main(argv) == 0  # trained on a path relative to `work`
    assert main(["evaluate", "model", "--json", "here.json"]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["evaluate", str(work / "model"), "--json", "there.json"]) == 0
    here = json.loads((work / "here.json").read_text())["results"]
    there = json.loads((elsewhere / "there.json").read_text())["results"]
    assert [(r["name"], r["rmse"]) for r in there] == [(r["name"], r["rmse"]) for r in here]


def test_evaluate_prints_each_target_on_its_own(synthetic_csv, tmp_path, capsys):
    out, scores = tmp_path / "model", tmp_path / "scores.json"
    argv = ["train", "--data", str(synthetic_csv), "--out", str(out), *FAST, "--target", "load"]
    assert main([*argv, "temp"]) == 0  # the later --target wins: two targets
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json", str(scores)]) == 0
    text = capsys.readouterr().out
    assert "pooled over targets whose units may differ" in text  # a file: units unknown
    assert "target load:" in text and "target temp:" in text
    lstm = json.loads(scores.read_text())["results"][0]
    assert [t["target"] for t in lstm["per_target"]] == ["load", "temp"]
    temp_line = text.split("target temp:")[1].splitlines()
    row = next(line for line in temp_line if line.strip().startswith("lstm"))
    assert f"{lstm['per_target'][1]['rmse']:.3f}" in row


def test_results_tables_name_the_units_when_known():
    from lstmcast.commands.output import format_results

    def row(name, rmse, per=None):
        r = {"name": name, "inputs": "univariate", "rmse": rmse, "mae": rmse / 2, "n_scored": 8}
        return r if per is None else {**r, "per_target": per}

    single = {"unit": "µg/m³", "results": [row("lstm", 20.0), row("persistence", 22.0)]}
    assert format_results(single).splitlines()[0].endswith("(errors in µg/m³)")
    assert "errors in" not in format_results({**single, "unit": None})
    per = [
        {"target": "realgdp", "unit": "bn chained 2005 US$", "rmse": 9.0, "mae": 4.0,
         "n_scored": 4},
        {"target": "unemp", "unit": "%", "rmse": 0.3, "mae": 0.2, "n_scored": 4},
    ]  # fmt: skip
    mixed = {"unit": None, "results": [row("lstm", 6.4, per), row("persistence", 7.0, per)]}
    text = format_results(mixed)
    assert "pooled over targets whose units may differ" in text
    assert "target realgdp (bn chained 2005 US$):" in text and "target unemp (%):" in text
    same = {**mixed, "unit": "bn chained 2005 US$"}
    assert "(pooled over targets all in bn chained 2005 US$; per target below)" in format_results(
        same
    )


def test_evaluate_scores_the_chosen_baselines(trained, tmp_path, capsys):
    _, model = trained
    scores = tmp_path / "scores.json"
    argv = ["evaluate", str(model), "--baselines", "gbm", "--json", str(scores)]
    assert main(argv) == 0
    rows = json.loads(scores.read_text())["results"]
    assert [r["name"] for r in rows] == ["lstm", "persistence", "gbm"]  # persistence always
    assert len({r["n_scored"] for r in rows}) == 1 and np.isfinite(rows[2]["rmse"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", str(model), "--baselines", "persistence,trees"])
    assert exit_.value.code == 2
    expected = (
        "unknown baseline 'trees': choose from persistence, seasonal_naive, ridge, var, gbm, mean"
    )
    assert expected in capsys.readouterr().err


def test_evaluate_names_each_baseline_on_a_terminal_and_leaves_one_too_big_out(
    trained, monkeypatch, capsys
):
    """Scoring the baselines took minutes on a large table behind one static line: on a
    terminal each baseline is named as it starts, and gbm counts its models; a baseline whose
    fit would not fit in the free memory is left out with one line naming the size and the fix,
    and the others are scored. A pipe hears no stages."""
    _, model = trained
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert main(["evaluate", str(model), "--baselines", "ridge,gbm"]) == 0
    stages = [line for line in capsys.readouterr().err.splitlines() if line.endswith("...")]
    assert stages == [
        "lstmcast evaluate: scoring the model and the baselines on the test split...",
        "lstmcast evaluate: scoring persistence (1 of 3)...",
        "lstmcast evaluate: scoring ridge (2 of 3)...",
        "lstmcast evaluate: scoring gbm (3 of 3)...",
        "lstmcast evaluate: scoring gbm (3 of 3): model 1 of 2...",
        "lstmcast evaluate: scoring gbm (3 of 3): model 2 of 2...",
    ]
    assert main(["evaluate", str(model), "--baselines", "ridge", "--no-progress"]) == 0
    assert "..." not in capsys.readouterr().err  # as README says: quiet on a terminal too
    monkeypatch.setattr("lstmcast.baselines.budget.available_memory", lambda: 1000)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert main(["evaluate", str(model), "--baselines", "ridge"]) == 0
    captured = capsys.readouterr()
    assert "..." not in captured.err and "ridge" not in captured.out
    assert re.search(
        r"lstmcast evaluate: warning: the ridge baseline is left out: RidgeBaseline needs "
        r"about \S+ KiB for its 36 x 36 Gram "
        r"matrix \(lookback 12 x 3 features\) over [\d,]+ windows, but 1000 B is free here: use "
        r"a shorter --lookback or fewer --features, or leave it out of --baselines\n",
        captured.err,
    ), captured.err


def test_baseline_minutes_raises_the_time_limit_for_that_run_only(trained, monkeypatch, capsys):
    """A baseline estimated over the time limit is left out with a line naming the flag that
    allows it more time; --baseline-minutes lets it fit, for that command only; a limit that
    is no number of minutes above 0 is refused by the parser."""
    from lstmcast.baselines import budget

    _, model = trained
    monkeypatch.setattr(budget, "TIME_LIMIT_S", 1e-6)  # every fit is "too long" by default
    assert main(["evaluate", str(model), "--baselines", "gbm"]) == 0
    captured = capsys.readouterr()
    assert "gbm" not in captured.out
    assert re.search(
        r"warning: the gbm baseline is left out: GradientBoostingBaseline would take about 0 s "
        r"to fit .*, over the 0 s limit: use a shorter --lookback or fewer --features, or leave "
        r"it out of --baselines, or allow it more time with --baseline-minutes\n",
        captured.err,
    ), captured.err
    assert main(["evaluate", str(model), "--baselines", "gbm", "--baseline-minutes", "1"]) == 0
    captured = capsys.readouterr()
    assert re.search(r"^gbm ", captured.out, re.M) and "left out" not in captured.err
    assert budget._limit.get() is None  # the limit was the command's alone
    for bad in ("0", "-2", "nan", "ten"):
        with pytest.raises(SystemExit) as exit_:
            main(["evaluate", str(model), "--baseline-minutes", bad])
        assert exit_.value.code == 2
        assert f"--baseline-minutes: must be a number of minutes above 0, got '{bad}'" in (
            capsys.readouterr().err
        )


def test_flags_override_the_toml_config(synthetic_csv, tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text(
        'time_col = "time"\ntarget = ["load"]\nunits = [4]\nepochs = 1\nlookback = 6\nhorizon = 3\n'
    )
    out = tmp_path / "m"
    assert (
        main(
            [
                "train",
                "--config",
                str(toml),
                "--data",
                str(synthetic_csv),
                "--horizon",
                "1",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["units"] == [4] and manifest["config"]["lookback"] == 6
    assert manifest["config"]["horizon"] == 1  # the flag won over the file


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('learning_rate = "0.01"', r"learning_rate must be a finite number, got '0.01': e.g. "
         r"--learning-rate 0.001 \(numbers in a TOML file go without quotes\)"),
        ("seed = 1.5", r"seed must be a whole number, got 1.5: e.g. --seed 0"),
        ('weight_decay = "0.01"', r"weight_decay must be a finite number, got '0.01': e.g. "
         r"--weight-decay 0.0001 \(numbers"),  # its default, unset, is no example
        ('dropout = "0.1"', r"dropout must be a finite number, got '0.1': e.g. --dropout 0.0 "),
        ("features = 3", r'features must be column names, got 3: e\.g\. features = \["load"\] '
         r"in a TOML file, or --features load"),  # a TypeError traceback, a checkpoint left
        ("seed = 99999999999999999999", r"seed must be a whole number in \[-2\*\*63, 2\*\*64 - "
         r"ensemble\], got 99999999999999999999: e\.g\. --seed 0"),  # torch's overflow traceback
        ('activation = "sigmoid"', r"activation must be one of tanh, relu, got 'sigmoid': e\.g\. "
         r"--activation tanh \(the default\)"),  # Python syntax, after reading the table
        ("huber_delta = 0.5", r"huber_delta is read by the huber loss only, so with loss 'mse' it "
         r"would be ignored: add --loss huber, or drop huber_delta \(the flag or the TOML key\)"),
        ("my-odd_key = 1\nmy_odd-key = 2", r"config file \S+run\.toml gives my_odd_key twice "
         r"\(my-odd_key and my_odd-key\): keep one"),  # a StopIteration traceback
        ("batch_size = 32\nbatch-size = 64", r"config file \S+run\.toml gives batch_size twice "
         r"\(batch_size and batch-size\): keep one"),  # the last one won without a word
        ("look-back = 1", r"config file \S+run\.toml: unknown setting\(s\) look-back; see"),
        ('units = [8]\npreset = "simple"', r"so units in \S+run\.toml cannot be given beside it: "
         r"drop --preset and give those flags yourself, or drop units in \S+run\.toml$"),
        ('residual = "no"', r"residual must be true or false, got 'no': e.g. residual = false in "
         r"a TOML file, or --residual / --no-residual"),
        ("scaler = 1", r"scaler must be text, got 1: quote it in a TOML file"),
        ('features = ["load", "load"]', r"features names \['load'\] more than once: give each "
         r"column once"),
    ],
)  # fmt: skip
def test_a_toml_setting_of_the_wrong_type_is_one_line(line, message, synthetic_csv, tmp_path,
                                                      capsys):  # fmt: skip
    toml = tmp_path / "run.toml"
    toml.write_text(f'time_col = "time"\ntarget = ["load"]\nepochs = 1\n{line}\n')
    out = tmp_path / "m"
    argv = ["train", "--config", str(toml), "--data", str(synthetic_csv), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(message, err[0]), err
    assert not out.exists()


def test_none_turns_clipping_and_early_stopping_off_from_a_flag_or_toml(synthetic_csv, tmp_path,
                                                                       capsys):  # fmt: skip
    """clip_norm and patience default to a value but may be None (off): the CLI and TOML, which
    cannot write None, take ``none``; 0 is refused with a line naming ``none``."""
    toml = tmp_path / "run.toml"
    toml.write_text('time_col = "time"\ntarget = ["load"]\nunits = [4]\nlookback = 6\n'
                    'epochs = 3\npatience = "None"\n')  # fmt: skip
    out = tmp_path / "m"
    argv = ["train", "--config", str(toml), "--data", str(synthetic_csv), "--no-progress"]
    assert main([*argv, "--clip-norm", "none", "--out", str(out)]) == 0
    config = json.loads((out / "manifest.json").read_text())["config"]
    assert config["clip_norm"] is None and config["patience"] is None
    assert config["weight_decay"] == 0.0  # unset is written as the number it was (adam's)
    assert lstmcast_load(out).config.clip_norm is None
    capsys.readouterr()
    for flag, message in [
        ("--clip-norm", "clip_norm must be positive, got 0.0; none turns clipping off "
         "(--clip-norm none; None from Python)"),
        ("--patience", "patience must be a positive integer, got 0; none turns early stopping "
         "off (--patience none; None from Python)"),
    ]:  # fmt: skip
        assert main([*argv, flag, "0", "--out", str(tmp_path / "n")]) == 2
        assert capsys.readouterr().err == f"lstmcast train: error: {message}\n"
    assert not (tmp_path / "n").exists()


def test_toml_dates_are_split_boundaries(synthetic_csv, tmp_path):
    toml = tmp_path / "run.toml"  # unquoted TOML dates and date-times
    toml.write_text(
        'time_col = "time"\ntarget = ["load"]\nunits = [4]\nepochs = 1\nlookback = 6\n'
        "train_end = 2021-03-15\nval_end = 2021-03-20T05:00:00\n"
    )
    out, scores = tmp_path / "m", tmp_path / "val.json"
    argv = ["train", "--config", str(toml), "--data", str(synthetic_csv), "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    config = json.loads((out / "manifest.json").read_text())["config"]
    assert (config["train_end"], config["val_end"]) == ("2021-03-15", "2021-03-20 05:00:00")
    assert main(["evaluate", str(out), "--split", "val", "--json", str(scores)]) == 0
    frame = pd.read_csv(synthetic_csv, parse_dates=["time"])
    val = frame[frame.time.between("2021-03-16", "2021-03-20 05:00")]  # "2021-03-15": all that day
    assert json.loads(scores.read_text())["results"][0]["n_scored"] == val.load.notna().sum()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data", "nope.csv"], "'nope.csv' is neither a registered dataset"),
        (
            ["train", "--data", "{csv}", "--time-col", "time", "--target", "lod"],
            "target column 'lod' not found in the table: did you mean 'load'?",
        ),
        (
            ["train", "--data", "{csv}", "--units", "0"],
            r"units must be positive integers, got \[0\]",
        ),
        (["train", "--data", "{csv}", "--dropout", "-0.5"], r"dropout must be in \[0, 1\)"),
        (["evaluate", "{tmp}/missing"], "no model at"),
        (["train", "--config", "{tmp}/none.toml"], "config file .* not found"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, message, synthetic_csv, tmp_path, capsys):
    argv = [a.format(csv=synthetic_csv, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert pytest.importorskip("re").search(message, err), err


def test_a_failed_train_leaves_an_existing_model_intact(trained, tmp_path):
    csv, model = trained
    before = {p.name: p.read_bytes() for p in model.iterdir()}
    assert (
        main(
            [
                "train",
                "--data",
                str(csv),
                "--time-col",
                "time",
                "--target",
                "nope",
                "--out",
                str(model),
            ]
        )
        == 2
    )
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before


def test_compare_writes_the_report_and_the_json_schema(tmp_path, capsys):
    out, scores = tmp_path / "report", tmp_path / "compare.json"
    data = tmp_path / "long.csv"  # a test split long enough for the Diebold–Mariano test
    make_synthetic_frame(5000).to_csv(data, index=False)
    argv = [
        "compare",
        "--data",
        str(data),
        "--lookback",
        "24",
        "--horizon",
        "3",
        "--out",
        str(out),
        "--json",
        str(scores),
        *FAST[:-3],
        "--no-progress",
    ]
    assert main(argv) == 0
    doc = json.loads(scores.read_text())
    assert set(doc) == {"dataset", "split", "horizon", "results", "tests"} and doc["horizon"] == 3
    rows = {(r["name"], r["inputs"]) for r in doc["results"]}
    assert {
        ("lstm-multivariate", "multivariate"),
        ("lstm-univariate", "univariate"),
        ("persistence", "univariate"),
        ("seasonal_naive", "univariate"),
        ("ridge", "multivariate"),
        ("ridge-univariate", "univariate"),  # ridge on the target alone, named apart
    } <= rows
    assert len(rows) == len(doc["results"])  # no two rows share a name
    assert len({r["n_scored"] for r in doc["results"]}) == 1  # every model on the same targets
    # could chance explain the gaps? the two LSTMs (better first), then the better against
    # persistence, on the scored pairs themselves: mean(d) is the difference of the rows' MSE
    rmse = {r["name"]: r["rmse"] for r in doc["results"]}
    better, worse = sorted(["lstm-multivariate", "lstm-univariate"], key=rmse.get)
    assert [(t["a"], t["b"]) for t in doc["tests"]] == [(better, worse), (better, "persistence")]
    for test in doc["tests"]:
        assert test["mse_diff"] == pytest.approx(rmse[test["a"]] ** 2 - rmse[test["b"]] ** 2)
        assert 0 <= test["p_value"] <= 1 and test["blocks"] == 5  # of 5 (3 + 24) windows
    html = (out / "report.html").read_text()
    assert "lstm-univariate" in html and "data:image/png;base64," in html
    assert (out / "report.md").is_file()
    printed = capsys.readouterr().out
    assert "univariate LSTM" in printed and str(out / "report.html") in printed
    first = doc["tests"][0]["p_value"]
    shown = "p < 0.001" if first < 1e-3 else f"p = {first:.2g}"
    assert f"(Diebold–Mariano {shown})" in printed


def test_compare_on_a_short_test_split_says_nothing_about_chance(synthetic_csv, tmp_path, capsys):
    """87 test windows at horizon 3 are too few blocks of 5 x (3 + 24) windows for the
    Diebold-Mariano test to keep its level: it is left out, not reported as 'p < 0.001'."""
    scores = tmp_path / "compare.json"
    argv = ["compare", "--data", str(synthetic_csv), "--lookback", "24", "--horizon", "3",
            "--out", str(tmp_path / "r"), "--json", str(scores), *FAST[:-3],
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads(scores.read_text())["tests"] == []
    assert "Diebold" not in capsys.readouterr().out


def test_compare_writes_its_report_when_the_univariate_ridge_is_left_out(synthetic_csv, tmp_path,
                                                                        capsys):  # fmt: skip
    """With ridge over its time limit, compare joined the univariate ridges that were never
    fitted: a KeyError traceback. It is left out, with the warning saying why."""
    scores = tmp_path / "compare.json"
    argv = ["compare", "--data", str(synthetic_csv), "--baselines", "persistence,ridge",
            "--baseline-minutes", "1e-9", "--out", str(tmp_path / "r"), "--json", str(scores),
            *FAST[:-3], "--epochs", "1", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    names = [r["name"] for r in json.loads(scores.read_text())["results"]]
    assert names == ["lstm-multivariate", "lstm-univariate", "persistence"]
    assert (tmp_path / "r" / "report.html").is_file()
    assert "warning: the ridge baseline is left out: RidgeBaseline would take" in (
        capsys.readouterr().err
    )


def test_train_and_evaluate_name_the_split_their_tables_score(synthetic_csv, tmp_path, capsys):
    """train prints validation scores and evaluate test scores under the same columns: each
    table says which split it is, and the n scored differ accordingly."""
    out = tmp_path / "model"
    assert main(["train", "--data", str(synthetic_csv), "--out", str(out), *FAST,
                 "--epochs", "1"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"trained 1 epoch in \d+\.\d s \(best epoch 1\); saved to .*", lines[0])
    assert lines[1] == (
        "scores on the validation split (the rows early stopping watched; `lstmcast evaluate` "
        "scores the test split):"
    )
    val_rows = int(lines[3].split()[-2])
    assert main(["evaluate", str(out), "--baselines", "persistence"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "scores on the test split:"
    frame = pd.read_csv(synthetic_csv)  # 600 rows: validation 420..509, test 510..599
    assert val_rows == frame["load"].iloc[420:510].notna().sum()
    assert int(lines[2].split()[-2]) == frame["load"].iloc[510:].notna().sum()


@pytest.mark.parametrize("step", [3, 40], ids=["multivariate LSTM", "univariate LSTM"])
def test_ctrl_c_during_compare_writes_no_report_and_exits_130(
    synthetic_csv, tmp_path, monkeypatch, capsys, step
):
    """Training stops cleanly at Ctrl-C, keeping the weights so far; compare used to score that
    half-trained network, write the report and exit 0 (once even with a reversed verdict)."""
    import lstmcast.train

    out, scores = tmp_path / "report", tmp_path / "scores.json"
    out.mkdir()
    (out / "report.html").write_text("the earlier report")
    real, count = lstmcast.train.masked_loss, [0]

    def masked_loss(*args, **kwargs):  # 24 calls per network: the univariate one is 25..48
        count[0] += 1
        if count[0] == step:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(lstmcast.train, "masked_loss", masked_loss)
    args = ["compare", "--data", str(synthetic_csv), *FAST, "--epochs", "3"]
    code = main([*args, "--out", str(out), "--json", str(scores)])
    assert code == 130 and count[0] == step  # nothing trained after the interruption
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == "lstmcast compare: interrupted"
    assert captured.out == ""
    assert (out / "report.html").read_text() == "the earlier report" and not scores.exists()


def test_compare_with_seeds_prints_writes_and_reports_the_seed_spread(
    synthetic_csv, tmp_path, capsys
):
    out, scores = tmp_path / "report", tmp_path / "scores.json"
    args = ["compare", "--data", str(synthetic_csv), *FAST, "--seeds", "2", "--seed", "3"]
    assert main([*args, "--out", str(out), "--json", str(scores)]) == 0
    seeds = json.loads(scores.read_text())["seeds"]
    assert seeds["seed"] == [3, 4] and len(seeds["lstm-univariate"]) == 2
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Trained from"))
    assert line.startswith("Trained from seeds 3, 4, the multivariate LSTM scores RMSE ")
    html, md = (out / "report.html").read_text(), (out / "report.md").read_text()
    assert f"<p class='seeds'>{line}</p>" in html.replace("&#x27;", "'")
    assert line in md
    assert main(["compare", "--data", str(synthetic_csv), *FAST, "--seeds", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "lstmcast compare: error: seeds must be a positive whole number, got 0: pass --seeds 3"
    )


def test_outputs_never_overwrite_the_table_read_or_the_model(synthetic_csv, tmp_path, capsys):
    """`predict --output` on its own --data file, or into the model directory, and `evaluate
    --json` on the table it scores, replaced those files (the model could not load again)."""
    model = tmp_path / "model"
    assert main(["train", "--data", str(synthetic_csv), "--out", str(model), *FAST]) == 0
    before = {p: p.read_bytes() for p in [synthetic_csv, *model.iterdir()]}
    capsys.readouterr()
    refused = {
        ("predict", "--output", synthetic_csv): "is the table this command reads",
        ("predict", "--output", model / "manifest.json"): "is inside the model directory",
        ("evaluate", "--json", synthetic_csv): "is the table this command reads",
        ("evaluate", "--json", model / "weights.safetensors"): "is inside the model directory",
    }
    for (command, flag, path), problem in refused.items():
        data = ["--data", str(synthetic_csv)] if command == "predict" else []
        assert main([command, str(model), *data, flag, str(path)]) == 2
        assert capsys.readouterr().err.strip() == (
            f"lstmcast {command}: error: {flag} {path} {problem}"
            + (f" ({synthetic_csv}), which it would overwrite" if "table" in problem else
               f" {model}, which it would damage")
            + ": write it elsewhere"
        )  # fmt: skip
    compare = ["compare", "--data", str(synthetic_csv), *FAST, "--json", str(synthetic_csv)]
    assert main(compare) == 2
    assert "is the table this command reads" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in before} == before
    forecast = tmp_path / "forecast.csv"  # elsewhere is fine
    assert (
        main(["predict", str(model), "--data", str(synthetic_csv), "--output", str(forecast)]) == 0
    )


def test_a_report_that_cannot_be_written_keeps_the_scores(
    synthetic_csv, tmp_path, monkeypatch, capsys
):
    """compare wrote --json after the report, so a report that failed (a full disk, a figure
    that could not be drawn) lost the scores of every model it had just trained."""
    import lstmcast.report

    def full_disk(result, out):
        raise OSError(28, "No space left on device", str(out))

    monkeypatch.setattr(lstmcast.report, "write_report", full_disk)
    out, scores = tmp_path / "report", tmp_path / "scores.json"
    args = ["compare", "--data", str(synthetic_csv), *FAST]
    assert main([*args, "--out", str(out), "--json", str(scores)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == (
        f"lstmcast compare: error: No space left on device: {out}"
    )
    names = [r["name"] for r in json.loads(scores.read_text())["results"]]
    assert names[:2] == ["lstm-multivariate", "lstm-univariate"] and "persistence" in names
    assert "lstm-multivariate" in captured.out  # the table was printed too


@pytest.mark.parametrize("stage", ["_load_commands", "build_parser"])
def test_ctrl_c_while_the_command_loads_is_an_interruption_not_a_traceback(
    stage, monkeypatch, capsys
):
    """The first imports (torch, pandas) take a second or two, outside the command's own try."""
    import lstmcast.cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lstmcast.cli, stage, interrupted)
    assert main(["train", "--help"]) == 130
    assert capsys.readouterr().err == "lstmcast: interrupted\n"


def test_long_work_names_its_stages_where_progress_is_shown(synthetic_csv, tmp_path, capsys):
    """Between the training bars, scoring the baselines and drawing the report took tens of
    seconds on a large table with nothing on screen; --no-progress (or a pipe) stays quiet."""
    csv = tmp_path / "two.csv"
    pd.read_csv(synthetic_csv)[["time", "load", "temp"]].to_csv(csv, index=False)
    argv = ["compare", "--data", str(csv), *FAST, "--target", "load", "temp",
            "--baselines", "persistence", "--out", str(tmp_path / "report")]  # fmt: skip
    assert main([*argv, "--progress"]) == 0
    stages = [line for line in capsys.readouterr().err.splitlines() if line.endswith("...")]
    assert stages == [
        f"lstmcast compare: reading {csv}...",
        "lstmcast compare: training the LSTM that reads every input...",
        "lstmcast compare: training the univariate LSTM of load...",
        "lstmcast compare: training the univariate LSTM of temp...",
        "lstmcast compare: scoring both LSTMs and the baselines on the test split...",
        "lstmcast compare: scoring persistence (1 of 1)...",
        "lstmcast compare: drawing the figures and writing the report...",
    ]
    assert main([*argv, "--no-progress"]) == 0
    assert "..." not in capsys.readouterr().err
    # train said nothing while it read the table and built its windows (seconds on Beijing)
    train = ["train", "--data", str(csv), *FAST, "--epochs", "1", "--out", str(tmp_path / "m")]
    assert main([*train, "--progress"]) == 0
    stages = [line for line in capsys.readouterr().err.splitlines() if line.endswith("...")]
    assert stages == [f"lstmcast train: reading {csv} and building the windows..."]
    assert main([*train, "--no-progress"]) == 0
    assert "..." not in capsys.readouterr().err


def test_a_model_trained_from_a_pipe_asks_for_the_data_to_score(synthetic_csv, tmp_path, capsys):
    """`train --data <(zcat f.csv.gz)` recorded the pipe's /proc path as the model's data, so a
    later `evaluate DIR` said "no such file" (and a /dev/fd number can name another stream
    in another process): it now names the pipe and asks for --data."""
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(synthetic_csv.read_bytes()))
    writer.start()
    out = tmp_path / "model"
    assert main(["train", "--data", str(fifo), "--out", str(out), *FAST]) == 0
    writer.join()
    assert json.loads((out / "manifest.json").read_text())["data_source"] == str(fifo)
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"lstmcast evaluate: error: this model was trained from a pipe ({fifo}), which cannot "
        "be read again: pass the table to score on (--data FILE, or evaluate(frame))"
    )
    assert main(["evaluate", str(out), "--data", str(synthetic_csv)]) == 0


def _lstmcast(*args: str, env: dict | None = None, close: int | None = None):
    """lstmcast in a fresh process; ``close``: a standard stream (1, 2) it starts without."""
    code = "import sys; from lstmcast.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
        preexec_fn=None if close is None else (lambda: os.close(close)),  # after the pipes
    )  # fmt: skip


def test_terminals_that_cannot_print_everything_get_escapes_or_a_refusal(tmp_path):
    """PYTHONIOENCODING=ascii: text with µg/m³ crashed with a UnicodeEncodeError traceback; a
    closed stderr (2>&-) crashed the progress bar; a closed stdout lost the forecast, exit 0."""
    frame = pd.DataFrame({"time": pd.date_range("2021-01-01", periods=120, freq="h"),
                          "PM2.5 µg/m³": np.sin(np.arange(120) / 5)})  # fmt: skip
    csv, model = tmp_path / "uni.csv", tmp_path / "model"
    frame.to_csv(csv, index=False)
    ascii_ = {"PYTHONIOENCODING": "ascii"}
    run = _lstmcast("train", "--data", str(csv), "--time-col", "time", "--target", "PM2.5 µg/m³",
                    "--epochs", "1", "--units", "4", "--lookback", "6", "--out", str(model),
                    "--progress", env=ascii_)  # fmt: skip
    assert run.returncode == 0, run.stderr
    info = _lstmcast("datasets", "info", "beijing-pm25", env=ascii_)  # needs no data file
    assert info.returncode == 0 and "pollution \\xb5g/m\\xb3" in info.stdout  # not a traceback
    run = _lstmcast("predict", str(model), "--data", str(csv), env=ascii_)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip() == (
        "lstmcast predict: error: standard output uses the ascii encoding, which cannot write "
        "'\\xb5' of the forecast: set PYTHONIOENCODING=utf-8, or pass --output FILE"
    )
    closed_stdout = _lstmcast("predict", str(model), "--data", str(csv), close=1)
    assert closed_stdout.returncode == 2
    assert closed_stdout.stderr.strip() == (
        "lstmcast predict: error: standard output is closed, so the forecast would be lost: "
        "pass --output"
    )
    closed_stderr = _lstmcast("train", "--data", str(csv), "--time-col", "time", "--target",
                              "PM2.5 µg/m³", "--epochs", "1", "--units", "4", "--lookback", "6",
                              "--out", str(tmp_path / "m2"), "--progress", close=2)  # fmt: skip
    assert closed_stderr.returncode == 0 and "saved to" in closed_stderr.stdout


def test_an_output_place_that_cannot_be_written_is_refused_before_any_work(
    synthetic_csv, tmp_path, monkeypatch, capsys
):
    """compare --out on a read-only folder fitted every model and printed the verdict before
    failing; evaluate --json named an internal temporary file. (Simulated: tests run as root,
    for whom permissions do not stop writes, so os.access answers as for a read-only mount.)"""
    import lstmcast.forecaster

    readonly = tmp_path / "ro"
    readonly.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: str(p) != str(readonly) and real(p, mode))

    def no_training(self, *args, **kwargs):
        raise AssertionError("trained before checking the output")

    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", no_training)
    for argv in (
        ["compare", "--data", str(synthetic_csv), *FAST, "--out", str(readonly / "rep")],
        ["compare", "--data", str(synthetic_csv), *FAST, "--json", str(readonly / "s.json")],
        ["tune", "--data", str(synthetic_csv), *FAST, "--out", str(readonly / "t")],
        ["train", "--data", str(synthetic_csv), *FAST, "--out", str(readonly / "m")],  # bare
    ):
        assert main(argv) == 2
        flag, path = argv[-2:]
        err = capsys.readouterr().err.strip()
        assert err.endswith(
            f"error: {flag} {path} cannot be written: {readonly} is read-only "
            "(its permissions, or a read-only file system); choose another place"
        )


def test_outputs_go_into_pipes_and_through_symlinks_and_dash_is_refused(trained, tmp_path,
                                                                      capsys):  # fmt: skip
    """--output/--json replaced a named pipe (its reader waited forever), a /dev/fd/N path
    (an error naming '.63.....part' after the work) or a symlink with a regular file, exit 0;
    '-' wrote a file called '-'."""
    import threading

    csv, model = trained
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["predict", str(model), "--data", str(csv), "--output", str(fifo)]) == 0
    reader.join(timeout=30)
    assert got and got[0].startswith(b"time,load") and fifo.is_fifo()
    read_end, write_end = os.pipe()  # what a shell's >(cmd) passes: /dev/fd/N
    try:
        assert main(["evaluate", str(model), "--baselines", "persistence",
                     "--json", f"/dev/fd/{write_end}"]) == 0  # fmt: skip
        os.close(write_end)
        with os.fdopen(read_end, "rb") as fh:
            assert json.loads(fh.read())["split"] == "test"
    finally:
        for fd in (read_end, write_end):
            with contextlib.suppress(OSError):
                os.close(fd)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "latest.csv").write_text("old")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real" / "latest.csv")
    assert main(["predict", str(model), "--data", str(csv), "--output",
                 str(tmp_path / "link.csv")]) == 0  # fmt: skip
    assert (tmp_path / "link.csv").is_symlink()
    assert (tmp_path / "real" / "latest.csv").read_text().startswith("time,load")
    capsys.readouterr()
    from lstmcast.commands.output import check_output

    check_output("-", "--out")  # a folder named "-" (train --out -) stays allowed
    assert main(["predict", str(model), "--data", str(csv), "--output", "-"]) == 2
    assert capsys.readouterr().err == (
        "lstmcast predict: error: --output - would write a file named '-': name a file, or "
        "/dev/stdout for standard output\n"
    )


def test_regular_files_are_replaced_wherever_they_live_and_dangling_links_too(tmp_path):
    """Any existing /dev/... path was appended to, so /dev/shm/f.csv grew at every run (and
    tune's best.toml held each key twice); a dangling link (a cache file into an unmounted
    share) was followed, making folders and writing outside the cache."""
    from lstmcast.data.download import write_atomic

    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        target = shm / f"lstmcast-test-{os.getpid()}.csv"
        try:
            for text in (b"first\n", b"second\n"):
                write_atomic(target, text)
            assert target.read_bytes() == b"second\n"
        finally:
            target.unlink(missing_ok=True)
    link = tmp_path / "cache" / "data.csv"
    link.parent.mkdir()
    link.symlink_to(tmp_path / "unmounted" / "data.csv")
    assert write_atomic(link, b"rows") == link
    assert not link.is_symlink() and link.read_bytes() == b"rows"
    assert not (tmp_path / "unmounted").exists()


def test_an_output_path_that_is_a_symlink_loop_is_one_line(trained, tmp_path, capsys):
    csv, model = trained
    (tmp_path / "lp1").symlink_to(tmp_path / "lp2")
    (tmp_path / "lp2").symlink_to(tmp_path / "lp1")
    loop = str(tmp_path / "lp1")
    for argv in (["train", "--data", str(csv), *FAST, "--out", loop],
                 ["predict", str(model), "--data", str(csv), "--output", loop]):  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "Traceback" not in err
        assert re.search(r"error: --out(put)? \S+lp1 cannot be written: .*; name another path$",
                         err), err  # fmt: skip


def test_a_full_disk_names_the_file_and_leaves_no_part_file(tmp_path, monkeypatch):
    """ENOSPC from a write names no file: the CLI printed a bare 'No space left on device'."""
    import errno

    from lstmcast.data import download

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download.os, "fsync", full)
    (tmp_path / "out.csv").write_text("before")
    with pytest.raises(OSError) as err:
        download.write_atomic(tmp_path / "out.csv", b"after")
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(tmp_path / "out.csv")
    assert os.listdir(tmp_path) == ["out.csv"] and (tmp_path / "out.csv").read_text() == "before"


def test_no_command_prints_the_help_on_stderr(capsys):
    """A script with an empty $CMD piped the whole help into its pipe."""
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("usage: lstmcast")


def test_an_output_over_a_dataset_read_by_name_is_refused(tmp_path, monkeypatch):
    """The check compared paths only, so `predict --data beijing-pm25 --output
    data/beijing_pm25.csv` replaced the dataset's local copy with 24 forecast rows."""
    from lstmcast.commands.output import check_output

    (tmp_path / "beijing_pm25.csv").write_text("No,year\n")
    monkeypatch.setenv("LSTMCAST_DATA", str(tmp_path))
    copy = tmp_path / "beijing_pm25.csv"
    with pytest.raises(ConfigError) as err:
        check_output(str(copy), "--output", "beijing-pm25")
    assert str(err.value) == (
        f"--output {copy} is the table this command reads ({copy}), which it would overwrite: "
        "write it elsewhere"
    )
    check_output(str(tmp_path / "forecast.csv"), "--output", "beijing-pm25")  # elsewhere: fine
    check_output(str(copy), "--output", "us-macro")  # bundled: no file to overwrite


def test_compare_on_a_short_test_split_says_the_chance_was_not_tested(synthetic_csv, tmp_path,
                                                                      capsys):  # fmt: skip
    """The verdict said 'beats ... by x%' with nothing about chance when the split was too short
    for the Diebold-Mariano test: 88 test windows scored at horizon 3 (261 values, 3 missing),
    5 blocks of 5 (3 + 24) needed."""
    argv = ["compare", "--data", str(synthetic_csv), "--lookback", "24", "--horizon", "3",
            "--out", str(tmp_path / "r"), *FAST[:-3], "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert (
        "; too few test windows (88 < 675) to test whether chance could give these gaps." in printed
    )
