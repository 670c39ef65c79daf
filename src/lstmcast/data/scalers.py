"""Per-column scalers fit on the training split only, with exact inverses back to data units.

``transform`` and ``inverse_transform`` work on any array whose last axis is the features
(``(N, F)`` rows or ``(S, L, F)`` windows); ``columns=`` picks a subset of the fitted columns, e.g.
the target columns when inverting a ``(S, H, Ft)`` forecast. NaN is ignored when fitting and passes
through unchanged. A constant column scales by 1, never by 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstmcast.errors import ConfigError, DataError, NotFittedError


class _Scaler:
    kind = ""
    stats: tuple[str, ...] = ()  # names of the fitted statistics, one number per column each

    def fit(self, values: np.ndarray) -> _Scaler:
        """Learn per-column statistics from ``values`` (N, F), ignoring NaN."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or len(values) == 0:
            raise DataError(
                f"{type(self).__name__}.fit needs a non-empty (N, F) array, "
                f"got shape {values.shape}"
            )
        empty = np.flatnonzero(np.isnan(values).all(axis=0))
        if len(empty):
            raise DataError(f"{type(self).__name__}.fit: columns {empty.tolist()} hold only NaN")
        self._fit(values)
        return self

    def transform(self, values: np.ndarray, columns: Sequence[int] | None = None) -> np.ndarray:
        """Scale ``values`` (..., F) (or (..., len(columns)) with ``columns``)."""
        offset, scale = self._affine(columns, np.shape(values))
        return (np.asarray(values, dtype=np.float64) - offset) / scale

    def inverse_transform(
        self, values: np.ndarray, columns: Sequence[int] | None = None
    ) -> np.ndarray:
        """Back to the data's units: the inverse of ``transform``."""
        offset, scale = self._affine(columns, np.shape(values))
        return np.asarray(values, dtype=np.float64) * scale + offset

    def to_dict(self) -> dict:
        """JSON-safe state (plain floats and lists) for model files."""
        self._check_fitted()
        return {
            "kind": self.kind,
            **self._params(),
            **{k: getattr(self, k).tolist() for k in self.stats},
        }

    @classmethod
    def from_dict(cls, d: dict) -> _Scaler:
        """Rebuild a fitted scaler from ``to_dict()`` output."""
        if d.get("kind") != cls.kind:
            raise DataError(f"expected a {cls.kind!r} scaler state, got kind {d.get('kind')!r}")
        scaler = cls(**{k: d[k] for k in cls._param_names()})
        for k in cls.stats:
            setattr(scaler, k, np.asarray(d[k], dtype=np.float64))
        return scaler

    def _affine(self, columns: Sequence[int] | None, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
        """(offset, scale) with ``transform(x) = (x - offset) / scale``."""
        self._check_fitted()
        offset, scale = self._offset_scale()
        if columns is not None:
            offset, scale = offset[list(columns)], scale[list(columns)]
        if not shape or shape[-1] != len(offset):
            raise DataError(
                f"{type(self).__name__}: the last axis must hold {len(offset)} columns, "
                f"got shape {shape}"
            )
        return offset, scale

    def _check_fitted(self) -> None:
        if not all(hasattr(self, k) for k in self.stats):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted: call fit(train_values) first"
            )

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        return ()

    def _params(self) -> dict:
        return {k: getattr(self, k) for k in self._param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


class MinMaxScaler(_Scaler):
    """Map each column's training [min, max] onto ``feature_range``.

    Example:
        >>> s = MinMaxScaler().fit(np.array([[0.0], [10.0]]))
        >>> s.transform(np.array([[5.0]])).tolist()
        [[0.5]]
    """

    kind = "minmax"
    stats = ("data_min_", "data_max_")

    def __init__(self, feature_range: Sequence[float] = (0.0, 1.0)):
        low, high = (float(v) for v in feature_range)
        if not high > low:
            raise ConfigError(
                f"feature_range must be (low, high) with high > low, got {feature_range!r}"
            )
        self.feature_range = [low, high]

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        return ("feature_range",)

    def _fit(self, values: np.ndarray) -> None:
        self.data_min_ = np.nanmin(values, axis=0)
        self.data_max_ = np.nanmax(values, axis=0)

    def _offset_scale(self) -> tuple[np.ndarray, np.ndarray]:
        low, high = self.feature_range
        span = self.data_max_ - self.data_min_
        scale = np.where(_varies(span), span, 1.0) / (high - low)
        return self.data_min_ - low * scale, scale


class StandardScaler(_Scaler):
    """Subtract each column's training mean and divide by its standard deviation (ddof 0)."""

    kind = "standard"
    stats = ("mean_", "std_")

    def _fit(self, values: np.ndarray) -> None:
        self.mean_ = np.nanmean(values, axis=0)
        self.std_ = np.nanstd(values, axis=0)

    def _offset_scale(self) -> tuple[np.ndarray, np.ndarray]:
        return self.mean_, np.where(_varies(self.std_), self.std_, 1.0)


MIN_SPREAD = np.finfo(np.float64).tiny * 2.0**53  # 2e-292: dividing by less overflows to inf


def _varies(spread: np.ndarray) -> np.ndarray:
    """Where a column's training spread is one to divide by: a spread under ``MIN_SPREAD``
    (training values such as 2e-309 and 0) would turn ordinary values into inf, so such a
    column counts as constant."""
    return spread >= MIN_SPREAD


SCALERS: dict[str, type[_Scaler]] = {"minmax": MinMaxScaler, "standard": StandardScaler}


def make_scaler(kind: str) -> MinMaxScaler | StandardScaler:
    """A new unfitted scaler: ``"minmax"`` or ``"standard"``."""
    if kind not in SCALERS:
        raise ConfigError(f"scaler must be one of {sorted(SCALERS)}, got {kind!r}")
    return SCALERS[kind]()


def scaler_from_dict(d: dict) -> MinMaxScaler | StandardScaler:
    """Rebuild whichever scaler ``d`` (from ``to_dict()``) describes."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind not in SCALERS:
        raise DataError(f"unknown scaler state kind {kind!r}; expected one of {sorted(SCALERS)}")
    return SCALERS[kind].from_dict(d)
