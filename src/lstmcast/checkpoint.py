"""Checkpoints of a training run: the whole trainer state after every epoch, written atomically
and read back without executing code, and the fingerprint that a resumed run must match.

Example:
    >>> import tempfile, torch
    >>> from lstmcast.checkpoint import load_checkpoint, save_checkpoint
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_checkpoint(folder, {"version": CHECKPOINT_VERSION, "step": torch.tensor(3)})
    >>> int(load_checkpoint(folder)["step"])
    3
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, is_dataclass
from pathlib import Path

import torch

from lstmcast.config import RESUMABLE_CHANGES, TrainConfig
from lstmcast.errors import ConfigError, ModelFileError

CHECKPOINT = "trainer.pt"  # the trainer state inside a checkpoint directory
CHECKPOINT_VERSION = 1


def save_checkpoint(checkpoint_dir: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` to ``checkpoint_dir/trainer.pt`` atomically (a temporary file, renamed).

    Ctrl-C during the write waits for its end, so that the checkpoint holds every epoch that
    the history the caller reports does; the KeyboardInterrupt is raised once it is written.
    """
    folder = Path(checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{CHECKPOINT}.")
    try:
        with _ctrl_c_deferred():
            with os.fdopen(fd, "wb") as fh:
                torch.save(state, fh)
            os.replace(tmp, folder / CHECKPOINT)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / CHECKPOINT


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Hold SIGINT back until the block ends, then hand it to the handler it would have met
    (Python's raises KeyboardInterrupt); SIGTERM too where Python handles it (the CLI stops on
    it as on Ctrl-C). Main thread only: no other thread receives signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list = []
    held = [signal.SIGINT] + [signal.SIGTERM] * callable(signal.getsignal(signal.SIGTERM))
    previous = {s: signal.signal(s, lambda *received: caught.append(received)) for s in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            signum = caught[0][0]
            if callable(previous[signum]):
                previous[signum](*caught[0])
            elif previous[signum] == signal.SIG_DFL:
                signal.raise_signal(signum)


def load_checkpoint(checkpoint_dir: str | os.PathLike) -> dict:
    """The trainer state saved in ``checkpoint_dir``; tensors and plain data only, never code."""
    file = Path(checkpoint_dir) / CHECKPOINT
    if not file.is_file():
        raise ModelFileError(
            f"no training checkpoint at {file}: nothing to resume; start a new run instead"
        )
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same answer
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelFileError(
            f"{file} is not a readable lstmcast checkpoint ({first}): it is truncated, "
            "corrupted or foreign; delete it and train from the start"
        ) from None
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise ModelFileError(
            f"{file} is not an lstmcast checkpoint of version {CHECKPOINT_VERSION}: "
            "delete it and train from the start"
        )
    return state


def fingerprint(
    config: TrainConfig, *arrays: torch.Tensor | None, model: torch.nn.Module | None = None
) -> dict:
    """What must not change between a run and its resumption: the settings, the exact data
    (a digest of ``arrays``) and the shape of ``model`` where it has a dataclass ``config``."""
    digest = hashlib.sha256()
    for a in arrays:
        if a is None:
            digest.update(b"-" + str(None).encode())
            continue
        for part in torch.split(a, 4096):  # a's bytes, a chunk of rows at a time
            digest.update(part.numpy().tobytes())
        digest.update(str(tuple(a.shape)).encode())
    settings = {k: v for k, v in asdict(config).items() if k not in RESUMABLE_CHANGES}
    run = {"settings": settings, "data": digest.hexdigest()}
    network = getattr(model, "config", None)  # LSTMNetwork's NetworkConfig: its shape
    if is_dataclass(network):
        run["network"] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(network).items()
        }
    return run


def check_fingerprint(saved: dict | None, now: dict, checkpoint_dir) -> None:
    """Refuse to resume from a checkpoint whose ``fingerprint`` differs from this run's."""
    if not isinstance(saved, dict) or not isinstance(saved.get("settings"), dict):
        raise ModelFileError(
            f"the checkpoint in {checkpoint_dir} is damaged: delete it and train from the start"
        )
    was, now_net = saved.get("network"), now.get("network")  # absent in older checkpoints
    if isinstance(was, dict) and now_net is not None and was != now_net:
        changed = sorted(k for k in was.keys() | now_net.keys() if was.get(k) != now_net.get(k))
        raise ConfigError(
            f"the checkpoint in {checkpoint_dir} was trained with another network ("
            + ", ".join(f"{k}={was.get(k)!r}" for k in changed)
            + "): resume with the same settings, or delete the checkpoint to start afresh"
        )
    changed = sorted(
        k for k in saved["settings"].keys() | now["settings"].keys()
        if saved["settings"].get(k) != now["settings"].get(k)
    )  # fmt: skip
    if changed:
        was = ", ".join(f"{k}={saved['settings'].get(k)!r}" for k in changed)
        raise ConfigError(
            f"the checkpoint in {checkpoint_dir} was trained with other settings ({was}): "
            "resume with the same settings, or delete the checkpoint to start afresh"
        )
    if saved["data"] != now["data"]:
        raise ConfigError(
            f"the checkpoint in {checkpoint_dir} was trained on other data: resume with the "
            "same table, split and preprocessing, or delete the checkpoint to start afresh"
        )
