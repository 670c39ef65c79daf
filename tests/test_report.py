"""The report: verdict sentences for every ordering, both files, atomic writes, a real browser."""

from __future__ import annotations

import errno
import html
import json
import re
import shutil
import subprocess
import warnings

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from lstmcast.errors import ConfigError
from lstmcast.report import figures, fonts, verdict, write_report

PERIOD = {
    "train": ["2010-01-02 00:00", "2012-12-31 23:00"],
    "val": ["2013-01-01 00:00", "2013-12-31 23:00"],
    "test": ["2014-01-01 00:00", "2014-12-31 23:00"],
}


def row(name: str, rmse: float, kind: str = "lstm", inputs: str = "univariate", **extra) -> dict:
    return {"name": name, "kind": kind, "inputs": inputs, "rmse": rmse, **extra}


def small(rows: list[dict]) -> dict:
    """A hand-made result holding only what ``verdict`` reads."""
    return {
        "target": "pollution",
        "unit": "µg/m³",
        "split": "test",
        "period": PERIOD,
        "results": rows,
    }


def make_result(horizon: int = 24, seed: int = 0) -> dict:
    """A realistic synthetic ``compare`` result: three baselines, two LSTMs, two weeks hourly."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, horizon + 1)

    def per_step(start: float, end: float) -> list[float]:
        return list(start + (end - start) * np.sqrt((steps - 1) / max(horizon - 1, 1)))

    table = [
        ("lstm-multivariate", "lstm", "multivariate", 20.1, 11.2, 80.2, per_step(12.0, 64.0)),
        ("lstm-univariate", "lstm", "univariate", 21.4, 12.0, 41.7, per_step(12.6, 67.0)),
        ("ridge", "baseline", "multivariate", 21.24, 12.4, 0.9, per_step(12.5, 66.0)),
        ("seasonal-naive", "baseline", "univariate", 95.3, 60.1, 0.0, per_step(90.0, 97.0)),
        ("persistence", "baseline", "univariate", 22.14, 12.9, 0.0, per_step(13.0, 79.2)),
    ]
    results = [
        {
            "name": name,
            "kind": kind,
            "inputs": inputs,
            "n_inputs": 8 if inputs == "multivariate" else 1,
            "rmse": rmse,
            "mae": mae,
            "n_scored": 8500,
            "fit_seconds": fit,
            "predict_seconds": 0.4,
            "rmse_per_step": curve,
            "mae_per_step": [0.55 * v for v in curve],
        }
        for name, kind, inputs, rmse, mae, fit, curve in table
    ]
    hours = np.arange(14 * 24)
    when = np.datetime64("2014-03-01T00:00") + hours.astype("timedelta64[h]")
    actual = 90 + 50 * np.sin(2 * np.pi * hours / 24) + np.cumsum(rng.normal(0, 6, hours.size))
    actual = np.clip(actual, 5, None)
    actual_list = [float(v) for v in actual]
    actual_list[100:112] = [None] * 12  # a gap in the observations
    forecasts = {
        "lstm-multivariate": list(np.r_[actual[0], actual[:-1]] + rng.normal(0, 8, hours.size)),
        "lstm-univariate": list(np.r_[actual[0], actual[:-1]] + rng.normal(0, 10, hours.size)),
        "persistence": list(np.r_[actual[0], actual[:-1]]),
        "ridge": list(np.r_[actual[0], actual[:-1]] + rng.normal(0, 9, hours.size)),
        "seasonal-naive": list(np.r_[actual[:24], actual[:-24]]),
    }
    epochs = np.arange(1, 21)
    history = {
        name: {
            "train_loss": list(0.05 + 0.5 / epochs * scale),
            "val_loss": list(0.08 + 0.4 / epochs * scale + 0.002 * np.maximum(epochs - 12, 0) ** 2),
            "best_epoch": 12,
        }
        for name, scale in (("lstm-multivariate", 1.0), ("lstm-univariate", 1.2))
    }
    return {
        "dataset": "beijing-pm25",
        "split": "test",
        "horizon": horizon,
        "target": "pollution",
        "unit": "µg/m³",
        "period": PERIOD,
        "results": results,
        "stretch": {
            "time": [str(t).replace("T", " ") for t in when],
            "actual": actual_list,
            "forecasts": {k: [float(v) for v in vals] for k, vals in forecasts.items()},
            "step": 1,
        },
        "history": history,
        "config": {
            "lookback": 24,
            "horizon": horizon,
            "units": 64,
            "layers": 2,
            "lr": 0.001,
            "features": ["pollution", "dew", "temp", "press", "wnd_dir", "wnd_spd", "snow", "rain"],
            "seed": 0,
        },
    }


# --- verdict -------------------------------------------------------------------------------


def test_verdict_multivariate_better_and_both_beat_persistence():
    result = small(
        [
            row("lstm-multivariate", 20.1, inputs="multivariate", n_inputs=8),
            row("lstm-univariate", 21.4),
            row("persistence", 22.1, kind="baseline"),
        ]
    )
    assert verdict(result) == (
        "The multivariate LSTM (8 inputs) beats the univariate LSTM (pollution alone) by 6.1% "
        "RMSE (20.1 vs 21.4 µg/m³) on the 2014 test split; both beat persistence (22.1)."
    )


@pytest.mark.parametrize(("given", "text"), [
    ({"n_inputs": 1}, "1 input"),
    ({"features": ["x"]}, "x alone"),  # --features naming one column, not the target
    ({"features": ["x", "pollution"]}, "2 inputs"),
])  # fmt: skip
def test_inputs_text_counts_in_words(given, text):
    """A model reading one other column was "The multivariate LSTM (1 inputs)"."""
    from lstmcast.report.results import inputs_text

    result = small([row("lstm-multivariate", 20.1, inputs="multivariate", **given)])
    assert inputs_text(result["results"][0], result) == text


def test_verdict_says_whether_chance_could_give_the_gaps():
    result = small(
        [
            row("lstm-multivariate", 20.1, inputs="multivariate", n_inputs=8),
            row("lstm-univariate", 21.4),
            row("persistence", 22.1, kind="baseline"),
        ]
    )
    result["tests"] = [
        {"a": "lstm-multivariate", "b": "lstm-univariate", "p_value": 0.31},
        {"a": "lstm-multivariate", "b": "persistence", "p_value": 2e-5},
    ]
    assert verdict(result) == (
        "The multivariate LSTM (8 inputs) beats the univariate LSTM (pollution alone) by 6.1% "
        "RMSE (20.1 vs 21.4 µg/m³) on the 2014 test split, a difference chance could give "
        "(Diebold–Mariano p = 0.31); both beat persistence (22.1), a difference chance would "
        "rarely give (Diebold–Mariano p < 0.001)."
    )
    result["tests"] = [
        {"a": "lstm-multivariate", "b": "lstm-univariate", "p_value": 0.0123},
        {"a": "lstm-multivariate", "b": "persistence", "p_value": None},  # identical errors
    ]
    assert verdict(result).endswith(
        "on the 2014 test split, a difference chance would rarely give (Diebold–Mariano "
        "p = 0.012); both beat persistence (22.1)."
    )


TIE = "The multivariate LSTM (3 inputs) and the univariate LSTM (y alone) tie at RMSE 2.00 on "
WIN = "The multivariate LSTM (3 inputs) beats the univariate LSTM (y alone) by 9.1% RMSE (2.00 vs "


@pytest.mark.parametrize(
    ("uni", "p", "middle"),
    [
        (2.0009, 1e-5, TIE + "the test split (a gap under 0.05%, too small to matter even though "
         "Diebold–Mariano finds it consistent, p < 0.001)"),
        (2.0009, 0.41, TIE + "the test split (a gap under 0.05%, which chance could give: "
         "Diebold–Mariano p = 0.41)"),
        (2.0009, None, TIE + "the test split"),
        (2.2, 1e-5, WIN + "2.20) on the test split, a difference chance would rarely give "
         "(Diebold–Mariano p < 0.001)"),
        (2.2, 0.41, WIN + "2.20) on the test split, a difference chance could give "
         "(Diebold–Mariano p = 0.41)"),
        (2.2, None, WIN + "2.20) on the test split"),
    ],
)  # fmt: skip
def test_verdict_tie_or_win_never_contradicts_its_test(uni, p, middle):
    result = {
        "target": "y",
        "split": "test",
        "tests": [{"a": "lstm-multivariate", "b": "lstm-univariate", "p_value": p}],
        "results": [
            row("lstm-multivariate", 2.0, inputs="multivariate", n_inputs=3),
            row("lstm-univariate", uni),
            row("persistence", 2.5, kind="baseline"),
        ],
    }
    assert verdict(result) == middle + "; both beat persistence (2.50)."


def test_verdict_univariate_better_and_only_it_beats_persistence():
    result = small(
        [
            row("lstm-multivariate", 23.0, inputs="multivariate", n_inputs=8),
            row("lstm-univariate", 20.0),
            row("persistence", 22.1, kind="baseline"),
        ]
    )
    # (23.0 - 20.0) / 23.0 = 13.04%
    assert verdict(result) == (
        "The univariate LSTM (pollution alone) beats the multivariate LSTM (8 inputs) by 13.0% "
        "RMSE (20.0 vs 23.0 µg/m³) on the 2014 test split; only the univariate LSTM beats "
        "persistence (22.1)."
    )


def test_verdict_both_worse_than_persistence_and_a_better_baseline_named():
    result = small(
        [
            row("persistence", 26.56, kind="baseline"),
            row("ridge", 25.0, kind="baseline", inputs="multivariate"),
            row("lstm-multivariate", 26.6, inputs="multivariate", n_inputs=8),
            row("lstm-univariate", 27.0),
        ]
    )
    assert verdict(result) == (
        "The multivariate LSTM (8 inputs) beats the univariate LSTM (pollution alone) by 1.5% "
        "RMSE (26.6 vs 27.0 µg/m³) on the 2014 test split; neither beats persistence (26.6), "
        "and the ridge baseline beats both (25.0)."
    )


def test_verdict_single_lstm_row_against_persistence():
    beats = small([row("lstm", 20.1, inputs="multivariate"), row("persistence", 22.14)])
    beats["results"][1]["kind"] = "baseline"
    beats["inputs"] = {"multivariate": ["pollution", "dew", "temp", "press", "a", "b", "c", "d"]}
    assert verdict(beats) == (
        "The multivariate LSTM (8 inputs) scores RMSE 20.1 µg/m³ on the 2014 test split and "
        "beats persistence (22.1) by 9.2%; no univariate LSTM was run to compare against."
    )
    loses = small([row("lstm", 30.0), row("persistence", 22.14, kind="baseline")])
    assert verdict(loses) == (
        "The univariate LSTM (pollution alone) scores RMSE 30.0 µg/m³ on the 2014 test split and "
        "does not beat persistence (22.1); no multivariate LSTM was run to compare against."
    )


def test_verdict_tie_and_no_lstm_and_no_period():
    tie = small(
        [
            row("a", 20.0, inputs="multivariate", n_inputs=3),
            row("b", 20.0),
            row("persistence", 19.0, kind="baseline"),
        ]
    )
    assert verdict(tie).startswith(
        "The multivariate LSTM (3 inputs) and the univariate LSTM (pollution alone) tie at "
        "RMSE 20.0 µg/m³ on the 2014 test split; neither beats persistence (19.0)"
    )
    none = {"results": [row("persistence", 2.5, kind="baseline"), row("ridge", 0.0123, "baseline")]}
    assert (
        verdict(none)
        == "No LSTM was scored on the test split; the best model is ridge with RMSE 0.0123."
    )


def test_repeated_names_are_told_apart(tmp_path):
    result = small(
        [
            row("lstm", 30.0, inputs="multivariate", n_inputs=8),
            row("ridge", 26.0, kind="baseline", inputs="multivariate"),
            row("ridge", 25.0, kind="baseline", inputs="univariate"),
            row("persistence", 27.0, kind="baseline"),
        ]
    )
    assert verdict(result).endswith(
        "does not beat persistence (27.0), but the ridge-univariate baseline does better (25.0); "
        "no univariate LSTM was run to compare against."
    )
    page = write_report(result, tmp_path)["html"].read_text(encoding="utf-8")
    assert "<td>ridge-univariate <span class='tag best'>best</span></td>" in page
    assert "<td>ridge</td><td>multivariate</td>" in page  # no count given
    assert [r["name"] for r in result["results"]][2] == "ridge"  # the caller's dict is untouched


def test_bad_result_raises_config_error():
    with pytest.raises(ConfigError, match=r"result\['results'\] must be a non-empty list"):
        verdict({"results": []})
    with pytest.raises(ConfigError, match="no row with a finite 'rmse'"):
        verdict({"results": [{"name": "x", "rmse": None}]})


def test_skill_is_a_dash_when_persistence_is_perfect_and_signed_otherwise():
    from lstmcast.report.html import metrics_rows

    perfect = small([row("lstm", 1.5), row("persistence", 0.0, kind="baseline")])
    assert [r["skill"] for r in metrics_rows(perfect)] == ["–", "–"]  # no division by zero
    usual = small([row("lstm", 1.5), row("persistence", 2.0, kind="baseline")])
    assert [r["skill"] for r in metrics_rows(usual)] == ["+25.0%", "+0.0%"]
    assert "beats persistence (2.00) by 25.0%" in verdict(usual)


# --- the files -----------------------------------------------------------------------------


def test_write_report_html_and_markdown(tmp_path):
    result = make_result()
    paths = write_report(result, tmp_path / "new" / "dir")
    page = paths["html"].read_text(encoding="utf-8")
    md = paths["markdown"].read_text(encoding="utf-8")

    assert paths["html"].name == "report.html" and paths["markdown"].name == "report.md"
    assert [p.name for p in paths["figures"]] == [
        "report_error_by_step.png",
        "report_forecast.png",
        "report_learning_curves.png",
    ]
    # the table rows, numbers to four significant figures of the column's smallest value
    assert re.search(
        r"<td>lstm-multivariate <span class='tag best'>best</span></td><td>8 inputs</td>"
        r"<td class='num'>20.10</td><td class='num'>11.20</td><td class='num'>\+9.2%</td>"
        r"<td class='num'>8,500</td><td class='num'>80.2</td>",
        page,
    )
    assert "<td class='num'>22.14</td><td class='num'>12.90</td><td class='num'>+0.0%</td>" in page
    assert (
        "<td class='num'>95.30</td><td class='num'>60.10</td><td class='num'>−330.4%</td>" in page
    )
    order = [
        page.index(f"<td>{name}")
        for name in (
            "lstm-multivariate",
            "ridge",
            "lstm-univariate",
            "persistence",
            "seasonal-naive",
        )
    ]
    assert order == sorted(order)  # sorted by RMSE
    assert verdict(result) in page.replace("&#x27;", "'")
    assert verdict(result).startswith("The multivariate LSTM (8 inputs) beats the univariate")
    # self-contained: three embedded PNGs, nothing fetched from anywhere
    assert page.count("src='data:image/png;base64,") == 3
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", page)
    assert "<link" not in page and "<script" not in page and "@import" not in page
    # the forecast figure draws the LSTMs, persistence and the best other baseline only
    assert figures.stretch_models(result) == [
        "lstm-multivariate",
        "lstm-univariate",
        "persistence",
        "ridge",
    ]
    assert "Not drawn, for legibility: seasonal-naive." in page

    assert "| **lstm-multivariate** | 8 inputs | 20.10 | 11.20 | +9.2% | 8,500 | 80.2 |" in md
    assert (
        "| persistence (reference) | pollution alone | 22.14 | 12.90 | +0.0% | 8,500 | 0.0 |" in md
    )
    assert f"**{verdict(result)}**" in md
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links == [p.name for p in paths["figures"]]
    for link in links:
        image = matplotlib.image.imread(paths["markdown"].parent / link)
        assert image.shape[1] == 9 * figures.DPI  # 9 inches wide
    assert not list(paths["html"].parent.glob(".*.tmp"))


def test_several_targets_get_a_table_each(tmp_path):
    result = make_result()
    per = {  # name: (pollution rmse, mae), (temp rmse, mae); counts 4,000 and 4,500
        "lstm-multivariate": ((28.0, 15.0), (1.5, 1.1)),
        "lstm-univariate": ((29.0, 16.0), (1.9, 1.4)),
        "ridge": ((27.5, 15.5), (2.5, 1.8)),
        "seasonal-naive": ((130.0, 80.0), (3.0, 2.0)),
        "persistence": ((30.0, 17.0), (2.0, 1.5)),
    }
    for r in result["results"]:
        (pr, pm), (tr, tm) = per[r["name"]]
        r["per_target"] = [
            {"target": "pollution", "rmse": pr, "mae": pm, "n_scored": 4000},
            {"target": "temp", "rmse": tr, "mae": tm, "n_scored": 4500},
        ]
    paths = write_report(result, tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "<h2>Each target on its own</h2>" in page
    temp = page[page.index("<h3>temp</h3>") :]
    # sorted by the target's own RMSE, skill against the target's own persistence (2.0)
    assert temp.index("<td>lstm-multivariate</td>") < temp.index("<td>persistence</td>")
    assert temp.index("<td>persistence</td>") < temp.index("<td>ridge</td>")
    assert (
        "<td>lstm-multivariate</td><td class='num'>1.500</td><td class='num'>1.100</td>"
        "<td class='num'>+25.0%</td><td class='num'>4,500</td>" in temp
    )
    assert "### pollution" in md and "### temp" in md
    assert "| ridge | 27.50 | 15.50 | +8.3% | 4,000 |" in md
    assert "| ridge | 2.500 | 1.800 | −25.0% | 4,500 |" in md  # 4 significant figures
    # one target: no such section
    single = write_report(make_result(), tmp_path / "one")["html"].read_text(encoding="utf-8")
    assert "Each target on its own" not in single


def test_markdown_escapes_names_everywhere_and_keeps_each_line_whole(tmp_path):
    result = make_result(horizon=1)
    result.update(dataset="nl.csv", target="pm\n*2.5*", unit=None, history={}, stretch=None)
    result["results"][2]["name"] = "ridge_<b>|x"
    for r in result["results"]:
        r["per_target"] = [
            {"target": "pm\n*2.5*", "rmse": r["rmse"], "mae": r["mae"], "n_scored": 9},
            {"target": "a|b", "rmse": r["rmse"], "mae": r["mae"], "n_scored": 9},
        ]
    result["config"] = {"note": "x`y|z"}
    md = write_report(result, tmp_path)["markdown"].read_text(encoding="utf-8")
    lines = md.splitlines()
    assert lines[0] == "# nl.csv: pm \\*2.5\\*, 1 step ahead"
    assert lines[2].startswith("Dataset: nl.csv · Target: pm \\*2.5\\* · Horizon: 1 step · ")
    assert lines[4].startswith("**The multivariate LSTM (8 inputs) beats the univariate LSTM "
                               "(pm \\*2.5\\* alone) by 6.1% RMSE")  # fmt: skip
    assert "| persistence (reference) | pm \\*2.5\\* alone | 22.14 |" in md
    assert "| ridge\\_\\<b>\\|x | 8 inputs | 21.24 |" in md
    assert "### pm \\*2.5\\*" in lines and "### a\\|b" in lines
    assert "| ridge\\_\\<b>\\|x | 21.24 |" in md
    assert "| note | ``x`y\\|z`` |" in lines


def two_target_result(horizon: int = 24) -> dict:
    """``make_result`` with a second target, temp, in another unit: per-target scores (per step
    too) and a forecast stretch for each target, as ``compare`` writes them."""
    result = make_result(horizon=horizon)
    result.update(target=["pollution", "temp"], unit=None)
    for i, r in enumerate(result["results"]):
        curve = r["rmse_per_step"]
        r["per_target"] = [
            {"target": "pollution", "unit": "µg/m³", "rmse": r["rmse"], "mae": r["mae"],
             "n_scored": 4000, "rmse_per_step": curve},
            {"target": "temp", "unit": "°C", "rmse": 1.5 + i / 10, "mae": 1.1, "n_scored": 4500,
             "rmse_per_step": [0.05 * v + i / 10 for v in curve]},
        ]  # fmt: skip
    stretch = result["stretch"]
    temp = [10 + 5 * np.sin(2 * np.pi * t / 24) for t in range(len(stretch["time"]))]
    stretch["targets"] = [
        {"target": "pollution", "actual": stretch["actual"], "forecasts": stretch["forecasts"]},
        {"target": "temp", "actual": temp,
         "forecasts": {name: [v + 1.0 for v in temp] for name in stretch["forecasts"]}},
    ]  # fmt: skip
    return result


def temp_actual(result: dict) -> list[float]:
    return result["stretch"]["targets"][1]["actual"]


def test_several_targets_get_a_panel_each_in_their_own_units(tmp_path):
    result = two_target_result()
    fig = figures.error_by_step(result)
    assert [ax.get_title() for ax in fig.axes] == ["pollution", "temp"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["RMSE (µg/m³)", "RMSE (°C)"]
    temp_lines = {line.get_label(): line.get_ydata() for line in fig.axes[1].get_lines()}
    for r in result["results"]:
        np.testing.assert_allclose(temp_lines[r["name"]], r["per_target"][1]["rmse_per_step"])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sorted(labels) == sorted(r["name"] for r in result["results"])  # once each

    fig = figures.forecast_stretch(result)
    assert [ax.get_title() for ax in fig.axes] == ["pollution", "temp"]
    assert fig.axes[1].get_ylabel() == "temp (°C)"
    lines = {line.get_label(): line.get_ydata() for line in fig.axes[1].get_lines()}
    np.testing.assert_allclose(lines["actual"], result["stretch"]["targets"][1]["actual"])
    np.testing.assert_allclose(lines["persistence"], np.add(lines["actual"], 1.0))
    assert len(fig.legends) == 1

    other = two_target_result()  # temp's best other baseline is seasonal-naive, not ridge
    next(r for r in other["results"] if r["name"] == "seasonal-naive")["per_target"][1]["rmse"] = 1
    fig = figures.forecast_stretch(other)
    drawn = [{line.get_label() for line in ax.get_lines()} for ax in fig.axes]
    assert "ridge" in drawn[0] and "seasonal-naive" in drawn[1] and "ridge" not in drawn[1]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sorted(legend) == sorted(set(legend)) and {"ridge", "seasonal-naive"} <= set(legend)
    assert figures._left_out(other) == ""  # every forecast is drawn in some panel

    assert fig.axes[1].get_ylim()[0] <= 0  # a series that comes near zero: shaded from zero
    far = two_target_result()  # a series far from zero (GDP-like) is not flattened against 0
    gdp = [11400 + 10 * v for v in temp_actual(far)]
    far["stretch"]["targets"][1].update(actual=gdp, forecasts={"persistence": gdp})
    assert figures.forecast_stretch(far).axes[1].get_ylim()[0] > 11000

    bars = figures.error_by_step(two_target_result(horizon=1))  # one step: bars per target
    assert [ax.get_xlabel() for ax in bars.axes] == ["RMSE (µg/m³)", "RMSE (°C)"]
    widths = sorted(patch.get_width() for patch in bars.axes[1].patches)
    np.testing.assert_allclose(widths, [1.5, 1.6, 1.7, 1.8, 1.9])

    page = write_report(result, tmp_path)["html"].read_text(encoding="utf-8")
    assert "<h3>temp (°C)</h3>" in page and "<h3>pollution (µg/m³)</h3>" in page
    assert "<th class='num'>RMSE</th>" in page  # the pooled table: mixed units, none named


LONG = "a_very_long_column_name_that_goes_on_and_on_for_sixty_chars_"


def long_names_result() -> dict:
    """``two_target_result`` with five targets, one named in 60 characters, one with a line
    break, and a univariate LSTM (and its learning curve) per target."""
    names = ["temp", "PM2.5 (µg/m³)", LONG, "pm\n2.5", "rain"]
    result = two_target_result()
    result["target"] = names
    for r in result["results"]:
        r["per_target"] = [{**r["per_target"][k % 2], "target": n} for k, n in enumerate(names)]
    stretches = result["stretch"]["targets"]
    result["stretch"]["targets"] = [{**stretches[k % 2], "target": n} for k, n in enumerate(names)]
    curve = result["history"].pop("lstm-univariate")
    result["history"].update({f"lstm-univariate {n}": curve for n in names})
    return result


@pytest.mark.parametrize("draw", ["error_by_step", "forecast_stretch", "learning_curves"])
def test_long_names_are_wrapped_or_cut_to_their_panels(draw):
    with matplotlib.rc_context(figures._STYLE):
        fig = getattr(figures, draw)(long_names_result())
        fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert any("a_very" in t for t in titles)
    assert all(len(line) <= 60 for t in titles for line in t.splitlines())
    assert all(t.count("\n") <= 1 for t in titles)
    assert any(t.endswith("pm 2.5") for t in titles)  # the name's line break is a space
    boxes = [ax._left_title.get_window_extent(renderer) for ax in fig.axes]
    boxes += [ax.yaxis.label.get_window_extent(renderer) for ax in fig.axes if ax.get_ylabel()]
    for i, box in enumerate(boxes):  # no title or axis label runs into another
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width
        assert not any(box.overlaps(other) for other in boxes[i + 1 :])
    for ax in fig.axes:
        label = ax.yaxis.label.get_window_extent(renderer)
        assert label.height <= ax.get_window_extent(renderer).height
    if draw == "forecast_stretch":  # 60 characters do not fit up the side of a panel: cut
        label = fig.axes[2].get_ylabel()
        assert label.startswith("a_very_long") and "…" in label and label.endswith("(µg/m³)")


def test_dollar_signs_in_names_are_drawn_as_text_not_parsed_as_tex():
    """A column named "cost_$_total_$" made matplotlib parse TeX and crash compare after
    training, with no report and no JSON written."""
    names = ["cost_$_total_$", "a $x^2$ rate"]
    result = two_target_result()
    result["target"] = names
    for r in result["results"]:
        r["per_target"] = [{**t, "target": n} for t, n in zip(r["per_target"], names, strict=True)]
    for t, n in zip(result["stretch"]["targets"], names, strict=True):
        t["target"] = n
    assert [d.name for d in figures.draw_all(result)] == list(figures.NAMES)
    with matplotlib.rc_context(figures._STYLE):
        fig = figures.forecast_stretch(result)
        fig.draw_without_rendering()
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels[0].startswith("cost_$_total_$") and labels[1].startswith("a $x^2$ rate")
    assert not any(ax.yaxis.label._parse_math for ax in fig.axes)


def drawn_with_warnings(name: str) -> tuple[dict, list[str]]:
    """``draw_all`` of a one-step result whose target (and univariate LSTM) is called ``name``:
    the rc settings it draws under and the warnings it gives."""
    result = make_result(horizon=1)
    result["target"], result["unit"] = name, None
    result["history"][f"lstm-univariate {name}"] = result["history"].pop("lstm-univariate")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with matplotlib.rc_context(figures._STYLE):
            rc = fonts.font_fallback(result)
        figures.draw_all(result)
    return rc, [str(w.message) for w in caught]


def test_characters_no_font_has_give_one_warning_naming_the_column():
    if fonts._font_having(frozenset("日本語の列"))[1] == set("日本語の列"):
        pytest.skip("a font with Japanese glyphs is installed here")
    _, messages = drawn_with_warnings("日本語の列")
    assert len(messages) == 2  # once from font_fallback above, once from draw_all
    assert messages[0] == messages[1]
    assert messages[0].startswith(
        "no installed font has some characters of '日本語の列', so the report's figures draw "
        "them as empty boxes: install a font that has them (Noto Sans CJK for Chinese, Japanese "
        "or Korean) and delete matplotlib's font cache in "
    )


def test_characters_the_font_lacks_come_from_an_installed_font_that_has_them():
    rc, messages = drawn_with_warnings("Ⓐ-sensor")  # in matplotlib's STIX fonts, not DejaVu
    assert rc == {"font.family": ["DejaVu Sans", "STIXGeneral"]}
    assert messages == []


def test_many_targets_go_two_to_a_row_in_error_by_step():
    result = make_result()
    names = ["pollution", "dew", "temp", "press", "wnd_spd"]
    for i, r in enumerate(result["results"]):
        r["per_target"] = [
            {"target": t, "unit": "u", "rmse": r["rmse"] + k, "mae": r["mae"], "n_scored": 9,
             "rmse_per_step": [v + k + i for v in r["rmse_per_step"]]}
            for k, t in enumerate(names)
        ]  # fmt: skip
    fig = figures.error_by_step(result)
    assert [ax.get_title() for ax in fig.axes] == names  # the spare sixth cell is removed
    assert [ax.get_subplotspec().colspan.start for ax in fig.axes] == [0, 1, 0, 1, 0]
    # a step label only where no panel sits below: wnd_spd (bottom left) and press (right)
    assert [bool(ax.get_xlabel()) for ax in fig.axes] == [False, False, False, True, True]
    last = {line.get_label(): line.get_ydata() for line in fig.axes[4].get_lines()}
    for r in result["results"]:
        np.testing.assert_allclose(last[r["name"]], r["per_target"][4]["rmse_per_step"])
    assert fig.get_size_inches()[1] == pytest.approx(4.2 * 0.75 * 3)  # 3 rows, not 5
    assert len(fig.legends) == 1


def test_one_univariate_lstm_per_target_gets_a_learning_curve_each_in_its_colour():
    """compare with several targets fits one univariate LSTM per target: five curves go in rows
    of four, each univariate one in the colour of the lstm-univariate row."""
    result = make_result()
    base = result["history"]["lstm-univariate"]
    result["history"] = {"lstm-multivariate": result["history"]["lstm-multivariate"]} | {
        f"lstm-univariate {t}": {**base, "train_loss": [v * (k + 1) for v in base["train_loss"]]}
        for k, t in enumerate(["pollution", "dew", "temp", "press"])
    }
    fig = figures.learning_curves(result)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == list(result["history"])  # the three spare cells are removed
    assert [ax.get_subplotspec().rowspan.start for ax in fig.axes] == [0, 0, 0, 0, 1]
    assert [bool(ax.get_xlabel()) for ax in fig.axes] == [False, True, True, True, True]
    colors = figures.model_colors(result)
    for ax, name in zip(fig.axes, titles, strict=True):
        train = ax.get_lines()[0]
        np.testing.assert_allclose(train.get_ydata(), result["history"][name]["train_loss"])
        family = "lstm-univariate" if name.startswith("lstm-univariate") else name
        assert train.get_color() == colors[family]
    assert colors["lstm-univariate"] != colors["lstm-multivariate"]


def test_a_one_epoch_learning_curve_is_a_visible_point_on_an_integer_axis():
    result = make_result()
    result["history"] = {
        "lstm-multivariate": {"train_loss": [0.1], "val_loss": [0.08], "best_epoch": 1},
        "lstm-univariate": {"train_loss": [0.1]},
    }
    fig = figures.learning_curves(result)
    fig.canvas.draw()
    for ax in fig.axes:
        points = [line for line in ax.get_lines() if len(line.get_xdata()) == 1]
        assert points and all(line.get_marker() == "o" for line in points)
        assert ax.get_xlim() == (0.5, 1.5)
        ticks = [t for t in ax.get_xticks() if 0.5 <= t <= 1.5]
        assert ticks == [1.0]
    train, val = fig.axes[0].get_lines()[:2]
    assert train.get_markerfacecolor() != "white" and val.get_markerfacecolor() == "white"
    assert [h.get_marker() for h in fig.legends[0].legend_handles] == ["o", "o", "None"]


def test_horizon_one_draws_bars_and_report_survives_missing_sections(tmp_path):
    result = make_result(horizon=1)
    del result["history"], result["stretch"], result["config"]
    for r in result["results"]:
        r["rmse_per_step"] = r["rmse_per_step"][:1]
    result["results"][3]["rmse"] = None  # a model that failed to score is listed last
    paths = write_report(result, tmp_path, title="Next hour")
    page = paths["html"].read_text(encoding="utf-8")
    assert [p.name for p in paths["figures"]] == ["report_error_by_step.png"]
    assert "<h2>Error by model</h2>" in page and "<title>Next hour</title>" in page
    assert page.index("<td>seasonal-naive") > page.index("<td>persistence")
    assert "<td class='num'>–</td><td class='num'>60.10</td>" in page

    # a later report with fewer figures removes the stale PNGs of the earlier one
    write_report(make_result(), tmp_path)
    write_report(result, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["report_error_by_step.png"]


def test_failed_figure_leaves_the_old_report_intact(tmp_path, monkeypatch):
    (tmp_path / "report.html").write_text("old page", encoding="utf-8")
    (tmp_path / "report.md").write_text("old markdown", encoding="utf-8")

    def broken(result):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(figures, "learning_curves", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_report(make_result(), tmp_path)
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == "old page"
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == "old markdown"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]

    monkeypatch.undo()
    write_report(make_result(), tmp_path)
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_disk_full_on_the_last_file_leaves_the_whole_old_report_untouched(tmp_path, monkeypatch):
    import lstmcast.report.html as report_html

    write_report(make_result(seed=0), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_write = report_html.write_atomic

    def full_disk_at_the_page(path, data, **kwargs):  # report.html is the last file written
        if path.name == "report.html":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data, **kwargs)

    monkeypatch.setattr(report_html, "write_atomic", full_disk_at_the_page)
    with pytest.raises(OSError, match="No space left"):
        write_report(make_result(horizon=12, seed=1), tmp_path)
    # not report.md and the figures of the new run beside the page of the old one
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporaries

    monkeypatch.undo()
    write_report(make_result(horizon=12, seed=1), tmp_path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after.keys() == before.keys()  # the new report, and no temporaries
    assert after["report.html"] != before["report.html"]


# --- a real browser ------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def test_report_renders_in_headless_chromium(tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)"
        )
    page = write_report(make_result(), tmp_path / "report")["html"]
    shot = tmp_path / "shot.png"
    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        page.resolve().as_uri(),
    ]
    try:
        subprocess.run(command, capture_output=True, timeout=90, check=False)
    except subprocess.TimeoutExpired:
        pass  # some builds linger after writing the screenshot; the file decides
    assert shot.is_file(), "chromium wrote no screenshot"
    image = matplotlib.image.imread(shot)[..., :3]
    assert image.shape[:2] == (2000, 1280)
    # An empty page (grey margins, white sheet) measures std 0.026, no ink, no colour;
    # this report measures about 0.12, 2.8% ink and 1.0% coloured pixels.
    ink = (image.mean(axis=-1) < 0.6).mean()  # text, axes, lines
    colour = (image.max(axis=-1) - image.min(axis=-1) > 0.3).mean()  # the plotted series
    assert image.std() > 0.06
    assert ink > 0.01
    assert colour > 0.003


@pytest.mark.parametrize(
    ("multi", "uni", "ending"),
    [
        ([1.0, 1.0], [1.0, 1.0], "their means are equal; the multivariate one wins with 0 of 2 "
                                 "seeds, the univariate with 0, 2 ties."),
        ([1.0, 0.9, 2.0], [1.0, 1.0, 2.1], "the multivariate one wins with 2 of 3 seeds, 1 tie, so "
                                           "the seed does not change which one wins."),
        ([1.0, 1.5], [1.5, 1.0], "their means are equal; the multivariate one wins with 1 of 2 "
                                 "seeds, the univariate with 1."),
    ],
)  # fmt: skip
def test_the_seed_sentence_calls_a_tie_a_tie(multi, uni, ending):
    """Equal RMSEs were counted as losses: "the multivariate one wins with 0 of 2 seeds"."""
    from lstmcast.report import seed_note

    seeds = {"seed": list(range(len(multi))), "lstm-multivariate": multi, "lstm-univariate": uni}
    assert seed_note({"seeds": seeds}).endswith(ending)


def test_a_stretch_of_one_test_hour_is_drawn_without_a_warning():
    """One scored test row: matplotlib warned "Attempting to set identical low and high xlims"
    (printed by the CLI as a warning of lstmcast's), and one-point lines were invisible."""
    result = make_result(horizon=1)
    stretch = result["stretch"]
    stretch["time"], stretch["actual"] = stretch["time"][:1], stretch["actual"][:1]
    stretch["forecasts"] = {k: v[:1] for k, v in stretch["forecasts"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figures.forecast_stretch(result)
    assert all(line.get_marker() == "o" for line in fig.axes[0].get_lines())


def stretch_over(start: str, steps: int, freq: str) -> dict:
    """``make_result`` with its forecast stretch moved to ``steps`` times from ``start``."""
    result = make_result()
    times = pd.date_range(start, periods=steps, freq=freq)
    stretch = result["stretch"]
    stretch["time"] = [str(t) for t in times]
    stretch["actual"] = stretch["actual"][:steps]
    stretch["forecasts"] = {k: v[:steps] for k, v in stretch["forecasts"].items()}
    return result


def date_axis(result: dict) -> tuple[list[str], str, str]:
    """The forecast figure's rendered tick labels, offset text and axis label."""
    with matplotlib.rc_context(figures._STYLE):
        fig = figures.forecast_stretch(result)
        fig.canvas.draw()
    ax = fig.axes[-1]
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    return ticks, ax.xaxis.get_offset_text().get_text(), ax.get_xlabel()


def test_the_date_axis_names_each_ticks_month_across_a_new_year():
    """Daily 2019-12-07..2020-01-29 read "08 15 22 Jan 08 15 22" under a corner "2020-Jan"
    (matplotlib's offset is the last tick's month): the first 08 read as 8 January 2020."""
    ticks, offset, label = date_axis(stretch_over("2019-12-07", 54, "D"))
    assert ticks == ["08 Dec", "15 Dec", "22 Dec", "Jan 2020", "08 Jan", "15 Jan", "22 Jan"]
    assert offset == "" and label == "7 Dec 2019 – 29 Jan 2020"

    ticks, offset, label = date_axis(stretch_over("2019-12-25 00:00", 14 * 24, "h"))
    assert "Jan 2020" in ticks and ticks[0].endswith(" Dec") and ticks[-1].endswith(" Jan")
    assert all(re.fullmatch(r"\d\d (Dec|Jan)|Jan 2020", t) for t in ticks), ticks
    assert offset == "" and label == "25 Dec 2019 00:00 – 7 Jan 2020 23:00"


def test_the_forecast_figure_draws_the_best_baseline_even_the_univariate_ridge(synthetic_csv):
    """compare scored ridge-univariate but kept no forecast of it in the stretch: the figure drew
    the worse ridge as "the best other baseline" and the caption named only the others."""
    from lstmcast.compare import compare
    from lstmcast.forecaster import ForecastConfig

    cfg = ForecastConfig(data=str(synthetic_csv), time_col="time", target=["load", "temp"],
                         units=[8], epochs=1, lookback=12, horizon=2, progress=False)  # fmt: skip
    result = compare(cfg, baselines=("persistence", "ridge"))
    names = {r["name"] for r in result["results"]}
    assert "ridge-univariate" in names
    stretch = result["stretch"]
    assert set(stretch["forecasts"]) == names
    assert all(set(entry["forecasts"]) == names for entry in stretch["targets"])

    result = make_result()  # the univariate ridge best of the baselines: drawn, ridge not
    uni = {**result["results"][2], "name": "ridge-univariate", "inputs": "univariate", "rmse": 21}
    result["results"].append(uni)
    forecasts = result["stretch"]["forecasts"]
    forecasts["ridge-univariate"] = [v + 1.0 for v in forecasts["ridge"]]
    drawn = [line.get_label() for line in figures.forecast_stretch(result).axes[0].get_lines()]
    assert "ridge-univariate" in drawn and "ridge" not in drawn
    assert figures._left_out(result) == " Not drawn, for legibility: ridge, seasonal-naive."

    del forecasts["ridge-univariate"]  # a result whose stretch lacks a scored row: said so
    assert figures._left_out(result) == (
        " Not drawn, for legibility: seasonal-naive. No forecasts kept to draw: ridge-univariate."
    )


def long_target_result() -> dict:
    """``two_target_result`` whose first target is named in 60 characters without a space."""
    result = two_target_result()
    result["target"] = [LONG, "temp"]
    for r in result["results"]:
        r["per_target"][0]["target"] = LONG
    result["stretch"]["targets"][0]["target"] = LONG
    return result


def test_headings_and_captions_wrap_a_long_name_inside_the_card():
    """A 60-character target ran out of the page's card: the <h1> had no overflow-wrap."""
    from lstmcast.report.html import _CSS

    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", _CSS))
    wrapping = {s.strip() for sel, body in rules.items() if "overflow-wrap: anywhere" in body
                for s in sel.split(",")}  # fmt: skip
    assert {"h1", "h2", "h3", ".verdict p", ".facts dd", ".note", "figcaption"} <= wrapping


WIDTH_PROBE = """<script>
const card = document.querySelector("main").getBoundingClientRect();
const walk = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
const wide = [];  // text past the card's edge, but for the tables' own scrolling boxes
for (let node = walk.nextNode(); node; node = walk.nextNode()) {
  const range = document.createRange();
  range.selectNodeContents(node);
  if (!node.parentElement.closest(".metrics") && range.getBoundingClientRect().right > card.right)
    wide.push(node.parentElement.tagName + ": " + node.textContent.slice(0, 40));
}
document.body.insertAdjacentHTML("beforeend", "<pre id='probe'>" + JSON.stringify({
  page: document.documentElement.scrollWidth, window: window.innerWidth, wide}) + "</pre>");
</script>"""


@pytest.mark.parametrize("width", [1280, 600])
def test_a_long_target_name_stays_inside_the_card_in_headless_chromium(tmp_path, width):
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)"
        )
    page = write_report(long_target_result(), tmp_path / "report")["html"]
    probed = tmp_path / "probed.html"  # the report has no script; its copy measures itself
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", WIDTH_PROBE + "</body>"))
    command = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},900",
               "--dump-dom", probed.resolve().as_uri()]  # fmt: skip
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=90).stdout
    except subprocess.TimeoutExpired as stop:
        out = stop.stdout.decode() if isinstance(stop.stdout, bytes) else stop.stdout or ""
    probe = re.search(r"<pre id=\"probe\">(.*?)</pre>", out)
    assert probe, "chromium printed no measurement"
    measured = json.loads(html.unescape(probe.group(1)))
    assert measured["wide"] == []  # no element (tables scroll on their own) past the card
    assert measured["page"] <= measured["window"]


