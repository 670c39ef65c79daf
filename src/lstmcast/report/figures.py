"""The report's figures: error by horizon step, forecast against actual, learning curves.

Each drawing function takes the ``result`` dict of ``lstmcast compare``/``evaluate`` and returns
a matplotlib ``Figure`` (or ``None`` when the result holds nothing to draw). Figures are built
with ``matplotlib.figure.Figure`` and rendered by the Agg canvas, never through ``pyplot``, so
drawing a report neither needs a display nor changes the backend of the caller's session.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from lstmcast.evaluation.display import decimals
from lstmcast.report.fonts import font_fallback
from lstmcast.report.labels import fit_labels, fit_text

DPI = 144  # 9-inch-wide figures become 1296 px: sharp on high-density screens, ~100 kB each
WIDTH = 9.0  # inches; the page shows them at 880 px
GRID_FROM = 4  # error-by-step panels (one per target) go two to a row from this many targets
PERSISTENCE = "persistence"
NAMES = ("error_by_step", "forecast", "learning_curves")  # figure files: report_<name>.png
_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.8,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.frameon": False,
    "legend.fontsize": 9,
    "text.parse_math": False,  # a column named "cost_$_total_$" is text, not TeX
}
# Models get colours in the order they appear; persistence is always black and dashed.
CURVES_PER_ROW = 4
_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


@dataclass(frozen=True)
class Drawn:
    """One rendered figure: a file stem, a heading, a caption and the PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


def model_colors(result: dict) -> dict[str, str]:
    """One colour per model name, stable across every figure of a report."""
    colors, i = {}, 0
    names = [row["name"] for row in result.get("results", [])]
    names += list((result.get("stretch") or {}).get("forecasts", {}))
    names += list(result.get("history") or {})
    for name in names:
        if name in colors:
            continue
        family = name.split(" ")[0]  # "lstm-univariate pm2.5", one of several, shares a colour
        if family != name and family in colors:
            colors[name] = colors[family]
        elif name == PERSISTENCE:
            colors[name] = "#222222"
        else:
            colors[name] = _PALETTE[i % len(_PALETTE)]
            i += 1
    return colors


def step_unit(result: dict) -> str:
    """The length of one time step in words ("hour", "day", ...), or "step" when unknown."""
    times = (result.get("stretch") or {}).get("time") or []
    if len(times) < 2:
        return "step"
    delta = pd.Series(pd.to_datetime(times)).diff().median()
    names = {"1min": "minute", "1h": "hour", "1D": "day", "7D": "week"}
    for text, name in names.items():
        if delta == pd.Timedelta(text):
            return name
    return "step"


def value_label(result: dict, what: str | None = None) -> str:
    """An axis label with the target and its unit, e.g. "RMSE (µg/m³)" or "pollution (µg/m³)"."""
    unit = result.get("unit")
    target = result.get("target")
    if isinstance(target, list):
        target = ", ".join(map(str, target))
    text = what or (str(target) if target else "value")
    return f"{text} ({unit})" if unit else text


def _line_style(name: str, colors: dict[str, str], kind: str | None) -> dict:
    """Persistence dashed black, other baselines thin, LSTMs bold."""
    style = {"color": colors.get(name, "#777777"), "label": name}
    if name == PERSISTENCE:
        style.update(linestyle="--", linewidth=1.4)
    elif kind == "baseline":
        style.update(linewidth=1.1, alpha=0.85)
    else:
        style.update(linewidth=1.9)
    return style


def _kinds(result: dict) -> dict[str, str | None]:
    return {row["name"]: row.get("kind") for row in result.get("results", [])}


