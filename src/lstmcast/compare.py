"""Univariate versus multivariate, side by side: one data set, one split, every model scored alike.

``compare(config)`` fits a univariate LSTM (the target's own history) and a multivariate LSTM
(every input column) with the same settings and seed, scores both and every baseline on the same
test windows in the data's units, and returns the result dict the report and ``--json`` use.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import numpy as np

from lstmcast.baselines import DEFAULT_BASELINES, UNIVARIATE_BASELINES
from lstmcast.config import SEED_MAX
from lstmcast.errors import ConfigError, DataError, caller_reports_interruption
from lstmcast.evaluation import diebold_mariano
from lstmcast.evaluation.metrics import windows_needed
from lstmcast.forecaster import ForecastConfig, Forecaster

BASELINES = DEFAULT_BASELINES
STRETCH_STEPS = 336  # two weeks of hourly forecasts in the report's forecast-vs-actual figure


def compare(
    config: ForecastConfig,
    *,
    baselines: tuple[str, ...] = BASELINES,
    split: str = "test",
    seeds: int = 1,
    status: Callable[[str], None] = lambda message: None,
) -> dict:
    """Fit univariate and multivariate LSTMs and score them beside the baselines on ``split``.

    With several targets, "univariate" means one LSTM per target, each reading that target's
    own history alone (and ridge-univariate likewise); their forecasts are scored together, on
    the same windows as every other model. ``status`` hears each stage of the work (the CLI
    prints them on a terminal, between the training progress bars).

    With ``seeds`` > 1 both LSTMs are trained again from further seeds (``config.seed`` plus
    multiples of ``config.ensemble``) and scored on the same windows; ``result["seeds"]`` holds
    each seed's RMSE per LSTM, so that a reader can see whether the seed alone could change
    which one wins. The rows, figures and tests stay those of the first seed.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"seeds must be a positive whole number, got {seeds!r}: pass --seeds 3")
    last = config.seed + seeds * config.ensemble - 1  # the last network's seed
    if last > SEED_MAX:  # found before any training, not after the first pair
        raise ConfigError(
            f"--seeds {seeds} from --seed {config.seed} reaches seed {last}, over torch's "
            f"{SEED_MAX}: use a smaller --seed"
        )
    multi = Forecaster(config)
    status(f"reading {config.data}...")
    table = multi.read(None)
    status("training the LSTM that reads every input...")
    _fit(multi, table)
    targets = multi.targets_
    if multi.inputs_ == targets == targets[:1]:  # one column, the target: one LSTM
        status(f"scoring it and the baselines on the {split} split...")
        result = _alone(multi, config, baselines, split, status)
    else:
        unis = _fit_univariate(config, table, targets, status)
        status(f"scoring both LSTMs and the baselines on the {split} split...")
        result = multi.evaluate(
            split=split, baselines=baselines, name="lstm-multivariate", status=status
        )
        own = ("ridge",) if "ridge" in baselines else ()
        # the same split, so the same windows: the targets' forecasts line up window by window
        scored = []
        for t, uni in zip(targets, unis, strict=True):
            if own:
                status(f"scoring ridge on {t} alone...")
            scored.append(uni.evaluate(split=split, baselines=own, name="lstm-univariate"))
        forecasts = dict(multi.last_forecasts_)
        row, forecasts["lstm-univariate"] = _joined(multi, unis, scored, "lstm-univariate")
        rows = result["results"]
        rows.insert(1, row)
        # ridge on each target's own history, named apart from the other; a target's ridge left
        # out (its budget, its warning said why) leaves the row out
        if own and all("ridge" in uni.last_forecasts_ for uni in unis):
            ridge, forecasts["ridge-univariate"] = _joined(multi, unis, scored, "ridge")
            rows.append({**ridge, "name": "ridge-univariate"})  # in the stretch like every row
        fitted = {"lstm-univariate" if len(unis) == 1 else f"lstm-univariate {t}": uni
                  for t, uni in zip(targets, unis, strict=True)}  # fmt: skip
        result = _finish(result, multi, config, forecasts, fitted)
    if seeds > 1:
        result["seeds"] = _seed_repeats(result, config, table, split, seeds, status)
    return result


def _fit_univariate(config: ForecastConfig, table, targets: list[str], status) -> list:
    """One LSTM per target, each reading that target's own history alone."""
    unis = []
    for t in targets:
        status(f"training the univariate LSTM of {t}...")
        unis.append(_fit(Forecaster(config.replace(target=[t], features=[t])), table))
    return unis


def _joined(multi: Forecaster, unis: list, scored: list[dict], name: str) -> tuple[dict, object]:
    """The univariate LSTMs' (or ridges') forecasts of every target, scored together on the
    multivariate model's windows: its row and the forecasts ``(S, H, Ft)``."""
    pred = np.concatenate([uni.last_forecasts_[name] for uni in unis], axis=-1)
    each = [next(r for r in s["results"] if r["name"] == name) for s in scored]
    fit, predict = (sum(r[key] or 0.0 for r in each) for key in ("fit_seconds", "predict_seconds"))
    return multi.score_forecasts(name, "univariate", pred, fit=fit, predict=predict), pred


