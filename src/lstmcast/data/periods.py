"""The training, validation and test periods of a table for a run: which rows each one holds.

A config splits by dates (``train_end``, ``val_end``: inclusive ends), by fractions, or, for a
registered dataset, by its published dates (``DEFAULT_SPLITS``). A fitted model scores another
table in its own periods: that table is cut where the model's training and validation data
ended, so that a shorter table's "test" rows are never rows the model was trained on.

Example:
    >>> cfg = ForecastConfig(train_end="2013-12-31", val_end="2014-06-30")
    >>> split_table(table, cfg).test              # the rows after June 2014  # doctest: +SKIP
    >>> ends = ["2013-12-31", "2014-06-30"]       # a fitted model's split_ends_
    >>> rows, train = scoring_rows(new_table, "test", cfg, None, ends)        # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from lstmcast.data.split import Split, chronological_split
from lstmcast.data.table import Table
from lstmcast.errors import ConfigError, DataError

if TYPE_CHECKING:
    from lstmcast.config import ForecastConfig

# Split boundaries (inclusive ends) of registered datasets: PROTOCOL B2 for Beijing.
DEFAULT_SPLITS = {"beijing-pm25": ("2012-12-31 23:00", "2013-12-31 23:00")}


def split_fractions(cfg: ForecastConfig) -> tuple[float, float] | None:
    """The split fractions, or None when the split is by dates."""
    if cfg.train_end is not None or cfg.val_end is not None or cfg.data in DEFAULT_SPLITS:
        return None
    return (cfg.train_fraction, cfg.val_fraction)


def split_table(table: Table, cfg: ForecastConfig) -> Split:
    """The chronological split of ``table`` that ``cfg`` asks for (dates, else fractions)."""
    train_end, val_end = cfg.train_end, cfg.val_end
    if train_end is None and val_end is None and cfg.data in DEFAULT_SPLITS:
        train_end, val_end = DEFAULT_SPLITS[cfg.data]
    if train_end is not None or val_end is not None:
        if train_end is None or val_end is None:
            raise ConfigError(
                "give both train_end and val_end (or neither, to split by "
                f"fractions); got train_end={train_end!r}, val_end={val_end!r}"
            )
        return chronological_split(table.frame.index, train_end=train_end, val_end=val_end)
    return chronological_split(table.frame.index, fractions=(cfg.train_fraction, cfg.val_fraction))


def scoring_rows(
    table: Table,
    split: str,
    cfg: ForecastConfig,
    own_split: Split | None,
    ends: list | None,
) -> tuple[slice, slice]:
    """The rows of ``split`` in ``table``, which must hold a window, and the training rows
    (for the baselines). The training table keeps its split ``own_split``; any other is cut
    where the model's training and validation data ended (``ends``, so that a shorter table's
    "test" rows are never rows the model was trained on), and older model files, which do not
    record those ends, split it as the config says."""
    L, H = cfg.lookback, cfg.horizon
    cut = own_split is None and ends is not None and None not in ends
    if cut:
        index = table.frame.index
        cuts = [0, *(int(index.searchsorted(pd.Timestamp(e), side="right")) for e in ends)]
        k = ("train", "val", "test").index(split)
        rows = slice(cuts[k], cuts[k + 1] if k < 2 else len(index))
        train = slice(0, cuts[1])
    else:
        parts = own_split if own_split is not None else split_table(table, cfg)
        rows, train = getattr(parts, split), parts.train
    if rows.stop - max(rows.start, L) >= H:
        return rows, train
    if not cut:
        raise DataError(
            f"the {split} split holds no complete window: it needs at least "
            f"lookback + horizon = {L + H} rows"
        )
    period = {
        "train": f"up to {ends[0]}",
        "val": f"after {ends[0]} up to {ends[1]}",
        "test": f"after {ends[1]}",
    }[split]
    raise DataError(
        f"{table.name} ({index[0]} .. {index[-1]}) holds too few rows in the model's "
        f"{split} period ({period}, when its training and validation data "
        f"ended) for one window of lookback {L} + horizon {H}: pass a table that "
        f"holds {H} or more rows in that period, after {L} rows of history"
    )
