"""The report: a self-contained HTML page and a Markdown twin, from a ``compare`` result dict.

``write_report(result, out_dir)`` writes ``report.html`` (figures embedded as base64 PNG, one
small inline stylesheet, no external files) and ``report.md`` (figures as PNG files beside it).
The headline sentence (the verdict) comes from ``lstmcast.report.headline``.
"""

from __future__ import annotations

import base64
import errno
import html
import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from lstmcast.data.download import write_atomic
from lstmcast.evaluation.display import decimals
from lstmcast.evaluation.metrics import skill
from lstmcast.report import figures
from lstmcast.report.headline import seed_note, verdict
from lstmcast.report.results import distinct_names, finite, inputs_text, model_rows, scored_rows

PERSISTENCE = figures.PERSISTENCE


def write_report(
    result: dict, out_dir: str | Path, *, title: str | None = None
) -> dict[str, Path | list[Path]]:
    """Write ``report.html`` and ``report.md`` (with its PNG figures) into ``out_dir``.

    Every figure is drawn before anything is written, and every file is written into a hidden
    folder in ``out_dir`` and moved into place only once all are written, so a failure (a full
    disk) leaves an earlier report untouched, never half old and half new.

    Args:
        result: the dict of ``lstmcast compare`` (see docs/report.md for its keys).
        out_dir: folder to write into; created if missing.
        title: the page heading; defaults to "<dataset>: <target>, <horizon> <unit>s ahead".

    Returns:
        ``{"html": Path, "markdown": Path, "figures": [Path, ...]}``.

    Example:
        >>> paths = write_report(result, "runs/beijing")  # doctest: +SKIP
        >>> paths["html"]  # doctest: +SKIP
        PosixPath('runs/beijing/report.html')
    """
    result = distinct_names(result)
    scored_rows(result["results"])  # validate before drawing
    title = title or _default_title(result)
    drawn = figures.draw_all(result)
    page = render_html(result, title, drawn)
    markdown = render_markdown(result, title, drawn)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {f"report_{fig.name}.png": fig.png for fig in drawn}
    files["report.md"] = markdown.encode("utf-8")
    files["report.html"] = page.encode("utf-8")
    _write_together(out, files)
    pngs = [out / f"report_{fig.name}.png" for fig in drawn]
    for stale in out.glob("report_*.png"):  # figures of an earlier report with more data
        if stale not in pngs and stale.stem.removeprefix("report_") in figures.NAMES:
            stale.unlink()
    return {"html": out / "report.html", "markdown": out / "report.md", "figures": pngs}


