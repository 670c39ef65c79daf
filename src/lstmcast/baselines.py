"""Naive and classical baselines with the estimator face the LSTM has.

``Model(target_idx, ...)`` stores its arguments; ``fit(X, Y, mask=None)`` learns from windows
``X`` (S, L, F) and targets ``Y`` (S, H, Ft) and returns ``self``; ``predict(X)`` returns (S, H, Ft)
in the data's units. ``target_idx`` gives the positions of the target series among X's features
(``Y[..., j]`` is the future of ``X[..., target_idx[j]]``); ridge and gbm also take None for a
target whose past is not among the features (forecast from the other features alone). Targets
where ``mask`` is False (or ``Y`` is NaN) are never learnt from.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmcast.data.checks import fixed_step, frequency_offset
from lstmcast.data.windows import window_rows
from lstmcast.errors import ConfigError, DataError, NotFittedError


class _Baseline:
    """Shared argument checks and the fitted-state guard."""

    learns = True  # whether fit learns from the training windows (persistence does not)
    own_past = True  # whether it forecasts each target from that target's past in X
    requires: tuple[str, ...] = ()  # modules fit imports; make_baseline imports them first

    def __init__(self, target_idx: Sequence[int | None] | int):
        self.target_idx = target_idx

    def fit(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray | None = None) -> _Baseline:
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
        self.n_features_in_, self.lookback_ = X.shape[2], X.shape[1]
        self.horizon_, self.targets_ = Y.shape[1], targets
        observed = np.isfinite(Y) if mask is None else np.asarray(mask, dtype=bool) & np.isfinite(Y)
        self._fit(X, Y, observed)
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

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray) -> None:
        """Learn from the observed targets (default: nothing to learn)."""

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}"
            for k, v in vars(self).items()
            if not k.endswith("_") and not k.startswith("_")
        )
        return f"{type(self).__name__}({args})"


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

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray) -> None:
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


class RidgeBaseline(_Baseline):
    """Ridge regression from the flattened, standardised window (L * F) to all H * Ft targets.

    Training windows with any masked target are left out (no imputation), so the fit sees only
    observed values. The targets need not be among the features (``target_idx`` None).

    The fit is scikit-learn's ``Ridge(alpha)`` (intercept unpenalised, X and y centred, the
    normal equations ``(Z'Z + alpha I) w = Z'y`` solved by Cholesky), computed a chunk of
    windows at a time: memory holds one (L * F)² Gram matrix and one chunk, never a flattened
    copy of the windows.
    """

    own_past = False
    requires = ("scipy.linalg",)

    def __init__(self, target_idx: Sequence[int | None] | int, alpha: float = 1.0):
        super().__init__(target_idx)
        self.alpha = alpha

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray) -> None:
        import scipy.linalg
        from scipy.linalg import blas

        if not self.alpha >= 0:
            raise ConfigError(f"alpha must be >= 0, got {self.alpha!r}")
        complete = observed.all(axis=(1, 2))
        if complete.sum() < 2:
            raise DataError(
                f"RidgeBaseline needs >= 2 windows with every target observed, got {complete.sum()}"
            )
        self.n_windows_used_ = n = int(complete.sum())
        y = Y[complete].reshape(n, -1)  # (S', H * Ft): small, no chunks needed
        y_mean = y.mean(axis=0)
        y = y - y_mean
        # pass 1: each input's mean and spread, merged chunk by chunk (Chan et al.)
        mean, m2, count, lo, hi = 0.0, 0.0, 0, np.inf, -np.inf
        for _, flat in _flat_chunks(X, complete):  # flat (S'', L * F)
            k, chunk_mean = len(flat), flat.mean(axis=0)
            delta = chunk_mean - mean
            m2 = m2 + ((flat - chunk_mean) ** 2).sum(axis=0) + delta**2 * (count * k / (count + k))
            mean, count = mean + delta * (k / (count + k)), count + k
            lo, hi = np.minimum(lo, flat.min(axis=0)), np.maximum(hi, flat.max(axis=0))
        self.mean_, self.scale_ = mean, np.sqrt(m2 / n)
        self.scale_[(self.scale_ == 0) | (lo == hi)] = 1.0  # a constant input stays as it is
        # pass 2: Z'Z (its upper triangle, summed in place by BLAS syrk) and Z'y, for the
        # standardised windows Z
        d = len(self.mean_)
        gram, cross, z_sum, done = np.zeros((d, d), order="F"), 0.0, 0.0, 0
        for _, flat in _flat_chunks(X, complete):
            z = (flat - self.mean_) / self.scale_  # (S'', L * F)
            gram = blas.dsyrk(1.0, z.T, beta=1.0, c=gram, overwrite_c=True)  # += z'z
            cross, z_sum = cross + z.T @ y[done : done + len(z)], z_sum + z.sum(axis=0)
            done += len(z)
        # centred exactly as scikit-learn centres X and y (z_mean and y's sum are ~0)
        z_mean = z_sum / n
        gram = blas.dsyr(-n, z_mean, a=gram, overwrite_a=True)  # -= n z_mean z_mean'
        cross = cross - np.outer(z_mean, y.sum(axis=0))  # (L * F, H * Ft)
        gram.flat[:: d + 1] += self.alpha
        if self.alpha > 0:  # Cholesky in place on the upper triangle, as scikit-learn solves
            coef = scipy.linalg.solve(gram, cross, assume_a="pos", overwrite_a=True)
        else:  # no penalty: the Gram matrix may be singular; the least-norm solution
            gram = np.triu(gram) + np.triu(gram, 1).T
            coef = np.linalg.lstsq(gram, cross, rcond=None)[0]
        self.coef_ = coef.T  # (H * Ft, L * F), as scikit-learn's Ridge.coef_
        self.intercept_ = y_mean - z_mean @ coef  # (H * Ft,)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((len(X), self.horizon_ * len(self.targets_)))  # (S, H * Ft)
        for s, flat in _flat_chunks(X):
            out[s] = (flat - self.mean_) / self.scale_ @ self.coef_.T + self.intercept_
        return out.reshape(len(X), self.horizon_, len(self.targets_))


CHUNK_VALUES = 2**22  # values in one chunk of windows copied at once (32 MB of float64)


def _flat_chunks(X: np.ndarray, keep: np.ndarray | None = None):
    """(slice, flat (S', L * F) copy) for consecutive chunks of windows X (S, L, F); with
    ``keep`` (S,) bool, only the kept windows of each chunk."""
    size = _chunk_size(X)
    for start in range(0, len(X), size):
        s = slice(start, start + size)
        chunk = X[s] if keep is None else X[s][keep[s]]
        if len(chunk):
            yield s, chunk.reshape(len(chunk), -1)


def _chunk_size(X: np.ndarray) -> int:
    """Windows of X (S, L, F) per chunk: CHUNK_VALUES values, at least one window."""
    return max(1, CHUNK_VALUES // max(1, X.shape[1] * X.shape[2]))


class GradientBoostingBaseline(_Baseline):
    """Gradient-boosted trees (scikit-learn's ``HistGradientBoostingRegressor``): a strong
    non-neural reference, not a naive one.

    One model per horizon step and target learns the change from the target's last value (its
    level, for a target whose ``target_idx`` is None: not among the features), from the flattened
    window plus every feature's change over the window's last 1 and 3 steps. The
    number of trees is chosen on the chronologically last ``holdout`` share of the training
    windows (early stopping, then the best count on that holdout), and the model is then refit
    on every training window with that count.
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
        """(S, L * F + 2F): the flattened window and each feature's last 1- and 3-step changes."""
        parts = [X.reshape(len(X), -1)]
        for lag in (1, 3):
            if X.shape[1] > lag:
                parts.append(X[:, -1] - X[:, -1 - lag])
        return np.concatenate(parts, axis=1)

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

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray) -> None:
        if not 0 < self.holdout < 1:
            raise ConfigError(f"holdout must be between 0 and 1, got {self.holdout!r}")
        F, last = self.features(X), self._last(X)  # (S, Ft)
        cut = int(len(X) * (1 - self.holdout))
        self.models_, self.n_trees_ = {}, {}
        for h in range(Y.shape[1]):
            for j in range(Y.shape[2]):
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


class VARBaseline(_Baseline):
    """Vector autoregression of all input features: y[t] = c + sum_i coefs[i] @ y[t - i - 1].

    The training series is rebuilt from stride-1 consecutive windows (``X[0]`` then each window's
    last row). ``maxlags=None`` picks the order p in 1..min(L, 24) by AIC (``select_var_order``);
    an int fixes p (p <= L). Each window is forecast H steps ahead from its last p rows, a chunk
    of windows at a time.

    The fit is the least squares with a constant that statsmodels' ``VAR(series).fit(p,
    trend="c")`` solves (``AutoReg`` for one series; equal to both within 1e-8, tested), on rows
    p.. of the series, but solved from normal equations summed a chunk of rows at a time on the
    centred series: memory holds one (1 + F * (p + 1))² Gram matrix and one chunk, where
    statsmodels builds the full (N, 1 + F * p) lag design (1.1 GB at 140,000 rows of 40
    features and p = 24, and the order selection one more). Like statsmodels' VAR, it refuses
    an input that is constant (and not 0) with statsmodels' ValueError.
    """

    requires = ("scipy.linalg",)

    def __init__(self, target_idx: Sequence[int] | int, maxlags: int | None = None):
        super().__init__(target_idx)
        self.maxlags = maxlags

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray) -> None:
        if self.maxlags is not None and not (
            isinstance(self.maxlags, int | np.integer) and 1 <= self.maxlags <= self.lookback_
        ):
            raise ConfigError(
                f"maxlags must be None or an integer in 1..{self.lookback_} (the lookback), "
                f"got {self.maxlags!r}"
            )
        if not _consecutive(X):
            raise DataError(
                "VARBaseline.fit needs stride-1 consecutive windows: "
                "pass make_windows(..., stride=1) output unfiltered"
            )
        series = np.concatenate([X[0], X[1:, -1]])  # (N, F)
        cap = self.maxlags or min(self.lookback_, 24)
        if len(series) <= 2 * cap + series.shape[1]:
            raise DataError(
                f"VARBaseline needs more than {2 * cap + series.shape[1]} training rows, "
                f"got {len(series)}"
            )
        self.intercept_, self.coefs_ = _fit_var(series, cap, select=self.maxlags is None)
        self.order_ = len(self.coefs_)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((len(X), self.horizon_, len(self.targets_)))  # (S, H, Ft)
        size = _chunk_size(X)
        for start in range(0, len(X), size):
            s = slice(start, start + size)
            history = X[s, X.shape[1] - self.order_ :]  # (S', p, F), oldest first
            lagged = history[:, ::-1]  # lagged[:, i] is lag i + 1
            for h in range(self.horizon_):
                nxt = self.intercept_ + np.einsum("ijk,sik->sj", self.coefs_, lagged)  # (S', F)
                out[s, h] = nxt[:, self.targets_]
                lagged = np.concatenate([nxt[:, None], lagged[:, :-1]], axis=1)
        return out


