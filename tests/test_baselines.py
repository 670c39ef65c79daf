"""Baselines on series where the right answer is known exactly."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from scipy.signal import lfilter

from lstmcast.baselines import (
    BASELINES,
    GradientBoostingBaseline,
    Persistence,
    RidgeBaseline,
    SeasonalNaive,
    TrainingMean,
    VARBaseline,
)
from lstmcast.data import make_windows
from lstmcast.errors import ConfigError, DataError, NotFittedError


def _windows(series: np.ndarray, lookback: int, horizon: int, targets=(0,)):
    series = series.reshape(len(series), -1)
    return make_windows(series, lookback, horizon, inputs=range(series.shape[1]), targets=targets)


def test_the_package_imports_light_and_keeps_its_chunk_size_in_one_module(monkeypatch):
    """Importing lstmcast.baselines loads neither torch nor scikit-learn nor scipy (each fit
    imports its own); CHUNK_VALUES lives in lstmcast.baselines.chunks alone, so patching it
    there reaches every loop (a copy in the package would be a knob that turns nothing)."""
    import subprocess
    import sys

    import lstmcast.baselines
    from lstmcast.baselines.chunks import _flat_chunks

    probe = (
        "import sys, lstmcast.baselines\n"
        "print(' '.join(m for m in ('torch', 'sklearn', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr[-2000:]
    assert set(lstmcast.baselines.__all__) <= set(vars(lstmcast.baselines))
    assert not hasattr(lstmcast.baselines, "CHUNK_VALUES")
    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 3 * 4)  # three windows a chunk
    assert [len(flat) for _, flat in _flat_chunks(np.zeros((10, 4, 1)))] == [3, 3, 3, 1]


def test_persistence_on_a_random_walk():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(size=40_000))
    w = _windows(walk, 5, 4)
    pred = Persistence(target_idx=[0]).fit(w.X, w.Y).predict(w.X)
    np.testing.assert_array_equal(pred[:, :, 0], np.repeat(walk[w.t0 - 1][:, None], 4, axis=1))
    # the error of step h is a sum of h unit steps: its variance is h
    mse_per_step = ((pred - w.Y) ** 2).mean(axis=(0, 2))
    np.testing.assert_allclose(mse_per_step, [1, 2, 3, 4], rtol=0.05)


def test_the_training_mean_beats_persistence_on_noise_and_ignores_masked_targets():
    """On a noise-like target (a return) persistence repeats the last noise: its RMSE is
    sqrt(2) sigma, the mean's sigma. Masked targets never enter the mean."""
    rng = np.random.default_rng(0)
    noise = 3.0 + rng.normal(size=(20_000, 2)) * [1.0, 0.01]
    w = _windows(noise, 5, 3, targets=(0, 1))
    mask = np.ones(w.Y.shape, dtype=bool)
    mask[::7, :, 0] = False
    planted = w.Y.copy()
    planted[~mask] = 1e6  # would drag the mean far away if it were read
    model = TrainingMean([0, 1]).fit(w.X, planted, mask=mask)
    expected = [w.Y[..., 0][mask[..., 0]].mean(), w.Y[..., 1].mean()]
    np.testing.assert_allclose(model.mean_, expected, rtol=1e-12)
    pred = model.predict(w.X[:4])
    assert pred.shape == (4, 3, 2) and (pred == model.mean_).all()
    rmse = lambda p: np.sqrt(((p - w.Y) ** 2).mean(axis=(0, 1)))  # noqa: E731
    ratio = rmse(Persistence([0, 1]).fit(w.X, w.Y).predict(w.X)) / rmse(model.predict(w.X))
    np.testing.assert_allclose(ratio, np.sqrt(2), rtol=0.03)
    mask[..., 1] = False
    with pytest.raises(DataError, match=r"the mean baseline needs an observed target in the "
                       r"training windows of every target, got none for target 1"):  # fmt: skip
        TrainingMean([0, 1]).fit(w.X, w.Y, mask=mask)


