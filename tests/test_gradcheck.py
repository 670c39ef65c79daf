"""Finite-difference gradient check of the reference LSTM, as a function and as a command."""

from __future__ import annotations

import numpy as np
import pytest

from lstmcast.cli import main
from lstmcast.errors import ConfigError
from lstmcast.reference import NumpyLSTM, gradcheck


@pytest.mark.parametrize(
    "hidden_sizes,bidirectional,activation",
    [([4], False, "tanh"), ([4, 3], True, "tanh"), ([3, 3], True, "relu")],
)
def test_gradcheck_passes(hidden_sizes, bidirectional, activation):
    result = gradcheck(
        hidden_sizes=hidden_sizes, bidirectional=bidirectional, activation=activation, seed=3
    )
    assert result.passed
    assert max(result.errors.values()) <= 1e-7
    m = NumpyLSTM.random(3, hidden_sizes, bidirectional=bidirectional)
    assert set(result.errors) == set(m.params) | {"x", "h0", "c0"}


def test_gradcheck_checks_every_entry_when_asked():
    result = gradcheck(hidden_sizes=[2], batch=1, steps=3, max_entries=None)
    assert result.entries == {
        "weight_ih_l0": 24,
        "weight_hh_l0": 16,
        "bias_ih_l0": 8,
        "bias_hh_l0": 8,
        "x": 9,
        "h0": 2,
        "c0": 2,
    }


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    model = NumpyLSTM.random(3, [4], seed=0)
    true_backward = model.backward

    def broken_backward(*args, **kwargs):
        grads = true_backward(*args, **kwargs)
        grads["bias_hh_l0"][5] *= 1.01
        return grads

    monkeypatch.setattr(model, "backward", broken_backward)
    result = gradcheck(model, max_entries=None)
    assert not result.passed
    assert result.errors["bias_hh_l0"] > 1e-4 and result.errors["bias_ih_l0"] < 1e-7
    assert "FAIL" in result.table()


def test_gradcheck_leaves_the_weights_as_they_were():
    model = NumpyLSTM.random(3, [4], seed=0)
    before = {k: v.copy() for k, v in model.params.items()}
    gradcheck(model)
    assert all(np.array_equal(before[k], model.params[k]) for k in before)


def test_gradcheck_command(capsys):
    code = main(["gradcheck", "--hidden", "4", "3", "--bidirectional", "--steps", "4"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split() == ["parameter", "max", "rel", "error", "entries"]
    names = {line.split()[0] for line in out.splitlines()[1:-1]}
    expected = set(NumpyLSTM.random(3, [4, 3], bidirectional=True).params) | {"x", "h0", "c0"}
    assert names == expected
    assert out.splitlines()[-1].startswith("passed: largest error ")


def test_gradcheck_command_layers_and_relu(capsys):
    assert main(["gradcheck", "--hidden", "3", "--layers", "2", "--activation", "relu"]) == 0
    assert "weight_hh_l1" in capsys.readouterr().out


def test_gradcheck_command_fails_when_tolerance_unreachable(capsys):
    assert main(["gradcheck", "--tolerance", "1e-20"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_gradcheck_command_bad_layers(capsys):
    assert main(["gradcheck", "--hidden", "4", "3", "--layers", "3"]) == 2
    err = capsys.readouterr().err
    assert "--layers 3 disagrees with 2 --hidden widths [4, 3]" in err


def test_gradcheck_bad_arguments():
    with pytest.raises(ConfigError, match=r"steps must be a positive integer, got 0"):
        gradcheck(steps=0)
    with pytest.raises(ConfigError, match=r"hidden_sizes must be a positive integer, got -2"):
        gradcheck(hidden_sizes=[-2])
    # numpy's own TypeError/ValueError tracebacks before
    with pytest.raises(ConfigError, match=r"^batch must be a positive integer, got 2\.5$"):
        gradcheck(batch=2.5)
    with pytest.raises(ConfigError, match=r"^steps must be a positive integer, got True$"):
        gradcheck(steps=True)
    with pytest.raises(ConfigError, match=r"^seed must be a non-negative integer, got -5$"):
        gradcheck(NumpyLSTM.random(2, [2]), seed=-5)
    with pytest.raises(ConfigError, match=r"^hidden_sizes must list the layers' widths, got 4: "
                       r"pass e\.g\. \[4\] for one layer$"):  # fmt: skip
        NumpyLSTM.random(3, 4)


def test_gradcheck_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["gradcheck", "--help"])
    assert "Example: lstmcast gradcheck --hidden 8 4" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--entries", "-1"], "--entries must be a positive integer, or 0 to check every entry, "
         "got -1: e.g. --entries 40 (the default)"),
        (["--hidden", "0"], "--hidden widths must be positive integers, got 0: "
         "e.g. --hidden 4 (the default) or --hidden 8 4"),
        (["--hidden", "4", "-1"], "--hidden widths must be positive integers, got 4 -1: "
         "e.g. --hidden 4 (the default) or --hidden 8 4"),
        (["--layers", "0"], "--layers must be a positive integer, got 0: e.g. --layers 2, "
         "or leave it out for one layer per --hidden width"),
        (["--input-size", "0"], "--input-size must be a positive integer, got 0: "
         "e.g. --input-size 3 (the default)"),
        (["--batch", "0"], "--batch must be a positive integer, got 0: "
         "e.g. --batch 2 (the default)"),
        (["--steps", "-3"], "--steps must be a positive integer, got -3: "
         "e.g. --steps 5 (the default)"),
        (["--seed", "-1"], "--seed must be a non-negative integer, got -1: "
         "e.g. --seed 0 (the default)"),
        (["--tolerance", "-1"], "--tolerance must be a positive finite number, got -1: "
         "e.g. --tolerance 1e-6 (the default)"),
        (["--tolerance", "0"], "--tolerance must be a positive finite number, got 0: "
         "e.g. --tolerance 1e-6 (the default)"),
        (["--tolerance", "nan"], "--tolerance must be a positive finite number, got nan: "
         "e.g. --tolerance 1e-6 (the default)"),
        (["--tolerance", "inf"], "--tolerance must be a positive finite number, got inf: "
         "e.g. --tolerance 1e-6 (the default)"),
    ],
)  # fmt: skip
def test_gradcheck_command_names_the_flag(argv, message, capsys):
    assert main(["gradcheck", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"lstmcast gradcheck: error: {message}\n"
    assert captured.out == ""


def test_gradcheck_refuses_a_tolerance_that_cannot_pass():
    with pytest.raises(ConfigError, match=r"^tolerance must be a positive finite number, got 0$"):
        gradcheck(tolerance=0)
    with pytest.raises(ConfigError, match=r"^eps must be a positive finite number, got nan$"):
        gradcheck(eps=float("nan"))
    with pytest.raises(ConfigError, match=r"^seed must be a non-negative integer, got -1$"):
        gradcheck(seed=-1)
