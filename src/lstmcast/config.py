"""Every setting of a run: ``ForecastConfig`` (data, windows, network, training), the
``TrainConfig`` it hands to the training loop, and the network presets.

Flat dataclasses with one comment per field (the CLI turns each comment into its flag's help).
This module imports neither torch nor pandas, so that ``lstmcast --help`` answers at once.

Example:
    >>> from lstmcast.config import ForecastConfig
    >>> ForecastConfig(horizon=24, preset="stacked").units
    [64, 32]
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import typing
from dataclasses import dataclass

from lstmcast.errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")  # torch.optim.Adam, AdamW, SGD, RMSprop
# each optimiser's weight decay when none is given: torch's own defaults (adamw without decay
# would be adam under another name)
WEIGHT_DECAY = {"adam": 0.0, "adamw": 0.01, "sgd": 0.0, "rmsprop": 0.0}
LOSSES = ("mse", "mae", "huber")
SEED_MAX = 2**64 - 1  # the largest seed torch takes
# Settings that may change when a run is resumed: they do not alter the weights of an epoch.
RESUMABLE_CHANGES = ("epochs", "progress")

PRESETS: dict[str, dict[str, object]] = {
    # LSTM(50, activation='relu') -> Dense(n)
    "simple": {"units": (50,), "activation": "relu", "dropout": 0.0, "bidirectional": False},
    # LSTM(64, relu, return_sequences) -> Dropout(0.2) -> LSTM(32, relu) -> Dropout(0.2) -> Dense(n)
    "stacked": {"units": (64, 32), "activation": "relu", "dropout": 0.2, "bidirectional": False},
    # Bidirectional(LSTM(50, relu)) -> Dense(n)
    "bidirectional": {
        "units": (50,),
        "activation": "relu",
        "dropout": 0.0,
        "bidirectional": True,
    },
}


# the network without a preset; a preset sets all four, and a different one given beside it
# is refused (None defaults tell "not given" from "given as the default")
NETWORK_DEFAULTS = {"units": (64, 64), "dropout": 0.0, "activation": "tanh", "bidirectional": False}


@dataclass
class ForecastConfig:
    """Everything that defines a forecasting run; flat, one comment per field."""

    # --- data
    data: str = "beijing-pm25"  # registry name (lstmcast datasets list) or a CSV/Parquet path
    time_col: str | None = None  # time column; None: year/month/day[/hour] columns
    target: list[str] | None = None  # column(s) to forecast, or all; None: the dataset's default
    features: list[str] | None = None  # input columns; None: every column; [target]: univariate
    categorical: str = "label"  # label | onehot encoding of text columns (e.g. wind direction)
    fill: str = "ffill"  # missing inputs: ffill (causal) | interpolate (peeks ahead) | refuse
    # --- windows and split
    lookback: int = 24  # timesteps of history per window (24 = one day of hourly data)
    horizon: int = 1  # steps forecast at once, directly by one dense head
    train_end: str | None = None  # last timestamp of the training split; None: dataset default
    val_end: str | None = None  # last timestamp of the validation split
    train_fraction: float = 0.7  # used when no split dates are known: share of rows for training
    val_fraction: float = 0.15  # share for validation; the rest is the test split
    scaler: str = "minmax"  # minmax | standard, fit on the training split only
    residual: bool = True  # learn the change from the last observed value (when target is an input)
    # --- network
    # the 4 network fields below are None until set: given (or by preset), else NETWORK_DEFAULTS
    preset: str | None = None  # simple | stacked | bidirectional: sets the 4 fields below
    units: list[int] | None = None  # LSTM widths, one per layer
    dropout: float | None = None  # dropout between LSTM layers and before the head
    activation: str | None = None  # tanh | relu cell activation
    bidirectional: bool | None = None  # read each window forwards and backwards
    ensemble: int = 1  # networks trained from seeds seed, seed+1, ...; their forecasts averaged
    # --- training
    loss: str = "mse"  # mse | mae | huber
    huber_delta: float = 1.0  # huber's switch point in scaled target units (minmax: share of range)
    optimizer: str = "adam"  # adam | adamw | sgd | rmsprop
    learning_rate: float = 1e-3  # initial step size; cut on validation plateaus
    batch_size: int = 64  # windows per step
    epochs: int = 40  # upper bound; early stopping usually ends sooner
    patience: int | None = 6  # epochs without validation improvement before stopping
    clip_norm: float | None = 1.0  # gradient-norm clipping
    weight_decay: float | None = None  # L2 penalty (adamw: decoupled); unset: adamw 0.01, else 0
    seed: int = 0  # seeds weights, dropout and shuffling: same seed, same CPU, same result
    progress: bool | None = None  # progress bar; None: only on a terminal

    def __post_init__(self) -> None:
        _check_types(self)
        for name in ("lookback", "horizon", "batch_size", "epochs", "ensemble"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                default = ForecastConfig.__dataclass_fields__[name].default
                raise ConfigError(
                    f"{name} must be a positive integer, got {value!r}: e.g. "
                    f"--{name.replace('_', '-')} {default} (the default)"
                )
        for name in ("target", "features"):  # a bare number in TOML: target = 1
            value = getattr(self, name)
            if value is not None and not isinstance(value, str | list | tuple):
                raise ConfigError(
                    f'{name} must be column names, got {value!r}: e.g. {name} = ["load"] in a '
                    f"TOML file, or --{name} load"
                )
        if isinstance(self.target, str):
            self.target = [self.target]
        if isinstance(self.features, str):
            self.features = [self.features]
        if not -(2**63) <= self.seed <= SEED_MAX - (self.ensemble - 1):  # members add to it
            raise ConfigError(
                f"seed must be a whole number in [-2**63, 2**64 - ensemble], got {self.seed}: "
                "e.g. --seed 0"
            )
        from lstmcast.reference.cell import ACTIVATIONS  # numpy only: --help stays quick

        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"activation must be one of {', '.join(ACTIVATIONS)}, got "
                f"{self.activation!r}: e.g. --activation tanh (the default)"
            )
        if self.preset is not None:
            if self.preset not in PRESETS:
                raise ConfigError(
                    f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}"
                )
            for key, value in PRESETS[self.preset].items():
                wanted = list(value) if key == "units" else value
                given = getattr(self, key)
                if given is not None and given != wanted:  # never overrule a setting silently
                    raise ConfigError(preset_clash(self.preset, key))
                setattr(self, key, wanted)
        for key, value in NETWORK_DEFAULTS.items():
            if getattr(self, key) is None:
                setattr(self, key, list(value) if key == "units" else value)
        if isinstance(self.units, int):
            self.units = [self.units]
        self.units = list(self.units)
        if not self.units or any(
            isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in self.units
        ):
            raise ConfigError(
                f"units must be positive integers, got {self.units}: e.g. --units 64 32"
            )
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}: e.g. --dropout 0.2")
        if self.fill not in ("ffill", "interpolate", "refuse"):  # read_table's "none" leaves NaN
            raise ConfigError(
                f"fill must be ffill, interpolate or refuse, got {self.fill!r}: ffill (the "
                "default) carries the last observed value forward"
            )
        moved = self.moved_fractions()
        if moved and (self.train_end is not None or self.val_end is not None):
            raise ConfigError(
                f"the split is given both by dates (train_end/val_end) and by {moved[0]}, which "
                "would be ignored: give dates or fractions, not both"
            )
        from lstmcast.data.table import CATEGORICALS

        if self.categorical not in CATEGORICALS:
            raise ConfigError(
                f"categorical must be one of {', '.join(CATEGORICALS)}, got "
                f"{self.categorical!r}: e.g. --categorical label (the default)"
            )
        if self.scaler not in ("minmax", "standard"):
            raise ConfigError(f"scaler must be minmax or standard, got {self.scaler!r}")
        self.train_config()  # validates the training fields

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            optimizer=self.optimizer,
            weight_decay=self.resolved_weight_decay(),
            loss=self.loss,
            huber_delta=self.huber_delta,
            patience=self.patience,
            clip_norm=self.clip_norm,
            seed=self.seed,
            progress=self.progress,
        )

    def moved_fractions(self) -> list[str]:
        """The split fractions given other than their defaults (train_fraction, val_fraction)."""
        names = ("train_fraction", "val_fraction")
        return [n for n in names if getattr(self, n) != getattr(type(self), n)]

    def resolved_weight_decay(self) -> float:
        """``weight_decay``, or the optimiser's own when None (adamw 0.01, the others 0)."""
        return resolve_weight_decay(self.optimizer, self.weight_decay)

    def replace(self, **changes) -> ForecastConfig:
        """A copy with ``changes``. A new ``preset`` replaces the network settings that came
        from the defaults or the old preset (settings of one's own still clash with it);
        ``preset=None`` keeps the network as it is (tune searches from a preset's network)."""
        if changes.get("preset") not in (None, self.preset):
            inherited = PRESETS.get(self.preset, NETWORK_DEFAULTS)
            for key, value in inherited.items():
                wanted = list(value) if key == "units" else value
                if key not in changes and getattr(self, key) == wanted:
                    changes[key] = None
        return dataclasses.replace(self, **changes)