def target_panels(result: dict) -> list[dict]:
    """One result per target to draw: the result itself with one target, else a copy per target
    whose rows, stretch, target and unit are that target's own (from ``per_target`` and
    ``stretch["targets"]``), since targets in different units cannot share an axis."""
    rows = result.get("results", [])
    per = [row.get("per_target") or [] for row in rows]
    if not rows or len(per[0]) < 2 or any(len(p) != len(per[0]) for p in per):
        return [result]
    stretches = {s.get("target"): s for s in (result.get("stretch") or {}).get("targets") or []}
    panels = []
    for k, entry in enumerate(per[0]):
        name = entry["target"]
        own = [{**row, **{key: p[k].get(key) for key in ("rmse", "mae", "rmse_per_step")}}
               for row, p in zip(rows, per, strict=True)]  # fmt: skip
        stretch = {**(result.get("stretch") or {}), **stretches.get(name, {"time": []})}
        panels.append({**result, "results": own, "target": name, "unit": entry.get("unit"),
                       "stretch": stretch})  # fmt: skip
    return panels


def error_by_step(result: dict) -> Figure | None:
    """RMSE per horizon step for every model (a line each); a bar chart of RMSE when H is 1.

    With several targets, one panel per target (each in its own unit)."""
    panels = [p for p in target_panels(result) if any(_finite(r.get("rmse")) for r in p["results"])]
    if not panels:
        return None
    lines = int(result.get("horizon") or 1) > 1 and any(
        len(row.get("rmse_per_step") or []) > 1 for row in panels[0]["results"]
    )
    n_bars = sum(_finite(row.get("rmse")) for row in panels[0]["results"])
    height = 4.2 if lines else 1.2 + 0.42 * n_bars
    # Four targets or more sit two to a row, so that every variable of a table stays one screen.
    cols = 2 if len(panels) >= GRID_FROM else 1
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(WIDTH, height * (1 if len(panels) == 1 else 0.75 * rows)),
                 dpi=DPI, layout="constrained")  # fmt: skip
    grid = fig.subplots(rows, cols, squeeze=False)
    axes = list(grid.flat[: len(panels)])
    for spare in grid.flat[len(panels) :]:
        fig.delaxes(spare)
    titles = []
    for k, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
        (_error_lines if lines else _error_bars)(ax, panel)
        if len(panels) > 1:
            titles.append(ax.set_title(str(panel["target"])))
        if lines and k + cols < len(panels):
            ax.set_xlabel("")  # a panel below shows the same step axis
    if lines:
        _shared_legend(fig, axes)
    fit_labels(fig, titles)
    return fig


def _error_lines(ax, result: dict) -> None:
    colors, kinds = model_colors(result), _kinds(result)
    per_step = [row for row in result["results"] if len(row.get("rmse_per_step") or []) > 1]
    unit = step_unit(result)
    for row in per_step:
        errors = _floats(row["rmse_per_step"])
        steps = np.arange(1, len(errors) + 1)
        ax.plot(steps, errors, **_line_style(row["name"], colors, kinds.get(row["name"])))
    ax.set_xlabel(f"{unit}s ahead" if unit != "step" else "steps ahead")
    ax.set_xlim(1, max(len(row["rmse_per_step"]) for row in per_step))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(value_label(result, "RMSE"))
    ax.set_ylim(bottom=0)


def _error_bars(ax, result: dict) -> None:
    colors = model_colors(result)
    rows = [row for row in result["results"] if _finite(row.get("rmse"))]
    rows = sorted(rows, key=lambda row: row["rmse"], reverse=True)
    names = [row["name"] for row in rows]
    bars = ax.barh(names, [row["rmse"] for row in rows], color=[colors[n] for n in names])
    places = decimals([row["rmse"] for row in rows])
    ax.bar_label(bars, fmt=f"%.{places}f", padding=3, fontsize=9)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(value_label(result, "RMSE"))


