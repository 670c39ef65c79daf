"""The PyTorch models: one configurable LSTM network, its presets, and the fast LSTM kernels."""

from lstmcast.models.network import PRESETS, LSTMNetwork, NetworkConfig, build_network

__all__ = ["PRESETS", "LSTMNetwork", "NetworkConfig", "build_network"]
