"""Model directories: a versioned JSON manifest beside safetensors weights, written atomically.

A model directory holds ``manifest.json`` (every preprocessing choice, scaler statistics, column
names, frequency, lookback, horizon, library version, training history) and
``weights.safetensors``. Loading parses JSON and raw tensors only, so a model file can never
execute code; the manifest records the SHA-256 of the weights, so a corrupted file is refused
rather than silently predicting garbage, and every manifest entry the loader uses is checked
(types, column lists, finite scaler statistics), so a hand-edited manifest is refused too.
The manifest also records the SHA-256 of its own content (``manifest_sha256``, see
``manifest_sha256``), so an edit that leaves every entry plausible (a scaler statistic, the
order of the inputs, the split dates) is refused as well. The weights' header is checked
against the network the manifest describes before that network is built, so a manifest that
lies about the network's size is refused before anything large is allocated.
Saving writes a sibling temporary directory and renames it into place, so a crash or a full disk
never leaves a broken model where a good one was, and it never replaces a directory that holds
anything but a model. A symbolic link is written through: its target is replaced, the link stays.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lstmcast.config import NETWORK_DEFAULTS
from lstmcast.data.checks import frequency_offset
from lstmcast.errors import LstmcastError, ModelFileError

if TYPE_CHECKING:
    from lstmcast.forecaster import Forecaster

FORMAT = "lstmcast-model"
FORMAT_VERSION = 1  # bump when the layout changes; loaders accept every version up to this one
MANIFEST = "manifest.json"
WEIGHTS = "weights.safetensors"
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


def save_forecaster(fc: Forecaster, path: str | os.PathLike) -> Path:
    """Write fitted Forecaster ``fc`` to the directory ``path``, replacing it atomically."""
    from safetensors.torch import save_file

    from lstmcast import __version__

    path = Path(path)
    if path.is_symlink():  # replace the link's target and keep the link (ln -s v3 current)
        path = Path(os.path.realpath(path))
    check_replaceable(path)
    check_no_interrupted_run(path, "saving", own=getattr(fc, "_checkpoint_dir", None))
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "config": _jsonable(vars(fc.config)),
        "inputs": fc.inputs_,
        "targets": fc.targets_,
        "columns": fc.columns_,
        "freq": fc.freq_,
        "encodings": _jsonable(fc.encodings_),
        "scaler": _jsonable(fc.scaler_.to_dict()),
        "history": fc.history_.to_dict(),
        "fit_seconds": getattr(fc, "fit_seconds_", None),
        "data_end": str(fc.table_.frame.index[-1]) if hasattr(fc, "table_") else None,
        # the last training and validation timestamps: evaluate on any table splits there
        "split_ends": getattr(fc, "split_ends_", None),
        "data_source": getattr(fc, "data_source_", None),  # an absolute path or a dataset name
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        state = {k: v.detach().contiguous() for k, v in fc.network_.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS), metadata={"format": FORMAT})
        manifest["weights_sha256"] = _sha256(tmp / WEIGHTS)
        # the checksum of the content as a loader will parse it back (tuples read as lists)
        manifest["manifest_sha256"] = manifest_sha256(json.loads(json.dumps(manifest)))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        _default_permissions(tmp)  # mkdtemp and safetensors make owner-only files
        _replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def load(path: str | os.PathLike) -> Forecaster:
    """Load a model directory written by ``Forecaster.save``; never executes code from it.

    Checked in order, each refusal a ModelFileError: the manifest's entries, its own checksum
    (files written before it had none and load without), the weights' presence and checksum,
    the names and shapes in the weights' header against the network the manifest describes,
    and only then is that network built and filled.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    manifest = read_manifest(path)
    problem = manifest_problem(manifest)
    if problem is not None:
        raise ModelFileError(
            f"{path / MANIFEST} is damaged ({problem}): retrain and save the model again"
        )
    recorded = manifest.get("manifest_sha256")  # absent in files written before it
    if recorded is not None and recorded != manifest_sha256(manifest):
        raise ModelFileError(
            f"{path / MANIFEST} does not match its checksum: it was edited or corrupted; restore "
            "the file as saved (only data_source may be edited), or retrain and save the model "
            "again"
        )
    fc = _forecaster_of(path, manifest)
    weights = path / WEIGHTS
    if not weights.is_file():
        raise ModelFileError(
            f"{weights} is missing: the model directory is incomplete; retrain and save it again"
        )
    expected = manifest.get("weights_sha256")  # absent in files of lstmcast 0.1.0 before it
    if expected is not None and expected != _sha256(weights):
        raise ModelFileError(
            f"{weights} does not match the checksum in its manifest: the file is corrupted or "
            "was replaced; retrain and save the model again"
        )
    unreadable = (SafetensorError, OSError, ValueError, RuntimeError)
    try:
        found = _header_shapes(weights)
    except unreadable as err:
        raise ModelFileError(
            f"{weights} is not a readable safetensors file ({err}): the file "
            "is truncated or corrupted; retrain and save it again"
        ) from None
    try:
        problem = _weights_problem(fc, found)
    except LstmcastError as err:  # a network setting the config lets through (an activation)
        raise ModelFileError(
            f"{path / MANIFEST} is damaged ({err}): retrain and save the model again"
        ) from None
    if problem is not None:
        raise ModelFileError(
            f"{weights} does not match its manifest ({problem}): the directory mixes files "
            "of different models, or the manifest was edited; retrain and save the model again"
        )
    try:
        state = load_file(str(weights))
    except unreadable as err:
        raise ModelFileError(
            f"{weights} is not a readable safetensors file ({err}): the file "
            "is truncated or corrupted; retrain and save it again"
        ) from None
    network = fc.untrained_network()  # of the shapes just checked: as large as the file
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as err:  # the names and shapes matched: e.g. a tensor of text
        detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        raise ModelFileError(
            f"{weights} does not match its manifest ({detail}): the directory "
            "mixes files of different models; retrain and save it again"
        ) from None
    if not all(bool(t.isfinite().all()) for t in state.values() if t.is_floating_point()):
        raise ModelFileError(
            f"{weights} holds NaN or inf weights: the file is corrupted; retrain and save it again"
        )
    network.eval()
    fc.network_ = network
    return fc


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


