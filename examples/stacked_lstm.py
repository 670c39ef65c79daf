"""The classic stacked LSTM, on lstmcast: two relu LSTM layers with dropout, then a dense head.

The Keras original this reproduces (random data, 3 variables in, 3 out):

    model = Sequential([
        LSTM(64, activation="relu", return_sequences=True, input_shape=(10, 3)),
        Dropout(0.2),
        LSTM(32, activation="relu"),
        Dropout(0.2),
        Dense(3),
    ])
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, y, epochs=100, batch_size=32)

Run: python examples/stacked_lstm.py
"""

from __future__ import annotations

import numpy as np

from lstmcast.models import build_network
from lstmcast.train import History, TrainConfig, seed_everything, train_network


def main(epochs: int = 100) -> History:
    """Fit the network on random windows X (100, 10, 3) -> y (100, 3); return the history."""
    seed_everything(0)
    rng = np.random.default_rng(0)
    X = rng.random((100, 10, 3), dtype=np.float32)  # (B, T, F)
    y = rng.random((100, 3), dtype=np.float32)  # (B, 3)
    net = build_network("stacked", n_features=3, n_outputs=3)  # 64 -> 32, dropout 0.2
    config = TrainConfig(
        epochs=epochs,
        batch_size=32,
        learning_rate=1e-3,
        loss="mse",
        patience=None,
        lr_patience=None,
        clip_norm=None,
        progress=False,
    )
    history = train_network(net, X, y, config)  # flushes denormals while it trains
    print(
        f"stacked: MSE {history.train_loss[0]:.4f} -> {history.train_loss[-1]:.4f} "
        f"in {sum(history.epoch_seconds):.2f} s"
    )
    return history


if __name__ == "__main__":
    main()
