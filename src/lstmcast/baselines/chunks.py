"""Windows a chunk at a time: the baselines' loops copy CHUNK_VALUES values at once, not every
window."""

from __future__ import annotations

import numpy as np

CHUNK_VALUES = 2**22  # values in one chunk of windows copied at once (32 MB of float64)


def _flat_chunks(X: np.ndarray, keep: np.ndarray | None = None, size: int | None = None):
    """(slice, flat (S', L * F) copy) for consecutive chunks of windows X (S, L, F); with
    ``keep`` (S,) bool, only the kept windows of each chunk; ``size`` windows a chunk (default
    ``_chunk_size(X)``)."""
    size = size or _chunk_size(X)
    for start in range(0, len(X), size):
        s = slice(start, start + size)
        chunk = X[s] if keep is None else X[s][keep[s]]
        if len(chunk):
            yield s, chunk.reshape(len(chunk), -1)


def _chunk_size(X: np.ndarray) -> int:
    """Windows of X (S, L, F) per chunk: CHUNK_VALUES values, at least one window."""
    return rows_per_chunk(X.shape[1] * X.shape[2])


def rows_per_chunk(width: int) -> int:
    """Rows of ``width`` values per chunk: CHUNK_VALUES values, at least one row."""
    return max(1, CHUNK_VALUES // max(1, width))


def _chunk_bytes(values: int) -> int:
    """The bytes of one chunk of float64 values (fewer when all ``values`` fit in one)."""
    return 8 * min(CHUNK_VALUES, values)