def _seed_repeats(result: dict, config: ForecastConfig, table, split: str, seeds: int,
                  status) -> dict:  # fmt: skip
    """Each LSTM's RMSE on ``split`` from ``seeds`` seeds, the first being ``result``'s own."""
    first = {r["name"]: r["rmse"] for r in result["results"] if r["name"].startswith("lstm")}
    out = {"seed": [config.seed], **{name: [rmse] for name, rmse in first.items()}}
    for k in range(1, seeds):
        cfg = config.replace(seed=config.seed + k * config.ensemble)  # no member's seed twice
        out["seed"].append(cfg.seed)
        status(f"seed {cfg.seed} ({k + 1} of {seeds}): training the LSTMs again...")
        multi = _fit(Forecaster(cfg), table)
        scores = multi.evaluate(split=split, baselines=("persistence",), name="lstm-multivariate")
        if "lstm-multivariate" not in first:  # the table is the target alone: one LSTM
            out["lstm-univariate"].append(scores["results"][0]["rmse"])
            continue
        out["lstm-multivariate"].append(scores["results"][0]["rmse"])
        unis = _fit_univariate(cfg, table, multi.targets_, status)
        scored = [uni.evaluate(split=split, baselines=(), name="lstm-univariate") for uni in unis]
        out["lstm-univariate"].append(_joined(multi, unis, scored, "lstm-univariate")[0]["rmse"])
    return out


def _fit(fc: Forecaster, table) -> Forecaster:
    """``fc`` fitted on ``table``. Training stops cleanly at Ctrl-C (keeping the weights so far);
    a comparison of half-trained networks means nothing, so the interruption goes on up."""
    with caller_reports_interruption():
        fc.fit(table)
    if fc.history_.interrupted:
        raise KeyboardInterrupt
    return fc


def _alone(multi: Forecaster, config: ForecastConfig, baselines, split: str, status) -> dict:
    """The result for a table of the target alone: the one LSTM is univariate."""
    result = multi.evaluate(split=split, baselines=baselines, name="lstm-univariate", status=status)
    for row in result["results"]:
        if row["name"] not in UNIVARIATE_BASELINES:
            row["inputs"] = "univariate"
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
        **_tests(multi.last_truth_, forecasts, result["results"]),
        history={key: _history(fc) for key, fc in fitted.items()},
        config=dataclasses.asdict(config),
        inputs={
            "multivariate" if key == "lstm-multivariate" else "univariate": fc.inputs_
            for key, fc in fitted.items()
        },
    )
    if len(others) > 1:  # one univariate LSTM per target: each reads its own target
        result["inputs"]["univariate"] = [t for fc in others.values() for t in fc.inputs_]
    return result


def _tests(truth, forecasts: dict, rows: list[dict]) -> dict:
    """Whether the verdict's differences could be chance: the Diebold–Mariano test of the two
    LSTMs against each other, and of the better one against persistence, on the same windows.

    Returns ``{"tests": [...]}``. With several targets each target is tested on its own, in its
    own unit, and each test names its ``target``: squared errors pooled over targets would let
    the target of the largest unit decide. The tests are left out when the split is too short
    for them to keep their level: under 5 blocks of 5 (horizon + 24) scored windows, e.g. 625
    at horizon 1 (see ``diebold_mariano``); ``tests_left_out`` then holds the scored
    ``windows`` (of the target with the fewest) and the ``needed`` count, for the verdict."""
    targets = [entry["target"] for entry in rows[0].get("per_target") or []]
    tests = []
    for k, target in enumerate(targets or [None]):
        y = truth.Y if target is None else truth.Y[..., k]  # (S, H, Ft) or (S, H)
        mask = truth.mask if target is None or truth.mask is None else truth.mask[..., k]
        pred = {name: p if target is None else p[..., k] for name, p in forecasts.items()}
        score = [r["rmse"] if target is None else r["per_target"][k]["rmse"] for r in rows]
        lstms = [r for _, r in sorted(zip(score, rows, strict=True), key=lambda pair: pair[0])
                 if r["name"] in pred and r["name"].startswith("lstm")]  # fmt: skip
        pairs = [(a["name"], b["name"]) for a, b in itertools.pairwise(lstms)]
        if lstms and "persistence" in pred:
            pairs.append((lstms[0]["name"], "persistence"))
        for a, b in pairs:
            try:
                test = diebold_mariano(y, pred[a], pred[b], mask)
            except DataError:  # too few scored windows: the verdict says so
                left = _left_out(truth, targets)
                return {"tests": [], **({"tests_left_out": left} if left else {})}
            named = {"target": target} if target is not None else {}
            tests.append({**named, "a": a, "b": b, **{key: _json(v) for key, v in test.items()}})
    return {"tests": tests}


def _left_out(truth, targets: list[str]) -> dict | None:
    """The scored windows (of the target with the fewest) and the test's need for them; None
    when there were enough (the test failed for another reason, which the verdict cannot name)."""
    keep = np.isfinite(truth.Y) & (True if truth.mask is None else truth.mask)  # (S, H, Ft)
    columns = [keep[..., k] for k in range(len(targets))] if targets else [keep]
    windows = min(int(c.reshape(len(c), -1).any(axis=1).sum()) for c in columns)
    needed = windows_needed(truth.Y.shape[1] if truth.Y.ndim >= 2 else 1)
    return {"windows": windows, "needed": needed} if windows < needed else None


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