def _write_together(out: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (name: content) into folder ``out``: all are written to a hidden folder
    there first, then each is renamed into place; a failed write changes nothing in ``out``."""
    for name in files:
        if (out / name).is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(out / name))
    staging = Path(tempfile.mkdtemp(prefix=".report.", dir=out))
    try:
        for name, data in files.items():
            write_atomic(staging / name, data, parents=False)
        for name in files:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def metrics_rows(result: dict) -> list[dict]:
    """The metrics table as display strings, sorted by RMSE; unscored models last.

    Each row: ``name``, ``inputs``, ``rmse``, ``mae``, ``skill``, ``n_scored``, ``fit``,
    ``persistence`` (bool) and ``best`` (bool).
    """
    rows = model_rows(result)
    persistence = next((row for row in rows if row["name"] == PERSISTENCE), None)
    p = persistence.get("rmse") if persistence else None
    scored = sorted(scored_rows(rows), key=lambda row: row["rmse"])
    ordered = scored + [row for row in rows if row not in scored]
    rmse_places = decimals([row.get("rmse") for row in rows])
    mae_places = decimals([row.get("mae") for row in rows])
    out = []
    for row in ordered:
        rmse, mae = row.get("rmse"), row.get("mae")
        gain = skill(rmse, p) if finite(rmse) and finite(p) and p > 0 else None
        n, fit = row.get("n_scored"), row.get("fit_seconds")
        out.append(
            {
                "name": row["name"],
                "inputs": inputs_text(row, result),
                "rmse": f"{rmse:.{rmse_places}f}" if finite(rmse) else "–",
                "mae": f"{mae:.{mae_places}f}" if finite(mae) else "–",
                "skill": "–" if gain is None else f"{100 * gain:+.1f}%".replace("-", "−"),
                "n_scored": f"{int(n):,}" if finite(n) else "–",
                "fit": f"{fit:.1f}" if finite(fit) else "–",
                "persistence": row["name"] == PERSISTENCE,
                "best": bool(scored) and row is scored[0],
            }
        )
    return out


def per_target_tables(result: dict) -> list[tuple[str, list[dict]]]:
    """With several targets: for each target column, a heading (the column and its unit, when
    known) and its metrics rows (as ``metrics_rows``) from each result's ``per_target`` scores;
    the pooled table mixes the targets' units."""
    rows = model_rows(result)
    first = rows[0].get("per_target") or []
    if not all(len(row.get("per_target") or []) == len(first) for row in rows):
        return []
    tables = []
    for k, entry in enumerate(first):
        single = [
            {**row, **{key: row["per_target"][k][key] for key in ("rmse", "mae", "n_scored")}}
            for row in rows
        ]
        unit = f" ({entry['unit']})" if entry.get("unit") else ""
        tables.append((f"{entry['target']}{unit}", metrics_rows({**result, "results": single})))
    return tables


def render_html(result: dict, title: str, drawn: list[figures.Drawn]) -> str:
    """The whole page as one string: inline CSS, figures as data URIs, nothing fetched."""
    e = html.escape
    unit = f" ({e(result['unit'])})" if result.get("unit") else ""
    body = [
        f"<header><p class='kicker'>lstmcast report</p><h1>{e(title)}</h1><dl class='facts'>",
        *(f"<div><dt>{e(key)}</dt><dd>{e(value)}</dd></div>" for key, value in _facts(result)),
        "</dl></header>",
        f"<section class='verdict'><p>{e(verdict(result))}</p>",
        *([f"<p class='seeds'>{e(note)}</p>"] if (note := seed_note(result)) else []),
        "</section>",
        "<section><h2>Metrics against the baselines</h2>",
        "<table class='metrics'><thead><tr><th>Model</th><th>Inputs</th>",
        f"<th class='num'>RMSE{unit}</th><th class='num'>MAE{unit}</th>",
        "<th class='num'>Skill vs persistence</th><th class='num'>Scored</th>",
        "<th class='num'>Fit (s)</th></tr></thead><tbody>",
    ]
    for row in metrics_rows(result):
        classes = " ".join(
            name for name, on in (("persistence", row["persistence"]), ("best", row["best"])) if on
        )
        tag = " <span class='tag'>reference</span>" if row["persistence"] else ""
        tag += " <span class='tag best'>best</span>" if row["best"] else ""
        body.append(
            f"<tr class='{classes}'><td>{e(row['name'])}{tag}</td><td>{e(row['inputs'])}</td>"
            + "".join(
                f"<td class='num'>{e(row[key])}</td>"
                for key in ("rmse", "mae", "skill", "n_scored", "fit")
            )
            + "</tr>"
        )
    body.append(
        "</tbody></table><p class='note'>Sorted by RMSE on the "
        f"{e(str(result.get('split', 'test')))} split. Skill vs persistence is "
        "1 − RMSE / RMSE<sub>persistence</sub>: above zero beats “the next value equals the "
        "last one”. Scored counts the (window, step) pairs with an observed target.</p></section>"
    )
    tables = per_target_tables(result)
    if tables:
        body.append(
            "<section><h2>Each target on its own</h2><p class='note'>The table above pools "
            "targets measured in different units; here each is scored alone, with skill "
            "against its own persistence.</p>"
        )
        for target, rows in tables:
            body.append(
                f"<h3>{e(target)}</h3><table class='metrics'><thead><tr><th>Model</th>"
                "<th class='num'>RMSE</th><th class='num'>MAE</th>"
                "<th class='num'>Skill vs persistence</th><th class='num'>Scored</th>"
                "</tr></thead><tbody>"
            )
            body += [
                f"<tr><td>{e(row['name'])}</td>"
                + "".join(
                    f"<td class='num'>{e(row[key])}</td>"
                    for key in ("rmse", "mae", "skill", "n_scored")
                )
                + "</tr>"
                for row in rows
            ]
            body.append("</tbody></table>")
        body.append("</section>")
    for fig in drawn:
        data = base64.b64encode(fig.png).decode("ascii")
        body.append(
            f"<section><h2>{e(fig.title)}</h2><figure><img alt='{e(fig.title)}' "
            f"src='data:image/png;base64,{data}'><figcaption>{e(fig.caption)}</figcaption>"
            "</figure></section>"
        )
    config = result.get("config") or {}
    if config:
        body.append("<section><h2>Configuration</h2><dl class='config'>")
        body += [
            f"<div><dt>{e(str(key))}</dt><dd><code>{e(_config_value(value))}</code></dd></div>"
            for key, value in config.items()
        ]
        body.append("</dl></section>")
    body.append(f"<footer>{e(_footer())}</footer>")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(title)}</title><style>{_CSS}</style></head>\n<body><main>\n"
        + "\n".join(body)
        + "\n</main></body></html>\n"
    )


