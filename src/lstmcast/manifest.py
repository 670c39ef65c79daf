"""The manifest of a model directory: its format, its own checksum, and the checks of every
entry the loader uses, so that a damaged or hand-edited ``manifest.json`` is refused in one line
(``ModelFileError``), never crashes the loader and never predicts wrong numbers.

``lstmcast.modelfile`` writes and loads model directories with it.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd

from lstmcast.config import NETWORK_DEFAULTS
from lstmcast.data.checks import frequency_offset
from lstmcast.errors import ModelFileError

FORMAT = "lstmcast-model"
FORMAT_VERSION = 1  # bump when the layout changes; loaders accept every version up to this one
MANIFEST = "manifest.json"
CHECKPOINT_DIR = "checkpoint"  # training checkpoint kept inside the model directory while training
FREQ_PROBE = 1000  # rows a saved freq must span inside pandas' calendar: steps up to ~290 years
# Settings that change the forecast. Every version-1 file holds them, so one missing is damage, not
# an older file (settings added later, e.g. ensemble, take their defaults when absent).
REQUIRED_CONFIG = (
    "lookback",
    "horizon",
    "units",
    "activation",
    "bidirectional",
    "residual",
    "fill",
)
# Entries outside the manifest's own checksum: where ``evaluate`` re-reads the training table,
# which a user may correct after moving the file (``evaluate --data FILE`` reads any table too)
UNCHECKED = ("manifest_sha256", "data_source")


def manifest_sha256(manifest: dict) -> str:
    """The SHA-256 of a parsed manifest's canonical JSON (sorted keys, no spaces), leaving out
    ``UNCHECKED``: the checksum itself, and ``data_source`` so that a moved training table can be
    pointed at again (it only tells ``evaluate`` where to read; it changes no forecast).

    Example:
        >>> manifest_sha256({"format": "lstmcast-model"}) == manifest_sha256(
        ...     {"format": "lstmcast-model", "data_source": "/moved/data.csv"})
        True
    """
    content = {k: v for k, v in manifest.items() if k not in UNCHECKED}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def read_manifest(path: Path) -> dict:
    """The parsed manifest of model directory ``path``, checked for format and version."""
    file = path / MANIFEST
    if not path.exists():
        raise ModelFileError(f"no model at {path}: train one with `lstmcast train --out {path}`")
    if not file.is_file() and (path / CHECKPOINT_DIR).is_dir():
        raise ModelFileError(
            f"{path} holds no model yet: a run is training into it, or was interrupted (continue "
            f"it with `lstmcast train --resume {path}`); wait for it to save the model"
        )
    if not file.is_file():
        raise ModelFileError(
            f"{path} is not an lstmcast model directory (no {MANIFEST}): "
            "pass the directory written by `lstmcast train --out`"
        )
    try:
        manifest = json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(
            f"{file} is not valid JSON ({err}): the file is truncated or "
            "corrupted; retrain and save the model again"
        ) from None
    except (ValueError, RecursionError):  # valid JSON no model holds: a hand-made file
        raise ModelFileError(
            f"{file} is damaged (it holds a number of thousands of digits or lists nested "
            "thousands deep, which no model writes): retrain and save the model again"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(
            f"{file} is not an lstmcast model manifest: pass a directory "
            "written by `lstmcast train --out`"
        )
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(
            f"{file} is damaged (format_version must be a positive whole number, this lstmcast "
            f"writes {FORMAT_VERSION}, got {version!r}): retrain and save the model again"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{file} has format version {version}, newer than this lstmcast "
            f"understands ({FORMAT_VERSION}): upgrade lstmcast"
        )
    return manifest


def manifest_problem(manifest: dict) -> str | None:
    """What is wrong with the entries of a parsed manifest, in a few words; None if nothing.

    A hand-edited manifest must be refused, never crash the loader or predict wrong numbers:
    this checks the types, the column lists against each other, the frequency, the categorical
    encodings and the scaler statistics (one finite number per column). The values of the config
    are checked by ``ForecastConfig`` when ``load`` builds it.
    """
    return (
        _config_problem(manifest.get("config"))
        or _columns_problem(manifest)
        or _freq_problem(manifest.get("freq"))
        or _encodings_problem(manifest.get("encodings"))
        or _scaler_problem(manifest.get("scaler"), manifest["columns"])
        or _other_problem(manifest)
    )


def _config_problem(config) -> str | None:
    """The config is a mapping that holds the settings which shape the forecast (their values
    are checked by ``ForecastConfig``, whose refusal ``load`` reports as damage too)."""
    if not isinstance(config, dict):
        return f"config must be a mapping of settings, got {_short(config)}"
    missing = [k for k in REQUIRED_CONFIG if k not in config]
    if missing:
        return f"config lacks {', '.join(missing)}"
    # null would read as "not given" and take the default: a relu model would run as tanh
    never_null = dict.fromkeys((*REQUIRED_CONFIG, *NETWORK_DEFAULTS))  # in order, once each
    nulls = [k for k in never_null if k in config and config[k] is None]
    if nulls:
        return f"config {', '.join(nulls)} is null, but a saved model records its value"
    return None


def _columns_problem(manifest: dict) -> str | None:
    """inputs and targets are among the columns, which are the inputs then the other targets."""
    for key in ("inputs", "targets", "columns"):
        names = manifest.get(key)
        if not _names(names) or not names:
            return f"{key} must be a non-empty list of distinct column names, got {_short(names)}"
    inputs, targets, columns = manifest["inputs"], manifest["targets"], manifest["columns"]
    for key, names in (("inputs", inputs), ("targets", targets)):
        stray = [c for c in names if c not in columns]
        if stray:
            return f"{key} {stray} are not among the columns {columns}"
    expected = inputs + [c for c in targets if c not in inputs]
    if columns != expected:
        return (
            "columns must be the inputs, then the targets that are not inputs: "
            f"expected {expected}, got {columns}"
        )
    return None


def _freq_problem(freq) -> str | None:
    """freq is null (irregular steps) or a forward step pandas understands, old aliases included,
    short enough that a table of ``FREQ_PROBE`` rows fits in pandas' calendar."""
    if freq is None:
        return None
    if not isinstance(freq, str):
        return f"freq must be a pandas frequency such as 'h', or null, got {_short(freq)}"
    offset = frequency_offset(freq)
    if offset is None:
        return f"freq {freq!r} is not a frequency pandas understands, such as 'h' or 'D'"
    try:  # "0h" steps nowhere, "-1h" backwards, "100000Y" or "10**12 D" out of the calendar
        stamps = pd.date_range("2000-01-01", periods=FREQ_PROBE, freq=offset)
        forward = bool(stamps.is_monotonic_increasing and stamps.is_unique)
    except (ValueError, OverflowError):
        forward = False
    if not forward:
        return f"freq {freq!r} is not a positive step such as 'h' or 'D' that fits pandas' calendar"
    return None


