"""Gradient-boosted trees: one scikit-learn model per horizon step and target."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstmcast.baselines.base import _Baseline
from lstmcast.baselines.budget import GBM_SECONDS
from lstmcast.baselines.chunks import _chunk_bytes, _chunk_size
from lstmcast.errors import ConfigError, DataError


class GradientBoostingBaseline(_Baseline):
    """Gradient-boosted trees (scikit-learn's ``HistGradientBoostingRegressor``): a strong
    non-neural reference, not a naive one.

    One model per horizon step and target learns the change from the target's last value (its
    level, for a target whose ``target_idx`` is None: not among the features), from the flattened
    window plus every feature's change over the window's last 1 and 3 steps. The
    number of trees is chosen on the chronologically last ``holdout`` share of the training
    windows (early stopping, then the best count on that holdout), and the model is then refit
    on every training window with that count.

    The features of every training window are held at once (S * (L * F + 2F) float64 values)
    and each of the H * Ft models takes about ``budget.GBM_SECONDS`` per window and feature (the
    Beijing B2b fit: 24 models, 224 s); a fit over the free memory or over
    ``budget.TIME_LIMIT_S`` is refused before it starts. ``fit(..., status=...)`` hears each
    model as it starts.
    """

    own_past = False
    requires = ("sklearn.ensemble",)

    def __init__(
        self,
        target_idx: Sequence[int | None] | int,
        learning_rate: float = 0.05,
        max_iter: int = 1000,
        min_samples_leaf: int = 50,
        holdout: float = 0.15,
        random_state: int = 0,
    ):
        super().__init__(target_idx)
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.min_samples_leaf = min_samples_leaf
        self.holdout = holdout
        self.random_state = random_state

    @staticmethod
    def features(X: np.ndarray) -> np.ndarray:
        """(S, L * F + 2F): the flattened window and each feature's last 1- and 3-step changes,
        written into one array (no copy of the windows on the way)."""
        S, L, F = X.shape
        lags = [lag for lag in (1, 3) if L > lag]
        out = np.empty((S, L * F + len(lags) * F))
        out[:, : L * F].reshape(S, L, F)[...] = X  # a view of out's first L * F columns
        for k, lag in enumerate(lags):
            np.subtract(X[:, -1], X[:, -1 - lag], out=out[:, L * F + k * F : L * F + (k + 1) * F])
        return out

    def _cost(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray):
        S, L, F = X.shape
        d, models = L * F + 2 * F, Y.shape[1] * Y.shape[2]
        masked = not observed.all()  # then each model copies the features of its kept windows
        need = S * d * (8 + 1 + 8 * masked) + _chunk_bytes(S * d)  # features, binned, kept copy
        what = f"{models} models on {S:,} windows x {d:,} features (lookback {L} x {F} inputs)"
        return need, S * d * models * GBM_SECONDS, what

    def _model(self, n_trees: int, early: bool):
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            learning_rate=self.learning_rate,
            max_iter=n_trees,
            min_samples_leaf=self.min_samples_leaf,
            early_stopping=early,
            n_iter_no_change=20,
            random_state=self.random_state,
        )

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray, status) -> None:
        if not 0 < self.holdout < 1:
            raise ConfigError(f"holdout must be between 0 and 1, got {self.holdout!r}")
        F, last = self.features(X), self._last(X)  # (S, Ft)
        cut = int(len(X) * (1 - self.holdout))
        self.models_, self.n_trees_ = {}, {}
        H, Ft = Y.shape[1:]
        for h in range(H):
            for j in range(Ft):
                status(f"model {h * Ft + j + 1} of {H * Ft}")
                rows = observed[:, h, j]
                fit_rows, val_rows = rows[:cut], rows[cut:]  # before the holdout, in it
                if fit_rows.sum() < 2 * self.min_samples_leaf or val_rows.sum() < 1:
                    raise DataError(
                        f"GradientBoostingBaseline needs >= {2 * self.min_samples_leaf} observed "
                        f"training windows before its {self.holdout:.0%} holdout and one in it "
                        f"(step {h + 1}, target {j}): use a longer training split"
                    )
                change = Y[:, h, j] - last[:, j]
                F_val, change_val = _kept(F[cut:], val_rows), change[cut:][val_rows]
                first = self._model(self.max_iter, True).fit(
                    _kept(F[:cut], fit_rows), change[:cut][fit_rows], X_val=F_val, y_val=change_val
                )
                errors = [np.mean((p - change_val) ** 2) for p in first.staged_predict(F_val)]
                n = int(np.argmin(errors)) + 1
                self.n_trees_[h, j] = n
                self.models_[h, j] = self._model(n, False).fit(_kept(F, rows), change[rows])

    def _predict(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((len(X), self.horizon_, len(self.targets_)))  # (S, H, Ft)
        size = _chunk_size(X)
        for start in range(0, len(X), size):  # a chunk of windows' features at a time
            s = slice(start, start + size)
            F, last = self.features(X[s]), self._last(X[s])
            for (h, j), model in self.models_.items():
                out[s, h, j] = last[:, j] + model.predict(F)
        return out


def _kept(F: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """F[rows] for rows (S,) bool, but F itself (no copy of every window's features) where
    every row is kept."""
    return F if rows.all() else F[rows]
