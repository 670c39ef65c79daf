"""Vector autoregression: order by AIC and least squares, both from one Gram matrix of lags
summed a chunk of rows at a time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstmcast.baselines.base import _Baseline
from lstmcast.baselines.budget import FLOPS, SOLVE_FLOPS
from lstmcast.baselines.chunks import _chunk_bytes, _chunk_size, _flat_chunks
from lstmcast.data.windows import window_rows
from lstmcast.errors import ConfigError, DataError


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
    an input that is constant (and not 0) with statsmodels' ValueError. The order search solves
    a (1 + F * p)-wide least squares for each p, work that grows as F**4 (about 5 minutes for
    200 inputs on 2 cores): a fit estimated over ``budget.TIME_LIMIT_S``, or over the free
    memory, is refused before it starts.
    """

    requires = ("scipy.linalg",)
    fix = "use fewer --features (or a --lookback under 24), or leave it out of --baselines"

    def __init__(self, target_idx: Sequence[int] | int, maxlags: int | None = None):
        super().__init__(target_idx)
        self.maxlags = maxlags

    def _cost(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray):
        n, f = len(X) + X.shape[1] - 1, X.shape[2]  # the series' rows and columns
        fixed = isinstance(self.maxlags, int | np.integer) and 1 <= self.maxlags <= X.shape[1]
        cap = int(self.maxlags) if fixed else min(X.shape[1], 24)  # _fit refuses a bad one
        d = f * (cap + 1)  # the lag Gram matrix's side
        need = 8 * (5 * d * d + 3 * n * f) + 3 * _chunk_bytes(n * d)  # Gram, triangles; series, z
        orders = range(1, cap + 1) if self.maxlags is None else (cap,)
        seconds = n * d * d / FLOPS + sum((1 + f * p) ** 3 for p in orders) / SOLVE_FLOPS
        search = f"an order search over 1..{cap} lags" if self.maxlags is None else f"{cap} lags"
        return need, seconds, f"{f} inputs with {search} on {n:,} rows"

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray, status) -> None:
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
