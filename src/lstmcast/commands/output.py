"""What the forecasting commands write: the results table, the ``--json`` schema, and the
checks that an output path destroys nothing the command reads."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lstmcast.errors import ConfigError, LstmcastError


def write_json_atomic(path: str, obj: dict) -> None:
    """Write ``obj`` as JSON to ``path`` via a temporary file and a rename."""
    from lstmcast.data.download import write_atomic

    write_atomic(Path(path), json.dumps(obj, indent=2).encode())


def check_output(output: str | None, flag: str, reads: object = None, model: str | None = None):
    """Refuse an output path that cannot be written (a read-only place), or that would destroy
    what the command reads: the table (``reads``, a path or a dataset name) or a file of the
    model directory ``model``. Checked before any work, so that nothing is lost to a typo."""
    if not output:
        return
    if output == "-" and flag != "--out":  # a file "-" in the working directory, not stdout
        raise ConfigError(
            f"{flag} - would write a file named '-': name a file, or /dev/stdout for standard "
            "output"
        )
    try:
        target = Path(output).resolve()
    except (RuntimeError, OSError) as err:  # a symlink loop
        raise ConfigError(f"{flag} {output} cannot be written: {err}; name another path") from None
    place = next(p for p in (target, *target.parents) if p.exists())
    if not os.access(place if place.is_dir() else place.parent, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{flag} {output} cannot be written: {place} is read-only (its permissions, or a "
            "read-only file system); choose another place"
        )
    if model is not None:
        folder = Path(model).resolve()
        if target == folder or folder in target.parents:
            raise ConfigError(
                f"{flag} {output} is inside the model directory {model}, which it would damage: "
                "write it elsewhere"
            )
    reads = _file_of(reads)
    if reads is not None and target.exists():
        if os.path.samefile(target, reads):
            raise ConfigError(
                f"{flag} {output} is the table this command reads ({reads}), which it would "
                "overwrite: write it elsewhere"
            )


def _file_of(data: object) -> str | None:
    """The file behind ``data``: a path as given, a dataset name's local copy (never
    downloaded); None for anything else."""
    from lstmcast.data.registry import REGISTRY, locate

    if isinstance(data, str) and data in REGISTRY:
        try:
            found = locate(data) if REGISTRY[data].url else None
        except LstmcastError:  # LSTMCAST_DATA names nothing: the command itself will say so
            return None
        return None if found is None else str(found)
    if isinstance(data, str | os.PathLike) and Path(os.path.expanduser(data)).is_file():
        return os.path.expanduser(data)
    return None


SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


def format_results(result: dict, note: str = "") -> str:
    """The results as an aligned text table, best RMSE first, with skill against persistence;
    under a line naming the split scored (when the result says) and ``note``."""
    split = SPLIT_NAMES.get(result.get("split"))
    title = [f"scores on the {split} split{note}:"] if split else []
    rows = sorted(result["results"], key=lambda r: r["rmse"])
    base = next((r["rmse"] for r in rows if r["name"] == "persistence"), None)
    rmse = _column([r["rmse"] for r in rows], "RMSE")
    mae = _column([r["mae"] for r in rows], "MAE")
    names = f"{'model':<20} {'inputs':<13}"
    lines = [f"{names} {rmse[0]} {mae[0]} {'skill':>7} {'n scored':>9} {'fit s':>8}"]
    for r, rmse_text, mae_text in zip(rows, rmse[1:], mae[1:], strict=True):
        fit = "" if r.get("fit_seconds") is None else f"{r['fit_seconds']:.1f}"
        lines.append(
            f"{r['name']:<20} {r['inputs']:<13} {rmse_text} {mae_text} "
            f"{_skill(r['rmse'], base)} {r['n_scored']:>9d} {fit:>8}"
        )
    unit = result.get("unit")
    if "per_target" in rows[0]:
        pooled = f"targets all in {unit}" if unit else "targets whose units may differ"
        lines[0] += f"   (pooled over {pooled}; per target below)"
        lines += _per_target_lines(rows)
    elif unit:
        lines[0] += f"   (errors in {unit})"
    return "\n".join(title + lines)


def _per_target_lines(rows: list[dict]) -> list[str]:
    """One small table per target column, best RMSE first, skill against its persistence."""
    lines = []
    for k, entry in enumerate(rows[0]["per_target"]):
        scored = [(r["name"], r["inputs"], r["per_target"][k]) for r in rows]
        scored = sorted(
            (item for item in scored if item[2]["rmse"] is not None),
            key=lambda item: item[2]["rmse"],
        )
        base = next((t["rmse"] for name, _, t in scored if name == "persistence"), None)
        rmse = _column([t["rmse"] for _, _, t in scored], "RMSE")
        mae = _column([t["mae"] for _, _, t in scored], "MAE")
        unit = f" ({entry['unit']})" if entry.get("unit") else ""
        lines += ["", f"target {entry['target']}{unit}:"]
        for (name, inputs, t), rmse_text, mae_text in zip(scored, rmse[1:], mae[1:], strict=True):
            lines.append(
                f"  {name:<18} {inputs:<13} {rmse_text} {mae_text} {_skill(t['rmse'], base)} "
                f"{t['n_scored']:>9d}"
            )
    return lines


def _column(values: list[float], header: str) -> list[str]:
    """A header and its right-aligned numbers, all with the decimals that show the column's
    smallest nonzero value to four significant figures (never fewer than three decimals)."""
    from lstmcast.evaluation.display import decimals

    places = decimals(values, least=3)
    texts = [f"{v:.{places}f}" for v in values]
    width = max([9, *(len(text) for text in texts)])
    return [f"{header:>{width}}", *(f"{text:>{width}}" for text in texts)]


def _skill(rmse: float, base: float | None) -> str:
    """1 - RMSE / persistence's RMSE, or "–" when persistence is unscored or exact (RMSE 0)."""
    from lstmcast.evaluation import skill

    return f"{skill(rmse, base):>+7.1%}" if base else f"{'–':>7}"


def public_json(result: dict) -> dict:
    """The documented ``--json`` schema: dataset, split, horizon, results[name, inputs, ...]."""
    keep = (
        "name",
        "inputs",
        "rmse",
        "mae",
        "n_scored",
        "fit_seconds",
        "rmse_per_step",
        "mae_per_step",
        "per_target",
    )
    public = {
        "dataset": result["dataset"],
        "split": result["split"],
        "horizon": result["horizon"],
        "results": [{k: r[k] for k in keep if k in r} for r in result["results"]],
    }
    if "tests" in result:  # compare: could chance explain the verdict's differences?
        public["tests"] = result["tests"]
    if "seeds" in result:  # compare --seeds: each LSTM's RMSE from every seed
        public["seeds"] = result["seeds"]
    return public
