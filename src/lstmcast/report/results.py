"""The ``compare`` result as the report reads it: its model rows checked, their names made
distinct, the scored ones picked out, and what each model reads as its inputs."""

from __future__ import annotations

import math

from lstmcast.errors import ConfigError


def model_rows(result: dict) -> list[dict]:
    """The ``results`` list, checked: a non-empty list of dicts that each have a ``name``."""
    rows = result.get("results") if isinstance(result, dict) else None
    if not rows or not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ConfigError(
            "result['results'] must be a non-empty list of model rows "
            f"(dicts with name, rmse, ...), got {type(rows).__name__}: pass the dict that "
            "`lstmcast compare --json` writes"
        )
    for row in rows:
        if "name" not in row:
            raise ConfigError(
                f"every row of result['results'] needs a 'name', got keys {sorted(row)}: "
                "add the model or baseline name to each row"
            )
    return rows


def distinct_names(result: dict) -> dict:
    """A shallow copy whose rows have distinct names: a repeat gets its inputs appended.

    Two baselines both called "ridge" (one on every input, one on the target alone) become
    "ridge" and "ridge-univariate", so the table, the colours and the verdict can tell them apart.
    """
    seen, rows = set(), []
    for row in model_rows(result):
        name, k = row["name"], 2
        if name in seen:
            name = f"{row['name']}-{row.get('inputs') or 'other'}"
            while name in seen:
                name, k = f"{row['name']}-{k}", k + 1
            row = {**row, "name": name}
        seen.add(name)
        rows.append(row)
    return {**result, "results": rows}


def scored_rows(rows: list[dict]) -> list[dict]:
    """The rows with a finite ``rmse``; a ConfigError when there is none."""
    scored = [row for row in rows if finite(row.get("rmse"))]
    if not scored:
        raise ConfigError(
            "result['results'] has no row with a finite 'rmse': at least one model must be "
            "scored before a report can be written"
        )
    return scored


def inputs_text(row: dict, result: dict) -> str:
    """What a model reads: "8 inputs", "pollution alone", or the ``inputs`` field.

    The count comes from the row's ``n_inputs`` or ``features``, else from the result's
    ``inputs`` dict (``{"multivariate": [column, ...], "univariate": [...]}``).
    """
    n, columns = row.get("n_inputs"), None
    named = result.get("inputs") if isinstance(result.get("inputs"), dict) else {}
    for names in (row.get("features"), named.get(row.get("inputs"))):
        if columns is None and isinstance(names, list):
            columns = names
    n = len(columns) if n is None and columns is not None else n
    if row.get("inputs") == "multivariate":
        if n == 1 and columns and len(columns) == 1:  # --features naming one other column
            return f"{columns[0]} alone"
        return f"{n} input{'s' * (n != 1)}" if n else "multivariate"
    target = result.get("target")
    if isinstance(target, list) and len(target) > 1:  # compare fits one LSTM per target
        target = f"each of the {len(target)} targets"
    elif isinstance(target, list):
        target = ", ".join(map(str, target))
    if row.get("inputs") == "univariate" and target:
        return f"{target} alone"
    return str(row.get("inputs") or "–")


def finite(value: object) -> bool:
    """Whether ``value`` is a finite int or float (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
