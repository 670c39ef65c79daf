"""The NumPy reference LSTM against torch.nn.LSTM: forward, BPTT gradients, bad inputs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from lstmcast.errors import ConfigError, DataError, LstmcastError, NotFittedError
from lstmcast.reference import NumpyLSTM, init_params


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference relative to the largest magnitude of the expected ``b``."""
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


def torch_lstm(input_size, hidden, layers, bidirectional, seed=0):
    torch.manual_seed(seed)
    return torch.nn.LSTM(
        input_size,
        hidden,
        num_layers=layers,
        bidirectional=bidirectional,
        batch_first=True,
        dtype=torch.float64,
    )


CASES = [  # (layers, bidirectional, given initial states)
    (1, False, False),
    (1, False, True),
    (2, False, False),
    (2, False, True),
    (1, True, True),
    (2, True, False),
    (2, True, True),
]


@pytest.mark.parametrize("layers,bidirectional,given", CASES)
def test_forward_and_gradients_equal_torch(layers, bidirectional, given):
    B, T, I, H = 3, 6, 4, 5
    D = 2 if bidirectional else 1
    net = torch_lstm(I, H, layers, bidirectional)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, I, dtype=torch.float64, generator=gen, requires_grad=True)
    h0 = torch.randn(D * layers, B, H, dtype=torch.float64, generator=gen, requires_grad=True)
    c0 = torch.randn(D * layers, B, H, dtype=torch.float64, generator=gen, requires_grad=True)
    out, (h_n, c_n) = net(x, (h0, c0)) if given else net(x)
    R, Rh, Rc = (torch.randn(t.shape, dtype=torch.float64, generator=gen) for t in (out, h_n, c_n))
    ((out * R).sum() + (h_n * Rh).sum() + (c_n * Rc).sum()).backward()

    m = NumpyLSTM.from_torch(net)
    assert (m.num_layers, m.bidirectional, m.hidden_sizes) == (layers, bidirectional, (H,) * layers)
    h0c0 = (h0.detach().numpy(), c0.detach().numpy()) if given else None
    np_out, (np_h_n, np_c_n) = m.forward(x.detach().numpy(), h0c0)
    assert np_out.shape == (B, T, D * H) and np_h_n.shape == (D * layers, B, H)
    assert rel_err(np_out, out.detach().numpy()) <= 1e-10
    assert rel_err(np_h_n, h_n.detach().numpy()) <= 1e-10
    assert rel_err(np_c_n, c_n.detach().numpy()) <= 1e-10

    grads = m.backward(R.numpy(), Rh.numpy(), Rc.numpy())
    for name, p in net.named_parameters():
        assert rel_err(grads[name], p.grad.numpy()) <= 1e-8, name
    assert rel_err(grads["x"], x.grad.numpy()) <= 1e-8
    if given:
        assert rel_err(grads["h0"], h0.grad.numpy()) <= 1e-8
        assert rel_err(grads["c0"], c0.grad.numpy()) <= 1e-8
    assert set(grads) == {name for name, _ in net.named_parameters()} | {"x", "h0", "c0"}


def test_initial_state_gradients_from_zeros_equal_torch():
    net = torch_lstm(2, 3, 2, True)
    x = torch.randn(2, 4, 2, dtype=torch.float64)
    h0 = torch.zeros(4, 2, 3, dtype=torch.float64, requires_grad=True)
    c0 = torch.zeros(4, 2, 3, dtype=torch.float64, requires_grad=True)
    out, _ = net(x, (h0, c0))
    out.sum().backward()
    m = NumpyLSTM.from_torch(net)
    out_np, _ = m.forward(x.numpy())
    grads = m.backward(np.ones_like(out_np))  # no d_h_n, d_c_n: zeros
    assert rel_err(grads["h0"], h0.grad.numpy()) <= 1e-8
    assert rel_err(grads["c0"], c0.grad.numpy()) <= 1e-8


def test_from_state_dict_and_torch_without_bias():
    net = torch.nn.LSTM(3, 4, bias=False, batch_first=True, dtype=torch.float64)
    m = NumpyLSTM.from_state_dict(net.state_dict())
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    out, _ = net(x)
    np_out, _ = m.forward(x.numpy())
    assert rel_err(np_out, out.detach().numpy()) <= 1e-10
    assert set(m.backward(np.ones_like(np_out))) == {
        "weight_ih_l0",
        "weight_hh_l0",
        "x",
        "h0",
        "c0",
    }


def test_from_torch_float32_module_is_copied_as_float64():
    torch.manual_seed(0)
    net = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True)
    m = NumpyLSTM.from_torch(net)
    assert all(p.dtype == np.float64 for p in m.params.values())
    x = torch.randn(2, 5, 3)
    out, _ = net(x)
    assert rel_err(m.forward(x.numpy())[0], out.detach().numpy()) <= 1e-5