def forecast_stretch(result: dict) -> Figure | None:
    """Forecasts against the actual series over the stretch; gaps where the actual is missing.

    With several targets, one panel per target (each in its own unit), sharing the time axis."""
    panels = [p for p in target_panels(result) if (p.get("stretch") or {}).get("time")]
    if not panels:
        return None
    height = 4.4 if len(panels) == 1 else 2.6 * len(panels)
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    titles = []
    for ax, panel in zip(axes, panels, strict=True):
        _draw_stretch(ax, panel)
        if len(panels) > 1:
            titles.append(ax.set_title(str(panel["target"])))
    axes[-1].set_xlabel(_span(pd.to_datetime(panels[0]["stretch"]["time"])))
    _shared_legend(fig, axes)
    fit_labels(fig, titles)
    return fig


def _shared_legend(fig: Figure, axes) -> None:
    """One legend above the panels, each label once (a panel may draw a line the others lack,
    such as a different best baseline)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    fig.legend(list(seen.values()), list(seen), loc="outside upper center", ncols=min(5, len(seen)))


def _draw_stretch(ax, result: dict) -> None:
    stretch = result["stretch"]
    forecasts = stretch.get("forecasts") or {}
    when = pd.to_datetime(stretch["time"])
    if when.tz is not None:
        when = when.tz_localize(None)
    when = when.to_numpy()
    colors, kinds = model_colors(result), _kinds(result)
    dot = {"marker": "o"} if len(when) == 1 else {}  # a line of one point is not drawn
    actual = _floats(stretch.get("actual") or [])
    if len(actual) == len(when):
        base = _fill_base(actual)
        ax.fill_between(when, base, actual, color="#dcdfe5", linewidth=0, zorder=0)
        ax.plot(when, actual, color="#8a8f99", linewidth=1.0, label="actual", zorder=1, **dot)
    for name in stretch_models(result):
        values = _floats(forecasts[name])
        if len(values) == len(when):
            front = 2 if kinds.get(name) == "baseline" else 3  # the LSTMs on top
            style = _line_style(name, colors, kinds.get(name))
            ax.plot(when, values, **style, zorder=front, **dot)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(_date_formatter(locator))
    if len(when) > 1:  # one test hour: matplotlib widens the axis itself (it warned)
        ax.set_xlim(when[0], when[-1])
    ax.set_ylabel(value_label(result))


def _date_formatter(locator: AutoDateLocator) -> ConciseDateFormatter:
    """Ticks that read alone: "08 Dec" by day, "Jan 2020" at a month's start, "02 Mar" at a
    midnight between hours. No corner offset: matplotlib's is the last tick's month ("2020-Jan"
    under "08 15 22 Jan 08", the first 08 being in December); the axis label names the span."""
    formats = ["%Y", "%b", "%d %b", "%H:%M", "%H:%M", "%S.%f"]
    zero_formats = ["", "%Y", "%b %Y", "%d %b", "%H:%M", "%H:%M"]
    return ConciseDateFormatter(
        locator, formats=formats, zero_formats=zero_formats, show_offset=False
    )


def _span(when: pd.DatetimeIndex) -> str:
    """The stretch's first and last time: "7 Dec 2019 – 29 Jan 2020", hours when it has them."""
    hours = any(when != when.normalize())

    def text(t: pd.Timestamp) -> str:
        return f"{t.day} {t:%b %Y}" + (f" {t:%H:%M}" if hours else "")

    return text(when[0]) if len(when) == 1 else f"{text(when[0])} – {text(when[-1])}"


def _fill_base(actual: np.ndarray) -> float:
    """Where the shading under the actual series starts: zero for series that come near it
    (pollution), else just under the lowest value, so that a series far from zero (GDP in
    billions) is not flattened against an axis that starts at 0."""
    if not np.isfinite(actual).any():
        return 0.0
    low, high = float(np.nanmin(actual)), float(np.nanmax(actual))
    if low <= 0.0 or low <= 0.5 * high:
        return min(0.0, low)
    return low - 0.05 * (high - low)


