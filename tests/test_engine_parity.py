"""Edge cases where the two engines must agree with torch.nn.LSTM and with each other.

NaN and inf in (every SIMD lane and the scalar tail), float32 tanh near zero, and dropout masks
that do not depend on whether the compiled engine was built.
"""

from __future__ import annotations

import pytest
import torch

import lstmcast.nn
from lstmcast.config import TrainConfig
from lstmcast.errors import TrainingDivergedError
from lstmcast.models import _extension
from lstmcast.models.network import LSTMNetwork
from lstmcast.train import train_network

F64 = torch.float64
WIDTHS = [15, 16, 33]  # the scalar tail alone, one 16-float vector, two vectors and a tail


def pair(hidden: int, dtype: torch.dtype, input_size: int = 2):
    """An lstmcast.nn.LSTM and a torch.nn.LSTM with the same seeded weights."""
    torch.manual_seed(0)
    ours = lstmcast.nn.LSTM(input_size, hidden, dtype=dtype)
    theirs = torch.nn.LSTM(input_size, hidden, dtype=dtype)
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


def run(lstm, x):
    """out, h_n, c_n and the gradients of a loss of all three in x and every weight."""
    x = x.clone().requires_grad_()
    out, (h_n, c_n) = lstm(x)
    loss = out.sum() + h_n.sum() + (c_n * 0.5).sum()
    return [out, h_n, c_n, *torch.autograd.grad(loss, [x, *lstm.parameters()])]


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("hidden", WIDTHS)
@pytest.mark.parametrize("where", ["input", "weight_hh"])
def test_nan_gives_nan_wherever_torch_lstm_does(engine, where, hidden, dtype):
    ours, theirs = pair(hidden, dtype)
    x = torch.randn(5, 3, 2, dtype=dtype)  # (T, B, I)
    if where == "input":
        x[1, 2, 0] = float("nan")
    else:
        with torch.no_grad():
            for lstm in (ours, theirs):
                lstm.weight_hh_l0[hidden + 5, 3] = float("nan")  # a forget-gate weight
    for a, b in zip(run(ours, x), run(theirs, x), strict=True):
        assert b.isnan().any()
        assert torch.equal(a.isnan(), b.isnan())
        assert torch.allclose(a.nan_to_num(), b.nan_to_num(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("hidden", WIDTHS)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_infinite_inputs_saturate_as_in_torch(engine, activation, hidden, dtype):
    """sigmoid(+-inf) = 1, 0 and tanh(+-inf) = +-1: finite outputs, where torch has them."""
    torch.manual_seed(1)
    lstm = lstmcast.nn.LSTM(1, hidden, dtype=dtype, activation=activation)
    x = torch.randn(4, 3, 1, dtype=dtype)
    x[1, 0, 0], x[2, 1, 0] = float("inf"), -float("inf")
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x)
        with _extension.disabled():  # the pure-torch engine: torch's own activations
            ref, (h_ref, c_ref) = lstm(x)
    for a, b in ((out, ref), (h_n, h_ref), (c_n, c_ref)):
        assert torch.equal(a.isnan(), b.isnan())
        assert torch.equal(a.isinf(), b.isinf())
        assert torch.allclose(a.nan_to_num(), b.nan_to_num(), rtol=1e-5, atol=1e-6)
    if activation == "tanh":
        theirs = torch.nn.LSTM(1, hidden, dtype=dtype)
        theirs.load_state_dict(lstm.state_dict())
        assert torch.isfinite(theirs(x)[0]).all() and torch.isfinite(out).all()


def test_a_nan_weight_stops_training_on_both_engines(engine):
    """Without clipping, a NaN weight must make the loss NaN, not train on silently."""
    torch.manual_seed(0)
    X = torch.randn(64, 6, 3)  # (N, T, F)
    Y = X[:, -1, :1] * 0.5
    net = LSTMNetwork(3, (16,), 1)
    with torch.no_grad():
        net.lstm.weight_hh_l0[0, 0] = float("nan")
    config = TrainConfig(epochs=2, batch_size=32, progress=False, patience=None, clip_norm=None)
    with pytest.raises(TrainingDivergedError, match="training diverged at epoch 1"):
        train_network(net, X, Y, config)
