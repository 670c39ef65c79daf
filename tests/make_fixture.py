"""Regenerate ``tests/fixtures/``: a tiny saved model, the rows it predicts from, its forecast.

The fixture pins the model-file format: ``tests/test_modelfile.py`` loads ``model_v1`` with the
current lstmcast and must predict ``expected_forecast.csv`` from ``recent.csv``. Regenerate it
only when the format changes on purpose (then bump ``FORMAT_VERSION`` and keep the old fixture
directory too, so old files keep loading):

    python tests/make_fixture.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODEL = "model_v1"


def fixture_frame(n: int = 150, seed: int = 0) -> pd.DataFrame:
    """Hourly ``load`` that follows ``temp`` an hour later, a text ``wind`` column, a few NAs."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    temp = np.sin(2 * np.pi * t / 24) + 0.3 * rng.standard_normal(n)
    load = np.r_[0.0, temp[:-1]] * 2.0 + 10 + 0.1 * rng.standard_normal(n)
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2021-03-01", periods=n, freq="h"),
            "load": load.round(4),
            "temp": temp.round(4),
            "wind": rng.choice(["E", "N", "W"], n),
        }
    )
    frame.loc[[20, 21, 77], "load"] = np.nan
    return frame


def main() -> None:
    from lstmcast import ForecastConfig, Forecaster

    FIXTURES.mkdir(exist_ok=True)
    os.chdir(FIXTURES)  # the manifest records the data path relative to the fixtures
    frame = fixture_frame()
    frame.to_csv("train.csv", index=False)
    frame.iloc[-12:].to_csv("recent.csv", index=False)
    config = ForecastConfig(
        data="train.csv",
        time_col="time",
        target=["load"],
        units=[4],
        lookback=6,
        horizon=2,
        epochs=3,
        batch_size=16,
        seed=0,
        progress=False,
    )
    fc = Forecaster(config).fit()
    shutil.rmtree(MODEL, ignore_errors=True)
    fc.save(MODEL)
    forecast = fc.predict("recent.csv")
    forecast.to_csv("expected_forecast.csv", float_format="%.17g")
    print(forecast)


if __name__ == "__main__":
    main()