def render_markdown(result: dict, title: str, drawn: list[figures.Drawn]) -> str:
    """The report as Markdown; figures are linked as ``report_<name>.png`` beside it."""
    unit = f" ({result['unit']})" if result.get("unit") else ""
    facts = " · ".join(f"{_md(key)}: {_md(value)}" for key, value in _facts(result))
    lines = [f"# {_md(title)}", "", facts, "", f"**{_md(verdict(result))}**", ""]
    if note := seed_note(result):
        lines += [_md(note), ""]
    lines += [
        "## Metrics against the baselines",
        "",
        f"| Model | Inputs | RMSE{_md(unit)} | MAE{_md(unit)} | Skill vs persistence | Scored | "
        "Fit (s) |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for row in metrics_rows(result):
        name = _md(row["name"])
        name = f"**{name}**" if row["best"] else name
        name += " (reference)" if row["persistence"] else ""
        cells = [name, _md(row["inputs"])]
        cells += [row[key] for key in ("rmse", "mae", "skill", "n_scored", "fit")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Sorted by RMSE on the {_md(result.get('split', 'test'))} split. Skill vs persistence is "
        "1 − RMSE / RMSE(persistence).",
        "",
    ]
    tables = per_target_tables(result)
    if tables:
        lines += [
            "## Each target on its own",
            "",
            "The table above pools targets measured in different units; here each is scored "
            "alone, with skill against its own persistence.",
            "",
        ]
        for target, rows in tables:
            lines += [
                f"### {_md(target)}",
                "",
                "| Model | RMSE | MAE | Skill vs persistence | Scored |",
                "|---|--:|--:|--:|--:|",
            ]
            lines += [
                "| "
                + " | ".join(
                    [_md(row["name"])] + [row[key] for key in ("rmse", "mae", "skill", "n_scored")]
                )
                + " |"
                for row in rows
            ]
            lines.append("")
    for fig in drawn:
        lines += [f"## {_md(fig.title)}", "", f"![{_md(fig.title)}](report_{fig.name}.png)", ""]
        lines.append(_md(fig.caption))
        lines.append("")
    config = result.get("config") or {}
    if config:
        lines += ["## Configuration", "", "| Setting | Value |", "|---|---|"]
        for key, value in config.items():
            lines.append(f"| {_md(key)} | {_md_code(_config_value(value))} |")
        lines.append("")
    lines += [f"_{_footer()}_", ""]
    return "\n".join(lines)


def _facts(result: dict) -> list[tuple[str, str]]:
    """The facts under the title: dataset, target, horizon, and the dates of each split."""
    facts = [("Dataset", str(result["dataset"]))] if result.get("dataset") else []
    if result.get("target"):
        facts.append(("Target", figures.value_label(result)))
    if result.get("horizon"):
        h = int(result["horizon"])
        facts.append(("Horizon", f"{h} {figures.step_unit(result)}{'s' if h != 1 else ''}"))
    split = str(result.get("split") or "test")
    period = result.get("period") or {}
    names = {"train": "Training", "val": "Validation", "test": "Test"}
    for name in dict.fromkeys([*names, split]):
        if period.get(name):
            label = names.get(name, name.capitalize())
            scored = " (scored)" if name == split else ""
            facts.append((f"{label}{scored}", " – ".join(map(_when, period[name]))))
    return facts


def _when(stamp: object) -> str:
    """A timestamp without zero seconds: "2014-01-01 00:00:00" becomes "2014-01-01 00:00"."""
    text = str(stamp)
    return text[:-3] if len(text) == 19 and text.endswith(":00") and text[10] in " T" else text


def _default_title(result: dict) -> str:
    horizon = int(result.get("horizon") or 1)
    unit = figures.step_unit(result)
    target = result.get("target") or "forecast"
    if isinstance(target, list):
        target = ", ".join(map(str, target))
    dataset = str(result.get("dataset") or "lstmcast")
    dataset = Path(dataset).name if "/" in dataset or "\\" in dataset else dataset
    return f"{dataset}: {target}, {horizon} {unit}{'s' if horizon != 1 else ''} ahead"


def _footer() -> str:
    from lstmcast import __version__

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Written by lstmcast {__version__} on {stamp}."


def _config_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_MD_SPECIAL = re.compile(r"([\\`*_~\[\]|#]|<(?=[A-Za-z/!?]))")  # "<" only where it opens a tag


def _md(text: object) -> str:
    """Text safe anywhere in a Markdown line or table cell: line breaks become spaces, and
    emphasis, link, tag, heading and table characters are backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))


def _md_code(text: str) -> str:
    """A code span for a table cell: backslash escapes do not work inside one, so it is fenced
    with more backticks than it holds, and only the table's pipe is escaped."""
    text = " ".join(text.splitlines()).replace("|", "\\|")
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #e3e6ec; --accent: #1f5fbf; --soft: #f3f6fb; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f6; color: var(--ink); font: 15px/1.55 system-ui,
  -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 960px; margin: 32px auto; background: #fff; padding: 36px 40px 28px;
  border-radius: 10px; box-shadow: 0 1px 3px rgba(20, 30, 60, .08); }
