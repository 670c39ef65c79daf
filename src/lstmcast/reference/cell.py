"""One LSTM time step in NumPy: the forward pass, and right under it, its backward pass.

The cell carries two memories from one time step to the next:

- ``c``, the cell state, is the long-term memory;
- ``h``, the hidden state, is the short-term memory and also the cell's output.

Four gates, computed from the current input ``x_t`` and the previous short-term memory
``h_{t-1}``, decide what happens to them::

    i = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)   input gate: how much of g is written
    f = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)   forget gate: how much of c survives
    g =     act(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)   candidate: what could be written
    o = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)   output gate: how much of act(c) is shown
    c_t = f * c_{t-1} + i * g
    h_t = o * act(c_t)

``act`` is ``tanh`` (the default) or ``relu`` (as Keras' ``activation=``): it replaces tanh both
for the candidate and for squashing the cell state; the gates always keep the sigmoid.

Weights follow PyTorch's layout: ``w_ih`` (4H, I) and ``w_hh`` (4H, H) stack the rows of the
gates in the order i, f, g, o. Shapes: B batch, I input features, H hidden units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("tanh", "relu")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, written through tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    """The cell activation: ``tanh`` or ``relu``."""
    return np.tanh(z) if activation == "tanh" else np.maximum(z, 0.0)


def activate_grad(y: np.ndarray, activation: str) -> np.ndarray:
    """The derivative of the cell activation, from its output ``y``; relu's is 0 at 0."""
    return 1.0 - y * y if activation == "tanh" else (y > 0.0).astype(y.dtype)


@dataclass
class CellWeights:
    """The weights of one layer and direction in PyTorch's layout (gate rows i, f, g, o).

    The same object type holds their gradients, which the backward pass accumulates with ``+=``.
    """

    w_ih: np.ndarray  # (4H, I) input-to-hidden weights, torch's weight_ih_l{k}
    w_hh: np.ndarray  # (4H, H) hidden-to-hidden weights, torch's weight_hh_l{k}
    b_ih: np.ndarray  # (4H,)   torch's bias_ih_l{k}
    b_hh: np.ndarray  # (4H,)   torch's bias_hh_l{k}

    @property
    def input_size(self) -> int:
        return self.w_ih.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.w_hh.shape[1]

    def zeros_like(self) -> CellWeights:
        """Zero arrays of the same shapes: where gradients start."""
        return CellWeights(
            *(np.zeros_like(w) for w in (self.w_ih, self.w_hh, self.b_ih, self.b_hh))
        )


@dataclass
class StepCache:
    """What the forward pass of one step keeps for its backward pass; every array is (B, H)
    except ``x`` (B, I)."""

    x: np.ndarray  # (B, I) input at this step
    h_prev: np.ndarray  # (B, H) short-term memory coming in
    c_prev: np.ndarray  # (B, H) long-term memory coming in
    i: np.ndarray  # input gate
    f: np.ndarray  # forget gate
    g: np.ndarray  # candidate
    o: np.ndarray  # output gate
    c: np.ndarray  # new long-term memory
    a: np.ndarray  # act(c), the squashed long-term memory
    h: np.ndarray  # new short-term memory


def cell_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    w: CellWeights,
    activation: str = "tanh",
) -> tuple[np.ndarray, np.ndarray, StepCache]:
    """One time step: ``x`` (B, I), ``h_prev`` (B, H), ``c_prev`` (B, H) -> ``h``, ``c``, cache.

    Example:
        >>> H, I = 2, 3
        >>> w = CellWeights(np.ones((4 * H, I)), np.ones((4 * H, H)), np.zeros(8), np.zeros(8))
        >>> h, c, _ = cell_forward(np.zeros((1, I)), np.zeros((1, H)), np.zeros((1, H)), w)
        >>> h.shape, float(c[0, 0])
        ((1, 2), 0.0)
    """
    H = w.hidden_size
    z = x @ w.w_ih.T + h_prev @ w.w_hh.T + w.b_ih + w.b_hh  # (B, 4H) gate pre-activations
    i = sigmoid(z[:, 0 * H : 1 * H])  # (B, H) input gate
    f = sigmoid(z[:, 1 * H : 2 * H])  # (B, H) forget gate
    g = activate(z[:, 2 * H : 3 * H], activation)  # (B, H) candidate
    o = sigmoid(z[:, 3 * H : 4 * H])  # (B, H) output gate
    c = f * c_prev + i * g  # (B, H) long-term memory: keep some, write some
    a = activate(c, activation)  # (B, H) squashed long-term memory
    h = o * a  # (B, H) short-term memory
    return h, c, StepCache(x, h_prev, c_prev, i, f, g, o, c, a, h)


def cell_backward(
    dh: np.ndarray,
    dc: np.ndarray,
    s: StepCache,
    w: CellWeights,
    grads: CellWeights,
    activation: str = "tanh",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of ``cell_forward``, read bottom-up against it.

    ``dh`` (B, H) and ``dc`` (B, H) are the gradients of the loss with respect to this step's
    ``h`` and ``c``. Adds the weight gradients into ``grads`` and returns ``dx`` (B, I),
    ``dh_prev`` (B, H), ``dc_prev`` (B, H).
    """
    H = w.hidden_size
    # h = o * a
    do = dh * s.a  # (B, H)
    da = dh * s.o  # (B, H)
    # a = act(c); c also receives dc from the next step
    dc = dc + da * activate_grad(s.a, activation)  # (B, H)
    # c = f * c_prev + i * g
    df = dc * s.c_prev  # (B, H)
    dc_prev = dc * s.f  # (B, H)
    di = dc * s.g  # (B, H)
    dg = dc * s.i  # (B, H)
    # the four gates through their nonlinearities, back to the pre-activations z
    dz = np.empty((dh.shape[0], 4 * H))  # (B, 4H)
    dz[:, 3 * H : 4 * H] = do * s.o * (1.0 - s.o)
    dz[:, 2 * H : 3 * H] = dg * activate_grad(s.g, activation)
    dz[:, 1 * H : 2 * H] = df * s.f * (1.0 - s.f)
    dz[:, 0 * H : 1 * H] = di * s.i * (1.0 - s.i)
    # z = x @ w_ih.T + h_prev @ w_hh.T + b_ih + b_hh
    grads.w_ih += dz.T @ s.x  # (4H, I)
    grads.w_hh += dz.T @ s.h_prev  # (4H, H)
    grads.b_ih += dz.sum(axis=0)  # (4H,)
    grads.b_hh += dz.sum(axis=0)  # (4H,)
    dx = dz @ w.w_ih  # (B, I)
    dh_prev = dz @ w.w_hh  # (B, H)
    return dx, dh_prev, dc_prev
