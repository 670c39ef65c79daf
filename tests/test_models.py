"""lstmcast.models: the network's paths against the NumPy reference, presets, config errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import rel

from lstmcast.errors import ConfigError
from lstmcast.models import PRESETS, LSTMNetwork, NetworkConfig, build_network
from lstmcast.reference import NumpyLSTM


@pytest.mark.parametrize(
    "units, bidirectional, activation",
    [
        ((5,), False, "relu"),
        ((6, 3), False, "relu"),
        ((4, 3), True, "tanh"),
        ((5,), True, "relu"),
        ((4, 4, 2), True, "relu"),
    ],
)
def test_network_equals_numpy_reference_forward_and_gradients(
    engine, units, bidirectional, activation
):
    torch.manual_seed(0)
    net = LSTMNetwork(
        3, units, n_outputs=2, bidirectional=bidirectional, dropout=0.0, activation=activation
    ).double()
    ref = NumpyLSTM.from_torch(net.lstm)
    x = np.random.default_rng(1).normal(size=(4, 7, 3))  # (B, T, F)
    w, b = net.head.weight.detach().numpy(), net.head.bias.detach().numpy()

    # reference: LSTM -> the features Keras' Dense reads -> dense head
    out_ref, _ = ref.forward(x)
    H = units[-1]
    feats = out_ref[:, -1, :H]
    if bidirectional:
        feats = np.concatenate([feats, out_ref[:, 0, H:]], axis=1)
    y_ref = feats @ w.T + b
    d_y = np.random.default_rng(2).normal(size=y_ref.shape)
    d_feats = d_y @ w
    d_out = np.zeros_like(out_ref)
    d_out[:, -1, :H] = d_feats[:, :H]
    if bidirectional:
        d_out[:, 0, H:] = d_feats[:, H:]
    grads_ref = ref.backward(d_out)

    xt = torch.tensor(x, requires_grad=True)
    y = net(xt)
    assert rel(y, y_ref) <= 1e-10
    names = [n for n, _ in net.lstm.named_parameters()]
    got = torch.autograd.grad((y * torch.tensor(d_y)).sum(), [xt, *net.lstm.parameters()])
    for a, name in zip(got, ["x", *names], strict=True):
        assert rel(a, grads_ref[name]) <= 1e-8, name


def test_presets_reproduce_the_classic_keras_shapes():
    simple = build_network("simple", n_features=3, n_outputs=3)
    assert simple.config == NetworkConfig(3, 3, (50,), False, 0.0, "relu")
    assert simple.lstm.hidden_sizes == (50,) and simple.head.in_features == 50

    stacked = build_network("stacked", n_features=3, n_outputs=3)
    assert stacked.lstm.hidden_sizes == (64, 32) and stacked.lstm.dropout == 0.2
    assert stacked.dropout.p == 0.2 and stacked.head.in_features == 32

    bidir = build_network("bidirectional", n_features=3, n_outputs=3)
    assert bidir.lstm.bidirectional and bidir.head.in_features == 100
    assert all(PRESETS[name]["activation"] == "relu" for name in PRESETS)

    x = torch.randn(2, 10, 3)
    for net in (simple, stacked, bidir):
        assert net(x).shape == (2, 3)

    wide = build_network("stacked", 3, 1, units=(16, 8, 4), activation="tanh")
    assert wide.config.units == (16, 8, 4) and wide.lstm.activation == "tanh"


def test_from_config_rebuilds_the_same_shape():
    net = LSTMNetwork(4, [8, 2], 5, bidirectional=True, dropout=0.1)
    again = LSTMNetwork.from_config(net.config)
    assert again.config == net.config
    again.load_state_dict(net.state_dict())


def test_dropout_before_the_head_only_in_training():
    torch.manual_seed(0)
    net = build_network("simple", 3, 1, dropout=0.5)
    x = torch.randn(8, 5, 3)
    assert not torch.equal(net.train()(x), net(x))
    net.eval()
    assert torch.equal(net(x), net(x))


def test_nonsense_hyperparameters_raise_config_error():
    with pytest.raises(ConfigError, match=r"units must be positive integers, got \[0\]: pass e.g."):
        LSTMNetwork(3, [0])
    with pytest.raises(ConfigError, match=r"units must be positive integers, got \[64, -1\]"):
        build_network("stacked", 3, 1, units=(64, -1))
    with pytest.raises(ConfigError, match=r"dropout must be a probability in \[0, 1\), got -0.1"):
        LSTMNetwork(3, dropout=-0.1)
    with pytest.raises(ConfigError, match=r"dropout must be a probability in \[0, 1\), got 1"):
        LSTMNetwork(3, dropout=1)
    with pytest.raises(
        ConfigError, match="activation must be one of \\['tanh', 'relu'\\], got 'elu'"
    ):
        LSTMNetwork(3, activation="elu")
    with pytest.raises(ConfigError, match="preset must be one of .*got 'deep'"):
        build_network("deep", 3, 1)
    with pytest.raises(ConfigError, match=r"unknown network option\(s\) \['layers'\]"):
        build_network("simple", 3, 1, layers=2)
    with pytest.raises(ConfigError, match="n_features must be a positive integer, got 0"):
        LSTMNetwork(0)
