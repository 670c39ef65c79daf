"""Gate traces: what every gate and both memories did at every time step, and a text view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstmcast.errors import ConfigError

FIELDS = ("f", "i", "g", "o", "c", "h")


@dataclass(frozen=True)
class GateTrace:
    """The gates and memories of one layer and direction over a sequence, each (B, T, H).

    Time runs forward in every trace, also for a reversed direction (which computed t = T-1
    first): ``trace.h[:, t]`` is always the hidden state at input position ``t``.
    """

    f: np.ndarray  # (B, T, H) forget gate, in (0, 1): how much long-term memory survives
    i: np.ndarray  # (B, T, H) input gate, in (0, 1): how much of the candidate is written
    g: np.ndarray  # (B, T, H) candidate, tanh in (-1, 1) or relu in [0, inf)
    o: np.ndarray  # (B, T, H) output gate, in (0, 1): how much of act(c) becomes h
    c: np.ndarray  # (B, T, H) cell state, the long-term memory after the step
    h: np.ndarray  # (B, T, H) hidden state, the short-term memory after the step
    layer: int = 0  # 0-based layer index
    reverse: bool = False  # True for the backward direction of a bidirectional layer

    @property
    def name(self) -> str:
        """``"l0"``, ``"l1_reverse"``: the key of this trace in ``forward(...)``'s dict."""
        return f"l{self.layer}" + ("_reverse" if self.reverse else "")

    def as_dict(self) -> dict[str, np.ndarray]:
        return {field: getattr(self, field) for field in FIELDS}


def format_gate_trace(
    trace: GateTrace,
    sample: int = 0,
    units: Sequence[int] | None = None,
    max_steps: int | None = None,
) -> str:
    """A small text table of the gates and memories of a few units of one sample.

    Args:
        trace: a ``GateTrace`` from ``NumpyLSTM.forward(x, return_gates=True)``.
        sample: which sequence of the batch (index into B).
        units: which hidden units (indices into H); the first two by default.
        max_steps: print at most this many time steps (the last ones); all by default.

    Example:
        >>> from lstmcast.reference import NumpyLSTM
        >>> m = NumpyLSTM.random(input_size=2, hidden_sizes=[3], seed=0)
        >>> _, _, gates = m.forward(np.zeros((1, 4, 2)), return_gates=True)
        >>> print(format_gate_trace(gates["l0"], units=[0]).splitlines()[1])
           t |    f[0]    i[0]    g[0]    o[0]    c[0]    h[0]
    """
    units = check_selection(trace, sample, units, default=2)
    T = np.shape(trace.h)[1]
    if max_steps is not None and not _whole(max_steps, 1):
        raise ConfigError(f"max_steps must be a positive integer or None, got {max_steps!r}")
    start = 0 if max_steps is None else max(0, T - max_steps)
    header = "".join(f" {f + f'[{u}]':>7}" for u in units for f in FIELDS)
    lines = [f"{trace.name}, sample {sample}", f"{'t':>4} |{header}"]
    for t in range(start, T):
        row = "".join(f" {getattr(trace, f)[sample, t, u]:7.3f}" for u in units for f in FIELDS)
        lines.append(f"{t:>4} |{row}")
    return "\n".join(lines)


def check_selection(trace: GateTrace, sample: int, units, default: int) -> list[int]:
    """``units`` as a list (the first ``default`` units when None), after ConfigError unless
    ``sample`` indexes the batch and every unit the hidden width of ``trace``."""
    B, _, H = np.shape(trace.h)
    if not _whole(sample, 0) or sample >= B:
        raise ConfigError(f"sample must be in [0, {B - 1}] (batch size {B}), got {sample!r}")
    if units is None:
        return list(range(min(H, default)))
    if isinstance(units, str) or not isinstance(units, Sequence | np.ndarray):
        raise ConfigError(f"units must be a list of unit indices, e.g. [0, 1], got {units!r}")
    units = list(units)
    if not units or not all(_whole(u, 0) and u < H for u in units):
        raise ConfigError(f"units must be indices in [0, {H - 1}] (hidden width {H}), got {units}")
    return units


def _whole(value, least: int) -> bool:
    """Whether ``value`` is an integer (not a bool) of at least ``least``."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= least
