"""Shared fixtures: the real Beijing data when it is available, skipped with a reason when not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def beijing_csv() -> Path | None:
    """The Beijing PM2.5 CSV from ``LSTMCAST_DATA`` or ``../shared/data``, if present."""
    for folder in (os.environ.get("LSTMCAST_DATA"), SHARED_DATA):
        if folder and (Path(folder) / "beijing_pm25.csv").is_file():
            return Path(folder) / "beijing_pm25.csv"
    return None


@pytest.fixture
def beijing_path() -> Path:
    path = beijing_csv()
    if path is None:
        pytest.skip(
            "Beijing PM2.5 data absent: set LSTMCAST_DATA to a folder with beijing_pm25.csv"
        )
    return path


def make_synthetic_frame(n: int = 600, seed: int = 0):
    """An hourly table where ``load`` follows ``temp`` one hour later, with planted NA loads."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.arange(n)
    temp = np.sin(2 * np.pi * t / 24) + 0.3 * rng.standard_normal(n)
    load = np.r_[0.0, temp[:-1]] * 2.0 + 10 + 0.1 * rng.standard_normal(n)
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2021-03-01", periods=n, freq="h"),
            "load": load,
            "temp": temp,
            "wind": rng.choice(["E", "N", "W"], n),
        }
    )
    frame.loc[[50, 51, 300, 450, 451, 452, 560], "load"] = np.nan
    return frame


@pytest.fixture
def synthetic_csv(tmp_path) -> Path:
    path = tmp_path / "synthetic.csv"
    make_synthetic_frame().to_csv(path, index=False)
    return path


@pytest.fixture(params=["torch", "compiled"])
def engine(request, monkeypatch):
    """Run the test on one LSTM engine: the pure-torch fallback, or the compiled extension."""
    from lstmcast.models import _extension

    if request.param == "torch":
        monkeypatch.setattr(_extension, "usable_for", lambda *tensors: False)
    elif not _extension.available():
        pytest.skip(f"compiled extension unavailable: {_extension.unavailable_reason()}")
    return request.param


def rel(a, b) -> float:
    """Largest absolute difference relative to the largest magnitude of the reference."""
    import numpy as np
    import torch

    a, b = np.asarray(torch.as_tensor(a).detach()), np.asarray(torch.as_tensor(b).detach())
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))