# --- several targets: counted target by target (audit 14, fixes 1 and 4) -------------------

MARKETS = ["close", "ret", "noise", "volume", "cpi"]


def markets_result() -> dict:
    """Five targets in five units: the univariate LSTM wins on close, ret and noise, the
    multivariate one on volume and cpi; the pooled RMSE is volume's alone."""
    per = {  # name: RMSE of close, ret, noise, volume, cpi
        "lstm-multivariate": [4.79, 0.0163, 1.89, 60885.0, 0.40],
        "lstm-univariate": [4.14, 0.0150, 1.82, 66403.0, 0.64],
        "persistence": [1.17, 0.0139, 1.59, 11499.0, 0.0158],
        "ridge": [1.14, 0.0092, 1.09, 12300.0, 0.5],
    }
    rows = []
    for name, rmses in per.items():
        pooled = float(np.sqrt(np.mean(np.square(rmses))))  # the same count per target
        entries = [
            {"target": t, "rmse": v, "n_scored": 118} for t, v in zip(MARKETS, rmses, strict=True)
        ]
        kind = "lstm" if name.startswith("lstm") else "baseline"
        inputs = "multivariate" if name in ("lstm-multivariate", "ridge") else "univariate"
        rows.append(row(name, pooled, kind, inputs, per_target=entries))
    rows[0]["n_inputs"] = 5
    return {"target": MARKETS, "split": "test", "period": PERIOD, "results": rows}


