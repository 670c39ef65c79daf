"""lstmcast: multivariate time-series forecasting with LSTM networks.

>>> import lstmcast
>>> fc = lstmcast.Forecaster(lstmcast.ForecastConfig(horizon=24)).fit()  # doctest: +SKIP
>>> fc.save("runs/pm25"); lstmcast.load("runs/pm25").predict("latest.csv")  # doctest: +SKIP
"""

import os

# OpenMP threads that spin while waiting for work steal the CPU from the LSTM engine's own threads
# on small machines (a P1 step varied from 20 ms to 2.5 s without this; benchmarks/speed.py).
# It only takes effect when lstmcast is imported before torch, as the CLI does.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from lstmcast.errors import LstmcastError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["ForecastConfig", "Forecaster", "LstmcastError", "__version__", "load"]


def __getattr__(name: str):
    # the estimator pulls in torch: import it on first use, not with the package
    if name == "ForecastConfig":
        from lstmcast.config import ForecastConfig

        return ForecastConfig
    if name == "Forecaster":
        from lstmcast.forecaster import Forecaster

        return Forecaster
    if name == "load":
        from lstmcast.modelfile import load

        return load
    raise AttributeError(f"module 'lstmcast' has no attribute {name!r}")