.kicker { margin: 0; color: var(--accent); font-size: 12px; font-weight: 600;
  letter-spacing: .08em; text-transform: uppercase; }
h1 { margin: 4px 0 14px; font-size: 26px; line-height: 1.25; }
h1, h2, h3, .facts dd, .verdict p, .note, figcaption { overflow-wrap: anywhere; }
h2 { margin: 36px 0 12px; font-size: 18px; padding-bottom: 6px;
  border-bottom: 1px solid var(--line); }
.facts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px 24px; margin: 0; }
.facts dt { color: var(--muted); font-size: 11px; font-weight: 600; letter-spacing: .04em; }
.facts dd { margin: 0; font-size: 14px; font-variant-numeric: tabular-nums; }
.verdict { margin: 26px 0 8px; padding: 16px 20px; background: var(--soft);
  border-left: 4px solid var(--accent); border-radius: 4px; }
.verdict p { margin: 0; font-size: 17px; font-weight: 500; }
.verdict p.seeds { margin-top: 8px; font-size: 14px; font-weight: 400; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 8px 10px; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600;
  border-bottom: 2px solid var(--line); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { font-weight: 600; }
tr.persistence td { background: #f7f8fa; }
.tag { display: inline-block; margin-left: 6px; padding: 0 7px; font-size: 11px; font-weight: 500;
  border-radius: 8px; background: #e6e9ef; color: var(--muted); vertical-align: 1px; }
.tag.best { background: #dcf1e2; color: #1b6b35; }
.note, figcaption { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
figure { margin: 0; }
figure img { display: block; width: 100%; height: auto; }
.config { display: grid; grid-template-columns: 1fr 1fr; column-gap: 32px; margin: 0; }
.config div { display: flex; gap: 12px; padding: 6px 2px; border-bottom: 1px solid var(--line);
  font-size: 14px; }
.config dt { flex: 0 0 38%; color: var(--muted); overflow-wrap: anywhere; }
.config dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.config code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media (max-width: 720px) { main { padding: 20px; margin: 0; }
  .facts, .config { grid-template-columns: 1fr; }
  .metrics { display: block; overflow-x: auto; } }
@media print { body { background: #fff; } main { box-shadow: none; margin: 0; } }
"""
