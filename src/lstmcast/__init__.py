"""lstmcast: multivariate time-series forecasting with LSTM networks."""

from lstmcast.errors import LstmcastError

__version__ = "0.1.0"
__all__ = ["LstmcastError", "__version__"]
