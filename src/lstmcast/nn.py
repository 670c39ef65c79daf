"""``lstmcast.nn.LSTM``: a drop-in for ``torch.nn.LSTM`` with relu cells and per-layer widths.

Same constructor, same parameter names and layout (``weight_ih_l{k}`` (4H, I), ``weight_hh_l{k}``
(4H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}``, ``_reverse`` for the backward direction, gate order
i, f, g, o), same initialisation, same forward signature — so a ``state_dict`` moves between the
two when the widths are equal. Two additions:

- ``activation="relu"`` replaces tanh for the candidate ``g`` and for squashing the cell state
  ``c`` (as Keras' ``LSTM(activation="relu")``); the gates keep the sigmoid.
- ``hidden_size=[64, 32]`` gives each layer its own width (``num_layers`` is then its length).
  With differing widths, ``h_n`` and ``c_n`` are tuples of ``D * num_layers`` tensors, entry ``k``
  of shape (B, H_layer) in torch's order (layer 0 forward, layer 0 backward, layer 1 ...), so
  ``h_n[-1]`` means what it means for torch's stacked tensor. Initial states are accepted in the
  same form.

Each layer and direction runs as one call of ``lstmcast.models.kernels.lstm_layer``: a compiled
C++ engine where available, else a pure-torch engine with the same hand-written backward.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lstmcast.errors import ConfigError, DataError
from lstmcast.models import kernels

State = Tensor | tuple[Tensor, ...]


def _check_widths(hidden_size: int | Sequence[int], num_layers: int) -> tuple[int, ...]:
    """The per-layer widths from ``hidden_size`` and ``num_layers``, or a ConfigError."""
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
        raise ConfigError(
            f"num_layers must be a positive integer, got {num_layers!r}: pass e.g. num_layers=2"
        )
    if isinstance(hidden_size, Sequence):
        widths = list(hidden_size)
        if num_layers not in (1, len(widths)):
            raise ConfigError(
                f"num_layers must equal len(hidden_size) when widths are given per layer, got "
                f"num_layers={num_layers} and hidden_size={widths}: leave num_layers out"
            )
    else:
        widths = [hidden_size] * num_layers
    if not widths or any(not isinstance(w, int) or isinstance(w, bool) or w < 1 for w in widths):
        raise ConfigError(
            f"hidden_size must be positive integers, got {widths}: pass e.g. hidden_size=64 "
            f"or hidden_size=[64, 32]"
        )
    return tuple(widths)


class LSTM(nn.Module):
    """Multi-layer LSTM over a sequence; ``torch.nn.LSTM``'s face plus relu and per-layer widths.

    Args:
        input_size: features per time step I.
        hidden_size: width H of every layer, or a list of widths, one per layer.
        num_layers: number of stacked layers (ignored if hidden_size is a list of that length).
        bias: whether the layers have ``bias_ih``/``bias_hh``.
        batch_first: inputs and outputs are (B, T, F) instead of (T, B, F).
        dropout: dropout probability on each layer's output except the last (training only).
        bidirectional: run each layer forwards and backwards, outputs concatenated.
        activation: "tanh" (torch's and Keras' default) or "relu", for ``g`` and for ``c``.

    Example:
        >>> lstm = LSTM(8, [64, 32], batch_first=True, activation="relu")
        >>> out, (h_n, c_n) = lstm(torch.randn(4, 24, 8))  # out (4, 24, 32); h_n[-1] (4, 32)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int | Sequence[int],
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        activation: str = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(input_size, int) or isinstance(input_size, bool) or input_size < 1:
            raise ConfigError(
                f"input_size must be a positive integer, got {input_size!r}: pass the number "
                f"of features per time step"
            )
        widths = _check_widths(hidden_size, num_layers)
        if not isinstance(dropout, int | float) or not 0.0 <= dropout < 1.0:
            raise ConfigError(
                f"dropout must be a probability in [0, 1), got {dropout!r}: pass e.g. dropout=0.2"
            )
        if activation not in kernels.ACTIVATIONS:
            raise ConfigError(
                f"activation must be one of {list(kernels.ACTIVATIONS)}, got {activation!r}: "
                f"pass activation='tanh' or activation='relu'"
            )
        self.input_size = input_size
        self.hidden_sizes = widths
        self.hidden_size = widths[0] if len(set(widths)) == 1 else widths
        self.num_layers = len(widths)
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.activation = activation
        self.proj_size = 0
        factory = {"device": device, "dtype": dtype}
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer, width in enumerate(widths):
            layer_input = input_size if layer == 0 else widths[layer - 1] * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {
                    f"weight_ih_l{layer}{suffix}": (4 * width, layer_input),
                    f"weight_hh_l{layer}{suffix}": (4 * width, width),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (4 * width,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (4 * width,)
                for name, shape in shapes.items():
                    self.register_parameter(name, nn.Parameter(torch.empty(shape, **factory)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform on ±1/sqrt(H) of each parameter's layer, in torch's order (same draws)."""
        for name in self._flat_weights_names:
            width = self.hidden_sizes[int(name.split("_l")[1].split("_")[0])]
            bound = 1.0 / math.sqrt(width)
            nn.init.uniform_(getattr(self, name), -bound, bound)

    def flatten_parameters(self) -> None:
        """No-op, for code written against ``torch.nn.LSTM``."""

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """Parameters grouped per layer and direction, as ``torch.nn.LSTM.all_weights``."""
        per = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[k : k + per]] for k in range(0, len(names), per)]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers > 1 and isinstance(self.hidden_size, int):
            text += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        if self.bidirectional:
            text += ", bidirectional=True"
        if self.activation != "tanh":
            text += f", activation={self.activation!r}"
        return text

    def forward(
        self, x: Tensor, hx: tuple[State, State] | None = None
    ) -> tuple[Tensor, tuple[State, State]]:
        """Run the stack over ``x``.

        Args:
            x: (B, T, I) if batch_first else (T, B, I); or (T, I) for one unbatched sequence.
            hx: optional (h0, c0), each (D * num_layers, B, H) — or, with differing widths, a
                sequence of D * num_layers tensors (B, H_layer). Zeros when omitted.

        Returns:
            out: (B, T, D * H_last) if batch_first else (T, B, D * H_last);
            (h_n, c_n): like hx, the final states of every layer and direction.
        """
        if isinstance(x, nn.utils.rnn.PackedSequence):
            raise ConfigError(
                "lstmcast.nn.LSTM does not take a PackedSequence: pad the batch to one length"
            )
        if x.dim() not in (2, 3) or x.shape[-1] != self.input_size:
            raise DataError(
                f"LSTM input must be (B, T, {self.input_size}) or (T, B, {self.input_size}) "
                f"(or 2-D unbatched), got shape {tuple(x.shape)}: check the number of features"
            )
        if x.shape[-2 if x.dim() == 2 or self.batch_first else 0] == 0:
            raise DataError(
                f"LSTM input has no time steps (shape {tuple(x.shape)}): give sequences of at "
                "least one step"
            )
        if x.dtype != self.weight_ih_l0.dtype:
            raise DataError(
                f"LSTM input is {x.dtype} but its weights are {self.weight_ih_l0.dtype}: convert "
                f"the input, x.to({self.weight_ih_l0.dtype}), or the module, lstm.to({x.dtype})"
            )
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)  # a view: the engines read strided rows
        seq = x  # (T, B, I) time-major from here on
        batch = seq.shape[1]
        directions = 2 if self.bidirectional else 1
        h0s, c0s = self._initial_states(hx, batch, seq, unbatched)
        h_n: list[Tensor] = []
        c_n: list[Tensor] = []
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + d
                params = [
                    getattr(self, f"weight_ih_l{layer}{suffix}"),
                    getattr(self, f"weight_hh_l{layer}{suffix}"),
                ]
                if self.bias:
                    params += [
                        getattr(self, f"bias_ih_l{layer}{suffix}"),
                        getattr(self, f"bias_hh_l{layer}{suffix}"),
                    ]
                else:
                    params += [None, None]
                out, h, c = kernels.lstm_layer(
                    seq, h0s[k], c0s[k], *params, self.activation, reverse=d == 1
                )
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            seq = outs[0] if directions == 1 else torch.cat(outs, dim=2)  # (T, B, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                seq = kernels.dropout(seq, self.dropout)
        if unbatched:
            out = seq.squeeze(1)
            h_n = [h.squeeze(0) for h in h_n]
            c_n = [c.squeeze(0) for c in c_n]
        else:
            out = seq.transpose(0, 1) if self.batch_first else seq
        if isinstance(self.hidden_size, int):
            return out, (torch.stack(h_n), torch.stack(c_n))
        return out, (tuple(h_n), tuple(c_n))

    def _initial_states(
        self, hx: tuple[State, State] | None, batch: int, x: Tensor, unbatched: bool
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Per layer and direction (B, H_layer) initial states, zeros when ``hx`` is None."""
        directions = 2 if self.bidirectional else 1
        widths = [w for w in self.hidden_sizes for _ in range(directions)]
        if hx is None:
            zeros = [x.new_zeros(batch, w) for w in widths]
            return zeros, zeros
        states = []
        for name, s in zip(("h0", "c0"), hx, strict=True):
            parts = list(s.unbind(0)) if isinstance(s, Tensor) else list(s)
            if unbatched:
                parts = [p.unsqueeze(0) for p in parts]
            shapes = [tuple(p.shape) for p in parts]
            if shapes != [(batch, w) for w in widths]:
                raise DataError(
                    f"{name} must hold {len(widths)} states of shapes "
                    f"{[(batch, w) for w in widths]} (layers x directions, batch, width), "
                    f"got {shapes}: pass hx=None for zeros"
                )
            states.append(parts)
        return states[0], states[1]
