"""Univariate versus multivariate, side by side: one data set, one split, every model scored alike.

``compare(config)`` fits a univariate LSTM (the target's own history) and a multivariate LSTM
(every input column) with the same settings and seed, scores both and every baseline on the same
test windows in the data's units, and returns the result dict the report and ``--json`` use.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lstmcast.forecaster import ForecastConfig, Forecaster

BASELINES = ("persistence", "seasonal_naive", "ridge", "var")
STRETCH_STEPS = 336  # two weeks of hourly forecasts in the report's forecast-vs-actual figure


def compare(
    config: ForecastConfig, *, baselines: tuple[str, ...] = BASELINES, split: str = "test"
) -> dict:
    """Fit univariate and multivariate LSTMs and score them beside the baselines on ``split``."""
    multi = Forecaster(config)
    table = multi.read(None)
    multi.fit(table)
    target = multi.targets_
    uni = Forecaster(config.replace(features=list(target))).fit(table)

    result = multi.evaluate(split=split, baselines=baselines, name="lstm-multivariate")
    uni_result = uni.evaluate(
        split=split, baselines=("ridge",) if "ridge" in baselines else (), name="lstm-univariate"
    )
    rows = result["results"]
    rows.insert(1, uni_result["results"][0])
    if "ridge" in baselines:  # ridge on the target's own history, named apart from the other
        rows.append({**uni_result["results"][-1], "name": "ridge-univariate"})
    for row in rows:
        row["kind"] = "lstm" if row["name"].startswith("lstm") else "baseline"
    if len(multi.inputs_) == len(target):  # the table has no other column: one LSTM row
        rows.pop(1)

    truth = multi.last_truth_
    forecasts = dict(multi.last_forecasts_)
    forecasts["lstm-univariate"] = uni.last_forecasts_["lstm-univariate"]
    result.update(
        period=_periods(multi),
        stretch=_stretch(multi, truth, forecasts),
        history={
            name: _history(fc)
            for name, fc in (("lstm-multivariate", multi), ("lstm-univariate", uni))
        },
        config=dataclasses.asdict(config),
        inputs={"multivariate": multi.inputs_, "univariate": uni.inputs_},
    )
    return result


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