def test_seasonal_naive_on_a_pure_cycle_including_horizons_past_one_period():
    t = np.arange(500)
    cycle = np.sin(2 * np.pi * t / 24) + 0.5 * np.cos(2 * np.pi * 3 * t / 24)
    other = np.random.default_rng(1).normal(size=500)
    w = _windows(np.column_stack([other, cycle]), 48, 60, targets=(1,))
    pred = SeasonalNaive(target_idx=[1], period=24).fit(w.X, w.Y).predict(w.X)
    np.testing.assert_allclose(pred, w.Y, atol=1e-12)


def test_ridge_on_a_linear_ar_process_recovers_the_conditional_mean():
    rng = np.random.default_rng(2)
    phi, c = np.array([0.6, -0.3]), 0.5
    # y[t] = c + phi[0] y[t-1] + phi[1] y[t-2] + e[t], started at its mean (no transient)
    y = lfilter([1.0], [1.0, -phi[0], -phi[1]], c + rng.normal(scale=0.1, size=100_000))
    y = y[1000:]
    w = _windows(y, 4, 1)
    model = RidgeBaseline(target_idx=[0], alpha=1e-6).fit(w.X, w.Y)
    coef = np.ravel(model.coef_) / model.scale_  # per raw input, oldest lag first
    np.testing.assert_allclose(coef, [0, 0, phi[1], phi[0]], atol=0.01)
    expected = c + phi[0] * w.X[:, -1, 0] + phi[1] * w.X[:, -2, 0]
    np.testing.assert_allclose(model.predict(w.X)[:, 0, 0], expected, atol=0.01)


def test_ridge_never_learns_from_masked_targets():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 2))
    w = _windows(x, 3, 2)
    mask = w.mask.copy()
    mask[::7, 1] = False
    poisoned = np.where(mask, w.Y, 1e6)
    keep = mask.all(axis=(1, 2))
    a = RidgeBaseline([0]).fit(w.X, poisoned, mask).predict(w.X)
    b = RidgeBaseline([0]).fit(w.X[keep], w.Y[keep]).predict(w.X)
    np.testing.assert_allclose(a, b)
    nan_y = np.where(mask, w.Y, np.nan)  # NaN without a mask is treated as missing too
    np.testing.assert_allclose(RidgeBaseline([0]).fit(w.X, nan_y).predict(w.X), b)


@pytest.mark.parametrize("chunk_values", [1, 7 * 3 * 5, 2**22])  # a window, a few, all at once
@pytest.mark.parametrize("targets", [[0, 2], [None, None]])
def test_ridge_in_chunks_equals_scikit_learns_ridge(monkeypatch, chunk_values, targets):
    """The chunked normal equations give scikit-learn's Ridge (intercept, centring and all), on
    inputs far from zero, with masked targets left out, whatever the chunk."""
    from sklearn.linear_model import Ridge

    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", chunk_values)
    rng = np.random.default_rng(9)
    x = rng.normal(size=(400, 3)) * [1, 50, 0.01] + [1e4, -3, 7]
    x[:, 1] = np.cumsum(x[:, 1])
    x = np.column_stack([x, np.full(len(x), 2.5)])  # a constant input
    w = _windows(x, 5, 2, targets=(0, 2))
    mask = w.mask.copy()
    mask[::7, 1, 0] = mask[3::11, 0, 1] = False
    keep = mask.all(axis=(1, 2))
    X_test = w.X[-40:]
    for alpha in (1.0, 1e-3):
        model = RidgeBaseline(targets, alpha=alpha).fit(w.X, w.Y, mask)
        flat = w.X[keep].reshape(keep.sum(), -1)
        mean, scale = flat.mean(axis=0), flat.std(axis=0)
        scale[scale == 0] = 1.0  # the constant input's, as the baseline does
        expected = Ridge(alpha=alpha).fit((flat - mean) / scale, w.Y[keep].reshape(keep.sum(), -1))
        np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(model.intercept_, expected.intercept_, rtol=1e-12)
        pred = expected.predict((X_test.reshape(len(X_test), -1) - mean) / scale)
        np.testing.assert_allclose(model.predict(X_test).reshape(len(X_test), -1), pred, rtol=1e-9)
        assert model.n_windows_used_ == keep.sum() < len(w.X)
    X = w.X[..., :3]  # no constant input: without a penalty too, sklearn's least squares
    unpenalised = RidgeBaseline(targets, alpha=0.0).fit(X, w.Y, mask).predict(X_test[..., :3])
    flat = X[keep].reshape(keep.sum(), -1)
    z = (flat - flat.mean(axis=0)) / flat.std(axis=0)
    expected = Ridge(alpha=0.0).fit(z, w.Y[keep].reshape(keep.sum(), -1))
    z_test = (X_test[..., :3].reshape(len(X_test), -1) - flat.mean(axis=0)) / flat.std(axis=0)
    np.testing.assert_allclose(
        unpenalised.reshape(len(X_test), -1), expected.predict(z_test), rtol=1e-7
    )


