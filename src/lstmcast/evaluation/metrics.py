"""Forecast metrics: pure functions over the scored values only.

A value is scored where ``mask`` is True (when given) and ``y_true`` is finite, so a target whose
true value was missing never reaches a metric. Arrays are usually ``(S, H, Ft)``; any shape works
for the overall metrics, ``per_step`` needs the horizon on axis 1.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lstmcast.errors import DataError

Metric = Callable[..., float]


def rmse(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Root mean squared error over the scored values (data units)."""
    t, p = _scored(y_true, y_pred, mask)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error over the scored values (data units)."""
    t, p = _scored(y_true, y_pred, mask)
    return float(np.mean(np.abs(t - p)))


def smape(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Symmetric MAPE in percent, 0..200: mean of 2|p - t| / (|t| + |p|); 0/0 counts as 0."""
    t, p = _scored(y_true, y_pred, mask)
    denom = np.abs(t) + np.abs(p)
    ratio = np.divide(2 * np.abs(p - t), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100 * np.mean(ratio))


def mase(
    y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None, *, scale: float
) -> float:
    """MAE divided by ``scale``, the in-sample MAE of a naive forecast (see ``naive_scale``)."""
    if not np.isfinite(scale) or scale <= 0:
        raise DataError(
            f"mase scale must be a positive number, got {scale!r}; use naive_scale(train_series)"
        )
    return mae(y_true, y_pred, mask) / scale


def naive_scale(series: np.ndarray, period: int = 1) -> float:
    """The MASE scale: mean |y[t] - y[t - period]| over a training series (NaN pairs skipped)."""
    series = np.asarray(series, dtype=np.float64)
    diffs = np.abs(series[period:] - series[:-period])
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        raise DataError(f"naive_scale needs more than {period} finite values, got {series.shape}")
    return float(np.mean(diffs))


def per_step(
    metric: Metric, y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """``metric`` per horizon step of (S, H, ...) arrays: shape (H,), NaN for unscored steps."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim < 2:
        raise DataError(f"per_step needs (S, H, ...) arrays, got shape {y_true.shape}")
    out = np.full(y_true.shape[1], np.nan)
    for h in range(y_true.shape[1]):
        step_mask = None if mask is None else np.asarray(mask)[:, h]
        try:
            out[h] = metric(y_true[:, h], y_pred[:, h], step_mask)
        except _NothingScored:
            pass
    return out


def skill(score: float, reference_score: float) -> float:
    """1 - score / reference: 0 matches the reference (e.g. persistence), 1 is perfect."""
    return 1.0 - score / reference_score


def score(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None, *,
          mase_scale: float | None = None) -> dict:  # fmt: skip
    """Every metric at once: rmse, mae, smape, mase (given ``mase_scale``), n_scored, per step."""
    t, _ = _scored(y_true, y_pred, mask)
    result = {
        "rmse": rmse(y_true, y_pred, mask),
        "mae": mae(y_true, y_pred, mask),
        "smape": smape(y_true, y_pred, mask),
        "n_scored": int(t.size),
    }
    if mase_scale is not None:
        result["mase"] = mase(y_true, y_pred, mask, scale=mase_scale)
    if np.ndim(y_true) >= 2:
        result["rmse_per_step"] = per_step(rmse, y_true, y_pred, mask).tolist()
        result["mae_per_step"] = per_step(mae, y_true, y_pred, mask).tolist()
    return result


class _NothingScored(DataError):
    """Every value is masked or missing."""


def _scored(
    y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The scored true and predicted values, flattened."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise DataError(
            f"y_true and y_pred must have the same shape, got {y_true.shape} and {y_pred.shape}"
        )
    keep = np.isfinite(y_true)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != y_true.shape:
            raise DataError(f"mask must have the shape of y_true {y_true.shape}, got {mask.shape}")
        keep &= mask
    if not keep.any():
        raise _NothingScored("no value to score: every target is masked or missing")
    t, p = y_true[keep], y_pred[keep]
    if not np.isfinite(p).all():
        raise DataError(
            f"y_pred holds {int((~np.isfinite(p)).sum())} NaN/inf values where targets are scored"
        )
    return t, p
