"""Chronological train / validation / test splits as row slices (never shuffled)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lstmcast.errors import ConfigError, DataError

DEFAULT_FRACTIONS = (0.7, 0.15)


@dataclass(frozen=True)
class Split:
    """Row-index slices into ``table.frame``; every target of a part lies inside its slice."""

    train: slice
    val: slice
    test: slice

    def sizes(self) -> dict[str, int]:
        return {
            k: s.stop - s.start
            for k, s in (("train", self.train), ("val", self.val), ("test", self.test))
        }


def chronological_split(
    index: pd.DatetimeIndex,
    *,
    train_end: str | pd.Timestamp | None = None,
    val_end: str | pd.Timestamp | None = None,
    fractions: tuple[float, float] | None = None,
) -> Split:
    """Split a sorted time index into consecutive train, validation and test rows.

    Args:
        index: the table's sorted ``DatetimeIndex``.
        train_end, val_end: inclusive ends. A string is read at its own resolution: ``"2012"`` is
            the whole year, ``"2012-12-31"`` the whole day, ``"2012-12-31 23:00"`` that hour.
        fractions: ``(train, val)`` shares of the rows, both above 0 (every fit validates:
            early stopping, the best epoch, tune and compare read the validation loss); the
            test split gets the rest.
            Default (when no dates are given): ``(0.7, 0.15)``.

    Example:
        >>> chronological_split(index, train_end="2012-12-31", val_end="2013")  # doctest: +SKIP
    """
    n = len(index)
    dates = train_end is not None or val_end is not None
    if dates and fractions is not None:
        raise ConfigError("pass either train_end/val_end or fractions, not both")
    if dates:
        if train_end is None or val_end is None:
            raise ConfigError(
                f"both train_end and val_end are needed, "
                f"got train_end={train_end!r}, val_end={val_end!r}"
            )
        n_train = int(index.searchsorted(_inclusive_end(train_end), side="right"))
        n_trainval = int(index.searchsorted(_inclusive_end(val_end), side="right"))
        if n_trainval < n_train:
            raise ConfigError(f"val_end {val_end!r} comes before train_end {train_end!r}")
    else:
        train, val = DEFAULT_FRACTIONS if fractions is None else fractions
        if not (train > 0 and val > 0 and train + val < 1):  # validation picks the epoch
            raise ConfigError(
                "train_fraction (--train-fraction) and val_fraction (--val-fraction) must be "
                "above 0 (validation picks the epoch and stops training early), with a sum "
                f"below 1 to leave rows for the test split; got train_fraction={train:g}, "
                f"val_fraction={val:g} (sum {train + val:g}): "
                f"pass e.g. the defaults {DEFAULT_FRACTIONS[0]:g} and {DEFAULT_FRACTIONS[1]:g}"
            )
        n_train = round(n * train)
        n_trainval = n_train + round(n * val)
    split = Split(slice(0, n_train), slice(n_train, n_trainval), slice(n_trainval, n))
    empty = [k for k, size in split.sizes().items() if size <= 0]
    if empty:
        raise DataError(
            f"the {' and '.join(empty)} split is empty (rows: {split.sizes()}, of {n}); "
            "move train_end/val_end or change fractions"
        )
    return split


def _inclusive_end(end: str | pd.Timestamp) -> pd.Timestamp:
    """The last instant covered by ``end`` (a string covers its whole period)."""
    if isinstance(end, str):
        try:
            return pd.Period(end).end_time
        except ValueError as err:
            raise ConfigError(f"cannot read {end!r} as a date; use e.g. '2012-12-31'") from err
    return pd.Timestamp(end)
