"""The same seed on the same machine gives bit-identical weights and forecasts."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from lstmcast.forecaster import ForecastConfig, Forecaster


def _fit(path, **kw) -> Forecaster:
    cfg = dict(data=str(path), time_col="time", target=["load"], units=[8, 4], dropout=0.2,
               epochs=2, lookback=12, horizon=2, seed=11, progress=False)  # fmt: skip
    cfg["batch_size"] = 32
    cfg.update(kw)
    return Forecaster(ForecastConfig(**cfg)).fit()


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    from conftest import make_synthetic_frame

    path = tmp_path_factory.mktemp("det") / "synthetic.csv"
    make_synthetic_frame().to_csv(path, index=False)
    return path


def test_same_seed_same_weights_history_and_forecasts(csv):
    a, b = _fit(csv), _fit(csv)
    sa, sb = a.network_.state_dict(), b.network_.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    assert a.history_.train_loss == b.history_.train_loss
    assert a.history_.val_loss == b.history_.val_loss
    pd.testing.assert_frame_equal(a.predict(), b.predict(), check_exact=True)
    ra, rb = a.evaluate()["results"][0], b.evaluate()["results"][0]
    assert (ra["rmse"], ra["mae"]) == (rb["rmse"], rb["mae"])


def test_global_random_state_does_not_leak_into_a_fit(csv):
    torch.manual_seed(12345)
    torch.rand(100)  # someone else used the global generator before fitting
    a = _fit(csv)
    b = _fit(csv)
    pd.testing.assert_frame_equal(a.predict(), b.predict(), check_exact=True)


def test_another_seed_gives_other_weights(csv):
    a, b = _fit(csv), _fit(csv, seed=12)
    assert not torch.equal(
        next(iter(a.network_.state_dict().values())), next(iter(b.network_.state_dict().values()))
    )
