"""The estimator face every baseline shares: argument checks, fit, predict, the fitted guard."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from lstmcast.baselines.budget import FIX, check_budget
from lstmcast.baselines.chunks import _flat_chunks
from lstmcast.errors import ConfigError, DataError, NotFittedError


class _Baseline:
    """Shared argument checks and the fitted-state guard."""

    learns = True  # whether fit learns from the training windows (persistence does not)
    own_past = True  # whether it forecasts each target from that target's past in X
    requires: tuple[str, ...] = ()  # modules fit imports; make_baseline imports them first
    fix = FIX  # what makes a fit too big for this machine smaller (budget.check_budget)

    def __init__(self, target_idx: Sequence[int | None] | int):
        self.target_idx = target_idx

    def fit(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        mask: np.ndarray | None = None,
        *,
        status: Callable[[str], None] | None = None,
    ) -> _Baseline:
        """Learn from windows X (S, L, F) and targets Y (S, H, Ft), observed where ``mask``
        (S, H, Ft) is True; returns self. ``status`` hears each stage of a long fit (gbm: each
        model it fits). A fit that would not fit in memory here, or take over
        ``budget.TIME_LIMIT_S``, raises ConfigError before it starts (``budget.check_budget``)."""
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        if X.ndim != 3 or Y.ndim != 3 or len(X) != len(Y) or len(X) == 0:
            raise DataError(
                f"fit needs X (S, L, F) and Y (S, H, Ft) with the same S > 0, "
                f"got {X.shape} and {Y.shape}"
            )
        targets = self._targets(X.shape[2])
        if Y.shape[2] != len(targets):
            raise DataError(f"Y has {Y.shape[2]} target series but target_idx names {len(targets)}")
        if not all(np.isfinite(flat).all() for _, flat in _flat_chunks(X)):
            raise DataError(
                "X holds NaN/inf inputs; fill them first (read_table fill='interpolate')"
            )
        observed = np.isfinite(Y) if mask is None else np.asarray(mask, dtype=bool) & np.isfinite(Y)
        cost = self._cost(X, Y, observed)
        if cost is not None:  # refused before anything is learnt or allocated
            check_budget(type(self).__name__, *cost, fix=self.fix)
        self.n_features_in_, self.lookback_ = X.shape[2], X.shape[1]
        self.horizon_, self.targets_ = Y.shape[1], targets
        self._fit(X, Y, observed, status or _quiet)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Forecasts (S, H, Ft) for windows X (S, L, F)."""
        if not hasattr(self, "horizon_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted: call fit(X, Y) before predict"
            )
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 3 or X.shape[1:] != (self.lookback_, self.n_features_in_):
            raise DataError(
                f"predict needs X of shape (S, {self.lookback_}, {self.n_features_in_}) as in fit, "
                f"got {X.shape}"
            )
        return self._predict(X)

    def _targets(self, n_features: int) -> list[int | None]:
        targets = (
            [self.target_idx]
            if isinstance(self.target_idx, int | np.integer)
            else list(self.target_idx)
        )
        if not targets or not all(t is None or 0 <= int(t) < n_features for t in targets):
            raise ConfigError(
                f"target_idx must be feature positions in 0..{n_features - 1}, "
                f"got {self.target_idx!r}"
            )
        if self.own_past and None in targets:
            raise ConfigError(
                f"{type(self).__name__} forecasts each target from its own past, so target_idx "
                f"must place every target among X's features, got {self.target_idx!r}"
            )
        return [None if t is None else int(t) for t in targets]

    def _last(self, X: np.ndarray) -> np.ndarray:
        """(S, Ft): each target's last value in the window; 0 for one not among X's features."""
        last = np.zeros((len(X), len(self.targets_)))
        for j, t in enumerate(self.targets_):
            if t is not None:
                last[:, j] = X[:, -1, t]
        return last

    def _cost(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray):
        """(bytes, seconds, what) the fit needs at most, estimated before it allocates anything;
        None for a baseline that learns nothing (or next to nothing)."""
        return None

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray, status) -> None:
        """Learn from the observed targets (default: nothing to learn)."""

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}"
            for k, v in vars(self).items()
            if not k.endswith("_") and not k.startswith("_")
        )
        return f"{type(self).__name__}({args})"


def _quiet(message: str) -> None:
    """The status of a fit nobody asked to hear: nothing."""
