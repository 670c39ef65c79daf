"""One LSTM layer over a whole sequence, forward and hand-written backward, for torch autograd.

The math is the NumPy reference's (``lstmcast.reference``), written for speed:

- the input projections of all time steps are one GEMM before the loop;
- only ``h_{t-1} @ W_hh^T`` and the pointwise gate math run step by step;
- the backward sweeps time in reverse for the gate gradients alone, then forms the weight and
  input gradients as single large GEMMs after the sweep.

Gate order is torch's: ``i, f, g, o`` (input, forget, candidate, output). ``activation`` is
``"tanh"`` or ``"relu"``: it squashes the candidate ``g`` and the cell state ``c``; the gates
``i, f, o`` keep the sigmoid.

Two engines compute the same thing: ``_TorchLayer`` (torch ops from Python, works on every
device and dtype) and the C++ extension in ``csrc/`` (compiled on first use, CPU only, one
thread per batch slice). ``lstm_layer`` picks the extension when it is available.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmcast.models import _extension

ACTIVATIONS = ("tanh", "relu")


def lstm_layer(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    activation: str = "tanh",
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run one LSTM layer in one direction over a time-major sequence.

    Args:
        x: (T, B, I) inputs; h0, c0: (B, H) initial states; w_ih: (4H, I); w_hh: (4H, H);
        b_ih, b_hh: (4H,) or None; activation: "tanh" or "relu";
        reverse: read the sequence from t = T-1 down to 0 (the backward direction).

    Returns:
        out (T, B, H) hidden states (indexed by input time step whatever the direction),
        h_n and c_n (B, H) after the last step read; differentiable in every input.
    """
    relu = activation == "relu"
    if _extension.usable_for(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        return _extension.LayerFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, relu, reverse)
    return torch_lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, activation, reverse)


def dropout(x: Tensor, p: float) -> Tensor:
    """Training-mode dropout: zero each value with probability p, scale the rest by 1/(1-p).

    The mask is a counter-based hash (``dropout_mask``) of one seed drawn from torch's CPU
    generator, so ``torch.manual_seed`` reproduces it, and it is the same on either engine and
    any device: the compiled engine makes it ~15x faster than ``torch.bernoulli_`` (a tenth of
    a small model's training step), the pure-torch fallback computes it with torch ops.
    """
    keep = 1.0 - p
    seed = int(torch.randint(0, 2**62, ()).item())
    if _extension.usable_for(x, None, None, None, None, None, None):
        mask = _extension.module().dropout_mask(x.numel(), keep, seed, x.dtype)
    else:
        mask = dropout_mask(x.numel(), keep, seed, x.dtype, x.device)
    return x * mask.view(x.shape)


_GOLDEN, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_SIGN = 1 << 63  # the sign bit of an int64


def _int64(bits: int) -> int:
    """The int64 with the same 64 bits as the unsigned ``bits``."""
    return bits - (1 << 64) if bits >= _SIGN else bits


def _shift_right(z: Tensor, k: int) -> Tensor:
    """Logical (unsigned) right shift of int64 bits: torch's ``>>`` copies the sign bit."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def dropout_mask(n: int, keep: float, seed: int, dtype: torch.dtype, device=None) -> Tensor:
    """(n,) values, 1/keep with probability keep, else 0: the compiled engine's mask, bit for bit.

    Value k is kept when splitmix64(seed + k) < keep 2^64 (unsigned). The uint64 arithmetic runs
    on int64 tensors, whose products wrap modulo 2^64 alike; shifts are made logical, and the
    unsigned comparison becomes a signed one of both sides with the sign bit flipped.
    """
    if keep >= 1.0:
        return torch.ones(n, dtype=dtype, device=device)
    z = torch.arange(n, dtype=torch.int64, device=device).add_(seed).mul_(_int64(_GOLDEN))
    z = z.bitwise_xor_(_shift_right(z, 30)).mul_(_int64(_MIX1))
    z = z.bitwise_xor_(_shift_right(z, 27)).mul_(_int64(_MIX2))
    z = z.bitwise_xor_(_shift_right(z, 31))
    threshold = int(keep * 2.0**64)  # as the C++ casts the same double product
    kept = z.bitwise_xor_(_int64(_SIGN)) < threshold - _SIGN
    return torch.zeros(n, dtype=dtype, device=device).masked_fill_(kept, 1.0 / keep)


def torch_lstm_layer(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    activation: str = "tanh",
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """The pure-torch engine of ``lstm_layer`` (the fallback), whatever the extension's state."""
    relu = activation == "relu"
    if not reverse:
        return _TorchLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, relu)
    out, h_n, c_n = _TorchLayer.apply(x.flip(0), h0, c0, w_ih, w_hh, b_ih, b_hh, relu)
    return out.flip(0), h_n, c_n