def test_from_torch_reads_the_activation_attribute():
    class ReluLSTM(torch.nn.LSTM):
        activation = "relu"

    m = NumpyLSTM.from_torch(ReluLSTM(2, 3, batch_first=True))
    assert m.activation == "relu"


def test_same_weights_every_step_and_zero_initial_state():
    m = NumpyLSTM.random(input_size=2, hidden_sizes=[3], seed=4)
    x = np.random.default_rng(0).normal(size=(1, 5, 2))
    out, _ = m.forward(x)
    # a sequence that starts at step 2 from the states after step 1 continues identically
    _, (h1, c1) = m.forward(x[:, :2])
    rest, _ = m.forward(x[:, 2:], (h1, c1))
    assert rel_err(rest, out[:, 2:]) <= 1e-14
    # zero initial states are the default
    same, _ = m.forward(x, (np.zeros((1, 1, 3)), np.zeros((1, 1, 3))))
    assert np.array_equal(same, out)


# ---- bad inputs: errors a user can act on -------------------------------------------------------


@pytest.fixture
def model():
    return NumpyLSTM.random(input_size=3, hidden_sizes=[4, 4], seed=0)


def test_x_must_be_3d(model):
    with pytest.raises(
        DataError,
        match=r"x must be 3-D \(batch, time, features\) = \(B, T, 3\), "
        r"got shape \(5, 3\)",
    ):
        model.forward(np.zeros((5, 3)))


def test_x_feature_count(model):
    with pytest.raises(
        DataError,
        match=r"x must have 3 features on its last axis .*got shape "
        r"\(2, 5, 7\)",
    ):
        model.forward(np.zeros((2, 5, 7)))


def test_h0_shape(model):
    with pytest.raises(
        DataError,
        match=r"h0 must be \(2, 2, 4\) = \(num_directions\*num_layers, "
        r"batch, hidden\), got \(1, 2, 4\)",
    ):
        model.forward(np.zeros((2, 5, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4))))


def test_h0c0_must_be_a_pair(model):
    with pytest.raises(DataError, match=r"h0c0 must be a pair \(h0, c0\)"):
        model.forward(np.zeros((2, 5, 3)), np.zeros((2, 2, 4)))


def test_backward_before_forward(model):
    with pytest.raises(
        NotFittedError,
        match=r"backward\(\) needs the caches of a forward pass: "
        r"call forward\(x\) first",
    ):
        model.backward(np.zeros((2, 5, 4)))


def test_d_out_shape(model):
    model.forward(np.zeros((2, 5, 3)))
    with pytest.raises(DataError, match=r"d_out must have the shape of forward's out \(2, 5, 4\)"):
        model.backward(np.zeros((2, 5, 3)))


def test_unknown_activation():
    with pytest.raises(
        ConfigError,
        match=r"activation must be one of \('tanh', 'relu'\), got "
        r"'sigmoid'",
    ):
        NumpyLSTM(init_params(3, [4]), activation="sigmoid")


def test_bad_params():
    params = init_params(3, [4, 2])
    with pytest.raises(ConfigError, match=r"params lacks weight_hh_l1"):
        NumpyLSTM({k: v for k, v in params.items() if k != "weight_hh_l1"})
    with pytest.raises(ConfigError, match=r"proj_size"):
        NumpyLSTM({**params, "weight_hr_l0": np.zeros((2, 4))})
    with pytest.raises(
        ConfigError,
        match=r"weight_ih_l1 must have shape \(4\*2, 4\) = \(8, 4\), "
        r"got \(8, 5\)",
    ):
        NumpyLSTM({**params, "weight_ih_l1": np.zeros((8, 5))})
    with pytest.raises(ConfigError, match=r"bidirectional=True but params has no \*_reverse"):
        NumpyLSTM(params, bidirectional=True)
    with pytest.raises(LstmcastError, match=r"hidden_sizes must be a positive integer, got 0"):
        init_params(3, [0])


def test_from_torch_wants_the_lstm_submodule():
    net = torch.nn.Sequential()
    net.lstm = torch.nn.LSTM(2, 3, batch_first=True)
    net.head = torch.nn.Linear(3, 1)
    with pytest.raises(
        ConfigError,
        match=r"module has parameters that are not an LSTM's, e\.g\. "
        r"\['lstm\.weight_ih_l0'.*pass the LSTM submodule itself, e\.g\. "
        r"NumpyLSTM\.from_torch\(net\.lstm\)",
    ):
        NumpyLSTM.from_torch(net)
    with pytest.raises(ConfigError, match=r"proj_size=2: LSTMs with projections are not supported"):
        NumpyLSTM.from_torch(torch.nn.LSTM(2, 3, proj_size=2))


def test_reference_imports_no_torch():
    code = (
        "import sys, numpy as np; from lstmcast.reference import NumpyLSTM, gradcheck; "
        "NumpyLSTM.random(2, [3]).forward(np.zeros((1, 2, 2))); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