def _consecutive(X: np.ndarray) -> bool:
    """Whether windows X (S, L, F) are stride-1 consecutive: X[i + 1, :-1] == X[i, 1:]."""
    if window_rows(X) is not None:  # a sliding view (make_windows): consecutive by layout
        return True
    size = _chunk_size(X)
    for s in range(0, len(X) - 1, size):
        e = min(s + size, len(X) - 1)
        if not np.array_equal(X[s + 1 : e + 1, :-1], X[s:e, 1:]):
            return False
    return True


def _fit_var(series: np.ndarray, maxlags: int, *, select: bool) -> tuple[np.ndarray, np.ndarray]:
    """(intercept (F,), coefs (p, F, F)) with y[t] = c + sum_i coefs[i] @ y[t - i - 1], p chosen
    by AIC in 1..maxlags (``select``) or maxlags, fitted on rows p.. of series (N, F)."""
    n, f = series.shape
    z, mean = _centre(series)
    gram = _lag_gram(z, maxlags)  # rows maxlags..
    p = _order_by_aic(gram, f, maxlags, n - maxlags) if select else maxlags
    if f > 1:
        _refuse_constant_lags(series, p)
    k = 1 + f * (p + 1)  # [1, y[t], y[t - 1], ..., y[t - p]]: the Gram matrix's leading block
    extra = np.concatenate(  # rows p .. maxlags - 1, which order p fits on too
        [np.ones((maxlags - p, 1)), *(z[p - i : maxlags - i] for i in range(p + 1))], axis=1
    )
    gram = gram[:k, :k] + extra.T @ extra
    regressors = np.r_[0, 1 + f : k]  # the constant, lag 1 (F values), lag 2, ...
    coef = _solve(gram[np.ix_(regressors, regressors)], gram[regressors, 1 : 1 + f])
    coefs = coef[1:].reshape(p, f, f).transpose(0, 2, 1)  # (p, F, F)
    intercept = mean + coef[0] - coefs.sum(axis=0) @ mean  # z = y - mean: the means back in
    return intercept, coefs