class _TorchLayer(torch.autograd.Function):
    """Forward and backward of one layer with torch ops; mirrors ``lstmcast.reference``."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, relu):
        T, B, _ = x.shape  # (T, B, I)
        H = w_hh.shape[1]
        act_ = torch.relu_ if relu else torch.tanh_
        act = torch.relu if relu else torch.tanh
        # gates (T, B, 4H): the input projections of every step in one GEMM, plus both biases
        gates = torch.matmul(x, w_ih.t())
        if b_ih is not None:
            gates += b_ih + b_hh
        cells = x.new_empty(T, B, H)  # (T, B, H) cell states c_t
        out = x.new_empty(T, B, H)  # (T, B, H) hidden states h_t
        w_hh_t = w_hh.t()
        h, c = h0, c0
        for t in range(T):
            z = gates[t].addmm_(h, w_hh_t)  # (B, 4H) pre-activations, activated in place
            z[:, : 2 * H].sigmoid_()
            act_(z[:, 2 * H : 3 * H])
            z[:, 3 * H :].sigmoid_()
            i, f, g, o = z.chunk(4, 1)
            c = torch.mul(f, c, out=cells[t]).addcmul_(i, g)  # c_t = f c_{t-1} + i g
            h = torch.mul(o, act(c), out=out[t])  # h_t = o act(c_t)
        ctx.relu = relu
        ctx.has_bias = b_ih is not None
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, gates, cells, out)
        return out, h.clone(), c.clone()

    @staticmethod
    @_extension.first_order_only
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_out, d_hn, d_cn):
        x, h0, c0, w_ih, w_hh, gates, cells, out = ctx.saved_tensors
        T, B, I = x.shape
        H = w_hh.shape[1]
        relu = ctx.relu
        d_gates = torch.empty_like(gates)  # (T, B, 4H) gradients of the pre-activations
        dh = d_hn if d_hn is not None else x.new_zeros(B, H)  # dL/dh_t from step t+1
        dc = d_cn if d_cn is not None else x.new_zeros(B, H)  # dL/dc_t from step t+1
        for t in range(T - 1, -1, -1):
            if d_out is not None:
                dh = dh + d_out[t]
            i, f, g, o = gates[t].chunk(4, 1)
            di, df, dg, do = d_gates[t].chunk(4, 1)
            c = cells[t]
            c_prev = cells[t - 1] if t > 0 else c0
            if relu:
                tc = torch.relu(c)
                dc = dc + dh * o * (c > 0)
            else:
                tc = torch.tanh(c)
                dc = dc + dh * o * (1 - tc * tc)
            torch.mul(dh * tc, o * (1 - o), out=do)
            torch.mul(dc * g, i * (1 - i), out=di)
            torch.mul(dc * c_prev, f * (1 - f), out=df)
            if relu:
                torch.mul(dc * i, g > 0, out=dg)
            else:
                torch.mul(dc * i, 1 - g * g, out=dg)
            dc = dc * f
            dh = d_gates[t] @ w_hh  # dL/dh_{t-1} through the recurrence
        flat = d_gates.reshape(T * B, 4 * H)
        h_prev = torch.cat([h0.unsqueeze(0), out[:-1]]).reshape(T * B, H)
        d_x = (flat @ w_ih).view(T, B, I)
        d_w_ih = flat.t() @ x.reshape(T * B, I)
        d_w_hh = flat.t() @ h_prev
        d_b = flat.sum(0) if ctx.has_bias else None
        return d_x, dh, dc, d_w_ih, d_w_hh, d_b, d_b, None