def _encodings_problem(encodings) -> str | None:
    """Each text column maps to its kind, its categories and the columns it was coded into."""
    from lstmcast.data.table import CATEGORICALS

    if not isinstance(encodings, dict):
        return f"encodings must map text columns to their encoding, got {_short(encodings)}"
    for col, enc in encodings.items():
        where = f"encodings[{col!r}]"
        if not isinstance(enc, dict) or not {"kind", "categories", "columns"} <= enc.keys():
            return f"{where} must be a mapping of kind, categories, columns, got {_short(enc)}"
        kind, categories, coded = enc["kind"], enc["categories"], enc["columns"]
        if kind not in CATEGORICALS:
            return f"{where} kind must be one of {list(CATEGORICALS)}, got {_short(kind)}"
        if not _names(categories):
            return f"{where} categories must be a list of distinct names, got {_short(categories)}"
        n_coded = 1 if kind == "label" else len(categories)
        if not _names(coded) or len(coded) != n_coded:
            return f"{where} columns must be a list of {n_coded} name(s), got {_short(coded)}"
    return None


def _scaler_problem(scaler, columns: list[str]) -> str | None:
    """A known scaler kind whose settings are finite numbers and statistics one per column."""
    from lstmcast.data.scalers import SCALERS

    kind = scaler.get("kind") if isinstance(scaler, dict) else None
    if kind not in SCALERS:
        return f"scaler must be a {' or '.join(SCALERS)} scaler state, got {_short(scaler)}"
    stats = SCALERS[kind].stats  # e.g. data_min_ and data_max_
    missing = [k for k in stats if k not in scaler]
    if missing:
        return f"scaler lacks {', '.join(missing)}"
    for key, values in scaler.items():
        if key == "kind":
            continue
        if not isinstance(values, list):
            return f"scaler {key} must be a list of numbers, got {_short(values)}"
        bad = [v for v in values if not _finite(v)]
        if bad:
            return f"scaler {key} holds {_short(bad[0])}, not a finite number"
        if key in stats and len(values) != len(columns):
            return (
                f"scaler {key} holds {len(values)} numbers for the {len(columns)} columns {columns}"
            )
    if kind == "minmax":
        lows, highs = scaler["data_min_"], scaler["data_max_"]
        flipped = [c for c, low, high in zip(columns, lows, highs, strict=True) if high < low]
        if flipped:
            return f"scaler data_max_ is below data_min_ for the columns {flipped}"
    if kind == "standard":
        negative = [c for c, s in zip(columns, scaler["std_"], strict=True) if s < 0]
        if negative:
            return f"scaler std_ is negative for the columns {negative}"
    return None


def _other_problem(manifest: dict) -> str | None:
    """The remaining entries that ``load`` reads have their types."""
    history = manifest.get("history")
    if not isinstance(history, dict):
        return f"history must be a mapping of training curves, got {_short(history)}"
    for key in ("weights_sha256", "manifest_sha256", "data_source"):
        if not isinstance(manifest.get(key), str | None):
            return f"{key} must be text or null, got {_short(manifest[key])}"
    seconds = manifest.get("fit_seconds")
    if seconds is not None and not _finite(seconds):
        return f"fit_seconds must be a number or null, got {_short(seconds)}"
    return _split_ends_problem(manifest.get("split_ends"))


def _split_ends_problem(ends) -> str | None:
    """split_ends is null or two timestamps in order: the ends of training and validation."""
    if ends is None:
        return None
    wrong = f"split_ends must be [last training time, last validation time], got {_short(ends)}"
    if not isinstance(ends, list) or len(ends) != 2 or not all(isinstance(e, str) for e in ends):
        return wrong
    try:
        train_end, val_end = (pd.Timestamp(e) for e in ends)
    except (ValueError, OverflowError):
        return wrong
    if pd.isna(train_end) or pd.isna(val_end):
        return wrong
    if train_end.tz is not None or val_end.tz is not None:  # tables are naive UTC
        return f"split_ends must be times without a UTC offset, got {_short(ends)}"
    if val_end < train_end:
        return wrong
    return None


def _names(value) -> bool:
    """Whether ``value`` is a list of distinct strings."""
    return (
        isinstance(value, list)
        and all(isinstance(v, str) for v in value)
        and len(set(value)) == len(value)
    )


def _finite(value) -> bool:
    """Whether ``value`` is a finite JSON number (not a bool, null, text or NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _short(value) -> str:
    """``repr(value)`` cut to one short line for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