def test_verdict_with_several_targets_counts_targets_not_the_pooled_rmse():
    """The pooled RMSE is volume's (the largest unit): it said the multivariate LSTM wins."""
    result = markets_result()
    pooled = {r["name"]: r["rmse"] for r in result["results"]}
    assert pooled["lstm-multivariate"] < pooled["lstm-univariate"]  # what the old verdict read
    assert verdict(result) == (
        "Over 5 targets on the 2014 test split, the multivariate LSTM (5 inputs) beats the "
        "univariate LSTM (each of the 5 targets alone) on 2 (volume, cpi) and loses on 3 "
        "(close, ret, noise); the multivariate LSTM beats persistence on none and the "
        "univariate on none, and another baseline beats both on 4 (close, ret, noise, volume)."
    )


def test_verdict_with_several_targets_quotes_each_targets_own_test():
    result = markets_result()
    result["tests"] = [  # per target, as compare gives them; a pooled test would have no target
        {"target": t, "a": "lstm-multivariate", "b": "lstm-univariate", "p_value": p}
        for t, p in zip(MARKETS, [0.2, 0.01, 0.5, 0.003, 0.3], strict=True)
    ]
    text = verdict(result)
    assert (
        ", a gap chance would rarely give (Diebold–Mariano p < 0.05) on 2 of 5 (ret, volume);"
        in text
    )
    result["tests"] = [{"a": "lstm-multivariate", "b": "lstm-univariate", "p_value": 1e-9}]
    assert "Diebold" not in verdict(result)  # a pooled test is never quoted


