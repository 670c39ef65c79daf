"""One plain training loop: backpropagation through time over pre-windowed tensors.

Masked losses (a missing target never counts), early stopping on the validation split with the
best weights restored, learning-rate reduction on plateau, gradient clipping, a seed that makes CPU
runs repeatable, a progress bar that stays quiet off a terminal, and a clean stop on Ctrl-C or on a
diverging loss (the last good weights are kept). With ``checkpoint_dir`` the whole trainer state is
saved atomically after every epoch, and ``resume=True`` continues a killed run bit for bit.

Example:
    >>> import torch
    >>> from lstmcast.train import TrainConfig, train_network
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(30, 3))
    >>> X, Y = torch.randn(100, 10, 3), torch.randn(100, 3)
    >>> history = train_network(net, X, Y, TrainConfig(epochs=2, progress=False))
    >>> len(history.train_loss)
    2
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from lstmcast.checkpoint import (
    CHECKPOINT_VERSION,
    check_fingerprint,
    fingerprint,
    load_checkpoint,
    save_checkpoint,
)
from lstmcast.config import TrainConfig, resolve_weight_decay
from lstmcast.data.windows import window_rows
from lstmcast.errors import ConfigError, DataError, ModelFileError, TrainingDivergedError

OPTIMIZERS = {  # the classes behind config.OPTIMIZERS, in its order
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


@dataclass
class History:
    """What happened during training, epoch by epoch (saved with the model)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # 1-based epoch whose weights were kept
    stopped_early: bool = False
    interrupted: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch (weights, dropout) and return a generator for shuffling.

    This reseeds the process-wide generators, ``torch.manual_seed`` and ``np.random.seed``: a
    caller's own draws from ``torch.rand`` or ``np.random`` after a fit continue from ``seed``,
    not from where they were (keep an own ``np.random.default_rng()`` to be unaffected).
    """
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    return torch.Generator().manual_seed(seed)


def flush_denormal_on() -> bool:
    """Whether this thread flushes denormal floats to zero (``torch.set_flush_denormal``, which
    has no getter): a denormal float64 times 1 reads 0 then."""
    return torch.tensor([1e-320], dtype=torch.float64).mul(1.0).item() == 0.0


def masked_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None,
    kind: str,
    delta: float = 1.0,
) -> torch.Tensor:
    """Mean loss over the observed targets only; ``target`` holds 0 where ``mask`` is False."""
    diff = pred - target
    if kind == "mse":
        err = diff.square()
    elif kind == "mae":
        err = diff.abs()
    else:
        a = diff.abs()
        err = torch.where(a < delta, 0.5 * a.square(), delta * (a - 0.5 * delta))
    if mask is None:
        return err.mean()
    return (err * mask).sum() / mask.sum().clamp_min(1)


def _as_tensors(X, Y, mask, name: str):
    X = window_tensor(X)
    Y = torch.as_tensor(np.asarray(Y, dtype=np.float32))
    if X.ndim != 3:
        raise DataError(
            f"{name} inputs must be windows of shape (samples, timesteps, features), "
            f"got shape {tuple(X.shape)}"
        )
    if Y.ndim == 1:
        Y = Y[:, None]
    if len(X) != len(Y):
        raise DataError(
            f"{name} inputs and targets differ in length: {len(X)} windows, {len(Y)} targets"
        )
    if len(X) == 0:
        raise DataError(f"{name} split holds no windows: lengthen it or shorten the lookback")
    if mask is None:
        mask = ~torch.isnan(Y)
    else:
        mask = torch.as_tensor(np.asarray(mask, dtype=bool)).reshape(Y.shape) & ~torch.isnan(Y)
    if not all(torch.isfinite(part).all() for part in _chunks(_rows_of(X))):
        raise DataError(
            f"{name} inputs contain NaN or inf: fill missing inputs "
            "(fill='interpolate') or drop those rows"
        )
    Y = torch.where(mask, Y, torch.zeros(()))
    full = bool(mask.all())
    return X, Y, (None if full else mask.float())


def window_tensor(X: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Windows ``(N, T, F)`` as float32. Windows that overlap in memory, as the stride-1 views of
    ``make_windows`` do (window i + 1 starts one row after window i), stay a view of one float32
    copy of their ``N + T - 1`` rows: memory grows with the table, not with lookback x table.

    Example:
        >>> rows = np.arange(12.0).reshape(6, 2)
        >>> X = np.lib.stride_tricks.sliding_window_view(rows, 3, axis=0).swapaxes(1, 2)
        >>> window_tensor(X).shape, window_tensor(X).untyped_storage().nbytes()
        (torch.Size([4, 3, 2]), 48)
    """
    a = np.asarray(X)
    rows = window_rows(a)
    if rows is None:
        return torch.as_tensor(np.asarray(a, dtype=np.float32))
    n, t, f = a.shape  # the copy is row-major whatever the rows' layout (a table's often is not)
    rows = np.array(rows, dtype=np.float32, order="C")
    return torch.from_numpy(rows).as_strided((n, t, f), (f, f, 1))