def test_ridge_with_more_inputs_than_windows_equals_scikit_learns_ridge(monkeypatch):
    """scikit-learn solves the dual problem there; the primal one agrees."""
    from sklearn.linear_model import Ridge

    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 100)
    x = np.random.default_rng(10).normal(size=(60, 4))
    w = _windows(x, 20, 1)  # 40 windows of 80 values
    model = RidgeBaseline([0]).fit(w.X, w.Y)
    flat = w.X.reshape(len(w.X), -1)
    z = (flat - flat.mean(axis=0)) / flat.std(axis=0)
    expected = Ridge(alpha=1.0).fit(z, w.Y[:, :, 0]).predict(z)
    np.testing.assert_allclose(model.predict(w.X)[:, 0, 0], expected, rtol=1e-9)


def _threshold_process(n: int, seed: int) -> np.ndarray:
    """y rises by 10 when the driver x was far from zero an hour before, else falls by 10."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=n)
    step = np.where(np.abs(x) > 0.5, 10.0, -10.0) + rng.normal(scale=0.5, size=n)
    y = np.concatenate([[0.0], np.cumsum(step[:-1])])  # y[t] = y[t-1] + step(x[t-1])
    return np.column_stack([y, x])


def test_gbm_learns_a_threshold_rule_that_ridge_cannot():
    """|x| > 0.5 is invisible to a linear model: ridge stays at the rule's spread (10), while the
    trees find the threshold and are left with the noise (0.5)."""
    train, test = (_windows(_threshold_process(n, seed), 4, 1) for n, seed in ((4000, 4), (800, 5)))
    gbm = GradientBoostingBaseline([0]).fit(train.X, train.Y)
    ridge = RidgeBaseline([0]).fit(train.X, train.Y)
    rmse = lambda m: np.sqrt(np.mean((m.predict(test.X) - test.Y) ** 2))  # noqa: E731
    assert rmse(gbm) < 1.0
    assert rmse(ridge) > 9.0
    assert 1 <= gbm.n_trees_[0, 0] < 1000


def test_ridge_and_gbm_forecast_a_target_whose_past_is_not_among_the_features():
    """target_idx None: y is a threshold rule of the driver x an hour before, and X holds x alone,
    so gbm learns y's level (not its change from a last value it cannot see)."""

    def level(n, seed):
        x = np.random.default_rng(seed).uniform(-1, 1, size=n)
        noise = np.random.default_rng(seed + 1).normal(scale=0.5, size=n)
        y = np.r_[0.0, np.where(np.abs(x[:-1]) > 0.5, 10.0, -10.0)] + noise
        w = _windows(np.column_stack([y, x]), 4, 1)
        return w.X[..., 1:], w.Y  # the driver's window; y's future

    (X, Y), (X_test, Y_test) = level(4000, 7), level(800, 8)
    gbm = GradientBoostingBaseline([None]).fit(X, Y)
    ridge = RidgeBaseline([None]).fit(X, Y)
    rmse = lambda m: np.sqrt(np.mean((m.predict(X_test) - Y_test) ** 2))  # noqa: E731
    assert rmse(gbm) < 1.0  # the noise is 0.5
    assert rmse(ridge) > 9.0  # |x| is invisible to a line
    for cls in (Persistence, VARBaseline):
        with pytest.raises(ConfigError, match=rf"{cls.__name__} forecasts each target from its "
                           r"own past, so target_idx must place every target among X's "
                           r"features, got \[None\]"):  # fmt: skip
            cls([None]).fit(X, Y)


