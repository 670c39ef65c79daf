"""The history a forecast starts from: the last ``lookback`` observed rows of a table, checked.

A forecast reads the model's inputs over the last ``lookback`` rows that hold any value. Rows
at the end that hold none (timestamps listed for the forecast, say) are left out, with a
warning; a history too short, or with an input that the fill could not fill, is refused; inputs
whose last values were missing and carried forward by the fill get a warning: the forecast
rests on them.

Example:
    >>> window, last = last_window(table, ["load", "temp"], ["load", "temp"], 24, "ffill",
    ...                            "predict")                                # doctest: +SKIP
    >>> window.shape                          # (L, Fi)                       # doctest: +SKIP
    (24, 2)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmcast.data.table import Table
from lstmcast.errors import DataError, warn


def last_window(
    table: Table, columns: list[str], inputs: list[str], lookback: int, fill: str, what: str
) -> tuple[np.ndarray, pd.Timestamp]:
    """The inputs of the last ``lookback`` observed rows ``(L, Fi)`` in data units, checked
    complete, and the time of the last of them.

    A row is observed when any of the model's ``columns`` holds a value there; the window reads
    its ``inputs``; ``fill`` is the config's fill, ``what`` the caller named in messages
    ("predict"). Called by the forecaster's public methods: warnings point at their caller.
    """
    L, index = lookback, table.frame.index
    names = [c for c in columns if c in table.observed.columns]
    seen = table.observed[names].to_numpy(dtype=bool).any(axis=1)
    end = int(np.flatnonzero(seen)[-1]) + 1 if seen.any() else len(seen)
    if end < len(seen):
        warn(
            f"{table.name}: the last {len(seen) - end} rows (from {index[end]}) hold no "
            f"values, so {what} starts after the last row that does ({index[end - 1]})",
        )
    values = table.frame[inputs].to_numpy(dtype=np.float64)[:end]  # a target-only
    if len(values) < L:  # column is not needed to forecast
        raise DataError(
            f"{what} needs at least lookback = {L} rows of history, got "
            f"{len(values)}: pass a longer table"
        )
    window = values[-L:]
    gaps = [c for c, gap in zip(inputs, np.isnan(window).any(axis=0), strict=True) if gap]
    if gaps:  # fill leaves gaps only in a column without any value
        raise DataError(
            f"{table.name}: input column(s) {gaps} have missing values in the last {L} rows "
            f"that fill={fill!r} cannot fill, so no forecast can be made: pass a history in "
            "which every input column is observed"
        )
    observed = table.observed[inputs].to_numpy(dtype=bool)[end - L : end]
    trailing = [L if not col.any() else int(np.argmax(col[::-1])) for col in observed.T]
    stale = [f"{c} (last {k})" for c, k in zip(inputs, trailing, strict=True) if k]
    if stale:
        warn(
            f"{table.name}: input values missing at the end of the history, rows counted: "
            f"{', '.join(stale)}; fill={fill!r} filled them, so {what} rests on filled values",
        )
    return window, index[end - 1]