def _forecaster_of(path: Path, manifest: dict) -> Forecaster:
    """A Forecaster holding a checked manifest's settings, without a network yet."""
    from lstmcast.data import scaler_from_dict
    from lstmcast.forecaster import ForecastConfig, Forecaster
    from lstmcast.train import History

    try:  # what the checks above leave to the classes: config values
        config = ForecastConfig(
            **{
                k: v
                for k, v in manifest["config"].items()
                if k in ForecastConfig.__dataclass_fields__
            }
        )
        fc = Forecaster(config)
        fc.inputs_, fc.targets_ = list(manifest["inputs"]), list(manifest["targets"])
        fc.columns_ = list(manifest["columns"])
        # an old alias ("H", "T") written under pandas 2 is read in today's spelling ("h")
        offset = frequency_offset(manifest["freq"])
        fc.freq_ = None if offset is None else offset.freqstr
        fc.encodings_ = manifest["encodings"]
        fc.scaler_ = scaler_from_dict(manifest["scaler"])
        fc.history_ = History.from_dict(manifest["history"])
        fc.fit_seconds_ = manifest.get("fit_seconds")
        fc.data_source_ = manifest.get("data_source")  # absent in older model files
        if manifest.get("split_ends") is not None:  # absent in older model files
            fc.split_ends_ = list(manifest["split_ends"])
    except (KeyError, TypeError, ValueError, AttributeError, LstmcastError) as err:
        raise ModelFileError(
            f"{path / MANIFEST} is damaged ({err}): retrain and save the model again"
        ) from None
    return fc


def _header_shapes(weights: Path) -> dict[str, list[int]]:
    """The name and shape of every tensor in a safetensors file, read from its header alone."""
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as file:
        return {name: list(file.get_slice(name).get_shape()) for name in file.keys()}


