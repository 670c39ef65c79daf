"""Gate traces of the reference LSTM: consistent with its outputs, printable and plottable."""

from __future__ import annotations

import numpy as np
import pytest

from lstmcast.errors import ConfigError
from lstmcast.reference import GateTrace, NumpyLSTM, format_gate_trace


@pytest.fixture
def run():
    m = NumpyLSTM.random(input_size=3, hidden_sizes=[5, 4], bidirectional=True, seed=2)
    x = np.random.default_rng(0).normal(size=(2, 7, 3))
    return m.forward(x, return_gates=True)


def test_traces_keys_and_shapes(run):
    _, _, gates = run
    assert list(gates) == ["l0", "l0_reverse", "l1", "l1_reverse"]
    for name, trace in gates.items():
        assert isinstance(trace, GateTrace) and trace.name == name
        H = 5 if name.startswith("l0") else 4
        assert all(v.shape == (2, 7, H) for v in trace.as_dict().values())
        assert trace.reverse == name.endswith("_reverse")


def test_traces_match_outputs_and_states(run):
    out, (h_n, c_n), gates = run  # widths differ: h_n, c_n are lists of 4 arrays (B, H_k)
    fwd, bwd = gates["l1"], gates["l1_reverse"]
    np.testing.assert_array_equal(out, np.concatenate([fwd.h, bwd.h], axis=2))
    for j, name in enumerate(gates):
        trace = gates[name]
        last = 0 if trace.reverse else -1  # the reversed direction ends at t = 0
        np.testing.assert_array_equal(h_n[j], trace.h[:, last])
        np.testing.assert_array_equal(c_n[j], trace.c[:, last])


def test_traces_follow_the_cell_equations(run):
    _, _, gates = run
    for trace in gates.values():
        f, i, g, o, c, h = (trace.as_dict()[k] for k in "figoch")
        for gate in (f, i, o):
            assert gate.min() > 0.0 and gate.max() < 1.0
        assert np.abs(g).max() < 1.0
        c_prev = np.zeros_like(c)  # zero initial state; time runs forward in every trace
        if trace.reverse:
            c_prev[:, :-1] = c[:, 1:]
        else:
            c_prev[:, 1:] = c[:, :-1]
        np.testing.assert_allclose(c, f * c_prev + i * g, rtol=0, atol=1e-15)
        np.testing.assert_allclose(h, o * np.tanh(c), rtol=0, atol=1e-15)


def test_format_gate_trace(run):
    _, _, gates = run
    text = format_gate_trace(gates["l0_reverse"], sample=1, units=[0, 3], max_steps=3)
    lines = text.splitlines()
    assert lines[0] == "l0_reverse, sample 1"
    assert lines[1].split("|")[1].split() == [f"{k}[{u}]" for u in (0, 3) for k in "figoch"]
    assert [line.split("|")[0].strip() for line in lines[2:]] == ["4", "5", "6"]
    first = [float(v) for v in lines[2].split("|")[1].split()]
    assert first[0] == pytest.approx(gates["l0_reverse"].f[1, 4, 0], abs=5e-4)
    with pytest.raises(
        ConfigError,
        match=r"units must be indices in \[0, 4\] \(hidden width 5\), "
        r"got \[7\]",
    ):
        format_gate_trace(gates["l0"], units=[7])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"units": 1}, r"units must be a list of unit indices, e\.g\. \[0, 1\], got 1"),
    ({"units": [1.5]}, r"units must be indices in \[0, 4\] \(hidden width 5\), got \[1\.5\]"),
    ({"sample": 2}, r"sample must be in \[0, 1\] \(batch size 2\), got 2"),
    ({"sample": True}, r"sample must be in \[0, 1\] \(batch size 2\), got True"),
    ({"max_steps": 0}, r"max_steps must be a positive integer or None, got 0"),
    ({"max_steps": -2}, r"max_steps must be a positive integer or None, got -2"),
])  # fmt: skip
def test_a_bad_selection_is_one_line_for_text_and_figure(run, tmp_path, kwargs, message):
    """units=1 was a TypeError traceback; max_steps=-2 printed a header and no rows."""
    from lstmcast.report.gates import plot_gate_traces

    _, _, gates = run
    with pytest.raises(ConfigError, match=rf"^{message}$"):
        format_gate_trace(gates["l0"], **kwargs)
    if "max_steps" not in kwargs:  # the figure draws every step
        with pytest.raises(ConfigError, match=rf"^{message}$"):
            plot_gate_traces(gates["l0"], tmp_path / "g.png", **kwargs)


def test_plot_gate_traces_writes_a_png(run, tmp_path):
    from lstmcast.report.gates import plot_gate_traces

    _, _, gates = run
    path = plot_gate_traces(gates["l1"], tmp_path / "gates.png", sample=1, units=[0, 2])
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    with pytest.raises(ConfigError, match=r"sample must be in \[0, 1\] \(batch size 2\), got 5"):
        plot_gate_traces(gates["l1"], tmp_path / "bad.png", sample=5)


def test_plot_gate_traces_writes_the_format_its_suffix_names(run, tmp_path):
    """g.pdf and g.svg held PNG bytes, and a missing folder was a FileNotFoundError traceback."""
    from lstmcast.report.gates import plot_gate_traces

    _, _, gates = run
    starts = {"pdf": b"%PDF", "svg": b"<?xml", "png": b"\x89PNG"}
    for suffix, start in starts.items():
        path = plot_gate_traces(gates["l0"], tmp_path / "new" / "dir" / f"g.{suffix}")
        assert path.read_bytes().startswith(start)
    message = r"cannot tell the image format of '\S+g.txt' from its suffix: end the name in one of "
    with pytest.raises(ConfigError, match=message + r"\.avif, \.eps, "):
        plot_gate_traces(gates["l0"], tmp_path / "g.txt")
    assert not (tmp_path / "g.txt").exists()
    with pytest.raises(ConfigError, match=r"g.pgf' from its suffix: .* \.pdf, \.png, \.ps, "):
        plot_gate_traces(gates["l0"], tmp_path / "g.pgf")
