"""Naive and classical baselines with the estimator face the LSTM has.

``Model(target_idx, ...)`` stores its arguments; ``fit(X, Y, mask=None)`` learns from windows
``X`` (S, L, F) and targets ``Y`` (S, H, Ft) and returns ``self``; ``predict(X)`` returns (S, H, Ft)
in the data's units. ``target_idx`` gives the positions of the target series among X's features
(``Y[..., j]`` is the future of ``X[..., target_idx[j]]``); ridge and gbm also take None for a
target whose past is not among the features (forecast from the other features alone). Targets
where ``mask`` is False (or ``Y`` is NaN) are never learnt from.

The modules, one baseline family each; this package holds the registry and ``make_baseline``:

    base.py    the shared face: argument checks, the fitted-state guard
    naive.py   persistence, seasonal naive, the training mean, ``season_length`` (a step's
               seasonal period)
    ridge.py   ridge regression from the flattened window
    var.py     vector autoregression, order by AIC (``select_var_order``)
    gbm.py     gradient-boosted trees (scikit-learn), one model per step and target
    chunks.py  windows a chunk at a time: ``CHUNK_VALUES`` values copied at once

Example:
    >>> from lstmcast.baselines import BASELINES, make_baseline
    >>> make_baseline(BASELINES["seasonal_naive"], [0], period=24, lookback=48)
    SeasonalNaive(target_idx=[0], period=24)
"""

from __future__ import annotations

import importlib

from lstmcast.baselines.base import _Baseline
from lstmcast.baselines.gbm import GradientBoostingBaseline
from lstmcast.baselines.naive import Persistence, SeasonalNaive, TrainingMean, season_length
from lstmcast.baselines.ridge import RidgeBaseline
from lstmcast.baselines.var import VARBaseline, select_var_order

__all__ = [
    "BASELINES",
    "DEFAULT_BASELINES",
    "UNIVARIATE_BASELINES",
    "GradientBoostingBaseline",
    "Persistence",
    "RidgeBaseline",
    "SeasonalNaive",
    "TrainingMean",
    "VARBaseline",
    "make_baseline",
    "season_length",
    "select_var_order",
]

BASELINES: dict[str, type[_Baseline]] = {
    "persistence": Persistence,
    "seasonal_naive": SeasonalNaive,
    "ridge": RidgeBaseline,
    "var": VARBaseline,
    "gbm": GradientBoostingBaseline,
    "mean": TrainingMean,
}
UNIVARIATE_BASELINES = ("persistence", "seasonal_naive", "mean")  # each target from its own values
# what evaluate and compare score when not told: every cheap one (gbm fits a model per step)
DEFAULT_BASELINES = ("persistence", "seasonal_naive", "ridge", "var")


def make_baseline(
    cls: type[_Baseline], target_idx: list[int | None], period: int, lookback: int
) -> _Baseline | None:
    """The baseline, or None where it cannot run (a season longer than the window).

    The libraries it fits with are imported here, so that a timed fit measures fitting, not a
    first import (about 1 s for scikit-learn)."""
    for name in cls.requires:
        importlib.import_module(name)
    if "seasonal" in cls.__name__.lower():
        return cls(target_idx, period=period) if 1 < period <= lookback else None
    return cls(target_idx)
