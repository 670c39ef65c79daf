"""The three classic examples run end to end on lstmcast, and their loss falls."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["simple_lstm", "stacked_lstm", "bidirectional_lstm"])
def test_example_trains_and_its_loss_falls(name, capsys):
    history = load(name).main(epochs=8)
    assert len(history.train_loss) == 8
    assert history.train_loss[-1] < 0.8 * history.train_loss[0]
    assert "MSE" in capsys.readouterr().out
