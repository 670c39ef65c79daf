"""The one configurable forecasting network, and the three classic Keras shapes as presets.

``LSTMNetwork``: inputs (B, T, F) -> stacked ``lstmcast.nn.LSTM`` layers (any widths, tanh or
relu, optionally bidirectional) -> dropout -> a dense head on the last time step -> (B, n_outputs).

Presets reproduce the three examples every LSTM-forecasting tutorial starts from:

- ``simple``:        ``LSTM(50, activation='relu') -> Dense(n)``
- ``stacked``:       ``LSTM(64, relu, return_sequences) -> Dropout(0.2) -> LSTM(32, relu)
  -> Dropout(0.2) -> Dense(n)``
- ``bidirectional``: ``Bidirectional(LSTM(50, relu)) -> Dense(n)``
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lstmcast import nn as lstmcast_nn  # module import: lstmcast.nn imports this package too
from lstmcast.config import PRESETS
from lstmcast.errors import ConfigError
from lstmcast.models.kernels import ACTIVATIONS


@dataclass(frozen=True)
class NetworkConfig:
    """Everything that fixes the shape of an ``LSTMNetwork`` (saved beside its weights)."""

    n_features: int  # F: input variables per time step
    n_outputs: int = 1  # width of the dense head: targets (x horizon, if the caller flattens)
    units: tuple[int, ...] = (64,)  # hidden width of each LSTM layer, first to last
    bidirectional: bool = False  # each layer reads the window forwards and backwards
    dropout: float = 0.0  # Keras-style Dropout after every LSTM layer (training only), in [0, 1)
    activation: str = "tanh"  # cell activation for g and c: "tanh" (default) or "relu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", tuple(self.units))
        for name in ("n_features", "n_outputs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"{name} must be a positive integer, got {value!r}: pass e.g. {name}=3"
                )
        if not self.units or any(
            not isinstance(u, int) or isinstance(u, bool) or u < 1 for u in self.units
        ):
            raise ConfigError(
                f"units must be positive integers, got {list(self.units)}: pass e.g. "
                f"units=[64] or units=[64, 32] (one width per LSTM layer)"
            )
        if (
            not isinstance(self.dropout, int | float)
            or isinstance(self.dropout, bool)
            or not 0.0 <= self.dropout < 1.0
        ):
            raise ConfigError(
                f"dropout must be a probability in [0, 1), got {self.dropout!r}: pass e.g. "
                f"dropout=0.2, or 0 for none"
            )
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"activation must be one of {list(ACTIVATIONS)}, got {self.activation!r}: "
                f"pass activation='tanh' or activation='relu'"
            )


class LSTMNetwork(nn.Module):
    """Stacked LSTM layers and a dense head: (B, T, F) windows -> (B, n_outputs) forecasts.

    Args:
        n_features: F, input variables per time step.
        units: width of each LSTM layer, e.g. (64,) or (64, 32).
        n_outputs: outputs of the dense head.
        bidirectional: read each window forwards and backwards (the head sees both final states).
        dropout: dropout after every LSTM layer, as Keras ``Dropout`` layers; training only.
        activation: "tanh" or "relu" cells.

    Attributes: ``config`` (NetworkConfig), ``lstm`` (lstmcast.nn.LSTM), ``head`` (nn.Linear).

    Example:
        >>> net = LSTMNetwork(8, units=(64, 32), n_outputs=1, dropout=0.2, activation="relu")
        >>> net(torch.randn(16, 24, 8)).shape
        torch.Size([16, 1])
    """

    def __init__(
        self,
        n_features: int,
        units: Sequence[int] = (64,),
        n_outputs: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        activation: str = "tanh",
    ) -> None:
        super().__init__()
        if isinstance(units, int):
            units = (units,)
        self.config = NetworkConfig(
            n_features=n_features,
            n_outputs=n_outputs,
            units=tuple(units),
            bidirectional=bidirectional,
            dropout=dropout,
            activation=activation,
        )
        self.lstm = lstmcast_nn.LSTM(
            n_features,
            list(self.config.units),
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
            activation=activation,
        )
        self.dropout = nn.Dropout(dropout)
        directions = 2 if bidirectional else 1
        self.head = nn.Linear(directions * self.config.units[-1], n_outputs)

    @classmethod
    def from_config(cls, config: NetworkConfig) -> LSTMNetwork:
        """A fresh network of the shape ``config`` describes."""
        fields = dataclasses.asdict(config)
        return cls(fields.pop("n_features"), **fields)

    def features(self, x: Tensor) -> Tensor:
        """(B, T, F) -> (B, D * units[-1]): what the head reads, Keras' Dense input."""
        out, _ = self.lstm(x)  # (B, T, D * H)
        width = self.config.units[-1]
        last = out[:, -1, :width]  # forward direction after reading the last step
        if self.config.bidirectional:
            # backward direction after reading t = 0: Keras' Bidirectional(return_sequences=False)
            last = torch.cat([last, out[:, 0, width:]], dim=1)
        return last

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, F) windows -> (B, n_outputs)."""
        return self.head(self.dropout(self.features(x)))


def build_network(preset: str, n_features: int, n_outputs: int = 1, **overrides) -> LSTMNetwork:
    """The network of a named preset, with any of its fields overridden.

    Args:
        preset: "simple", "stacked" or "bidirectional" (see ``PRESETS``).
        n_features: F, input variables per time step; n_outputs: outputs of the head.
        overrides: NetworkConfig fields to change, e.g. ``units=(128,)``, ``activation="tanh"``.

    Example:
        >>> net = build_network("stacked", n_features=3, n_outputs=3)
    """
    if preset not in PRESETS:
        raise ConfigError(
            f"preset must be one of {sorted(PRESETS)}, got {preset!r}: pass e.g. preset='stacked'"
        )
    allowed = set(PRESETS[preset])
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ConfigError(f"unknown network option(s) {unknown}: the options are {sorted(allowed)}")
    fields = {**PRESETS[preset], **overrides}
    return LSTMNetwork(n_features, n_outputs=n_outputs, **fields)
