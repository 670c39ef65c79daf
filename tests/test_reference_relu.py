"""The reference's relu cell and per-layer widths against an LSTM written out plainly in torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmcast.reference import NumpyLSTM, init_params


def plain_torch_lstm(params, x, h0, c0, hidden_sizes, bidirectional, activation):
    """A loop over time with torch ops, layer by layer and direction by direction."""
    act = torch.tanh if activation == "tanh" else torch.relu
    D, T = (2 if bidirectional else 1), x.shape[1]
    layer_in, h_n, c_n = x, [], []
    for k in range(len(hidden_sizes)):
        outs = []
        for d in range(D):
            sfx = "_reverse" if d else ""
            w_ih, w_hh = params[f"weight_ih_l{k}{sfx}"], params[f"weight_hh_l{k}{sfx}"]
            b = params[f"bias_ih_l{k}{sfx}"] + params[f"bias_hh_l{k}{sfx}"]
            h, c = h0[k * D + d], c0[k * D + d]
            out = [None] * T
            for t in reversed(range(T)) if d else range(T):
                i, f, g, o = (layer_in[:, t] @ w_ih.T + h @ w_hh.T + b).chunk(4, dim=1)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), act(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * act(c)
                out[t] = h
            outs.append(torch.stack(out, dim=1))
            h_n.append(h)
            c_n.append(c)
        layer_in = torch.cat(outs, dim=2)
    return layer_in, h_n, c_n


def rel_err(a, b) -> float:
    b = b.detach().numpy()
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def test_plain_loop_is_torch_lstm():
    """The plain loop is right: with tanh it reproduces torch.nn.LSTM."""
    torch.manual_seed(0)
    net = torch.nn.LSTM(
        3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=torch.float64
    )
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    zeros = [torch.zeros(2, 4, dtype=torch.float64)] * 4
    params = dict(net.named_parameters())
    out, h_n, c_n = plain_torch_lstm(params, x, zeros, zeros, [4, 4], True, "tanh")
    expected, (h, c) = net(x)
    assert rel_err(out.detach().numpy(), expected) <= 1e-12
    assert rel_err(torch.stack(c_n).detach().numpy(), c) <= 1e-12


@pytest.mark.parametrize(
    "hidden_sizes,bidirectional,activation",
    [
        ([5], False, "relu"),
        ([5, 5], True, "relu"),
        ([5, 3], False, "relu"),
        ([6, 3, 4], True, "relu"),
        ([5, 3], True, "tanh"),
    ],
)
def test_forward_and_gradients_equal_plain_torch(hidden_sizes, bidirectional, activation):
    B, T, I = 3, 6, 4
    D = 2 if bidirectional else 1
    params = init_params(I, hidden_sizes, bidirectional=bidirectional, seed=3)
    m = NumpyLSTM(params, activation=activation)
    rng = np.random.default_rng(5)
    widths = [H for H in hidden_sizes for _ in range(D)]
    x = rng.normal(size=(B, T, I))
    h0 = [rng.normal(size=(B, H)) for H in widths]
    c0 = [rng.normal(size=(B, H)) for H in widths]
    R = rng.normal(size=(B, T, D * hidden_sizes[-1]))
    R_h = [rng.normal(size=(B, H)) for H in widths]
    R_c = [rng.normal(size=(B, H)) for H in widths]

    def leaf(a):
        return torch.tensor(a, requires_grad=True)

    t_params = {name: leaf(p) for name, p in params.items()}
    t_x, t_h0, t_c0 = leaf(x), [leaf(h) for h in h0], [leaf(c) for c in c0]
    out, h_n, c_n = plain_torch_lstm(
        t_params, t_x, t_h0, t_c0, hidden_sizes, bidirectional, activation
    )
    loss = (out * torch.tensor(R)).sum()
    for j in range(len(widths)):
        loss = loss + (h_n[j] * torch.tensor(R_h[j])).sum() + (c_n[j] * torch.tensor(R_c[j])).sum()
    loss.backward()

    np_out, (np_h_n, np_c_n) = m.forward(x, (h0, c0))
    equal_widths = len(set(hidden_sizes)) == 1
    assert isinstance(np_h_n, np.ndarray) == equal_widths  # a list when widths differ
    assert rel_err(np_out, out) <= 1e-10
    for j in range(len(widths)):
        assert np_h_n[j].shape == (B, widths[j])
        assert rel_err(np_h_n[j], h_n[j]) <= 1e-10
        assert rel_err(np_c_n[j], c_n[j]) <= 1e-10

    grads = m.backward(R, R_h, R_c)
    for name, p in t_params.items():
        assert rel_err(grads[name], p.grad) <= 1e-8, name
    assert rel_err(grads["x"], t_x.grad) <= 1e-8
    for j in range(len(widths)):
        assert rel_err(grads["h0"][j], t_h0[j].grad) <= 1e-8
        assert rel_err(grads["c0"][j], t_c0[j].grad) <= 1e-8


def test_relu_clips_candidate_and_cell_squash():
    m = NumpyLSTM.random(input_size=2, hidden_sizes=[4], activation="relu", seed=0)
    x = np.random.default_rng(1).normal(size=(3, 8, 2)) * 3
    _, _, gates = m.forward(x, return_gates=True)
    tr = gates["l0"]
    assert tr.g.min() == 0.0 and tr.g.max() > 1.0  # relu, not tanh
    np.testing.assert_allclose(tr.h, tr.o * np.maximum(tr.c, 0.0), rtol=0, atol=1e-15)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_lstmcast_nn_lstm_converts_with_widths_and_activation(activation):
    """lstmcast.nn.LSTM (per-layer widths, relu) has torch's names: from_torch reads it."""
    lstmcast_nn = pytest.importorskip("lstmcast.nn")
    torch.manual_seed(0)
    net = lstmcast_nn.LSTM(
        3,
        [5, 3],
        batch_first=True,
        bidirectional=True,
        activation=activation,
        dtype=torch.float64,
    )
    x = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    out, (h_n, c_n) = net(x)
    R = torch.randn(out.shape, dtype=torch.float64)
    ((out * R).sum() + sum(c.sum() for c in c_n)).backward()

    m = NumpyLSTM.from_torch(net)
    assert (m.activation, m.hidden_sizes, m.bidirectional) == (activation, (5, 3), True)
    np_out, (np_h_n, np_c_n) = m.forward(x.detach().numpy())
    assert rel_err(np_out, out) <= 1e-10
    for j in range(4):
        assert rel_err(np_h_n[j], h_n[j]) <= 1e-10
    grads = m.backward(R.numpy(), d_c_n=[np.ones_like(c) for c in np_c_n])
    for name, p in net.named_parameters():
        assert rel_err(grads[name], p.grad) <= 1e-8, name
    assert rel_err(grads["x"], x.grad) <= 1e-8