def _rows_of(X: torch.Tensor) -> torch.Tensor:
    """The distinct values of windows X (N, T, F): its rows (N + T - 1, F) when windows overlap
    in memory (``window_tensor``), else X itself."""
    if X.ndim == 3 and len(X) > 1 and X.stride(0) == X.stride(1):
        return X.as_strided((len(X) + X.shape[1] - 1, X.shape[2]), X.stride()[1:])
    return X


def _chunks(X: torch.Tensor, size: int = 4096):
    """Consecutive slices of ``size`` along the first axis (views, never copies)."""
    return (X[s : s + size] for s in range(0, len(X), size))


def train_network(
    model: torch.nn.Module,
    X: np.ndarray | torch.Tensor,
    Y: np.ndarray | torch.Tensor,
    config: TrainConfig,
    *,
    mask: np.ndarray | torch.Tensor | None = None,
    X_val: np.ndarray | torch.Tensor | None = None,
    Y_val: np.ndarray | torch.Tensor | None = None,
    mask_val: np.ndarray | torch.Tensor | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = False,
    label: str = "",
) -> History:
    """Fit ``model`` so that ``model(X)`` matches ``Y``; return the per-epoch history.

    Args:
        model: maps a batch ``(B, T, F)`` to ``(B, O)``.
        X: training windows ``(N, T, F)`` (make_windows' views stay views: ``window_tensor``);
            Y: targets ``(N, O)`` (NaN where missing).
        mask: optional ``(N, O)`` bool, False where a target was not observed.
        X_val, Y_val, mask_val: validation windows; enable early stopping and LR reduction.
        checkpoint_dir: save the trainer state (weights, optimiser, scheduler, random states,
            history, best weights) there atomically after every epoch.
        resume: continue from the state in ``checkpoint_dir`` (same data and settings; only
            ``epochs`` and ``progress`` may change); the result is bit-identical to a run that
            was never stopped.
        label: what the progress bar calls this fit before the epoch (``"network 2/3 "``).
    The best weights are loaded into ``model``: those of the epoch with the lowest validation
    loss, or without validation windows the lowest training loss. If the loss diverges,
    ``model`` keeps the weights of the last finished epoch (its initial ones in epoch 1).
    Ctrl-C stops after the current step with ``history.interrupted`` set; the checkpoint of the
    last finished epoch stays in ``checkpoint_dir``. Denormal floats are flushed to zero while
    it trains (``torch.set_flush_denormal(True)``, on this thread); the caller's setting is put
    back afterwards.
    """
    X, Y, mask = _as_tensors(X, Y, mask, "training")
    has_val = X_val is not None
    if has_val:
        X_val, Y_val, mask_val = _as_tensors(X_val, Y_val, mask_val, "validation")
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = _make_optimizer(model, config)
    scheduler = None
    if has_val and config.lr_patience is not None:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=config.lr_factor, patience=config.lr_patience
        )

    history = History()
    n, bs = len(X), config.batch_size
    steps = math.ceil(n / bs)
    best_loss, best_state, bad_epochs = math.inf, None, 0
    run = None  # what a resumed run must share with the checkpoint
    if checkpoint_dir is not None:
        run = fingerprint(config, X, Y, mask, X_val, Y_val, mask_val, model=model)
    if resume:
        if checkpoint_dir is None:
            raise ConfigError("resume=True needs the checkpoint_dir of the run to continue")
        state = load_checkpoint(checkpoint_dir)
        check_fingerprint(state.get("fingerprint"), run, checkpoint_dir)
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(state["scheduler"])
            generator.set_state(state["generator"])
            torch.set_rng_state(state["torch_rng"])
            history = History.from_dict(state["history"])
            best_loss, best_state = state["best_loss"], state["best"]
            bad_epochs = state["bad_epochs"]
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelFileError(
                f"the checkpoint in {checkpoint_dir} does not fit this model ({first}): "
                "resume with the settings it was trained with, or delete it and train from the "
                "start"
            ) from None
        history.interrupted = False
        ran = len(history.train_loss)
        if ran > config.epochs:  # the saved config would not describe the model
            raise ConfigError(
                f"the run in {checkpoint_dir} has trained {ran} epochs already, more than "
                f"epochs={config.epochs}: resume with --epochs {ran} or more (an upper bound)"
            )
    first_epoch = len(history.train_loss) + 1
    if history.stopped_early:
        first_epoch = config.epochs + 1  # the resumed run had already finished
    last_good = _snapshot(model)
    bar = tqdm(
        total=max(0, config.epochs - first_epoch + 1) * steps,
        unit="step",
        disable=_quiet(config.progress),
        dynamic_ncols=True,
        leave=False,
        bar_format=BAR_FORMAT,
    )
    scores = ""  # the last epoch's losses, shown left of the bar: a narrow terminal keeps them
    # Denormal floats flushed to zero while training, as TensorFlow does: relu cells push Adam's
    # second moments into the denormal range, where x86 CPUs run about 100x slower.
    flushing = flush_denormal_on()  # the caller's setting, put back at the end
    torch.set_flush_denormal(True)
    threads = torch.get_num_threads()
    torch.set_num_threads(_threads_for(model, X, bs, threads))
    try:
        for epoch in range(first_epoch, config.epochs + 1):
            start = time.perf_counter()
            bar.set_description(f"{label}epoch {epoch}/{config.epochs}{scores}")
            model.train()
            order = torch.randperm(n, generator=generator) if config.shuffle else torch.arange(n)
            total = scored = 0.0  # the epoch's loss: summed over its scored targets
            for s in range(steps):
                idx = order[s * bs : (s + 1) * bs]
                pred = model(X[idx].contiguous())  # (B, T, F) gathered from the windows -> (B, O)
                batch_mask = None if mask is None else mask[idx]
                loss = masked_loss(pred, Y[idx], batch_mask, config.loss, config.huber_delta)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.clip_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
                optimizer.step()
                weight = len(idx) if batch_mask is None else float(batch_mask.sum())
                total, scored = total + loss.item() * weight, scored + weight
                bar.update(1)
            train_loss = total / max(scored, 1.0)  # the masked mean over every window
            lr = optimizer.param_groups[0]["lr"]
            if not math.isfinite(train_loss):
                model.load_state_dict(last_good)
                clip = (
                    "set gradient clipping (clip_norm, e.g. --clip-norm 1)"
                    if config.clip_norm is None
                    else f"clip gradients harder (clip_norm, now {config.clip_norm:g})"
                )
                what = f"training diverged at epoch {epoch} (loss {train_loss})"
                raise TrainingDivergedError(
                    f"{what}: lower the learning rate (now {lr:g}) or {clip}", summary=what
                )
            monitor = train_loss
            if has_val:
                monitor = evaluate_loss(model, X_val, Y_val, mask_val, config)
            # the epoch is recorded whole, after its last interruptible step
            history.train_loss.append(train_loss)
            history.learning_rate.append(lr)
            if has_val:
                history.val_loss.append(monitor)
                if scheduler is not None:
                    scheduler.step(monitor)
            history.epoch_seconds.append(time.perf_counter() - start)
            last_good = _snapshot(model)
            if monitor < best_loss - config.min_delta:
                best_loss, best_state, bad_epochs = monitor, last_good, 0
                history.best_epoch = epoch
            else:
                bad_epochs += 1
            scores = f" loss={train_loss:.4g}" + (f" val={monitor:.4g}" if has_val else "")
            bar.set_description(f"{label}epoch {epoch}/{config.epochs}{scores}")
            stop = has_val and config.patience is not None and bad_epochs >= config.patience
            history.stopped_early = stop
            if checkpoint_dir is not None:
                save_checkpoint(
                    checkpoint_dir,
                    {
                        "version": CHECKPOINT_VERSION,
                        "fingerprint": run,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": None if scheduler is None else scheduler.state_dict(),
                        "generator": generator.get_state(),
                        "torch_rng": torch.get_rng_state(),
                        "history": history.to_dict(),
                        "best_loss": best_loss,
                        "best": best_state,
                        "bad_epochs": bad_epochs,
                    },
                )
            if stop:
                break
    except KeyboardInterrupt:
        history.interrupted = True
        model.load_state_dict(last_good)  # not the weights of half an epoch
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(flushing)
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def evaluate_loss(
    model: torch.nn.Module,
    X: torch.Tensor,
    Y: torch.Tensor,
    mask: torch.Tensor | None,
    config: TrainConfig,
) -> float:
    """The masked loss of ``model`` on a whole split, without gradients."""
    pred = predict_network(model, X)
    return float(masked_loss(pred, Y, mask, config.loss, config.huber_delta))