def preset_clash(preset: str, key: str, where: str | None = None) -> str:
    """The message for a setting given beside a preset that sets it too; ``where`` names it
    when it was not given as the flag (``units in run.toml``)."""
    flags = [flag_for(k, v) for k, v in PRESETS[preset].items()]
    given = where or f"--{key}"
    return (
        f"preset {preset!r} sets the network ({' '.join(flags)}), so {given} cannot be given "
        f"beside it: drop --preset and give those flags yourself, or drop {given}"
    )


def flag_for(name: str, value) -> str | None:
    """The command-line flag that gives setting ``name`` its ``value``: ``--units 64 64``,
    ``--no-bidirectional``, ``--clip-norm none``; None for a None no flag can give."""
    import shlex

    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else f"--no-{name.replace('_', '-')}"
    if value is None:
        return f"{flag} none" if name in switchable_settings() else None
    if isinstance(value, tuple | list):
        return f"{flag} {' '.join(shlex.quote(str(v)) for v in value)}"
    return f"{flag} {shlex.quote(str(value))}"


def resolve_weight_decay(optimizer: str, weight_decay: float | None) -> float:
    """``weight_decay``, or ``optimizer``'s own (``WEIGHT_DECAY``) when None."""
    return WEIGHT_DECAY.get(optimizer, 0.0) if weight_decay is None else weight_decay


