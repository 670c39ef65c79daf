"""The LSTM's weights as a dict keyed by PyTorch's names, and what their shapes say.

Names, for layer k (0-based) and the forward direction (add ``_reverse`` for the backward
direction of a bidirectional layer)::

    weight_ih_l{k}  (4H_k, I_k)   gate rows in the order i, f, g, o
    weight_hh_l{k}  (4H_k, H_k)
    bias_ih_l{k}    (4H_k,)       both biases are optional (torch's bias=False), but as a pair
    bias_hh_l{k}    (4H_k,)

Each layer's width H_k is read from ``weight_hh_l{k}``; layers may differ in width. Layer 0 reads
I_0 input features, layer k > 0 reads the concatenated outputs of layer k-1: I_k = D * H_{k-1},
with D = 2 directions when bidirectional, else 1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstmcast.errors import ConfigError

PARAM_NAME = re.compile(r"^(weight|bias)_(ih|hh)_l(\d+)(_reverse)?$")
SUFFIXES = ("", "_reverse")  # direction 0 runs forward in time, direction 1 backward


def param_name(kind: str, layer: int, direction: int) -> str:
    """``param_name("weight_ih", 1, 1)`` is ``"weight_ih_l1_reverse"``."""
    return f"{kind}_l{layer}{SUFFIXES[direction]}"


def as_float64(value: Any, name: str) -> np.ndarray:
    """A float64 NumPy copy of an array-like or a torch tensor (no torch import needed)."""
    if hasattr(value, "detach"):  # a torch tensor, possibly requiring grad or on a GPU
        value = value.detach().cpu().double().numpy()
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"{name} must be an array of numbers, got {type(value).__name__}"
        ) from err


@dataclass(frozen=True)
class Layout:
    """The architecture that a set of weights describes."""

    input_size: int  # I_0, features read by layer 0
    hidden_sizes: tuple[int, ...]  # H_k per layer
    num_directions: int  # 1, or 2 when bidirectional
    has_bias: bool  # False for torch's bias=False

    @property
    def num_layers(self) -> int:
        return len(self.hidden_sizes)

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.num_directions * self.hidden_sizes[layer - 1]


def read_layout(params: Mapping[str, np.ndarray], bidirectional: bool | None = None) -> Layout:
    """Check the names and shapes of ``params`` and return the architecture they describe."""
    unknown = sorted(name for name in params if not PARAM_NAME.match(name))
    if unknown:
        hint = (
            " (projections, torch's proj_size, are not supported)"
            if any(name.startswith("weight_hr") for name in unknown)
            else ""
        )
        raise ConfigError(
            f"params has unknown names {unknown}{hint}: expected torch.nn.LSTM names such as "
            "weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 (suffix _reverse for backward)"
        )
    layers = sorted({int(PARAM_NAME.match(name).group(3)) for name in params})
    if not layers or layers != list(range(len(layers))):
        raise ConfigError(
            f"params must hold layers 0, 1, ... without gaps, got layers {layers}: "
            "pass the state_dict of a torch.nn.LSTM"
        )
    has_reverse = any(name.endswith("_reverse") for name in params)
    if bidirectional is None:
        bidirectional = has_reverse
    if bidirectional != has_reverse:
        raise ConfigError(
            f"bidirectional={bidirectional} but params {'has' if has_reverse else 'has no'} "
            "*_reverse weights: leave bidirectional=None to infer it from the names"
        )
    num_directions = 2 if bidirectional else 1
    has_bias = "bias_ih_l0" in params

    w_ih_0 = _require(params, "weight_ih_l0")
    input_size = w_ih_0.shape[1] if w_ih_0.ndim == 2 and w_ih_0.shape[1] > 0 else -1
    if input_size < 1:
        raise ConfigError(f"weight_ih_l0 must have shape (4H, I), got {w_ih_0.shape}")
    hidden_sizes: list[int] = []
    for k in layers:
        for d in range(num_directions):
            w_hh = _require(params, param_name("weight_hh", k, d))
            H = w_hh.shape[1] if w_hh.ndim == 2 else -1
            if w_hh.shape != (4 * H, H) or H < 1:
                raise ConfigError(
                    f"{param_name('weight_hh', k, d)} must have shape (4H, H), got {w_hh.shape}"
                )
            if d == 0:
                hidden_sizes.append(H)
            elif H != hidden_sizes[k]:
                raise ConfigError(
                    f"{param_name('weight_hh', k, d)} has width {H} but the forward direction "
                    f"of layer {k} has {hidden_sizes[k]}: both directions need the same width"
                )
            w_ih = _require(params, param_name("weight_ih", k, d))
            I_k = input_size if k == 0 else num_directions * hidden_sizes[k - 1]
            if w_ih.shape != (4 * H, I_k):
                raise ConfigError(
                    f"{param_name('weight_ih', k, d)} must have shape (4*{H}, {I_k}) = "
                    f"{(4 * H, I_k)}, got {w_ih.shape}"
                )
            for kind in ("bias_ih", "bias_hh"):
                name = param_name(kind, k, d)
                if not has_bias:
                    if name in params:
                        raise ConfigError(
                            f"{name} is given but bias_ih_l0 is not: give all or none"
                        )
                    continue
                bias = _require(params, name)
                if bias.shape != (4 * H,):
                    raise ConfigError(f"{name} must have shape ({4 * H},), got {bias.shape}")
    return Layout(input_size, tuple(hidden_sizes), num_directions, has_bias)


def _require(params: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    if name not in params:
        raise ConfigError(f"params lacks {name}: pass every weight of a torch.nn.LSTM state_dict")
    return params[name]


def init_params(
    input_size: int,
    hidden_sizes: Sequence[int],
    *,
    bidirectional: bool = False,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Random float64 weights drawn as torch does, uniform in (-1/sqrt(H), 1/sqrt(H)).

    Example:
        >>> sorted(init_params(3, [4], seed=0))
        ['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0']
    """
    check_positive("input_size", input_size)
    if not isinstance(hidden_sizes, Sequence | np.ndarray) or isinstance(hidden_sizes, str):
        raise ConfigError(
            f"hidden_sizes must list the layers' widths, got {hidden_sizes!r}: pass e.g. "
            f"[{hidden_sizes}] for one layer"
        )
    if len(hidden_sizes) == 0:
        raise ConfigError("hidden_sizes must list at least one width, got []: pass e.g. [64]")
    for H in hidden_sizes:
        check_positive("hidden_sizes", H)
    rng = np.random.default_rng(seed)
    D = 2 if bidirectional else 1
    params: dict[str, np.ndarray] = {}
    for k, H in enumerate(hidden_sizes):
        I_k = input_size if k == 0 else D * hidden_sizes[k - 1]
        bound = 1.0 / np.sqrt(H)
        for d in range(D):
            params[param_name("weight_ih", k, d)] = rng.uniform(-bound, bound, (4 * H, I_k))
            params[param_name("weight_hh", k, d)] = rng.uniform(-bound, bound, (4 * H, H))
            params[param_name("bias_ih", k, d)] = rng.uniform(-bound, bound, 4 * H)
            params[param_name("bias_hh", k, d)] = rng.uniform(-bound, bound, 4 * H)
    return params


def check_positive(name: str, value: Any) -> None:
    """ConfigError unless ``value`` is an integer (not a bool) of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