def test_gbm_features_are_the_window_and_its_last_changes():
    X = np.arange(2 * 4 * 3, dtype=float).reshape(2, 4, 3) ** 2
    F = GradientBoostingBaseline.features(X)
    np.testing.assert_array_equal(F[:, :12], X.reshape(2, 12))
    np.testing.assert_array_equal(F[:, 12:15], X[:, 3] - X[:, 2])
    np.testing.assert_array_equal(F[:, 15:], X[:, 3] - X[:, 0])
    assert GradientBoostingBaseline.features(X[:, :1]).shape == (2, 3)  # one step: no changes


def test_gbm_never_learns_from_masked_targets_and_forecasts_every_step():
    w = _windows(_threshold_process(3000, 6), 4, 2, targets=(0, 1))
    mask = w.mask.copy()
    mask[::5, 1, 0] = False
    poisoned = np.where(mask, w.Y, 1e6)
    model = GradientBoostingBaseline([0, 1]).fit(w.X, poisoned, mask)
    pred = model.predict(w.X)
    assert pred.shape == (len(w.X), 2, 2)
    assert sorted(model.n_trees_) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert np.abs(pred - w.Y).max() < 50  # a single 1e6 learnt from would show
    with pytest.raises(ConfigError, match="holdout must be between 0 and 1, got 1.5"):
        GradientBoostingBaseline([0], holdout=1.5).fit(w.X, w.Y[..., :1])
    with pytest.raises(DataError, match="needs >= 100 observed training windows before its 15%"):
        GradientBoostingBaseline([0]).fit(w.X[:60], w.Y[:60, :, :1])


def test_gbm_predicts_a_chunk_of_windows_at_a_time_with_the_same_numbers(monkeypatch):
    w = _windows(_threshold_process(1000, 7), 4, 2, targets=(0, 1))
    model = GradientBoostingBaseline([0, 1], max_iter=20).fit(w.X, w.Y)
    whole = model.predict(w.X)
    # seven windows a chunk
    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 4 * 2 * 7)
    np.testing.assert_array_equal(model.predict(w.X), whole)


def _simulate_var1(a: np.ndarray, c: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.zeros((n, len(c)))
    for t in range(1, n):
        y[t] = c + a @ y[t - 1] + rng.normal(scale=0.5, size=len(c))
    return y


def test_var_recovers_var1_coefficients_and_forecasts_by_recursion():
    a, c = np.array([[0.5, 0.1], [-0.2, 0.4]]), np.array([1.0, -1.0])
    y = _simulate_var1(a, c, 20_000, seed=4)
    w = _windows(y, 3, 5, targets=(0, 1))
    model = VARBaseline(target_idx=[0, 1], maxlags=1).fit(w.X, w.Y)
    np.testing.assert_allclose(model.coefs_[0], a, atol=0.02)
    np.testing.assert_allclose(model.intercept_, c, atol=0.03)
    pred = model.predict(w.X[:50])
    state = w.X[:50, -1]
    for h in range(5):  # the forecast is the fitted recursion, step by step
        state = model.intercept_ + state @ model.coefs_[0].T
        np.testing.assert_allclose(pred[:, h], state, rtol=1e-12)
    chosen = VARBaseline(target_idx=[1]).fit(w.X, w.Y[..., 1:])
    assert chosen.order_ <= 3 and chosen.predict(w.X[:2]).shape == (2, 5, 1)


def test_var_checks_that_copied_windows_are_consecutive_chunk_by_chunk(monkeypatch):
    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 3 * 4)  # three windows a chunk
    w = _windows(np.cumsum(np.random.default_rng(11).normal(size=200)), 4, 1)
    X = np.array(w.X)  # a copy: consecutive by value, not by layout
    assert VARBaseline([0], maxlags=2).fit(X, w.Y).order_ == 2
    X[-1, 0] += 1.0  # the last window's first row no longer the one before's second
    with pytest.raises(DataError, match="needs stride-1 consecutive windows"):
        VARBaseline([0], maxlags=2).fit(X, w.Y)


def test_var_univariate_uses_an_autoregression():
    y = _simulate_var1(np.array([[0.7]]), np.array([2.0]), 10_000, seed=5)
    w = _windows(y, 2, 3)
    model = VARBaseline(target_idx=0, maxlags=1).fit(w.X, w.Y)
    np.testing.assert_allclose(model.coefs_[0, 0, 0], 0.7, atol=0.02)
    np.testing.assert_allclose(model.intercept_, [2.0], atol=0.1)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_predict_before_fit_is_refused(name):
    with pytest.raises(NotFittedError, match="is not fitted: call fit"):
        BASELINES[name]([0]).predict(np.zeros((2, 24, 1)))


