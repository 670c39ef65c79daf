"""Which columns of a table a run uses: the targets and inputs that a config names, checked.

A target must be a quantity: not free text, not the 0/1 code of a category. An input may name a
one-hot encoded text column by its own name (``wind`` stands for ``wind_E wind_N wind_W``), and
no input may be free text. A misspelt column gets the nearest names.

Example:
    >>> resolve_columns(table, ForecastConfig(target=["load"]))  # doctest: +SKIP
    (['load'], ['load', 'temp'])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lstmcast.data.checks import missing_columns_message
from lstmcast.data.table import Table
from lstmcast.errors import ConfigError, DataError

if TYPE_CHECKING:
    from lstmcast.config import ForecastConfig

# The target a registered dataset is forecast for when the config names none.
DEFAULT_TARGETS = {"beijing-pm25": ["pollution"], "us-macro": ["realgdp"]}


def resolve_columns(table: Table, cfg: ForecastConfig) -> tuple[list[str], list[str]]:
    """The target and input columns of ``table`` that ``cfg`` names, checked usable.

    Targets default to the registered dataset's (``DEFAULT_TARGETS``); ``["all"]`` is every
    numeric column; inputs default to every column. Returns ``(targets, inputs)``.
    """
    columns = list(table.frame.columns)
    coded = {c: raw for raw, enc in table.encodings.items() for c in [raw, *enc["columns"]]}
    targets = cfg.target or DEFAULT_TARGETS.get(cfg.data)
    if targets == ["all"] and "all" not in columns:  # every numeric variable's next step(s)
        every = _expand_onehot(table, list(cfg.features)) if cfg.features else columns
        targets = [c for c in every if c not in coded]  # categories' codes are no quantities
    if not targets:
        raise ConfigError(
            f"no target column given: pass --target COLUMN (one of: {', '.join(columns)})"
        )
    _check_free_text(table, targets, "forecast it: pick another --target")
    categorical = [c for c in targets if c in coded]
    if categorical:
        raise DataError(
            f"target column {categorical[0]!r} holds the categories of the text column "
            f"{coded[categorical[0]]!r}, not a quantity, and cannot be forecast by regression: "
            "pick a numeric --target (it can stay an input)"
        )
    _check_time_columns(table, targets, "target", "pick another --target")
    missing = [c for c in targets if c not in columns]
    if missing:
        raise DataError(missing_columns_message(missing, columns, what="target"))
    inputs = _expand_onehot(table, list(cfg.features)) if cfg.features else columns
    if cfg.features:
        _check_free_text(table, cfg.features, "read it: leave it out of --features")
    else:  # every column
        _check_free_text(table, list(table.skipped), "read it: name the inputs with --features")
    _check_time_columns(table, inputs, "feature", "leave it out of --features")
    missing = [c for c in inputs if c not in columns]
    if missing:
        raise DataError(missing_columns_message(missing, columns, what="feature"))
    return list(targets), inputs


def _expand_onehot(table: Table, names: list[str]) -> list[str]:
    """``names`` with a one-hot encoded column's own name replaced by its 0/1 columns
    (``wind`` -> ``wind_E wind_N wind_W``), so that --features can name the raw column."""
    out = []
    for name in names:
        encoding = table.encodings.get(name, {})
        onehot = name not in table.frame.columns and encoding.get("kind") == "onehot"
        out.extend(c for c in (encoding["columns"] if onehot else [name]) if c not in out)
    return out


def _check_free_text(table: Table, wanted: list[str], fix: str) -> None:
    """DataError when a column in ``wanted`` is free text, which no network can use."""
    free = [c for c in wanted if c in table.skipped]
    if free:
        usable = " ".join(map(str, table.frame.columns))
        raise DataError(f"{table.skipped[free[0]]}; no network can {fix} (usable: {usable})")


def _check_time_columns(table: Table, wanted: list[str], what: str, fix: str) -> None:
    """DataError when a column in ``wanted`` went into the table's timestamps (and is gone):
    named as such, rather than "not found"."""
    timed = [c for c in wanted if c in table.time_columns and c not in table.frame.columns]
    if timed:
        raise DataError(
            f"{what} column {timed[0]!r} is one of the columns the table's timestamps were read "
            f"from ({', '.join(table.time_columns)}), not a value column: {fix}, or copy it into "
            "a column of another name to read it as a value too"
        )