def switchable_settings() -> set[str]:
    """The settings that may be None but default to a value (patience, clip_norm): ``none`` on
    the command line or in TOML (which has no null) turns them off."""
    hints = typing.get_type_hints(ForecastConfig)
    return {
        f.name
        for f in dataclasses.fields(ForecastConfig)
        if type(None) in typing.get_args(hints[f.name])
        and f.default not in (None, dataclasses.MISSING)
    }


def _check_types(config: ForecastConfig) -> None:
    """Refuse a setting of the wrong type (a TOML file can give "0.01" for 0.01, or 1.5 for a
    seed) before it fails deep inside; a TOML date for a split boundary becomes its ISO text."""
    hints = typing.get_type_hints(ForecastConfig)
    for f in dataclasses.fields(config):
        value, hint = getattr(config, f.name), hints[f.name]
        if value is None and type(None) in typing.get_args(hint):
            continue
        if isinstance(value, datetime.date) and f.name in ("train_end", "val_end"):
            setattr(config, f.name, value.isoformat(sep=" ") if isinstance(value, datetime.datetime)
                    else value.isoformat())  # fmt: skip
            continue
        kinds = {k for k in typing.get_args(hint) or (hint,) if k is not type(None)}
        if typing.get_origin(hint) is list or any(typing.get_origin(k) is list for k in kinds):
            continue  # units, target and features: checked below and in the main checks
        flag = f"--{f.name.replace('_', '-')}"
        example = {**NETWORK_DEFAULTS, "weight_decay": 0.0001}.get(f.name, f.default)
        if float in kinds:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value):
                raise ConfigError(
                    f"{f.name} must be a finite number, got {value!r}: e.g. {flag} {example}"
                    + (" (numbers in a TOML file go without quotes)" * isinstance(value, str))
                )
        elif bool in kinds and not isinstance(value, bool):
            raise ConfigError(
                f"{f.name} must be true or false, got {value!r}: e.g. {f.name} = false in a TOML "
                f"file, or {flag} / --no-{f.name.replace('_', '-')}"
            )
        elif int in kinds and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(
                f"{f.name} must be a whole number, got {value!r}: e.g. {flag} {example}"
            )
        elif str in kinds and not isinstance(value, str):
            raise ConfigError(
                f'{f.name} must be text, got {value!r}: quote it in a TOML file ({f.name} = "...")'
            )
    for name in ("target", "features"):
        names = getattr(config, name)
        if isinstance(names, list | tuple):
            if not all(isinstance(n, str) for n in names):
                raise ConfigError(
                    f"{name} must be column names, got {names!r}: give them as text, e.g. "
                    f"{name}={[str(n) for n in names]!r}"
                )
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ConfigError(f"{name} names {repeated} more than once: give each column once")