def test_user_errors():
    w = _windows(np.arange(100.0), 12, 2)
    with pytest.raises(ConfigError, match="needs lookback >= 24, got 12"):
        SeasonalNaive([0], period=24).fit(w.X, w.Y)
    with pytest.raises(DataError, match="needs stride-1 consecutive windows"):
        VARBaseline([0]).fit(w.X[::2], w.Y[::2])
    with pytest.raises(ConfigError, match=r"maxlags must be None or an integer in 1..12"):
        VARBaseline([0], maxlags=20).fit(w.X, w.Y)
    with pytest.raises(
        ConfigError, match=r"target_idx must be feature positions in 0..0, got \[3\]"
    ):
        Persistence([3]).fit(w.X, w.Y)
    model = Persistence([0]).fit(w.X, w.Y)
    with pytest.raises(DataError, match=r"predict needs X of shape \(S, 12, 1\) as in fit"):
        model.predict(np.zeros((3, 5, 1)))


def test_var_order_selection_agrees_with_statsmodels():
    from statsmodels.tsa.api import VAR

    from lstmcast.baselines import select_var_order

    rng = np.random.default_rng(6)
    a1, a2 = np.array([[0.4, 0.2], [0.0, 0.3]]), np.array([[-0.3, 0.0], [0.1, 0.2]])
    y = np.zeros((3_000, 2))
    for t in range(2, len(y)):
        y[t] = 0.1 + a1 @ y[t - 1] + a2 @ y[t - 2] + rng.normal(size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = VAR(y).select_order(8, trend="c").selected_orders["aic"]
    assert expected >= 2  # AIC never under-fits a VAR(2) this long
    assert select_var_order(y, 8) == expected


def _var2_series(n: int, f: int, seed: int) -> np.ndarray:
    """A stable VAR(2) with a constant, its features far from zero and of unlike spreads."""
    rng = np.random.default_rng(seed)
    a1, a2 = 0.5 * np.eye(f) + 0.1 * rng.normal(size=(f, f)), -0.2 * np.eye(f)
    y = np.zeros((n, f))
    for t in range(2, n):
        y[t] = 0.1 + a1 @ y[t - 1] + a2 @ y[t - 2] + rng.normal(size=f)
    return y * np.geomspace(0.1, 10, f) + np.linspace(-1e3, 1e4, f)


def _statsmodels_var(y: np.ndarray, p: int):
    from statsmodels.tsa.api import VAR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing date index
        return VAR(y).fit(maxlags=p, trend="c")


def _close(actual, expected, rtol=1e-8):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("chunk_values", [1, 5 * 3 * 7, 2**22])  # a row, a few, all at once
def test_var_in_chunks_equals_statsmodels_var(monkeypatch, chunk_values):
    """The chunked normal equations give statsmodels' VAR.fit(p, trend="c") (rows p.., a
    constant), its AIC order and its forecasts, on features far from zero, whatever the chunk."""
    from statsmodels.tsa.api import VAR

    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", chunk_values)
    y = _var2_series(600, 3, seed=12)
    w = _windows(y, 6, 4, targets=(0, 2))
    y = y[: len(w.X) + 5]  # the rows under the windows: the training series
    for maxlags in (1, 3, None):
        model = VARBaseline([0, 2], maxlags=maxlags).fit(w.X, w.Y)
        if maxlags is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the missing date index
                aic = VAR(y).select_order(6, trend="c").selected_orders["aic"]
            assert model.order_ == aic == 2
        expected = _statsmodels_var(y, model.order_)
        _close(model.intercept_, expected.intercept)
        _close(model.coefs_, expected.coefs)
        pred = model.predict(w.X[-30:])
        for s in range(30):
            history = w.X[-30 + s, -model.order_ :]
            _close(pred[s], expected.forecast(history, steps=4)[:, [0, 2]])


def test_var_on_one_series_equals_statsmodels_autoreg(monkeypatch):
    from statsmodels.tsa.ar_model import AutoReg

    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 3 * 4)
    y = _var2_series(500, 1, seed=13)
    w = _windows(y, 4, 2)
    y = y[: len(w.X) + 3]
    model = VARBaseline([0], maxlags=3).fit(w.X, w.Y)
    params = AutoReg(y[:, 0], lags=3, trend="c").fit().params
    _close(model.intercept_, params[:1])
    _close(model.coefs_.ravel(), params[1:])


