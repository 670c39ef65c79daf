"""Ridge regression from the flattened window, solved from normal equations summed a chunk
of windows at a time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstmcast.baselines.base import _Baseline
from lstmcast.baselines.budget import FLOPS, SOLVE_FLOPS
from lstmcast.baselines.chunks import _chunk_bytes, _flat_chunks, rows_per_chunk
from lstmcast.errors import ConfigError, DataError


class RidgeBaseline(_Baseline):
    """Ridge regression from the flattened, standardised window (L * F) to all H * Ft targets.

    Training windows with any masked target are left out (no imputation), so the fit sees only
    observed values. The targets need not be among the features (``target_idx`` None).

    The fit is scikit-learn's ``Ridge(alpha)`` (intercept unpenalised, X and y centred, the
    normal equations ``(Z'Z + alpha I) w = Z'y`` solved by Cholesky), computed a chunk of
    windows at a time: memory holds one (L * F)² Gram matrix, one (L * F, H * Ft) cross product
    and one chunk of windows and of their targets, never a flattened copy of the windows or of
    the targets. A Gram matrix too large for the free memory (L * F = 50,400 inputs need
    19 GiB) is refused before it is allocated (``budget.check_budget``).
    """

    own_past = False
    requires = ("scipy.linalg",)

    def __init__(self, target_idx: Sequence[int | None] | int, alpha: float = 1.0):
        super().__init__(target_idx)
        self.alpha = alpha

    def _cost(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray):
        d, o, n = X.shape[1] * X.shape[2], Y.shape[1] * Y.shape[2], len(X)
        squares = 1 if self.alpha > 0 else 5  # alpha = 0: the full matrix, then lstsq's copies
        need = 8 * (squares * d * d + 3 * d * o) + 6 * _chunk_bytes(n * max(d, o))
        solve = d**3 / (FLOPS / 4 if self.alpha > 0 else SOLVE_FLOPS)  # Cholesky, or lstsq
        seconds = (n * d * d + 2 * n * d * o) / FLOPS + solve
        what = (
            f"its {d:,} x {d:,} Gram matrix (lookback {X.shape[1]} x {X.shape[2]} features) "
            f"over {n:,} windows"
        )
        return need, seconds, what

    def _fit(self, X: np.ndarray, Y: np.ndarray, observed: np.ndarray, status) -> None:
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
        d, o = X.shape[1] * X.shape[2], Y.shape[1] * Y.shape[2]
        size = rows_per_chunk(max(d, o))  # windows a chunk: of inputs and of targets
        y_mean = _mean(Y, complete, size)  # (H * Ft,)
        # pass 1: each input's mean and spread, merged chunk by chunk (Chan et al.)
        mean, m2, count, lo, hi = 0.0, 0.0, 0, np.inf, -np.inf
        for _, flat in _flat_chunks(X, complete, size):  # flat (S'', L * F)
            k, chunk_mean = len(flat), flat.mean(axis=0)
            delta = chunk_mean - mean
            m2 = m2 + ((flat - chunk_mean) ** 2).sum(axis=0) + delta**2 * (count * k / (count + k))
            mean, count = mean + delta * (k / (count + k)), count + k
            lo, hi = np.minimum(lo, flat.min(axis=0)), np.maximum(hi, flat.max(axis=0))
        self.mean_, self.scale_ = mean, np.sqrt(m2 / n)
        self.scale_[(self.scale_ == 0) | (lo == hi)] = 1.0  # a constant input stays as it is
        # pass 2: Z'Z (its upper triangle, summed in place by BLAS syrk) and Z'y, for the
        # standardised windows Z
        gram, cross, z_sum, y_sum = np.zeros((d, d), order="F"), 0.0, 0.0, 0.0
        for s, flat in _flat_chunks(X, complete, size):
            z = (flat - self.mean_) / self.scale_  # (S'', L * F)
            y = Y[s][complete[s]].reshape(len(z), o) - y_mean  # (S'', H * Ft), centred
            gram = blas.dsyrk(1.0, z.T, beta=1.0, c=gram, overwrite_c=True)  # += z'z
            cross, z_sum, y_sum = cross + z.T @ y, z_sum + z.sum(axis=0), y_sum + y.sum(axis=0)
        # centred exactly as scikit-learn centres X and y (z_mean and y's sum are ~0)
        z_mean = z_sum / n
        gram = blas.dsyr(-n, z_mean, a=gram, overwrite_a=True)  # -= n z_mean z_mean'
        cross = cross - np.outer(z_mean, y_sum)  # (L * F, H * Ft)
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


def _mean(Y: np.ndarray, keep: np.ndarray, size: int) -> np.ndarray:
    """(H * Ft,) the mean of the kept windows' targets Y (S, H, Ft), summed ``size`` windows at
    a time."""
    total, n = 0.0, 0
    for start in range(0, len(Y), size):
        s = slice(start, start + size)
        chunk = Y[s][keep[s]]
        total, n = (
            total + chunk.reshape(len(chunk), Y.shape[1] * Y.shape[2]).sum(axis=0),
            n + len(chunk),
        )
    return total / n
