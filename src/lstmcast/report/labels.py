"""Labels that fit their panel: long column names wrapped, then cut with "…" in the middle.

Measured on the laid-out figure, so any font and size fits; used by every report figure.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text


def fit_labels(fig: Figure, titles: list[Text], lines: int = 2) -> None:
    """Wrap each y label to its panel's height and each title to the room before the next panel,
    in at most ``lines`` lines, cutting what still does not fit with "…": a long column name must
    not run into the next panel. Measured on the laid-out figure, so any font and size fits."""
    FigureCanvasAgg(fig)  # a canvas that can measure text
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    for ax in fig.axes:
        room = ax.get_window_extent(renderer).height
        _shrink(ax.yaxis.label, ax.get_ylabel(), lambda box: box.height, room, renderer, lines)
    names = [title.get_text() for title in titles]
    for _ in range(2):  # the layout makes room for a long title: measure again once it is shorter
        fig.draw_without_rendering()
        for title, name in zip(titles, names, strict=True):
            room = _room_right(fig, title.axes, renderer)
            _shrink(title, name, lambda box: box.x1, room, renderer, lines)


def _room_right(fig: Figure, ax, renderer) -> float:
    """Where a title left-aligned on ``ax`` must end: 6 points before the next panel of its
    row, or before the figure's edge."""
    box = ax.get_window_extent(renderer)
    right = [fig.bbox.width] + [
        other.get_window_extent(renderer).x0 for other in fig.axes
        if other.get_window_extent(renderer).x0 > box.x1 - 1
        and other.get_window_extent(renderer).y1 > box.y0
        and other.get_window_extent(renderer).y0 < box.y1
    ]  # fmt: skip
    return min(right) - 6 * fig.dpi / 72


def _shrink(text: Text, full: str, extent, room: float, renderer, lines: int) -> None:
    """Set ``text`` to ``full``, then narrow it a character at a time until ``extent(its box)``
    is at most ``room``."""
    full = " ".join(full.split())  # a line break in a column name is a space here
    text.set_text(full)
    width = len(full)
    while width > 3 and extent(text.get_window_extent(renderer)) > room:
        width -= 1
        text.set_text(fit_text(full, width, lines))


def fit_text(text: str, width: int, lines: int = 2) -> str:
    """``text`` in at most ``lines`` lines of at most ``width`` characters: wrapped at spaces,
    words too long for a line broken, and what still does not fit cut from the middle of the
    last line with "…", so that both ends of a long name stay readable.

    Example:
        >>> fit_text("lstm-univariate a_very_long_column_name_that_goes_on", 16)
        'lstm-univariate\\na_very_l…goes_on'
    """
    words = " ".join(str(text).split())
    wrapped, line = [], ""
    for word in words.split(" "):  # a word too long for a line starts one of its own
        if line and len(line) + 1 + len(word) <= width:
            line += " " + word
            continue
        wrapped += [line] if line else []
        while len(word) > width:
            wrapped, word = [*wrapped, word[:width]], word[width:]
        line = word
    wrapped.append(line)
    if len(wrapped) <= lines:
        return "\n".join(wrapped)
    kept, end = wrapped[: lines - 1], 0
    for line in kept:
        end = words.index(line, end) + len(line)
    rest = words[end:].strip()
    if len(rest) > width:
        head = width // 2
        rest = rest[:head] + "…" + rest[len(rest) - (width - 1 - head) :]
    return "\n".join([*kept, rest])