def test_var_predicts_a_chunk_of_windows_at_a_time_with_the_same_numbers(monkeypatch):
    w = _windows(_var2_series(300, 2, seed=14), 5, 3, targets=(1,))
    model = VARBaseline([1], maxlags=2).fit(w.X, w.Y)
    whole = model.predict(w.X)
    # seven windows a chunk
    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 5 * 2 * 7)
    np.testing.assert_array_equal(model.predict(w.X), whole)


def test_var_fit_memory_stays_at_a_chunk_and_the_gram_matrix(monkeypatch):
    """tracemalloc sees numpy's buffers: the fit never holds the (N, 1 + F * p) lag design."""
    import tracemalloc

    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 2**14)
    y = np.random.default_rng(15).normal(size=(20_000, 10)).cumsum(axis=0) * 0.01
    w = _windows(y, 24, 1)
    design_bytes = len(y) * (1 + 10 * 24) * 8  # 38 MB
    tracemalloc.start()
    try:
        VARBaseline([0], maxlags=24).fit(w.X, w.Y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < design_bytes / 4


def test_var_refuses_a_constant_input_as_statsmodels_does_but_not_a_zero_one():
    """statsmodels' VAR raises for a constant lag column that is not 0 (the forecaster leaves VAR
    out with a warning then) and fits a zero one with zero coefficients."""
    y = _var2_series(300, 3, seed=16)
    y[:, 1] = 1.5
    w = _windows(y, 4, 1)
    y = y[: len(w.X) + 3]
    with pytest.raises(ValueError) as statsmodels_error:
        _statsmodels_var(y, 2)
    with pytest.raises(ValueError, match=re.escape(str(statsmodels_error.value))):
        VARBaseline([0], maxlags=2).fit(w.X, w.Y)
    y[:, 1] = 0.0
    w = _windows(y, 4, 1)
    y = y[: len(w.X) + 3]
    model = VARBaseline([0], maxlags=2).fit(w.X, w.Y)
    expected = _statsmodels_var(y, 2)
    _close(model.intercept_, expected.intercept)
    _close(model.coefs_, expected.coefs)
    np.testing.assert_allclose(model.coefs_[:, :, 1], 0, atol=1e-12)  # from the zero input
    np.testing.assert_allclose(model.coefs_[:, 1], 0, atol=1e-12)  # for it


def test_var_forecasts_a_constant_single_series_as_that_constant():
    w = _windows(np.full(200, 1.5), 4, 3)
    model = VARBaseline([0], maxlags=2).fit(w.X, w.Y)
    np.testing.assert_array_equal(model.predict(w.X[:5]), np.full((5, 3, 1), 1.5))


@pytest.mark.parametrize(("horizon", "expected"), [(1, 22.14), (24, 79.23)])
def test_b2_persistence_on_the_real_2014_test_split(beijing_path, horizon, expected):
    from lstmcast.data import chronological_split, load_dataset
    from lstmcast.evaluation import rmse

    table = load_dataset("beijing-pm25", data_dir=beijing_path, fill="ffill")
    split = chronological_split(table.frame.index, train_end="2012-12-31", val_end="2013-12-31")
    test = make_windows(table.frame.to_numpy(), 24, horizon, inputs=[0], targets=[0],
                        rows=split.test, observed=table.observed.to_numpy())  # fmt: skip
    pred = Persistence([0]).fit(test.X, test.Y, test.mask).predict(test.X)
    assert test.mask.sum() == {1: 8_661, 24: 207_312}[horizon]
    assert rmse(test.Y, pred, test.mask) == pytest.approx(expected, abs=0.005)


# ---------------------------------------------------------------- what a fit may spend here
@pytest.mark.parametrize(
    ("model", "what"),
    [
        (RidgeBaseline([0]), r"its 14 x 14 Gram matrix \(lookback 7 x 2 features\)"),
        (VARBaseline([0]), r"2 inputs with an order search over 1\.\.7 lags"),
        (GradientBoostingBaseline([0]), r"3 models on 193 windows x 18 features"),
    ],
)
def test_a_fit_over_the_free_memory_or_the_time_limit_is_refused_before_it_starts(
    monkeypatch, model, what
):
    """Each learning baseline estimates its memory and time from the shapes and refuses, with
    one line naming the size and the fix, a fit that would not fit here (the limits patched
    small rather than allocating gigabytes); within them it fits as before."""
    w = _windows(np.random.default_rng(3).normal(size=(202, 2)).cumsum(axis=0), 7, 3)
    name = type(model).__name__
    monkeypatch.setattr("lstmcast.baselines.budget.available_memory", lambda: 1000)
    fix = (
        r"use fewer --features \(or a --lookback under 24\), or leave it out of --baselines"
        if name == "VARBaseline"
        else "use a shorter --lookback or fewer --features, or leave it out of --baselines"
    )
    with pytest.raises(ConfigError, match=rf"^{name} needs about .* for {what}.*, but "
                       rf"1000 B is free here: {fix}$"):  # fmt: skip
        model.fit(w.X, w.Y)
    monkeypatch.setattr("lstmcast.baselines.budget.available_memory", lambda: None)  # unknown
    monkeypatch.setattr("lstmcast.baselines.budget.TIME_LIMIT_S", 1e-9)
    with pytest.raises(ConfigError, match=rf"^{name} would take about 0 s to fit {what}"):
        model.fit(w.X, w.Y)
    assert not hasattr(model, "horizon_")  # refused before anything was learnt
    monkeypatch.setattr("lstmcast.baselines.budget.TIME_LIMIT_S", 900.0)
    assert model.fit(w.X, w.Y).predict(w.X).shape == w.Y.shape


def test_time_limit_raises_the_limit_inside_its_block_only():
    """budget.time_limit(seconds) is the time a fit inside it may take (the CLI's
    --baseline-minutes): over it the refusal names it and the flag; after the block, the module
    limit again; a limit that is not above 0 is refused."""
    from lstmcast.baselines.budget import check_budget, time_limit

    with time_limit(np.int64(7200)):  # numpy numbers are numbers
        check_budget("gbm", 1, 3600, "24 models", memory=2**30)  # 1 h within 2 h
        with pytest.raises(ConfigError, match=r"^gbm would take about 3.0 h to fit 24 models, "
                           r"over the 2.0 h limit: .*, or allow it more time with "
                           r"--baseline-minutes$"):  # fmt: skip
            check_budget("gbm", 1, 3 * 3600, "24 models", memory=2**30)
    with pytest.raises(ConfigError, match=r"over the 15 min limit"):
        check_budget("gbm", 1, 3600, "24 models", memory=2**30)
    with time_limit(None):  # None: the module's limit
        with pytest.raises(ConfigError, match=r"over the 15 min limit"):
            check_budget("gbm", 1, 3600, "24 models", memory=2**30)
    for bad in (0, -1.0, float("nan"), "600", True):
        with pytest.raises(ConfigError, match=r"^the time limit for a baseline must be above 0 "):
            with time_limit(bad):
                pass


def test_the_budget_estimates_name_the_audited_sizes():
    """The sizes that broke on big tables are refused by their estimates alone: ridge's
    50,400² Gram matrix (lookback 168 x 300 features) needs 19 GiB, gbm at lookback 24 x 30
    inputs with 48 models takes hours, VAR's order search on 300 inputs takes over 15 minutes;
    Beijing's gbm (B2b: 26,000 windows of 24 x 8, 24 models, 224 s) stays within."""
    from lstmcast.baselines.budget import TIME_LIMIT_S

    def cost(model, S, L, F, H, Ft):
        X = np.lib.stride_tricks.as_strided(np.zeros(1), (S, L, F), (0, 0, 0))  # no memory
        Y = np.lib.stride_tricks.as_strided(np.zeros(1), (S, H, Ft), (0, 0, 0))
        return model._cost(X, Y, np.ones((1, 1, 1), dtype=bool))

    need, _, _ = cost(RidgeBaseline([0]), 139_809, 168, 300, 24, 1)
    assert 18.9 * 2**30 < need < 20 * 2**30
    assert cost(GradientBoostingBaseline([0]), 139_809, 24, 30, 24, 2)[1] > 2 * 3600
    assert cost(VARBaseline([0]), 35_000, 168, 300, 24, 1)[1] > TIME_LIMIT_S
    assert 100 < cost(GradientBoostingBaseline([0]), 26_233, 24, 8, 24, 1)[1] < TIME_LIMIT_S
    assert cost(VARBaseline([0]), 26_233, 24, 8, 24, 1)[1] < 10


def test_gbm_features_are_the_flattened_window_and_changes_and_fits_say_each_model():
    """The features written in place equal the concatenation they replace (the numbers do not
    change), and fit(status=...) hears each model with its count."""
    w = _windows(_threshold_process(400, 4), 4, 2, targets=(0, 1))
    X = w.X
    for L in (4, 2, 1):  # both lags, the 1-step change alone, none
        parts = [X[:, :L].reshape(len(X), -1)]
        parts += [X[:, L - 1] - X[:, L - 1 - lag] for lag in (1, 3) if L > lag]
        np.testing.assert_array_equal(
            GradientBoostingBaseline.features(X[:, :L]), np.concatenate(parts, axis=1)
        )
    heard = []
    GradientBoostingBaseline([0, 1], max_iter=5).fit(w.X, w.Y, status=heard.append)
    assert heard == ["model 1 of 4", "model 2 of 4", "model 3 of 4", "model 4 of 4"]


def test_ridge_targets_in_chunks_give_the_same_forecasts_as_all_at_once(monkeypatch):
    """Ridge sums its targets a chunk of windows at a time too (many targets x a long horizon
    no longer copy every window's targets): the same forecasts to rounding, whatever the chunk."""
    x = np.random.default_rng(5).normal(size=(300, 3)).cumsum(axis=0)
    w = _windows(x, 2, 6, targets=(0, 1, 2))  # 18 targets a window, 6 inputs
    mask = w.mask.copy()
    mask[::5, 2, 1] = False
    whole = RidgeBaseline([0, 1, 2]).fit(w.X, w.Y, mask).predict(w.X)
    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 18 * 7)  # 7 windows a chunk
    np.testing.assert_allclose(RidgeBaseline([0, 1, 2]).fit(w.X, w.Y, mask).predict(w.X), whole,
                               rtol=1e-10, atol=1e-10)  # fmt: skip


