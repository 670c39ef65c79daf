"""A figure of an LSTM's gate traces: the four gates and both memories over time, a few units.

Drawn with ``matplotlib.figure.Figure`` on the Agg canvas, never through ``pyplot``: no display
needed and the caller's backend is left alone.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lstmcast.data.download import write_atomic
from lstmcast.errors import ConfigError
from lstmcast.reference.traces import check_selection

PANELS = (  # field, title
    ("f", "forget gate f: share of long-term memory kept"),
    ("i", "input gate i: share of the candidate written"),
    ("g", "candidate g: what could be written"),
    ("o", "output gate o: share of act(c) shown as h"),
    ("c", "cell state c: long-term memory"),
    ("h", "hidden state h: short-term memory"),
)


def plot_gate_traces(
    trace: Any,
    path: str | Path,
    sample: int = 0,
    units: Sequence[int] | None = None,
) -> Path:
    """Save a figure of the gates f, i, g, o and the memories c, h of one sequence over time.

    Args:
        trace: a ``GateTrace`` from ``NumpyLSTM.forward(x, return_gates=True)`` (or any object
            with arrays ``f, i, g, o, c, h`` of shape (B, T, H)).
        path: where to write it; the suffix gives the format (``.png``, ``.pdf``, ``.svg``,
            ...). Missing folders are made.
        sample: which sequence of the batch (index into B).
        units: which hidden units to draw (indices into H); the first four by default.

    Returns:
        The path written.

    Example:
        >>> _, _, gates = model.forward(x, return_gates=True)  # doctest: +SKIP
        >>> plot_gate_traces(gates["l0"], "gates.png", units=[0, 1])  # doctest: +SKIP
    """
    path = Path(path)
    kinds = dict(FigureCanvasAgg.get_supported_filetypes())  # png, pdf, svg, jpg, ... (a copy)
    kinds.pop("pgf", None)  # LaTeX code that needs xelatex installed, not an image
    kind = path.suffix.lower().lstrip(".")
    if kind not in kinds:
        raise ConfigError(
            f"cannot tell the image format of {str(path)!r} from its suffix: end the name in "
            f"one of {', '.join('.' + k for k in sorted(kinds))} (e.g. gates.png)"
        )
    units = check_selection(trace, sample, units, default=4)
    T = np.shape(trace.h)[1]

    fig = Figure(figsize=(9.0, 8.0), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 2, sharex=True).ravel()
    steps = np.arange(T)
    for ax, (field, title) in zip(axes, PANELS, strict=True):
        values = np.asarray(getattr(trace, field))[sample]  # (T, H)
        for u in units:
            ax.plot(steps, values[:, u], marker="." if T <= 50 else None, label=f"unit {u}")
        if field in "fio":
            ax.set_ylim(-0.05, 1.05)
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(True, color="#e4e4e4")
    for ax in axes[-2:]:
        ax.set_xlabel("time step t")
    axes[0].legend(fontsize=8, frameon=False)
    name = getattr(trace, "name", "")
    fig.suptitle(f"LSTM gate traces {name}, sample {sample}".replace("  ", " "))
    buffer = io.BytesIO()
    fig.savefig(buffer, format=kind)
    return write_atomic(path, buffer.getvalue())  # missing folders made; no half-written file