def predict_network(
    model: torch.nn.Module, X: np.ndarray | torch.Tensor, batch_size: int = 4096
) -> torch.Tensor:
    """``model(X)`` in inference mode, in large batches: ``(N, T, F) -> (N, O)``."""
    X = torch.as_tensor(X, dtype=torch.float32)
    model.eval()
    with torch.inference_mode():
        outs = [model(part.contiguous()) for part in _chunks(X, batch_size)]
    return torch.cat(outs) if outs else torch.empty(0)


def _snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the weights (cheaper than deepcopy of the state dict)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# Below this many multiply-adds per step, waking a second thread costs more than it saves when
# idle OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE, lstmcast's default): the classic stacked
# example took 0.61 s on one thread and 0.89 s on two. With spinning threads (ACTIVE) the second
# one is awake anyway and two threads win at every size (0.60 s -> 0.50 s).
# (benchmarks/example_threads.py)
SINGLE_THREAD_MACS = 50_000_000


def _threads_for(model: torch.nn.Module, X: torch.Tensor, batch_size: int, threads: int) -> int:
    """Threads worth using: one for tiny steps (the classic examples) unless idle threads spin,
    else all of them."""
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "ACTIVE":
        return threads
    params = sum(p.numel() for p in model.parameters())
    macs = params * min(batch_size, len(X)) * X.shape[1]  # each weight once per sample and step
    return 1 if macs < SINGLE_THREAD_MACS else threads


def warm_up() -> None:
    """Pay the process's one-time start-up before a fit is timed: the first optimizer built
    imports torch's compiler stack (about 1.3 s on a 2-core machine, then nothing), and the
    compiled engine is built (about 40 s, once per machine) or imported."""
    from lstmcast.models import _extension

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    _extension.available()


def _make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    cls = OPTIMIZERS[config.optimizer]
    decay = resolve_weight_decay(config.optimizer, config.weight_decay)
    kwargs = {"lr": config.learning_rate, "weight_decay": decay}
    if config.optimizer in ("adam", "adamw"):
        kwargs["fused"] = True  # one kernel for every parameter: measured faster on CPU
    return cls(model.parameters(), **kwargs)


# "epoch, losses: " (tqdm adds the ": "), share done, steps, time spent < time left; tqdm's
# default puts the losses last, where a terminal of 80 columns cut off the validation loss
BAR_FORMAT = "{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]"


def _quiet(progress: bool | None) -> bool | None:
    # tqdm: disable=None hides the bar when output is not a terminal
    return None if progress is None else not progress