def test_the_scoreboard_leaves_a_baseline_over_budget_out_with_a_warning_and_names_each(
    monkeypatch,
):
    """A learning baseline whose fit would not fit here is left out with a one-line warning
    naming the size and the fix; the others are scored, and ``status`` hears each baseline as
    it starts (and each model gbm fits)."""
    from lstmcast.evaluation.scoreboard import score_baselines

    x = np.random.default_rng(6).normal(size=(400, 2)).cumsum(axis=0)
    train, truth = _windows(x[:300], 4, 1), _windows(x[300:], 4, 1)
    need = RidgeBaseline([0])._cost(train.X, train.Y, train.mask)[0]
    monkeypatch.setattr("lstmcast.baselines.budget.available_memory", lambda: need)  # 80% fits
    heard = []
    with pytest.warns(UserWarning) as caught:
        rows, forecasts = score_baselines(
            ("ridge", "gbm"), truth, train, inputs=["a", "b"], targets=["a"], columns=["a", "b"],
            inputs_label="multivariate", units={}, freq=None, lookback=4, table_name="t.csv",
            split_ends=None, status=heard.append,
        )  # fmt: skip
    assert [r["name"] for r in rows] == ["persistence", "gbm"] and "ridge" not in forecasts
    (warning,) = [str(w.message) for w in caught]
    assert re.fullmatch(
        r"the ridge baseline is left out: RidgeBaseline needs about \S+ KiB for its 8 x 8 Gram "
        r"matrix \(lookback 4 x 2 features\) over 296 windows, but \S+ KiB is free here: use a "
        r"shorter --lookback or fewer --features, or leave it out of --baselines",
        warning,
    ), warning
    assert heard == [
        "scoring persistence (1 of 3)...",
        "scoring ridge (2 of 3)...",
        "scoring gbm (3 of 3)...",
        "scoring gbm (3 of 3): model 1 of 1...",
    ]