@dataclass
class TrainConfig:
    """How to train; every field has a meaning, a unit and a reason for its default."""

    epochs: int = 100  # passes over the training windows (an upper bound when patience is set)
    batch_size: int = 64  # windows per optimiser step; 64 trades speed against noise well on CPU
    learning_rate: float = 1e-3  # Adam's usual step size
    optimizer: str = "adam"  # adam | adamw | sgd | rmsprop
    weight_decay: float | None = None  # L2 penalty, decoupled for adamw; None: torch's default
    # for the optimiser (adamw 0.01, the others 0: adamw without decay would be adam)
    loss: str = "mse"  # mse | mae | huber, on scaled targets, missing targets masked out
    huber_delta: float = 1.0  # Huber's switch point, in scaled target units
    patience: int | None = 10  # epochs without validation improvement before stopping; None: never
    # the learning rate is cut after MORE than lr_patience epochs without a relative improvement
    # of 1e-4 in validation loss (torch's ReduceLROnPlateau; min_delta is early stopping's
    # alone): with the defaults, at the 5th such epoch; None: never cut
    lr_patience: int | None = 4
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
        if self.weight_decay is not None and not self.weight_decay >= 0:
            raise ConfigError(
                f"weight_decay must be 0 or positive, got {self.weight_decay}: e.g. 0.0001 "
                "(0 turns the penalty off)"
            )
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if not self.huber_delta > 0:
            raise ConfigError(
                f"huber_delta must be positive, got {self.huber_delta}: e.g. 0.05 (scaled units)"
            )
        if self.patience is not None:
            _positive_int("patience", self.patience, off="early stopping")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ConfigError(
                f"clip_norm must be positive, got {self.clip_norm}; none turns clipping off "
                "(--clip-norm none; None from Python)"
            )


def _positive_int(name: str, value: object, *, off: str | None = None) -> None:
    """ConfigError unless ``value`` is a whole number >= 1; ``off`` names what None turns off."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        flag = name.replace("_", "-")
        never = f"; none turns {off} off (--{flag} none; None from Python)" if off else ""
        raise ConfigError(f"{name} must be a positive integer, got {value!r}{never}")