def _weights_problem(fc: Forecaster, found: dict[str, list[int]]) -> str | None:
    """How the tensors ``found`` in the weights' header differ from those of ``fc``'s network,
    in a few words; None if not at all. The network is sized on the meta device, so a manifest
    that claims a huge network allocates nothing."""
    import torch

    cfg = fc.config
    # every layer of every network holds a tensor: a bound before building even the meta network
    if cfg.ensemble * len(cfg.units) > len(found):
        return (
            f"the manifest's {cfg.ensemble} network(s) of {len(cfg.units)} layer(s) need more "
            f"tensors than the {len(found)} the file holds"
        )
    with torch.device("meta"):
        network = fc.untrained_network()
    needed = {name: list(t.shape) for name, t in network.state_dict().items()}
    lacking = [name for name in needed if name not in found]
    if lacking:
        return f"the file lacks tensor {lacking[0]} of the manifest's network"
    extra = [name for name in found if name not in needed]
    if extra:
        return f"the file holds tensor {extra[0]}, which the manifest's network has not"
    for name, shape in needed.items():
        if found[name] != shape:
            return (
                f"tensor {name} is {found[name]} in the file, the manifest's network needs {shape}"
            )
    return None


def read_manifest(path: Path) -> dict:
    """The parsed manifest of model directory ``path``, checked for format and version."""
    file = path / MANIFEST
    if not path.exists():
        raise ModelFileError(f"no model at {path}: train one with `lstmcast train --out {path}`")
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


def check_replaceable(path: str | os.PathLike) -> None:
    """ModelFileError unless ``path`` is free, empty, or an lstmcast model directory alone.

    Saving replaces the whole directory, so it must never swallow a folder of other files, nor
    the files a user put beside a model (a forecast, notes); the model's checkpoint/ may stay.
    """
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise ModelFileError(f"{path} exists and is not a directory: choose another --out")
    other = sorted({p.name for p in path.iterdir()} - {MANIFEST, WEIGHTS, CHECKPOINT_DIR})
    if not other:
        return
    try:
        read_manifest(path)
    except ModelFileError:
        raise ModelFileError(
            f"{path} holds files that are not an lstmcast model (e.g. {other[0]!r}) and saving "
            "would replace it: choose another --out, or an empty or new directory"
        ) from None
    named = ", ".join(repr(name) for name in other[:3])
    if len(other) > 3:
        named += f" and {len(other) - 3} more"
    raise ModelFileError(
        f"{path} holds a model but also other files ({named}) that saving would delete: "
        f"move them out of {path}, or choose another --out"
    )


def check_no_interrupted_run(
    path: str | os.PathLike, by: str, own: str | os.PathLike | None = None
) -> None:
    """ModelFileError if ``path``'s checkpoint/ holds a run that ``lstmcast train --resume`` can
    continue: ``by`` (a new run, saving) would discard it, maybe hours of training, for a
    forgotten --resume or a typo. ``own``: the checkpoint the model being saved trained in."""
    from lstmcast.checkpoint import CHECKPOINT

    checkpoint = Path(path) / CHECKPOINT_DIR
    if own is not None and checkpoint.resolve() == Path(own).resolve():
        return
    if (checkpoint / "config.json").is_file() and any(checkpoint.rglob(CHECKPOINT)):
        raise ModelFileError(
            f"{checkpoint} holds an interrupted run that {by} would discard: continue it "
            f"with `lstmcast train --resume {checkpoint.parent}`, or delete {checkpoint} to "
            "start afresh"
        )


def _default_permissions(folder: Path) -> None:
    """Give ``folder`` and its files the modes a plain mkdir/open would (0o755/0o644 by umask)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for file in folder.iterdir():
        file.chmod(0o666 & ~umask)


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _replace_dir(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path``; an existing ``path`` is swapped out and removed only after."""
    if path.exists() and not path.is_dir():
        raise ModelFileError(f"{path} exists and is not a directory: choose another --out")
    if path.is_dir():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
        os.replace(path, old / "model")
        try:
            os.replace(tmp, path)
        except BaseException:
            os.replace(old / "model", path)
            shutil.rmtree(old, ignore_errors=True)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def _jsonable(obj):
    """Convert numpy scalars/arrays (and tuples) to plain JSON types, recursively."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
