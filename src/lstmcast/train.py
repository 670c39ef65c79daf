"""One plain training loop: backpropagation through time over pre-windowed tensors.

Masked losses (a missing target never counts), early stopping on the validation split with the
best weights restored, learning-rate reduction on plateau, gradient clipping, a seed that makes CPU
runs repeatable, a progress bar that stays quiet off a terminal, and a clean stop on Ctrl-C or on a
diverging loss (the last good weights are kept).

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

import copy
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from lstmcast.errors import ConfigError, DataError, TrainingDivergedError

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}
LOSSES = ("mse", "mae", "huber")


@dataclass
class TrainConfig:
    """How to train; every field has a meaning, a unit and a reason for its default."""

    epochs: int = 100  # passes over the training windows (an upper bound when patience is set)
    batch_size: int = 64  # windows per optimiser step; 64 trades speed against noise well on CPU
    learning_rate: float = 1e-3  # Adam's usual step size
    optimizer: str = "adam"  # adam | adamw | sgd | rmsprop
    weight_decay: float = 0.0  # L2 penalty (decoupled for adamw)
    loss: str = "mse"  # mse | mae | huber, on scaled targets, missing targets masked out
    huber_delta: float = 1.0  # Huber's switch point, in scaled target units
    patience: int | None = 10  # epochs without validation improvement before stopping; None: never
    lr_patience: int | None = 4  # epochs without improvement before the learning rate is cut
    lr_factor: float = 0.5  # the cut: new rate = old rate x lr_factor
    min_delta: float = 0.0  # a validation loss must fall by more than this to count as better
    clip_norm: float | None = 1.0  # gradient-norm clipping; None: off
    shuffle: bool = True  # shuffle training windows every epoch (seeded)
    seed: int = 0  # seeds weights (when the caller builds the model after seeding) and shuffling
    progress: bool | None = None  # progress bar: None shows it only on a terminal

    def __post_init__(self) -> None:
        _positive_int("epochs", self.epochs)
        _positive_int("batch_size", self.batch_size)
        if not self.learning_rate > 0:
            raise ConfigError(
                f"learning_rate must be positive, got {self.learning_rate}: try 0.001"
            )
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.patience is not None:
            _positive_int("patience", self.patience)
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ConfigError(f"clip_norm must be positive or None, got {self.clip_norm}")


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")


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
    """Seed torch (weights, dropout) and return a generator for shuffling."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    return torch.Generator().manual_seed(seed)


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
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
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
    if not torch.isfinite(X).all():
        raise DataError(
            f"{name} inputs contain NaN or inf: fill missing inputs "
            "(fill='interpolate') or drop those rows"
        )
    Y = torch.where(mask, Y, torch.zeros(()))
    full = bool(mask.all())
    return X, Y, (None if full else mask.float())


def train_network(
    model: torch.nn.Module,
    X,
    Y,
    config: TrainConfig,
    *,
    mask=None,
    X_val=None,
    Y_val=None,
    mask_val=None,
) -> History:
    """Fit ``model`` so that ``model(X)`` matches ``Y``; return the per-epoch history.

    Args:
        model: maps a batch ``(B, T, F)`` to ``(B, O)``.
        X: training windows ``(N, T, F)``; Y: targets ``(N, O)`` (NaN where missing).
        mask: optional ``(N, O)`` bool, False where a target was not observed.
        X_val, Y_val, mask_val: validation windows; enable early stopping and LR reduction.
    The best weights (lowest validation loss, else the last epoch) are loaded into ``model``.
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
    last_good = copy.deepcopy(model.state_dict())
    bar = tqdm(
        total=config.epochs * steps,
        unit="step",
        disable=_quiet(config.progress),
        dynamic_ncols=True,
        leave=False,
    )
    try:
        for epoch in range(1, config.epochs + 1):
            start = time.perf_counter()
            model.train()
            order = torch.randperm(n, generator=generator) if config.shuffle else torch.arange(n)
            total = 0.0
            for s in range(steps):
                idx = order[s * bs : (s + 1) * bs]
                pred = model(X[idx])  # (B, O)
                loss = masked_loss(
                    pred,
                    Y[idx],
                    None if mask is None else mask[idx],
                    config.loss,
                    config.huber_delta,
                )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.clip_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
                optimizer.step()
                total += loss.item() * len(idx)
                bar.update(1)
            train_loss = total / n
            if not math.isfinite(train_loss):
                model.load_state_dict(last_good)
                raise TrainingDivergedError(
                    f"training diverged at epoch {epoch} (loss {train_loss}); the weights of the "
                    f"last good epoch were kept: lower the learning rate (now "
                    f"{optimizer.param_groups[0]['lr']:g}) or set gradient clipping (clip_norm)"
                )
            history.train_loss.append(train_loss)
            history.learning_rate.append(optimizer.param_groups[0]["lr"])
            monitor = train_loss
            if has_val:
                monitor = evaluate_loss(model, X_val, Y_val, mask_val, config)
                history.val_loss.append(monitor)
                if scheduler is not None:
                    scheduler.step(monitor)
            history.epoch_seconds.append(time.perf_counter() - start)
            last_good = copy.deepcopy(model.state_dict())
            if monitor < best_loss - config.min_delta:
                best_loss, best_state, bad_epochs = monitor, last_good, 0
                history.best_epoch = epoch
            else:
                bad_epochs += 1
            bar.set_description(f"epoch {epoch}/{config.epochs}")
            bar.set_postfix(
                loss=f"{train_loss:.4g}", **({"val": f"{monitor:.4g}"} if has_val else {})
            )
            if has_val and config.patience is not None and bad_epochs >= config.patience:
                history.stopped_early = True
                break
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
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


def predict_network(model: torch.nn.Module, X, batch_size: int = 4096) -> torch.Tensor:
    """``model(X)`` in inference mode, in large batches: ``(N, T, F) -> (N, O)``."""
    X = torch.as_tensor(X, dtype=torch.float32)
    model.eval()
    with torch.inference_mode():
        outs = [model(X[s : s + batch_size]) for s in range(0, len(X), batch_size)]
    return torch.cat(outs) if outs else torch.empty(0)


def _make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    cls = OPTIMIZERS[config.optimizer]
    kwargs = {"lr": config.learning_rate, "weight_decay": config.weight_decay}
    if config.optimizer in ("adam", "adamw"):
        kwargs["foreach"] = True
    return cls(model.parameters(), **kwargs)


def _quiet(progress: bool | None) -> bool | None:
    # tqdm: disable=None hides the bar when output is not a terminal
    return None if progress is None else not progress