def test_verdict_with_many_targets_counts_them_and_ties_are_named():
    result = markets_result()
    names = [f"c{k}" for k in range(12)]
    result["target"] = names
    for r, base in zip(result["results"], (1.0, 1.1, 1.2, 0.5), strict=True):
        r["per_target"] = [{"target": t, "rmse": base, "n_scored": 9} for t in names]
    result["results"][0]["per_target"][0]["rmse"] = 1.10001  # a tie on c0 (under 0.05%)
    assert verdict(result).startswith(
        "Over 12 targets on the 2014 test split, the multivariate LSTM (5 inputs) beats the "
        "univariate LSTM (each of the 12 targets alone) on 11 and loses on none, ties on 1 (c0); "
        "the multivariate LSTM beats persistence on all 12 and the univariate on all 12"
    )


def test_verdict_says_when_the_split_was_too_short_to_test_chance():
    """Compare leaves the Diebold-Mariano tests out under 5 blocks of 5 (horizon + 24) windows;
    the sentence said 'beats ... by 9.1%' with nothing about chance."""
    result = {
        "target": "y",
        "split": "test",
        "tests": [],
        "tests_left_out": {"windows": 312, "needed": 625},
        "results": [
            row("lstm-multivariate", 2.0, inputs="multivariate", n_inputs=3),
            row("lstm-univariate", 2.2),
            row("persistence", 2.5, kind="baseline"),
        ],
    }
    assert verdict(result) == (
        WIN + "2.20) on the test split; both beat persistence (2.50); too few test windows "
        "(312 < 625) to test whether chance could give these gaps."
    )
    result["results"].pop(0)
    assert verdict(result).endswith(
        "no multivariate LSTM was run to compare against; too few test windows (312 < 625) to "
        "test whether chance could give the gap."
    )
    several = markets_result() | {"tests_left_out": {"windows": 59, "needed": 650}}
    assert verdict(several).endswith(
        "; too few test windows (59 < 650) to test whether chance could give these gaps."
    )