def stretch_models(result: dict) -> list[str]:
    """The forecasts worth drawing: every LSTM, persistence, and the best other baseline.

    More lines than that over two weeks of hourly data turn the figure into a thicket.
    """
    forecasts = (result.get("stretch") or {}).get("forecasts") or {}
    kinds = _kinds(result)
    rmse = {row["name"]: row.get("rmse") for row in result.get("results", [])}
    others = [n for n in forecasts if kinds.get(n) == "baseline" and n != PERSISTENCE]
    others = [n for n in others if _finite(rmse.get(n))]
    best = min(others, key=lambda n: rmse[n]) if others else None
    keep = [n for n in forecasts if kinds.get(n) != "baseline" or n in (PERSISTENCE, best)]
    return sorted(keep, key=lambda n: (kinds.get(n) == "baseline", n != PERSISTENCE, n))


def learning_curves(result: dict) -> Figure | None:
    """Training and validation loss per epoch for each LSTM, its best epoch marked."""
    history = {name: h for name, h in (result.get("history") or {}).items() if h.get("train_loss")}
    if not history:
        return None
    colors = model_colors(result)
    ncols = min(len(history), CURVES_PER_ROW)  # one univariate LSTM per target: rows of four
    nrows = -(-len(history) // ncols)
    fig = Figure(figsize=(WIDTH, 0.6 + 3.0 * nrows), dpi=DPI, layout="constrained")
    grid = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    for ax in grid.flat[len(history) :]:
        ax.remove()
    titles = []
    single = False  # a one-epoch curve is a point: drawn as a marker, filled for training
    for i, (ax, (name, h)) in enumerate(zip(grid.flat, history.items(), strict=False)):
        train, val = _floats(h["train_loss"]), _floats(h.get("val_loss") or [])
        epochs = max(len(train), len(val))
        dot = {"marker": "o", "markersize": 5} if epochs == 1 else {}
        single = single or epochs == 1
        ax.plot(np.arange(1, len(train) + 1), train, color=colors[name], **dot)
        if len(val):
            ax.plot(np.arange(1, len(val) + 1), val, color=colors[name], linestyle="--",
                    markerfacecolor="white", **dot)  # fmt: skip
        best = h.get("best_epoch")
        if best is not None and 1 <= int(best) <= max(len(train), len(val)):
            ax.axvline(int(best), color="#555555", linewidth=0.9, linestyle=":")
            if len(val) >= int(best) and epochs > 1:  # a lone point is already a marker
                ax.plot(int(best), val[int(best) - 1], "o", color=colors[name], markersize=6)
            late = int(best) > (1 + max(len(train), len(val))) / 2  # label left of the line
            ax.annotate(
                f"best epoch {int(best)}",
                xy=(int(best), 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(-4 if late else 4, -2),
                textcoords="offset points",
                ha="right" if late else "left",
                va="top",
                fontsize=9,
                color="#444444",
            )
        titles.append(ax.set_title(name))
        if i + ncols >= len(history):  # no panel below
            ax.set_xlabel("epoch")
        ax.margins(y=0.12)  # room for the "best epoch" label above the curves
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        if epochs == 1:
            ax.set_xlim(0.5, 1.5)
        spread = np.nanmax(np.r_[train, val]) / max(np.nanmin(np.r_[train, val]), 1e-12)
        if spread > 20:
            ax.set_yscale("log")
    for row in grid:
        row[0].set_ylabel("loss (training objective)")
    key = [("-", "training loss"), ("--", "validation loss"), (":", "best epoch (weights kept)")]
    handles = [Line2D([], [], color="#555555", linestyle=ls, label=text) for ls, text in key]
    if single:
        handles[0].set(marker="o", markersize=5)
        handles[1].set(marker="o", markersize=5, markerfacecolor="white")
    fig.legend(handles=handles, loc="outside upper center", ncols=3)
    fit_labels(fig, titles)
    return fig


def draw_all(result: dict) -> list[Drawn]:
    """Draw and render every figure the result has data for, in report order."""
    horizon = int(result.get("horizon") or 1)
    step = int((result.get("stretch") or {}).get("step") or 1)
    specs = [
        (
            "error_by_step",
            "Error by horizon step" if horizon > 1 else "Error by model",
            error_by_step,
            f"RMSE of every model at each of the {horizon} forecast steps, on the "
            f"{result.get('split', 'test')} split; persistence dashed."
            if horizon > 1
            else f"RMSE of every model on the {result.get('split', 'test')} split.",
        ),
        (
            "forecast",
            "Forecast against actual",
            forecast_stretch,
            f"The forecast made {_ahead(result, step)} for each time, against the actual "
            f"value (grey area); gaps are missing observations.{_left_out(result)}",
        ),
        (
            "learning_curves",
            "Learning curves",
            learning_curves,
            "Loss on the training and validation splits per epoch; the dotted line marks the "
            "epoch whose weights were kept.",
        ),
    ]
    drawn = []
    with matplotlib.rc_context(_STYLE), matplotlib.rc_context(font_fallback(result)):
        with warnings.catch_warnings():  # font_fallback has said it once, for every glyph
            warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font")
            for name, title, draw, caption in specs:
                fig = draw(result)
                if fig is not None:
                    drawn.append(Drawn(name, title, caption, _png(fig)))
    return drawn


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _left_out(result: dict) -> str:
    """ " Not drawn, for legibility: var, seasonal_naive." naming every scored row left off the
    forecast figure, and any row whose forecasts the stretch lacks (an older result's)."""
    forecasts = (result.get("stretch") or {}).get("forecasts") or {}
    drawn = {name for panel in target_panels(result) for name in stretch_models(panel)}
    dropped = sorted(set(forecasts) - drawn)
    absent = [row["name"] for row in result.get("results", []) if row["name"] not in forecasts]
    text = f" Not drawn, for legibility: {', '.join(dropped)}." if dropped else ""
    return text + (f" No forecasts kept to draw: {', '.join(absent)}." if absent else "")


def _ahead(result: dict, step: int) -> str:
    """ "1 hour ahead", "3 days ahead", "2 steps ahead"."""
    unit = step_unit(result)
    return f"{step} {unit}{'s' if step != 1 else ''} ahead"


def _floats(values: list) -> np.ndarray:
    """JSON numbers with ``None`` for missing values, as floats with NaN (a gap when plotted)."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def trial_history(
    numbers: list[int],
    values: list[float],
    persistence: float | None = None,
    score: str = "validation RMSE",
) -> Figure | None:
    """Validation RMSE of each finished tuning trial, the best so far, and persistence.

    Args:
        numbers: the trials' numbers (0-based, as Optuna counts them).
        values: their validation RMSE (or other ``score``), in the same order.
        persistence: persistence's score, drawn as a dashed line when given.
        score: what the values are, the y-axis label (tune's several-target objective).
    """
    pairs = sorted((n, v) for n, v in zip(numbers, values, strict=True) if _finite(v))
    if not pairs:
        return None
    x, y = np.array(pairs, dtype=float).T
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH, 4.0), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.plot(x, y, "o", color=_PALETTE[0], alpha=0.7, label="trial")
        ax.step(x, np.minimum.accumulate(y), where="post", color=_PALETTE[1], linewidth=1.9,
                label="best so far")  # fmt: skip
        if _finite(persistence):
            ax.axhline(persistence, color="#222222", linestyle="--", linewidth=1.4,
                       label="persistence")  # fmt: skip
        ax.set_xlabel("trial")
        ax.set_ylabel(fit_text(score, 36))  # the several-target objective in two lines
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.legend(loc="outside upper center", ncols=3)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """``fig`` rendered as PNG, as the report's figures are."""
    with matplotlib.rc_context(_STYLE):
        return _png(fig)
