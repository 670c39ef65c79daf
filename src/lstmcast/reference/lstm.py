"""A multi-layer, optionally bidirectional LSTM in NumPy, with backpropagation through time.

``NumpyLSTM`` computes what ``torch.nn.LSTM(..., batch_first=True)`` computes (in eval mode:
no dropout between layers), from weights with torch's names, and the gradients of every weight,
of the input and of the initial states. It is slow and plain on purpose: it is the oracle the
fast implementations are tested against.

Shapes: B batch, T time steps, I input features, H_k the width of layer k, D directions (2 when
bidirectional), L layers. Hidden states of all layers and directions are indexed j = k*D + d, as
torch does; with equal widths they are stacked as one array (D*L, B, H), else they are a list of
D*L arrays (B, H_k).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lstmcast.errors import ConfigError, DataError, NotFittedError
from lstmcast.reference.cell import (
    ACTIVATIONS,
    CellWeights,
    StepCache,
    cell_backward,
    cell_forward,
)
from lstmcast.reference.params import (
    PARAM_NAME,
    Layout,
    as_float64,
    init_params,
    param_name,
    read_layout,
)
from lstmcast.reference.traces import GateTrace

States = np.ndarray | list[np.ndarray]  # (D*L, B, H) when the widths are equal, else D*L x (B, H_k)


def time_order(T: int, reverse: bool) -> range:
    """The order in which a direction visits the time steps."""
    return range(T - 1, -1, -1) if reverse else range(T)


def direction_forward(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    w: CellWeights,
    activation: str,
    reverse: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[StepCache]]:
    """One layer in one direction: ``x`` (B, T, I) from ``h0``, ``c0`` (B, H).

    Returns ``out`` (B, T, H), the last ``h`` and ``c`` (B, H), and the step caches indexed
    by time ``t`` (also when ``reverse``, where the last step computed is t = 0).
    """
    B, T, _ = x.shape
    out = np.zeros((B, T, w.hidden_size))  # (B, T, H)
    steps: list[StepCache] = [None] * T  # type: ignore[list-item]
    h, c = h0, c0  # (B, H) short- and long-term memory; the same weights serve every step
    for t in time_order(T, reverse):
        h, c, steps[t] = cell_forward(x[:, t], h, c, w, activation)
        out[:, t] = h
    return out, h, c, steps


def direction_backward(
    d_out: np.ndarray,
    d_h_last: np.ndarray,
    d_c_last: np.ndarray,
    steps: list[StepCache],
    w: CellWeights,
    grads: CellWeights,
    activation: str,
    reverse: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``direction_forward``, visiting its steps in reverse.

    ``d_out`` (B, T, H) is the gradient on the outputs, ``d_h_last``, ``d_c_last`` (B, H) those
    on the last ``h`` and ``c``. Adds into ``grads``; returns ``dx`` (B, T, I), ``dh0``, ``dc0``.
    """
    B, T, _ = d_out.shape
    dx = np.zeros((B, T, w.input_size))  # (B, T, I)
    dh, dc = d_h_last, d_c_last  # (B, H) gradients flowing back in time
    for t in reversed(time_order(T, reverse)):
        dh = dh + d_out[:, t]  # h_t went both to the output and to the next step
        dx[:, t], dh, dc = cell_backward(dh, dc, steps[t], w, grads, activation)
    return dx, dh, dc