def select_var_order(series: np.ndarray, maxlags: int) -> int:
    """The VAR order 1..maxlags with the lowest AIC (as statsmodels' ``select_order``).

    All orders are compared on the same rows (from ``maxlags`` on), each solved from one shared
    Gram matrix, summed a chunk of rows at a time: one pass over the data instead of ``maxlags``
    fits, and never the full lag design in memory.
    """
    z = _centre(series)[0]
    return _order_by_aic(_lag_gram(z, maxlags), series.shape[1], maxlags, len(series) - maxlags)


def _centre(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, mean): series (N, F) less its column means, so that the Gram matrix is well
    conditioned (the constant is in the model, so the fit is the same); a constant column is 0."""
    constant = np.ptp(series, axis=0) == 0
    mean = np.where(constant, series[0], series.mean(axis=0))
    return series - mean, mean


def _solve(gram: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """The least-squares coefficients (K, F) from the normal equations gram (K, K) coef = cross,
    with gram scaled to a unit diagonal (features of unlike spreads) and solved by lstsq, which
    gives the least-norm solution where gram is singular; a Gram matrix that overflowed (values
    near 1e300) raises LinAlgError."""
    if not np.isfinite(gram).all():  # said here, before inf / inf warns on the way to lstsq
        raise np.linalg.LinAlgError("SVD did not converge: the values' squares overflow")
    d = np.sqrt(np.diag(gram))
    d[d == 0] = 1.0  # a zero column (a constant input, centred) stays as it is
    return np.linalg.lstsq(gram / np.outer(d, d), cross / d[:, None], rcond=None)[0] / d[:, None]


def _lag_gram(z: np.ndarray, maxlags: int) -> np.ndarray:
    """The Gram matrix (D, D), D = 1 + F * (maxlags + 1), of the rows [1, z[t], z[t - 1], ...,
    z[t - maxlags]] for t = maxlags .. N - 1 of z (N, F), summed a chunk of rows at a time."""
    from scipy.linalg import blas

    rows = np.lib.stride_tricks.sliding_window_view(z, maxlags + 1, axis=0)  # (N - P, F, P + 1)
    rows = rows[:, :, ::-1].transpose(0, 2, 1)  # (N - P, P + 1, F): z[t], z[t - 1], ... (a view)
    d = rows.shape[1] * rows.shape[2]
    inner, total = np.zeros((d, d), order="F"), 0.0
    for _, flat in _flat_chunks(rows):  # flat (S', F * (P + 1)): a copy of one chunk of rows
        inner = blas.dsyrk(1.0, flat.T, beta=1.0, c=inner, overwrite_c=True)  # += flat'flat
        total = total + flat.sum(axis=0)
    gram = np.empty((d + 1, d + 1))
    gram[0, 0], gram[0, 1:], gram[1:, 0] = len(rows), total, total
    gram[1:, 1:] = np.triu(inner) + np.triu(inner, 1).T  # syrk filled the upper triangle
    return gram


def _order_by_aic(gram: np.ndarray, f: int, maxlags: int, nobs: int) -> int:
    """The order 1..maxlags with the lowest AIC, from ``_lag_gram``'s matrix over nobs rows."""
    y = slice(1, 1 + f)
    yy = gram[y, y]
    best, best_aic = 1, np.inf
    for p in range(1, maxlags + 1):
        regressors = np.r_[0, 1 + f : 1 + f * (p + 1)]
        cross = gram[regressors, y]
        coef = _solve(gram[np.ix_(regressors, regressors)], cross)
        sigma = (yy - cross.T @ coef) / nobs  # the MLE residual covariance
        sign, logdet = np.linalg.slogdet(sigma)
        aic = (logdet if sign > 0 else -np.inf) + 2 * (p * f * f + f) / nobs
        if aic < best_aic:
            best, best_aic = p, aic
    return best


