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
        pytest.skip("Beijing PM2.5 data absent: set LSTMCAST_DATA to a folder with beijing_pm25.csv")
    return path
