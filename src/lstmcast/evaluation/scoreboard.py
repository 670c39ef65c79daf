"""The scoreboard of ``Forecaster.evaluate``: the model and every baseline on the same windows.

Each forecaster's forecasts become one result row in the data's units: ``name, inputs, rmse,
mae, n_scored``, the errors per horizon step, the seconds it took to fit and to predict, and,
when there are several targets, the same per target. The baselines are fitted and scored here on
exactly the windows the model is scored on; one that cannot run on this table (or here: a fit
that would not fit in the free memory, or take too long, see ``baselines.budget``) is left out
with a warning that says why and how to score it.

Example:
    >>> rows, forecasts = score_baselines(("persistence",), truth, train, inputs=["load"],
    ...     targets=["load"], columns=["load"], inputs_label="univariate", units={},
    ...     freq="h", lookback=24, table_name="load.csv", split_ends=None)  # doctest: +SKIP
    >>> rows[0]["name"], forecasts["persistence"].shape  # (S, H, Ft)      # doctest: +SKIP
    ('persistence', (89, 1, 1))
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import numpy as np

from lstmcast.data import Windows
from lstmcast.errors import ConfigError, DataError, LstmcastError, warn
from lstmcast.evaluation.metrics import score

# The ValueErrors of the learning baselines that mean numerically unfit data: squares that
# overflow (values near 1e300: scipy's finite check before Cholesky, scikit-learn's float32
# check) and a constant input, which VAR refuses as statsmodels does. Any other ValueError is
# a bug, and raised. (numpy's LinAlgError, a ValueError, is always numerical.)
NUMERICAL = re.compile(
    r"must not contain infs or NaNs|infinity or a value too large|constant columns?\b"
)


def result_row(
    name: str,
    inputs: str,
    truth: Windows,
    pred: np.ndarray,
    targets: list[str],
    units: dict[str, str],
    fit: float | None = None,
    predict: float | None = None,
) -> dict:
    """The result row of forecasts ``pred`` ``(S, H, Ft)`` of ``truth.Y`` (data units).

    ``inputs`` is what the forecaster read ("univariate" or "multivariate"); ``units`` maps a
    target to its unit (``column_units``); ``fit`` and ``predict`` are seconds, or None.
    """
    s = score(truth.Y, pred, truth.mask)
    extra = {}
    if len(targets) > 1:  # the pooled numbers mix units: each target on its own too
        extra["per_target"] = [
            {
                **_target_score(column, truth.Y[..., k], pred[..., k], _column(truth.mask, k)),
                "unit": units.get(column),
            }
            for k, column in enumerate(targets)
        ]
    return {
        "name": name,
        "inputs": inputs,
        "rmse": float(s["rmse"]),
        "mae": float(s["mae"]),
        "n_scored": int(s["n_scored"]),
        "rmse_per_step": [float(v) for v in s["rmse_per_step"]],
        "mae_per_step": [float(v) for v in s["mae_per_step"]],
        "fit_seconds": None if fit is None else round(float(fit), 3),
        "predict_seconds": None if predict is None else round(float(predict), 3),
        **extra,
    }


def score_baselines(
    names: tuple[str, ...] | None,
    truth: Windows,
    train: Windows | None,
    *,
    inputs: list[str],
    targets: list[str],
    columns: list[str],
    inputs_label: str,
    units: dict[str, str],
    freq: str | None,
    lookback: int,
    table_name: str,
    split_ends: list | None,
    status: Callable[[str], None] | None = None,
) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Fit the baselines ``names`` (default ``DEFAULT_BASELINES``; persistence always) on
    ``train`` and score them on ``truth``: their result rows and forecasts ``(S, H, Ft)``.

    ``truth`` and ``train`` are windows over ``columns`` (the model's ``inputs`` first, then
    targets that are no input), in data units; ``train`` is None when the table holds no window
    of the model's training period (which ended at ``split_ends[0]``), and the baselines that
    learn are then left out. Called by ``Forecaster.evaluate`` only: its warnings point at the
    caller of ``evaluate``. ``status`` hears each baseline as it starts ("scoring ridge (3 of
    4)...") and each model gbm fits.
    """
    from lstmcast.baselines import (
        BASELINES,
        DEFAULT_BASELINES,
        UNIVARIATE_BASELINES,
        make_baseline,
        season_length,
    )

    # persistence and seasonal naive read each target's own past (a univariate row); the
    # others read what the LSTM reads: its inputs, without a target --features leaves out
    n_in = len(inputs)
    own_idx = [columns.index(c) for c in targets]
    read_idx = [inputs.index(c) if c in inputs else None for c in targets]
    if names is None:
        names = DEFAULT_BASELINES
    wanted = ("persistence",) + tuple(b for b in names if b != "persistence")
    results, forecasts = [], {}
    for k, base in enumerate(wanted, start=1):
        if base not in BASELINES:
            raise ConfigError(f"unknown baseline {base!r}: choose from {', '.join(BASELINES)}")
        stage = f"scoring {base} ({k} of {len(wanted)})"
        if status is not None:
            status(f"{stage}...")
        cls, season = BASELINES[base], season_length(freq)
        univariate = base in UNIVARIATE_BASELINES
        if not univariate and cls.own_past and None in read_idx:
            warn(
                f"the {base} baseline is left out: it forecasts each target from its own "
                "past, which --features leaves out of the inputs; add the target to "
                "--features to score it",
            )
            continue
        idx = own_idx if univariate else read_idx
        model = make_baseline(cls, idx, season, lookback)
        if model is None:
            why = (
                f"its season ({season} steps at {freq!r}) is longer than the lookback "
                f"({lookback}): train with --lookback {season} or more to score it"
                if season > 1
                else "the table's frequency has no known season"
            )
            warn(f"the {base} baseline is left out: {why}")
            continue
        if train is None and model.learns:
            period = "" if not split_ends or split_ends[0] is None else f" (up to {split_ends[0]})"
            warn(  # older model files record no split_ends
                f"the {base} baseline is left out: {table_name} holds no window of the "
                f"model's training period{period} to fit it on; pass the training rows too to "
                "score it",
            )
            continue
        fit_on = truth if train is None else train  # persistence learns nothing from it
        cols = slice(None) if univariate else slice(n_in)
        t0 = time.perf_counter()
        try:
            model.fit(fit_on.X[..., cols], fit_on.Y, mask=fit_on.mask,
                      status=None if status is None else _step(status, stage))  # fmt: skip
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            p = model.predict(truth.X[..., cols])
        except ValueError as err:
            numerical = isinstance(err, np.linalg.LinAlgError) or NUMERICAL.search(str(err))
            if base == "persistence" or not (isinstance(err, LstmcastError) or numerical):
                raise
            why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            if isinstance(err, LstmcastError):  # the baseline's own reason names the fix
                warn(f"the {base} baseline is left out: {why}")
                continue
            warn(
                f"the {base} baseline could not be fitted ({why}) and is left out: the "
                "table's values may be too large or too alike (a constant column) for it",
            )
            continue
        row_inputs = "univariate" if univariate else inputs_label
        results.append(
            result_row(
                base,
                row_inputs,
                truth,
                p,
                targets,
                units,
                fit=fit_s,
                predict=time.perf_counter() - t0,
            )
        )
        forecasts[base] = p
    return results, forecasts


def _step(status: Callable[[str], None], stage: str) -> Callable[[str], None]:
    """``status`` for the steps of one baseline's fit: "scoring gbm (2 of 2): model 3 of 24..."."""
    return lambda message: status(f"{stage}: {message}...")


def _column(mask: np.ndarray | None, k: int) -> np.ndarray | None:
    return None if mask is None else mask[..., k]


def _target_score(column: str, y: np.ndarray, pred: np.ndarray, mask) -> dict:
    """RMSE, MAE and count for one target column (None when none of its values is scored)."""
    try:
        s = score(y, pred, mask)
    except DataError:
        return {"target": column, "rmse": None, "mae": None, "n_scored": 0, "rmse_per_step": []}
    return {
        "target": column,
        "rmse": float(s["rmse"]),
        "mae": float(s["mae"]),
        "n_scored": int(s["n_scored"]),
        "rmse_per_step": [float(v) for v in s["rmse_per_step"]],
    }
