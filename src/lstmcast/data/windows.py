"""Sliding windows: (S, L, Fi) inputs and (S, H, Ft) targets, built as views of the table.

A window whose first target row is ``t0`` reads inputs from rows ``[t0 - L, t0)`` and targets from
rows ``[t0, t0 + H)``. ``rows`` restricts the TARGET rows, so the windows of a split never score a
row outside it, while their inputs may look back across the split boundary (never before row 0).

Memory: X is a view (its inputs' memory grows with the table, not with lookback x table), but
``mask`` holds S x H x Ft booleans and Y, where some target is unobserved, S x H x Ft float64
values: the targets' memory grows with windows x horizon x targets (1.9 GB of Y for 490,000
windows of 24 steps of 20 targets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from lstmcast.data.split import Split
from lstmcast.errors import ConfigError, DataError


@dataclass
class Windows:
    """Model-ready windows.

    Attributes:
        X: (S, L, Fi) inputs; a read-only view of ``values`` when ``inputs`` is a contiguous range
            of columns, else a view of one (N, Fi) copy of the selected columns.
        Y: (S, H, Ft) targets; NaN where the target was not observed (then a copy, else a view).
        mask: (S, H, Ft) bool, True where the target was observed (score and train only there).
        t0: (S,) row index of each window's first target step.
    """

    X: np.ndarray
    Y: np.ndarray
    mask: np.ndarray
    t0: np.ndarray

    def __len__(self) -> int:
        return len(self.t0)


def make_windows(
    values: np.ndarray,
    lookback: int,
    horizon: int,
    *,
    inputs: Sequence[int],
    targets: Sequence[int],
    rows: slice | None = None,
    stride: int = 1,
    observed: np.ndarray | None = None,
) -> Windows:
    """Cut ``values`` (N, F) into input/target windows.

    Args:
        values: (N, F) the table's values (``table.frame.to_numpy()``).
        lookback: L, input rows per window.  horizon: H, target rows per window.
        inputs: column positions fed to the model (Fi of them).
        targets: column positions to forecast (Ft of them).
        rows: the rows targets may occupy (a split's slice); default all rows.
        stride: rows between consecutive windows' ``t0``.
        observed: (N, F) bool, False where a value was missing; masks the targets.

    Example:
        >>> w = make_windows(v, 24, 1, inputs=range(8), targets=[0], rows=split.test)
        >>> w.X.shape, w.Y.shape
        ((8736, 24, 8), (8736, 1, 1))
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise DataError(f"values must be a 2-D (rows, features) array, got shape {values.shape}")
    for arg, value in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(f"{arg} must be a positive integer, got {value!r}")
    n, n_features = values.shape
    inputs, targets = (
        _columns(inputs, n_features, "inputs"),
        _columns(targets, n_features, "targets"),
    )
    start, stop, step = (rows or slice(None)).indices(n)
    if step != 1:
        raise ConfigError(f"rows must be a contiguous slice (step 1), got step {step}")
    first = max(start, lookback)  # first t0: the inputs need `lookback` rows before it
    last = stop - horizon  # last t0: the targets must end by `stop`
    if last < first:
        available = stop - max(0, start - lookback)
        raise DataError(
            f"too few rows for one window: need lookback + horizon = {lookback + horizon} rows "
            f"with every target in rows {start}:{stop}, got {max(available, 0)}; "
            "shorten lookback or horizon, or give the split more rows"
        )
    t0 = np.arange(first, last + 1, stride)
    picked = slice(first, t0[-1] + 1, stride)

    # sliding_window_view(a, W, axis=0) is (N - W + 1, F, W); window k covers rows k .. k + W - 1.
    X = _window_view(_select(values, inputs), lookback)[
        picked.start - lookback : picked.stop - lookback : stride
    ]
    Y = _window_view(_select(values, targets), horizon)[picked]  # (S, H, Ft)
    finite = np.isfinite(Y)
    if observed is not None:
        observed = np.asarray(observed, dtype=bool)
        if observed.shape != values.shape:
            raise DataError(
                f"observed must have the shape of values {values.shape}, got {observed.shape}"
            )
        finite &= _window_view(_select(observed, targets), horizon)[picked]
    mask = finite  # its own array (isfinite's), not a view of the table
    if not mask.all():
        Y = np.where(mask, Y, np.nan)
    return Windows(X=X, Y=Y, mask=mask, t0=t0)


def split_windows(
    values: np.ndarray,
    split: Split,
    lookback: int,
    horizon: int,
    *,
    inputs: Sequence[int],
    targets: Sequence[int],
    observed: np.ndarray | None = None,
    stride: int = 1,
) -> tuple[Windows, Windows, Windows]:
    """Train, validation and test windows whose targets stay inside their split."""
    return tuple(
        make_windows(
            values,
            lookback,
            horizon,
            inputs=inputs,
            targets=targets,
            rows=part,
            stride=stride,
            observed=observed,
        )  # fmt: skip
        for part in (split.train, split.val, split.test)
    )


def window_rows(X: np.ndarray) -> np.ndarray | None:
    """The rows ``(N + T - 1, F)`` under windows X ``(N, T, F)`` that overlap in memory (window
    i + 1 one row after window i, so X[i, j] is row i + j, as ``make_windows``' stride-1 views
    are), as a read-only view; else None."""
    if X.ndim != 3 or len(X) < 2 or X.strides[0] != X.strides[1]:
        return None
    n, t, f = X.shape
    return np.lib.stride_tricks.as_strided(X, (n + t - 1, f), X.strides[1:], writeable=False)


def _columns(columns: Sequence[int], n_features: int, arg: str) -> list[int]:
    columns = [int(c) for c in columns]
    bad = [c for c in columns if not 0 <= c < n_features]
    if not columns or bad:
        raise ConfigError(
            f"{arg} must be non-empty column positions in 0..{n_features - 1}, got {columns}"
        )
    return columns


def _select(values: np.ndarray, columns: list[int]) -> np.ndarray:
    """``values[:, columns]``: a view for a contiguous range, else one (N, len(columns)) copy."""
    if columns == list(range(columns[0], columns[0] + len(columns))):
        return values[:, columns[0] : columns[0] + len(columns)]
    return values[:, columns]


def _window_view(values: np.ndarray, width: int) -> np.ndarray:
    """(N - width + 1, width, F) read-only view: element k is rows k .. k + width - 1."""
    return sliding_window_view(values, width, axis=0).swapaxes(1, 2)


def check_input_windows(X: np.ndarray, lookback: int, inputs: list[str]) -> np.ndarray | None:
    """DataError unless raw windows ``X`` are ``(S, lookback, len(inputs))`` and complete;
    returns ``window_rows(X)``, the rows under make_windows' view (None for other arrays)."""
    shape = (lookback, len(inputs))
    if X.ndim != 3 or X.shape[1:] != shape:
        raise DataError(
            f"predict_windows needs windows of shape (S, {shape[0]}, {shape[1]}) (windows, "
            f"lookback, inputs {inputs}), got {X.shape}"
            + (": one window is X[None]" if X.shape == shape else "")
        )
    rows = window_rows(X)
    finite = np.isfinite(X if rows is None else rows)  # (S, L, Fi) or (S + L - 1, Fi)
    if not finite.all():
        # the first hole: (window, step, input), or (row, input) of the rows under a view
        spot = np.unravel_index(np.argmin(finite), finite.shape)
        window = spot[0] if rows is None else max(0, spot[0] - X.shape[1] + 1)
        raise DataError(
            f"predict_windows: X holds missing or infinite values (first in window {window}, "
            f"input {inputs[spot[-1]]!r}): fill them first; windows are used as given, "
            "only tables get the fill"
        )
    return rows


def check_float32(scaled: np.ndarray, inputs: list[str]) -> None:
    """DataError when a scaled input ``(..., Fi)`` is beyond float32, in which the network
    computes: it would enter as inf (a value typed in the wrong unit, say 1e308)."""
    nan = np.isnan(scaled).reshape(-1, len(inputs)).any(axis=0)  # the inputs were finite
    if nan.any():
        raise DataError(
            f"the model's scaler turns input {inputs[int(np.argmax(nan))]!r} into NaN: its "
            "statistics are damaged; retrain and save the model again"
        )
    limit = float(np.finfo(np.float32).max)
    beyond = np.abs(scaled) > limit
    if beyond.any():
        col = int(np.flatnonzero(beyond.reshape(-1, len(inputs)).any(axis=0))[0])
        raise DataError(
            f"input {inputs[col]!r} holds values too large for the network once scaled "
            f"(float32 holds up to {limit:.3g}): check that column's values and units"
        )
