"""Edge cases where the two engines must agree with torch.nn.LSTM and with each other.

NaN and inf in (every SIMD lane and the scalar tail), float32 tanh near zero, and dropout masks
that do not depend on whether the compiled engine was built.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

import lstmcast.nn
from lstmcast.config import TrainConfig
from lstmcast.errors import TrainingDivergedError
from lstmcast.models import _extension, kernels
from lstmcast.models.network import LSTMNetwork, build_network
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


def saturated_cell(hidden: int) -> lstmcast.nn.LSTM:
    """A one-input float32 layer whose i and o gates are 1, f is 0 and g's pre-activation is the
    input itself: c_n = tanh(x) and h_n = tanh(tanh(x)) for the last step x, in every unit."""
    lstm = lstmcast.nn.LSTM(1, hidden)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
        lstm.bias_ih_l0[:hidden] = 100.0  # i = sigmoid(100) = 1
        lstm.bias_ih_l0[hidden : 2 * hidden] = -100.0  # f = 0
        lstm.bias_ih_l0[3 * hidden :] = 100.0  # o = 1
        lstm.weight_ih_l0[2 * hidden : 3 * hidden] = 1.0  # g = tanh(x)
    return lstm


@pytest.mark.parametrize("hidden", WIDTHS)
def test_float32_tanh_is_accurate_in_relative_terms_near_zero_and_absolute_everywhere(
    engine, hidden
):
    small = torch.logspace(-20, 0, 201, dtype=F64)
    values = torch.cat([small, -small, torch.linspace(-12, 12, 2401, dtype=F64)])
    x = values.float().view(1, -1, 1)  # (T, B, I): one step, one value per row
    with torch.no_grad():
        _, (h_n, c_n) = saturated_cell(hidden)(x)
    exact = torch.tanh(x.double().view(-1, 1))
    for got, want in ((c_n[0], exact), (h_n[0], torch.tanh(c_n[0].double()))):
        err = (got.double() - want).abs()
        assert err.max() <= 3e-7
        assert (err / want.abs().clamp_min(1e-30)).max() <= 1e-6


def test_float32_layer_with_tiny_weights_and_inputs_keeps_relative_precision(engine):
    """Weights and inputs scaled down, so that every h is ~1e-4: the audit's case."""
    torch.manual_seed(0)
    for hidden in (4, 16, 33):
        lstm = lstmcast.nn.LSTM(2, hidden, batch_first=True)
        with torch.no_grad():
            for p in lstm.parameters():
                p.mul_(1e-3)
        exact = torch.nn.LSTM(2, hidden, batch_first=True, dtype=F64)
        exact.load_state_dict({k: v.double() for k, v in lstm.state_dict().items()})
        x = torch.randn(3, 5, 2) * 1e-2
        with torch.no_grad():
            got, want = lstm(x)[0].double(), exact(x.double())[0]
        assert (got - want).abs().max() / want.abs().max() <= 1e-6


def compiled():
    """The compiled engine's module, or skip."""
    if not _extension.available():
        pytest.skip(f"compiled engine unavailable: {_extension.unavailable_reason()}")
    return _extension.module()


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("keep", [0.8, 0.5, 0.3, 0.999, 1.0])
def test_fallback_dropout_mask_equals_the_compiled_one_bit_for_bit(keep, dtype):
    module = compiled()
    for n in (1, 15, 16, 1000, 54321):
        for seed in (0, 1, 987654321987654321, 2**62 - 1):
            want = module.dropout_mask(n, keep, seed, dtype)
            got = kernels.dropout_mask(n, keep, seed, dtype)
            assert got.dtype == want.dtype == dtype
            assert torch.equal(got, want)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_dropout_scales_kept_values_by_one_over_keep_in_their_own_dtype(engine, dtype):
    torch.manual_seed(3)
    y = kernels.dropout(torch.ones(1000, dtype=dtype), 0.3)
    assert torch.equal(y[y != 0], torch.full_like(y[y != 0], 1 / 0.7))  # exact in float64 too


def test_dropout_is_the_same_on_both_engines_and_draws_the_same_from_the_generator():
    compiled()
    x = torch.randn(7, 5, 33)
    runs = []
    for context in (contextlib.nullcontext, _extension.disabled):
        torch.manual_seed(4)
        with context():
            runs.append((kernels.dropout(x, 0.25), torch.rand(3)))
    assert torch.equal(runs[0][0], runs[1][0])
    assert torch.equal(runs[0][1], runs[1][1])  # the generator was left in the same state


def test_stacked_preset_trains_to_the_same_weights_on_both_engines():
    """Dropout between the layers and before the head: a compiler must not change the model."""
    compiled()
    X = torch.randn(64, 8, 3, generator=torch.Generator().manual_seed(5))  # (N, T, F)
    Y = X[:, -1, :1] * 0.5 + 0.1 * X[:, 0, 1:2]
    config = TrainConfig(epochs=3, batch_size=16, progress=False, patience=None, seed=0)
    states = []
    for context in (contextlib.nullcontext, _extension.disabled):
        torch.manual_seed(0)
        net = build_network("stacked", n_features=3, units=(16, 8))
        with context():
            train_network(net, X, Y, config)
        states.append(net.state_dict())
    for name, weight in states[0].items():
        assert (weight - states[1][name]).abs().max() <= 1e-5, name