def _refuse_constant_lags(series: np.ndarray, p: int) -> None:
    """Raise statsmodels' ValueError for a lag column of the order-p design that is constant
    and not 0 (statsmodels' VAR refuses a constant with trend="c" there)."""
    n, f = series.shape
    lags = [series[p - i : n - i] for i in range(1, p + 1)]  # lag i over rows p.. (views)
    columns = [
        (i - 1) * f + j
        for i, lag in enumerate(lags, start=1)
        for j in np.flatnonzero((np.ptp(lag, axis=0) == 0) & (lag[0] != 0))
    ]
    if columns:
        raise ValueError(
            "x contains one or more constant columns. Column(s) "
            f"{', '.join(map(str, columns))} are constant. Adding a constant with trend='c' is "
            "not allowed."
        )


BASELINES: dict[str, type[_Baseline]] = {
    "persistence": Persistence,
    "seasonal_naive": SeasonalNaive,
    "ridge": RidgeBaseline,
    "var": VARBaseline,
    "gbm": GradientBoostingBaseline,
}
UNIVARIATE_BASELINES = ("persistence", "seasonal_naive")  # each target from its own past alone
# what evaluate and compare score when not told: every cheap one (gbm fits a model per step)
DEFAULT_BASELINES = ("persistence", "seasonal_naive", "ridge", "var")


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


def make_baseline(cls: type[_Baseline], target_idx: list[int | None], period: int, lookback: int):
    """The baseline, or None where it cannot run (a season longer than the window).

    The libraries it fits with are imported here, so that a timed fit measures fitting, not a
    first import (about 1 s for scikit-learn)."""
    for name in cls.requires:
        importlib.import_module(name)
    if "seasonal" in cls.__name__.lower():
        return cls(target_idx, period=period) if 1 < period <= lookback else None
    return cls(target_idx)
