"""Model directories: a versioned JSON manifest beside safetensors weights, written atomically.

A model directory holds ``manifest.json`` (every preprocessing choice, scaler statistics, column
names, frequency, lookback, horizon, library version, training history) and
``weights.safetensors``. Loading parses JSON and raw tensors only, so a model file can never
execute code; the manifest records the SHA-256 of the weights, so a corrupted file is refused
rather than silently predicting garbage. Saving writes a sibling temporary directory and renames
it into place, so a crash or a full disk never leaves a broken model where a good one was, and it
never replaces a directory that holds anything but a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from lstmcast.errors import LstmcastError, ModelFileError

FORMAT = "lstmcast-model"
FORMAT_VERSION = 1  # bump when the layout changes; loaders accept every version up to this one
MANIFEST = "manifest.json"
WEIGHTS = "weights.safetensors"
CHECKPOINT_DIR = "checkpoint"  # training checkpoint kept inside the model directory while training


def save_forecaster(fc, path: str | os.PathLike) -> Path:
    """Write fitted Forecaster ``fc`` to the directory ``path``, replacing it atomically."""
    from safetensors.torch import save_file

    from lstmcast import __version__

    path = Path(path)
    check_replaceable(path)
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
        "data_source": getattr(fc, "data_source_", None),  # an absolute path or a dataset name
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        state = {k: v.detach().contiguous() for k, v in fc.network_.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS), metadata={"format": FORMAT})
        manifest["weights_sha256"] = _sha256(tmp / WEIGHTS)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        _default_permissions(tmp)  # mkdtemp and safetensors make owner-only files
        _replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def load(path: str | os.PathLike):
    """Load a model directory written by ``Forecaster.save``; never executes code from it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from lstmcast.data import scaler_from_dict
    from lstmcast.forecaster import ForecastConfig, Forecaster
    from lstmcast.train import History

    path = Path(path)
    manifest = read_manifest(path)
    try:
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
        fc.freq_ = manifest["freq"]
        fc.encodings_ = manifest["encodings"]
        fc.scaler_ = scaler_from_dict(manifest["scaler"])
        fc.history_ = History.from_dict(manifest["history"])
        fc.fit_seconds_ = manifest.get("fit_seconds")
        fc.data_source_ = manifest.get("data_source")  # absent in older model files
        network = fc._build_network()
    except (KeyError, TypeError, ValueError, AttributeError, LstmcastError) as err:
        raise ModelFileError(
            f"{path / MANIFEST} is damaged ({err}): retrain and save the model again"
        ) from None
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
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ModelFileError(
            f"{weights} is not a readable safetensors file ({err}): the file "
            "is truncated or corrupted; retrain and save it again"
        ) from None
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ModelFileError(
            f"{weights} does not match its manifest ({first}): the directory "
            "mixes files of different models; retrain and save it again"
        ) from None
    if not all(bool(t.isfinite().all()) for t in state.values() if t.is_floating_point()):
        raise ModelFileError(
            f"{weights} holds NaN or inf weights: the file is corrupted; retrain and save it again"
        )
    network.eval()
    fc.network_ = network
    return fc


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
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(
            f"{file} is not an lstmcast model manifest: pass a directory "
            "written by `lstmcast train --out`"
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{file} has format version {version!r}, newer than this lstmcast "
            f"understands ({FORMAT_VERSION}): upgrade lstmcast"
        )
    return manifest


def check_replaceable(path: str | os.PathLike) -> None:
    """ModelFileError unless ``path`` is free, empty, or an lstmcast model directory.

    Saving replaces the whole directory, so it must never swallow a folder of other files.
    """
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise ModelFileError(f"{path} exists and is not a directory: choose another --out")
    names = {p.name for p in path.iterdir()}
    if names <= {MANIFEST, WEIGHTS, CHECKPOINT_DIR}:
        return
    try:
        read_manifest(path)
    except ModelFileError:
        other = sorted(names - {MANIFEST, WEIGHTS, CHECKPOINT_DIR})[0]
        raise ModelFileError(
            f"{path} holds files that are not an lstmcast model (e.g. {other!r}) and saving "
            "would replace it: choose another --out, or an empty or new directory"
        ) from None


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
