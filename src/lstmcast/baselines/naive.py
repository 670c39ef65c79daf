"""The naive baselines: persistence and seasonal naive, which learn nothing, the training mean,
and the season length of a step."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmcast.baselines.base import _Baseline
from lstmcast.data.checks import fixed_step, frequency_offset
from lstmcast.errors import ConfigError, DataError


class Persistence(_Baseline):
    """The last value of the window, repeated for every step: y[t0 + h] = y[t0 - 1].

    Example:
        >>> Persistence(target_idx=[0]).fit(X, Y).predict(X)   # doctest: +SKIP
    """

    learns = False

    def _predict(self, X: np.ndarray) -> np.ndarray:
        last = X[:, -1, self.targets_]  # (S, Ft)
        return np.repeat(last[:, None, :], self.horizon_, axis=1)  # (S, H, Ft)


class SeasonalNaive(_Baseline):
    """The value one period earlier: y[t0 + h] = y[t0 + h - k * period], k the smallest that lands
    inside the window (k = 1 for h < period). Needs lookback >= period."""

    learns = False

    def __init__(self, target_idx: Sequence[int] | int, period: int = 24):
        super().__init__(target_idx)
        self.period = period

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray, status) -> None:
        if not isinstance(self.period, int | np.integer) or self.period < 1:
            raise ConfigError(f"period must be a positive integer, got {self.period!r}")
        if self.lookback_ < self.period:
            raise ConfigError(
                f"SeasonalNaive(period={self.period}) needs lookback >= {self.period}, "
                f"got {self.lookback_}: lengthen the lookback or shorten the period"
            )

    def _predict(self, X: np.ndarray) -> np.ndarray:
        steps = np.arange(self.horizon_)  # h = 0 .. H-1 is row t0 + h, window position L + h
        back = (steps // self.period + 1) * self.period  # the smallest multiple of the period > h
        rows = self.lookback_ + steps - back
        return X[:, rows][:, :, self.targets_]  # (S, H, Ft)


class TrainingMean(_Baseline):
    """Each target's mean over the observed training targets, for every step: the reference
    for a target that wanders around a level (a return, a change), where persistence repeats
    the last noise and is easy to beat.

    Example:
        >>> TrainingMean(target_idx=[0]).fit(X, Y).predict(X)   # doctest: +SKIP
    """

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray, status) -> None:
        counts = observed.sum(axis=(0, 1))  # (Ft,)
        if not counts.all():
            raise DataError(
                "the mean baseline needs an observed target in the training windows of every "
                f"target, got none for target {int(np.argmin(counts))}"
            )
        self.mean_ = np.where(observed, Y, 0.0).sum(axis=(0, 1)) / counts  # (Ft,)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.mean_, (len(X), self.horizon_, len(self.mean_))).copy()


# Calendar steps whose cycle is the year: (steps per year at n = 1, offset types)
_PER_YEAR = (
    (12, (pd.offsets.MonthBegin, pd.offsets.MonthEnd, pd.offsets.BusinessMonthBegin,
          pd.offsets.BusinessMonthEnd, pd.offsets.CustomBusinessMonthBegin,
          pd.offsets.CustomBusinessMonthEnd, pd.offsets.WeekOfMonth, pd.offsets.LastWeekOfMonth)),
    (24, (pd.offsets.SemiMonthBegin, pd.offsets.SemiMonthEnd)),
    (4, (pd.offsets.QuarterBegin, pd.offsets.QuarterEnd, pd.offsets.BQuarterBegin,
         pd.offsets.BQuarterEnd, pd.offsets.FY5253Quarter)),
    (52, (pd.offsets.Week,)),
)  # fmt: skip


def season_length(freq: str | None) -> int:
    """The seasonal period in steps: the natural cycle of the step divided by the step.

    Steps from a minute to under a day cycle over the day (``h`` 24, ``2h`` 12, ``15min`` 96),
    daily steps over the week (``D`` 7, ``B`` 5 business days), weekly to quarterly steps over
    the year (``W`` and ``7D`` 52, ``2W`` 26, ``MS``/``ME``/``BMS``/``BME`` 12, ``SMS`` 24,
    ``QS-JAN``/``QE-DEC``/``BQS`` 4). 1, no season, where the cycle is not a whole number of
    steps (``7h``, ``3D``, ``5MS``), for yearly steps, for steps under a minute (``s``, ``ms``)
    and for None or an unknown alias.

    Example:
        >>> season_length("15min"), season_length("BMS"), season_length("3D")
        (96, 12, 1)
    """
    offset = frequency_offset(freq)
    if offset is None or offset.n < 1:
        return 1
    step = fixed_step(offset)
    if step is not None:
        day, week = pd.Timedelta(days=1), pd.Timedelta(days=7)
        if step < pd.Timedelta(minutes=1):
            return 1
        cycle = day if step < day else week if step < week else 52 * week
        return _whole(cycle, step)
    if isinstance(offset, pd.offsets.BusinessDay | pd.offsets.CustomBusinessDay):
        return _whole(5, offset.n)
    for per_year, kinds in _PER_YEAR:
        if isinstance(offset, kinds):
            return _whole(per_year, offset.n)
    return 1


def _whole(cycle, step) -> int:
    """How many ``step`` make one ``cycle`` when that is a whole number above 1, else 1."""
    return int(cycle // step) if not cycle % step and cycle // step > 1 else 1