class NumpyLSTM:
    """The LSTM in NumPy, float64, with torch.nn.LSTM's weights, inputs and outputs.

    Args:
        params: weights keyed by torch's names (``weight_ih_l0``, ``weight_hh_l0_reverse``, ...);
            layers, widths and directions are read from the names and shapes. Copied as float64.
        activation: ``"tanh"`` (torch's LSTM) or ``"relu"`` (replaces tanh for the candidate and
            for squashing the cell state; the gates keep the sigmoid).
        bidirectional: ``None`` infers it from the presence of ``*_reverse`` weights.

    Example:
        >>> m = NumpyLSTM.random(input_size=3, hidden_sizes=[4, 2], bidirectional=True, seed=0)
        >>> out, (h_n, c_n) = m.forward(np.ones((5, 7, 3)))
        >>> out.shape, [h.shape for h in h_n]
        ((5, 7, 4), [(5, 4), (5, 4), (5, 2), (5, 2)])
        >>> sorted(m.backward(np.ones_like(out)))[:3]
        ['bias_hh_l0', 'bias_hh_l0_reverse', 'bias_hh_l1']
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        activation: str = "tanh",
        bidirectional: bool | None = None,
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ConfigError(
                f"activation must be one of {ACTIVATIONS}, got {activation!r}: "
                'pass activation="tanh" or activation="relu"'
            )
        self.params = {name: as_float64(value, name) for name, value in params.items()}
        self.layout: Layout = read_layout(self.params, bidirectional)
        self.activation = activation
        self._forward_cache: dict[str, Any] | None = None

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, Any], activation: str = "tanh") -> NumpyLSTM:
        """From a ``torch.nn.LSTM`` state_dict (tensors or arrays), copied as float64."""
        return cls(dict(state_dict), activation=activation)

    @classmethod
    def from_torch(cls, module: Any) -> NumpyLSTM:
        """From a ``torch.nn.LSTM`` or any module with the same parameter names.

        The activation is ``module.activation`` when the module has one (as ``lstmcast.nn.LSTM``
        does), else ``"tanh"``. Feed the result batch-first inputs (B, T, I) whatever the
        module's ``batch_first``; dropout between layers is not applied (eval mode).
        """
        import torch  # only here: the reference itself never needs torch

        if getattr(module, "proj_size", 0):
            raise ConfigError(
                f"module has proj_size={module.proj_size}: LSTMs with projections are not "
                "supported by the NumPy reference; use proj_size=0"
            )
        with torch.no_grad():
            params = {
                name: p.detach().cpu().double().numpy() for name, p in module.named_parameters()
            }
        foreign = [name for name in params if not PARAM_NAME.match(name)]
        if foreign:
            raise ConfigError(
                f"module has parameters that are not an LSTM's, e.g. {foreign[:3]}: pass the "
                "LSTM submodule itself, e.g. NumpyLSTM.from_torch(net.lstm)"
            )
        return cls(params, activation=getattr(module, "activation", "tanh"))

    @classmethod
    def random(
        cls,
        input_size: int,
        hidden_sizes: Sequence[int],
        *,
        bidirectional: bool = False,
        activation: str = "tanh",
        seed: int = 0,
    ) -> NumpyLSTM:
        """Random weights drawn as torch draws them (seeded), e.g. for tests and gradcheck."""
        params = init_params(input_size, hidden_sizes, bidirectional=bidirectional, seed=seed)
        return cls(params, activation=activation)

    @property
    def input_size(self) -> int:
        return self.layout.input_size

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return self.layout.hidden_sizes

    @property
    def num_layers(self) -> int:
        return self.layout.num_layers

    @property
    def num_directions(self) -> int:
        return self.layout.num_directions

    @property
    def bidirectional(self) -> bool:
        return self.layout.num_directions == 2

    def weights(self, layer: int, direction: int) -> CellWeights:
        """Views of the weights of one layer and direction (zeros for absent biases)."""
        w_ih = self.params[param_name("weight_ih", layer, direction)]
        w_hh = self.params[param_name("weight_hh", layer, direction)]
        zeros = np.zeros(w_hh.shape[0])
        b_ih = self.params.get(param_name("bias_ih", layer, direction), zeros)
        b_hh = self.params.get(param_name("bias_hh", layer, direction), zeros)
        return CellWeights(w_ih, w_hh, b_ih, b_hh)

    def forward(
        self,
        x: Any,
        h0c0: tuple[States, States] | None = None,
        return_gates: bool = False,
    ) -> (
        tuple[np.ndarray, tuple[States, States]]
        | tuple[np.ndarray, tuple[States, States], dict[str, GateTrace]]
    ):
        """Run the LSTM over ``x`` (B, T, I) as ``torch.nn.LSTM(batch_first=True)`` does.

        Args:
            x: (B, T, I) input sequences.
            h0c0: optional initial ``(h0, c0)`` in torch's layout (D*L, B, H), or lists of D*L
                arrays (B, H_k) when widths differ; zeros (torch's default) when omitted.
            return_gates: also return a dict of ``GateTrace`` keyed ``"l0"``, ``"l0_reverse"``,
                ``"l1"``, ... with the gates f, i, g, o and the memories c, h, each (B, T, H_k).

        Returns:
            ``out`` (B, T, D*H_last) and ``(h_n, c_n)``: (D*L, B, H) when all widths are equal,
            else lists of D*L arrays (B, H_k); plus the gate traces when ``return_gates``.
        """
        x = self._check_x(x)  # (B, T, I)
        B, T, _ = x.shape
        if h0c0 is not None and (not isinstance(h0c0, tuple | list) or len(h0c0) != 2):
            raise DataError("h0c0 must be a pair (h0, c0) as torch.nn.LSTM takes it, or None")
        h0 = self._check_states(None if h0c0 is None else h0c0[0], "h0", B)
        c0 = self._check_states(None if h0c0 is None else h0c0[1], "c0", B)
        D, act = self.num_directions, self.activation
        h_n, c_n, steps, traces = [], [], [], {}
        layer_in = x  # (B, T, I_k)
        for k in range(self.num_layers):
            outs = []
            for d in range(D):
                j = k * D + d
                out_d, h_last, c_last, steps_j = direction_forward(
                    layer_in, h0[j], c0[j], self.weights(k, d), act, reverse=d == 1
                )  # out_d (B, T, H_k)
                outs.append(out_d)
                h_n.append(h_last)
                c_n.append(c_last)
                steps.append(steps_j)
                if return_gates:
                    trace = _trace(steps_j, k, reverse=d == 1)
                    traces[trace.name] = trace
            layer_in = np.concatenate(outs, axis=2)  # (B, T, D*H_k): [forward, backward]
        out = layer_in  # (B, T, D*H_last)
        self._forward_cache = {"x_shape": x.shape, "steps": steps}
        states = (self._pack(h_n), self._pack(c_n))
        return (out, states, traces) if return_gates else (out, states)

    def backward(
        self,
        d_out: Any,
        d_h_n: States | None = None,
        d_c_n: States | None = None,
    ) -> dict[str, Any]:
        """Gradients of a loss, given its gradients on the outputs of the last ``forward``.

        Args:
            d_out: (B, T, D*H_last) gradient on ``out``.
            d_h_n, d_c_n: gradients on ``h_n`` and ``c_n`` in their layout; zeros when omitted.

        Returns:
            A dict keyed by the names in ``params`` (same shapes), plus ``"x"`` (B, T, I) and
            ``"h0"``, ``"c0"`` in the layout of ``h_n`` (present also when forward started
            from zeros).
        """
        if self._forward_cache is None:
            raise NotFittedError(
                "backward() needs the caches of a forward pass: call forward(x) first"
            )
        B, T, I = self._forward_cache["x_shape"]
        steps = self._forward_cache["steps"]
        D, L = self.num_directions, self.num_layers
        d_out = as_float64(d_out, "d_out")
        expected = (B, T, D * self.hidden_sizes[-1])
        if d_out.shape != expected:
            raise DataError(
                f"d_out must have the shape of forward's out {expected}, got {d_out.shape}"
            )
        dh_n = self._check_states(d_h_n, "d_h_n", B)
        dc_n = self._check_states(d_c_n, "d_c_n", B)

        grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        dh0: list[np.ndarray] = [None] * (D * L)  # type: ignore[list-item]
        dc0: list[np.ndarray] = [None] * (D * L)  # type: ignore[list-item]
        d_layer_out = d_out  # (B, T, D*H_k)
        for k in reversed(range(L)):
            H = self.hidden_sizes[k]
            d_layer_in = np.zeros((B, T, self.layout.layer_input_size(k)))  # (B, T, I_k)
            for d in range(D):
                j = k * D + d
                g = self._grad_views(grads, k, d)
                dx, dh0[j], dc0[j] = direction_backward(
                    d_layer_out[:, :, d * H : (d + 1) * H],  # (B, T, H_k) this direction's share
                    dh_n[j],
                    dc_n[j],
                    steps[j],
                    self.weights(k, d),
                    g,
                    self.activation,
                    reverse=d == 1,
                )
                d_layer_in += dx  # both directions read the same input
            d_layer_out = d_layer_in
        grads["x"] = d_layer_out  # (B, T, I)
        grads["h0"] = self._pack(dh0)
        grads["c0"] = self._pack(dc0)
        return grads

    __call__ = forward

    def _grad_views(self, grads: dict[str, np.ndarray], layer: int, direction: int) -> CellWeights:
        """The gradient arrays of one layer and direction, as ``CellWeights`` (scratch biases
        when the model has none)."""
        views = [
            grads.get(param_name(kind, layer, direction))
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        return CellWeights(*(v if v is not None else np.zeros(views[1].shape[0]) for v in views))

    def _pack(self, states: list[np.ndarray]) -> States:
        """Stack per-layer states as torch does (D*L, B, H) when widths agree, else keep a list."""
        return np.stack(states) if len(set(self.hidden_sizes)) == 1 else list(states)

    def _check_x(self, x: Any) -> np.ndarray:
        x = as_float64(x, "x")
        if x.ndim != 3:
            raise DataError(
                f"x must be 3-D (batch, time, features) = (B, T, {self.input_size}), got shape "
                f"{x.shape}: add a batch axis with x[None] or a feature axis with x[..., None]"
            )
        if x.shape[2] != self.input_size:
            raise DataError(
                f"x must have {self.input_size} features on its last axis (the model's "
                f"input_size), got shape {x.shape}"
            )
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise DataError(f"x needs at least one sequence and one time step, got shape {x.shape}")
        return x

    def _check_states(self, value: Any, name: str, B: int) -> list[np.ndarray]:
        """Initial states or their gradients as a list of D*L arrays (B, H_k); zeros for None."""
        D = self.num_directions
        widths = [H for H in self.hidden_sizes for _ in range(D)]  # H of state j = k*D + d
        if value is None:
            return [np.zeros((B, H)) for H in widths]
        if isinstance(value, list | tuple):
            states = [as_float64(v, name) for v in value]
            shape: Any = [s.shape for s in states]
        else:
            stacked = as_float64(value, name)
            states = list(stacked) if stacked.ndim == 3 else [stacked]
            shape = stacked.shape
        if [s.shape for s in states] != [(B, H) for H in widths]:
            layout = (
                f"({len(widths)}, {B}, {widths[0]}) = (num_directions*num_layers, batch, hidden)"
                if len(set(widths)) == 1
                else f"a list of {len(widths)} arrays of shapes {[(B, H) for H in widths]}"
            )
            raise DataError(f"{name} must be {layout}, got {shape}")
        return states


def _trace(steps: list[StepCache], layer: int, reverse: bool) -> GateTrace:
    """Stack the step caches of one direction (indexed by time) into (B, T, H) traces."""
    fields = {f: np.stack([getattr(s, f) for s in steps], axis=1) for f in "figoch"}
    return GateTrace(**fields, layer=layer, reverse=reverse)