def test_compare_tests_each_target_in_its_own_unit():
    """Squared errors pooled over targets in different units let the largest unit decide:
    each target is tested alone, and a short split records why the tests were left out."""
    from types import SimpleNamespace

    from lstmcast.compare import _tests

    rng = np.random.default_rng(0)
    y = rng.normal(size=(700, 1, 2)) * [1e6, 1.0]  # (S, H, Ft): volume, ret
    a = y + rng.normal(size=y.shape) * [2e5, 1.0]  # worse on ret, better on volume
    b = y + rng.normal(size=y.shape) * [3e5, 0.5]
    p = np.roll(y, 1, axis=0)

    def scored(pred: np.ndarray) -> list[dict]:
        rmse = np.sqrt(np.mean((pred - y) ** 2, axis=(0, 1)))
        return [
            {"target": t, "rmse": float(v)} for t, v in zip(["volume", "ret"], rmse, strict=True)
        ]

    forecasts = {"lstm-multivariate": a, "lstm-univariate": b, "persistence": p}
    rows = [{"name": n, "rmse": 0.0, "per_target": scored(f)} for n, f in forecasts.items()]
    out = _tests(SimpleNamespace(Y=y, mask=None), forecasts, rows)
    pairs = [(t["target"], t["a"], t["b"]) for t in out["tests"]]
    assert pairs == [
        ("volume", "lstm-multivariate", "lstm-univariate"),
        ("volume", "lstm-multivariate", "persistence"),
        ("ret", "lstm-univariate", "lstm-multivariate"),  # better first, on ret's own RMSE
        ("ret", "lstm-univariate", "persistence"),
    ]
    for test in out["tests"]:
        k = ["volume", "ret"].index(test["target"])
        mse = {n: np.mean((f[..., k] - y[..., k]) ** 2) for n, f in forecasts.items()}
        assert test["mse_diff"] == pytest.approx(mse[test["a"]] - mse[test["b"]])
    assert "tests_left_out" not in out
    first = {n: f[:300] for n, f in forecasts.items()}
    short = _tests(SimpleNamespace(Y=y[:300], mask=None), first, rows)
    assert short == {"tests": [], "tests_left_out": {"windows": 300, "needed": 625}}
