"""Checks that a table can feed an LSTM: regular steps, enough rows, usable columns.

Each raises ``DataError`` with the problem and the fix in one line (or warns, for a column that
is constant in the training split).
"""

from __future__ import annotations

import difflib
import warnings

import pandas as pd

from lstmcast.data.split import Split
from lstmcast.data.table import Table
from lstmcast.errors import DataError


def check_regular(table: Table) -> None:
    """An LSTM reads rows as equal steps: refuse timestamps without a common step."""
    if table.freq is not None or len(table) < 3:
        return
    steps = table.frame.index.to_series().diff().dropna()
    raise DataError(
        f"{table.name}: the timestamps are irregular (steps from {steps.min()} to "
        f"{steps.max()}, no common frequency): resample the table to a regular step first, "
        "e.g. frame.resample('h').mean()"
    )


def check_length(
    table: Table, split: Split, lookback: int, horizon: int, fractions: tuple[float, float] | None
) -> None:
    """Each split must hold a window: say how many rows the table needs when it is too short."""
    L, H = lookback, horizon
    sizes = split.sizes()
    if sizes["train"] >= L + H and sizes["val"] >= H:
        return
    if fractions is None:  # split by dates
        raise DataError(
            f"the split leaves {sizes['train']} training and {sizes['val']} validation rows; "
            f"lookback {L} + horizon {H} needs at least {L + H} and {H}: move train_end/val_end "
            "or shorten lookback/horizon"
        )
    n = L + H
    while (
        round(n * fractions[0]) < L + H
        or round(n * fractions[1]) < H
        or n - round(n * fractions[0]) - round(n * fractions[1]) < H
    ):
        n += 1
    raise DataError(
        f"{table.name} has {len(table)} rows, too few for lookback {L} + horizon {H}: the "
        f"training split gets {sizes['train']} and needs {L + H}; pass at least {n} rows, or "
        "shorten --lookback/--horizon"
    )


def check_columns_used(table: Table, train: slice, columns: list[str], targets: list[str]):
    """Every column the model reads needs values in the training split; constant ones warn."""
    observed = table.observed[columns].iloc[train]
    for col in columns:
        what = "target" if col in targets else "feature"
        others = " ".join(c for c in columns if c != col)
        fix = "choose another --target" if col in targets else f"leave it out: --features {others}"
        if not table.observed[col].any():
            raise DataError(f"{what} column {col!r} holds no value at all: {fix}")
        if not observed[col].any():
            raise DataError(
                f"{what} column {col!r} holds no value in the training split: {fix}, "
                "or move train_end later"
            )
        values = table.frame[col].iloc[train][observed[col]]
        if values.nunique() == 1:
            warnings.warn(
                f"{what} column {col!r} is constant ({values.iloc[0]:g}) in the training split: "
                f"it tells the model nothing; {fix}",
                stacklevel=3,
            )


def check_new_table(table: Table, columns: list[str], freq: str | None) -> None:
    """New data must hold the trained columns (any order; extra ones are ignored) and freq."""
    missing = [c for c in columns if c not in table.frame.columns]
    free = [c for c in missing if c in table.skipped]
    if free:
        raise DataError(
            f"{table.skipped[free[0]]}, but the model was trained on it as numbers: pass rows "
            "in which it holds numbers"
        )
    if missing:
        raise DataError(
            f"{table.name} lacks the column(s) {missing} the model was trained on; it needs "
            f"{columns} (extra columns are ignored, their order does not matter)"
        )
    if freq is None or len(table) < 3:
        return
    if table.freq is None:
        raise DataError(
            f"{table.name}: the timestamps are irregular, but the model was trained on "
            f"{freq!r} steps: resample the table to {freq!r} first"
        )
    start = table.frame.index[0]
    same = pd.date_range(start, periods=4, freq=table.freq).equals(
        pd.date_range(start, periods=4, freq=freq)
    )
    if not same:
        raise DataError(
            f"{table.name} is at frequency {table.freq!r}, but the model was trained on "
            f"{freq!r} steps: resample the table to {freq!r} "
            f"(e.g. frame.resample({freq!r}).mean()) or train a model at {table.freq!r}"
        )


def missing_columns_message(missing, columns, what="column") -> str:
    name = missing[0]
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"available: {', '.join(columns)}"
    return f"{what} column {name!r} not found in the table: {hint}"
