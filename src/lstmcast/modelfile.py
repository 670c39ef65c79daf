"""Model directories: a versioned JSON manifest beside safetensors weights, written atomically.

A model directory holds ``manifest.json`` (every preprocessing choice, scaler statistics, column
names, frequency, lookback, horizon, library version, training history) and
``weights.safetensors``. Loading parses JSON and raw tensors only, so a model file can never
execute code; the manifest records the SHA-256 of the weights, so a corrupted file is refused
rather than silently predicting garbage, and every manifest entry the loader uses is checked
(types, column lists, finite scaler statistics), so a hand-edited manifest is refused too.
The manifest also records the SHA-256 of its own content (``manifest_sha256``; the manifest's
checks live in ``lstmcast.manifest``), so an edit that leaves every entry plausible (a scaler
statistic, the order of the inputs, the split dates) is refused as well. The weights' tensors
(no larger than the file) are checked against the network the manifest describes before that
network is built, so a manifest that lies about the network's size is refused before anything
large is allocated.
Saving writes a sibling temporary directory and renames it into place, so a crash or a full disk
never leaves a broken model where a good one was, and it never replaces a directory that holds
anything but a model. A symbolic link is written through: its target is replaced, the link stays.
On Linux an existing model is swapped with the new one in a single step (renameat2), so the path
never goes missing; a load that meets a save reads the directory again if it was swapped while
being read, so it returns the old model or the new one, never an error or a mix of the two.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from lstmcast.data.checks import frequency_offset
from lstmcast.errors import LstmcastError, ModelFileError
from lstmcast.manifest import (
    CHECKPOINT_DIR,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    manifest_problem,
    manifest_sha256,
    read_manifest,
)

if TYPE_CHECKING:
    from lstmcast.config import ForecastConfig
    from lstmcast.forecaster import Forecaster

WEIGHTS = "weights.safetensors"
# how many times load reads a directory that saves keep swapping while its two files are opened
# (a fraction of a millisecond): one save meanwhile costs a second reading
LOAD_ATTEMPTS = 20


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
        "config": _jsonable(vars(_written_config(fc))),
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
    the names and shapes of the weights' tensors against the network the manifest describes,
    and only then is that network built and filled. A directory that a save replaces while it
    is read is read again (up to ``LOAD_ATTEMPTS`` times), so the result is the old model or
    the new one, never an error or a mix of the two.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    path = Path(path)
    manifest, data = _read_files(path)
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
    if data is None:
        raise ModelFileError(
            f"{weights} is missing: the model directory is incomplete; retrain and save it again"
        )
    expected = manifest.get("weights_sha256")  # absent in files of lstmcast 0.1.0 before it
    if expected is not None and expected != hashlib.sha256(data).hexdigest():
        raise ModelFileError(
            f"{weights} does not match the checksum in its manifest: the file is corrupted or "
            "was replaced; retrain and save the model again"
        )
    unreadable = (SafetensorError, OSError, ValueError, RuntimeError)
    try:
        state = load_tensors(data)  # no larger than the file, already read
    except unreadable as err:
        raise ModelFileError(
            f"{weights} is not a readable safetensors file ({err}): the file "
            "is truncated or corrupted; retrain and save it again"
        ) from None
    found = {name: list(t.shape) for name, t in state.items()}
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


def _read_files(path: Path) -> tuple[dict, bytes | None]:
    """The manifest and the weights (None if absent) of model directory ``path``, both of the
    same save: a directory that a save swaps while the two are opened is read again."""
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        with _pinned(path) as before:
            try:
                manifest = read_manifest(path)
                file = _open_weights(path)
            except (LstmcastError, OSError):
                if attempt == LOAD_ATTEMPTS or _identity(path) == before:
                    raise  # the directory stayed as it was: the fault is in its files
                continue  # a save swapped the directory meanwhile: read the new one
            if attempt < LOAD_ATTEMPTS and _identity(path) != before:
                if file is not None:
                    file.close()
                continue
        if file is None:
            return manifest, None
        with file:  # a save that removes the file now leaves it readable through ``file``
            return manifest, file.read()
    raise AssertionError("unreachable: the last attempt returns or raises")


def _open_weights(path: Path) -> BinaryIO | None:
    """``path``'s weights file, opened for reading; None if there is none."""
    try:
        return open(path / WEIGHTS, "rb")  # closed by the caller
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


@contextmanager
def _pinned(path: Path) -> Iterator[tuple[int, int] | None]:
    """``_identity(path)``, the directory held open meanwhile: no new one can take its number,
    and a directory once swapped out never returns, so an unchanged identity means the path
    named this directory throughout."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_PATH", 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # no directory there, or a system that opens none (Windows)
        yield _identity(path)
        return
    try:
        st = os.fstat(fd)
        yield (st.st_dev, st.st_ino)
    finally:
        os.close(fd)


def _identity(path: Path) -> tuple[int, int] | None:
    """The device and inode of the directory at ``path``; None if there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


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


def _weights_problem(fc: Forecaster, found: dict[str, list[int]]) -> str | None:
    """How the tensors ``found`` in the weights differ from those of ``fc``'s network,
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
        if _exchange(tmp, path):  # one step: ``path`` never goes missing, ``tmp`` holds the old
            shutil.rmtree(tmp, ignore_errors=True)
            return
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


_AT_FDCWD = -100  # <fcntl.h>: paths relative to the working directory
_RENAME_EXCHANGE = 2  # <linux/fs.h>: swap the two paths in one step


def _exchange(a: Path, b: Path) -> bool:
    """Swap the existing directories ``a`` and ``b`` atomically; False where the system or the
    file system cannot (not Linux, a libc before glibc 2.28, a file system without it)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


@functools.cache
def _renameat2():
    """libc's renameat2 as a ctypes function; None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


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


def _written_config(fc: Forecaster) -> ForecastConfig:
    """The run's config as a manifest records it: an unset weight decay as the number it was
    (adamw 0.01, the others 0), which lstmcast before it was optional also reads."""
    config = fc.run_config()
    return config.replace(weight_decay=config.resolved_weight_decay())
