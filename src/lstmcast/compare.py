"""Univariate versus multivariate, side by side: one data set, one split, every model scored alike.

``compare(config)`` fits a univariate LSTM (the target's own history) and a multivariate LSTM
(every input column) with the same settings and seed, scores both and every baseline on the same
test windows in the data's units, and returns the result dict the report and ``--json`` use.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from lstmcast.baselines import DEFAULT_BASELINES
from lstmcast.errors import DataError
from lstmcast.evaluation import diebold_mariano
from lstmcast.forecaster import ForecastConfig, Forecaster

BASELINES = DEFAULT_BASELINES
UNIVARIATE_BASELINES = ("persistence", "seasonal_naive")  # each target from its own past alone
STRETCH_STEPS = 336  # two weeks of hourly forecasts in the report's forecast-vs-actual figure


def compare(
    config: ForecastConfig, *, baselines: tuple[str, ...] = BASELINES, split: str = "test"
) -> dict:
    """Fit univariate and multivariate LSTMs and score them beside the baselines on ``split``."""
    multi = Forecaster(config)
    table = multi.read(None)
    multi.fit(table)
    target = multi.targets_
    if len(multi.inputs_) == len(target):  # the table holds no other column: one LSTM
        return _alone(multi, config, baselines, split)
    uni = Forecaster(config.replace(features=list(target))).fit(table)

    result = multi.evaluate(split=split, baselines=baselines, name="lstm-multivariate")
    uni_result = uni.evaluate(
        split=split, baselines=("ridge",) if "ridge" in baselines else (), name="lstm-univariate"
    )
    rows = result["results"]
    rows.insert(1, uni_result["results"][0])
    if "ridge" in baselines:  # ridge on the target's own history, named apart from the other
        rows.append({**uni_result["results"][-1], "name": "ridge-univariate"})
    forecasts = dict(multi.last_forecasts_)
    forecasts["lstm-univariate"] = uni.last_forecasts_["lstm-univariate"]
    return _finish(result, multi, config, forecasts, {"lstm-univariate": uni})


def _alone(multi: Forecaster, config: ForecastConfig, baselines, split: str) -> dict:
    """The result when every input is a target: no second LSTM to fit. One target read from
    its own past is univariate; several targets, each read from all of them, multivariate."""
    kind = "univariate" if len(multi.targets_) == 1 else "multivariate"
    name = f"lstm-{kind}"
    result = multi.evaluate(split=split, baselines=baselines, name=name)
    for row in result["results"]:
        if row["name"] not in UNIVARIATE_BASELINES:
            row["inputs"] = kind
    return _finish(result, multi, config, dict(multi.last_forecasts_), {})


def _finish(result: dict, multi: Forecaster, config: ForecastConfig, forecasts: dict,
            others: dict[str, Forecaster]) -> dict:  # fmt: skip
    """Add what the report draws: periods, the forecast stretch, learning curves, settings."""
    name = result["results"][0]["name"]
    for row in result["results"]:
        row["kind"] = "lstm" if row["name"].startswith("lstm") else "baseline"
    fitted = {name: multi, **others}
    result.update(
        period=_periods(multi),
        stretch=_stretch(multi, multi.last_truth_, forecasts),
        tests=_tests(multi.last_truth_, forecasts, result["results"]),
        history={key: _history(fc) for key, fc in fitted.items()},
        config=dataclasses.asdict(config),
        inputs={
            "multivariate" if key == "lstm-multivariate" else "univariate": fc.inputs_
            for key, fc in fitted.items()
        },
    )
    return result


def _tests(truth, forecasts: dict, rows: list[dict]) -> list[dict]:
    """Whether the verdict's differences could be chance: the Diebold–Mariano test of the two
    LSTMs against each other, and of the better one against persistence, on the same windows.
    Empty when the split is too short to test (under 40 windows)."""
    lstms = sorted((r for r in rows if r["name"] in forecasts and r["name"].startswith("lstm")),
                   key=lambda r: r["rmse"])  # fmt: skip
    pairs = [(a["name"], b["name"]) for a, b in itertools.pairwise(lstms)]
    if lstms and "persistence" in forecasts:
        pairs.append((lstms[0]["name"], "persistence"))
    tests = []
    for a, b in pairs:
        try:
            test = diebold_mariano(truth.Y, forecasts[a], forecasts[b], truth.mask)
        except DataError:  # too few windows for a test: the verdict says nothing about chance
            return []
        tests.append({"a": a, "b": b, **{k: _json(v) for k, v in test.items()}})
    return tests


def _json(value):
    """NaN (no test: identical errors) as None, which JSON can hold."""
    return None if isinstance(value, float) and np.isnan(value) else value


def _periods(fc: Forecaster) -> dict:
    index = fc.table_.frame.index
    out = {}
    for part in ("train", "val", "test"):
        rows = index[getattr(fc.split_, part)]
        out[part] = [str(rows[0]), str(rows[-1])] if len(rows) else None
    return out


def _stretch(fc: Forecaster, truth, forecasts: dict, step: int = 1) -> dict:
    """Step-``step`` forecasts against the actual values over the split's first two weeks.

    ``actual`` and ``forecasts`` hold the first target; with several targets, ``targets`` holds
    ``{"target", "actual", "forecasts"}`` for each of them (the report draws a panel each)."""
    n = min(STRETCH_STEPS, len(truth.t0))
    times = fc.table_.frame.index[truth.t0[:n] + step - 1]

    def one(k: int) -> dict:
        actual = truth.Y[:n, step - 1, k]
        return {
            "actual": [None if np.isnan(v) else float(v) for v in actual],
            "forecasts": {
                name: [float(v) for v in p[:n, step - 1, k]] for name, p in forecasts.items()
            },
        }

    stretch = {"time": [str(t) for t in times], "step": step, **one(0)}
    if len(fc.targets_) > 1:
        stretch["targets"] = [{"target": c, **one(k)} for k, c in enumerate(fc.targets_)]
    return stretch


def _history(fc: Forecaster) -> dict:
    h = fc.history_
    return {
        "train_loss": h.train_loss,
        "val_loss": h.val_loss,
        "best_epoch": h.best_epoch,
        "fit_seconds": round(fc.fit_seconds_, 2),
    }
