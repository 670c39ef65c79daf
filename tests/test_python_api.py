"""The Forecaster as a notebook uses it: scikit-learn manners, and tables straight from memory
(index kinds, column labels, dtypes), each read as its plain equivalent or refused in one line."""

import numpy as np
import pandas as pd
import pytest
import sklearn.base
import torch

import lstmcast
from lstmcast.errors import ConfigError, DataError, FitInterruptedWarning, NotFittedError
from lstmcast.forecaster import ForecastConfig, Forecaster


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "time": pd.date_range("2021-01-01", periods=n, freq="h"),
            "y": 10 + 3 * np.sin(np.arange(n) / 5) + rng.normal(0, 0.3, n),
            "x": rng.normal(0, 1, n).cumsum(),
        }
    )


def _config(**kw):
    base = dict(target=["y"], time_col="time", units=[4], epochs=2, lookback=6, progress=False)
    return ForecastConfig(**{**base, **kw})


def _forecast(frame, **kw) -> np.ndarray:
    return Forecaster(_config(**kw)).fit(frame).predict().to_numpy()


def test_clone_get_params_set_params_and_repr():
    fc = Forecaster(_config()).fit(_frame())
    twin = sklearn.base.clone(fc)
    assert twin.config == fc.config and not hasattr(twin, "network_")  # unfitted, same settings
    np.testing.assert_array_equal(twin.fit(_frame()).predict(), fc.predict())  # same seed
    assert Forecaster().set_params(units=[3], epochs=1).config == ForecastConfig(
        units=[3], epochs=1
    )
    assert repr(Forecaster(ForecastConfig(units=[3], epochs=1))) == (
        "Forecaster(ForecastConfig(units=[3], epochs=1))"
    )
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['unitz'\]: give ForecastConfig "
                       r"fields \(data, time_col, "):  # fmt: skip
        Forecaster().set_params(unitz=[3])


def test_set_params_switches_presets_and_takes_config_none_as_the_defaults(tmp_path):
    """set_params(preset=...) always clashed with the default units it never gave; and
    set_params(config=None, epochs=5) raised AttributeError after resetting the settings
    under a fitted network, which save() then wrote as a folder load() refused."""
    stacked = Forecaster().set_params(preset="stacked").config
    assert stacked == ForecastConfig(preset="stacked")
    assert stacked.replace(preset="simple") == ForecastConfig(preset="simple")
    assert stacked.replace(preset=None) == ForecastConfig(
        units=[64, 32], activation="relu", dropout=0.2
    )  # the network stays: tune's trials start from a preset's activation and direction
    bidirectional = ForecastConfig(preset="bidirectional")
    assert bidirectional.replace(preset=None, units=[4]).bidirectional is True
    assert ForecastConfig(units=[8]).replace(preset="simple", units=None).units == [50]
    with pytest.raises(ConfigError, match=r"preset 'simple' sets the network .* so --units "):
        ForecastConfig(units=[8]).replace(preset="simple")  # one's own setting still clashes
    with pytest.raises(ConfigError, match=r"preset 'simple' sets .* so --dropout "):
        ForecastConfig(preset="stacked").replace(preset="simple", dropout=0.5)

    fc = Forecaster(_config()).fit(_frame())
    before = fc.predict().to_numpy()
    with pytest.raises(ConfigError, match=r"Forecaster takes a ForecastConfig, got a dict: "):
        fc.set_params(config={"epochs": 5})
    np.testing.assert_array_equal(fc.predict().to_numpy(), before)  # changed nothing
    with pytest.warns(UserWarning, match=r"set_params makes this Forecaster forget its fit"):
        fc.set_params(config=None, epochs=5)
    assert fc.config == ForecastConfig(epochs=5) and not hasattr(fc, "network_")


def test_evaluate_scores_the_training_mean_as_a_univariate_baseline():
    frame = _frame()
    fc = Forecaster(_config()).fit(frame)
    rows = {r["name"]: r for r in fc.evaluate(baselines=("mean",))["results"]}
    assert list(rows) == ["lstm", "persistence", "mean"] and rows["mean"]["inputs"] == "univariate"
    train_rows = frame["y"].to_numpy()[fc.split_.train]
    # the windows' targets are the training rows after the first lookback ones (horizon 1)
    level = train_rows[fc.config.lookback :].mean()
    forecast = fc.last_forecasts_["mean"]
    np.testing.assert_allclose(forecast, level, rtol=1e-6)
    truth = fc.last_truth_.Y
    rmse = np.sqrt(np.mean((truth - level) ** 2))
    np.testing.assert_allclose(rows["mean"]["rmse"], rmse, rtol=1e-6)
    assert rows["mean"]["n_scored"] == rows["persistence"]["n_scored"]


def test_a_new_fit_forgets_the_last_evaluate():
    fc = Forecaster(_config()).fit(_frame())
    fc.evaluate(baselines=("persistence",))
    fc.fit(_frame(seed=1))
    with pytest.raises(NotFittedError, match=r"scores the windows of evaluate\(\): call it first"):
        fc.score_forecasts("other", "univariate", np.zeros((3, 1, 1)))


def test_in_memory_tables_read_as_their_plain_equivalent():
    frame = _frame()
    plain = _forecast(frame)
    # labels pd.DataFrame(array) gives: 0, 1, ... are read as the text '0', '1'
    numbered = frame.rename(columns={"y": 0, "x": 1})
    np.testing.assert_array_equal(_forecast(numbered, target=["0"]), plain)
    # a text time index, as read_csv(index_col="time") leaves it, is the time column
    np.testing.assert_array_equal(_forecast(frame.astype({"time": str}).set_index("time")), plain)
    # a datetime column that is not the time is left out when the inputs leave it out
    stamped = frame.assign(stamp=frame["time"] + pd.Timedelta("30min"))
    np.testing.assert_array_equal(_forecast(stamped, features=["y", "x"]), plain)
    # monthly periods are read as their starts, as a DatetimeIndex at 'MS'
    months = frame.set_index(pd.period_range("2000-01", periods=len(frame), freq="M"))
    starts = months.set_axis(months.index.to_timestamp())
    fc = Forecaster(_config(time_col=None)).fit(months.drop(columns="time"))
    assert fc.freq_ == "MS"
    np.testing.assert_array_equal(
        fc.predict().to_numpy(), _forecast(starts.drop(columns="time"), time_col=None)
    )


def _duplicated():
    frame = _frame().assign(z=0.0)
    frame.columns = ["time", "y", "x", "x"]
    return frame


def _layered():
    frame = _frame().set_index("time")
    frame.columns = pd.MultiIndex.from_tuples([("a", "y"), ("a", "x")])
    return frame


@pytest.mark.parametrize(
    "data, config, error, message",
    [
        (lambda: _frame().assign(stamp=_frame()["time"]), {}, DataError,
         "DataFrame: column 'stamp' holds timestamps, not measurements (only the time column may "
         "hold times); no network can read it: name the inputs with --features (usable: y x)"),
        (lambda: _frame().assign(lag=pd.to_timedelta(np.arange(200), unit="min")), {}, DataError,
         "DataFrame: column 'lag' holds durations, not measurements (only the time column may "
         "hold times); no network can read it: name the inputs with --features (usable: y x)"),
        (lambda: _frame().set_index("time")["y"], {}, DataError,
         "data must be a DataFrame, the path of a CSV or Parquet file, or a dataset name; got "
         "Series: make it a table first, series.to_frame()"),
        (lambda: _frame()[["y", "x"]].to_numpy(), {"time_col": None}, DataError,
         "data must be a DataFrame, the path of a CSV or Parquet file, or a dataset name; got "
         "ndarray: make it a table first, pd.DataFrame(array, columns=[...], index=timestamps)"),
        (_duplicated, {}, DataError,
         "DataFrame: column name(s) ['x'] appear more than once; rename or drop the repeats so "
         "that each column has its own name"),
        (_layered, {"time_col": None}, DataError,
         "DataFrame: its column labels have 2 levels (a MultiIndex); flatten them first, e.g. "
         "df.columns = ['_'.join(map(str, c)) for c in df.columns]"),
        (lambda: _frame().rename(columns={"y": 0}), {"target": [0]}, ConfigError,
         "target must be column names, got [0]: give them as text, e.g. target=['0']"),
    ],
)  # fmt: skip
def test_tables_that_cannot_be_read_say_what_to_do(data, config, error, message):
    with pytest.raises(error) as err:
        Forecaster(_config(**config)).fit(data())
    assert str(err.value) == message


def test_misuse_of_the_estimator_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError) as err:
        Forecaster({"units": [8]})
    assert str(err.value) == (
        "Forecaster takes a ForecastConfig, got a dict: wrap the settings, "
        "Forecaster(ForecastConfig(**settings))"
    )
    fc = Forecaster(_config()).fit(_frame())
    fc.save(tmp_path / "m")
    with pytest.raises(DataError) as err:
        lstmcast.load(tmp_path / "m").fit()  # its files do not hold the in-memory table
    assert str(err.value) == (
        "this Forecaster was fitted on an in-memory table, which it does not keep for a new "
        "fit: pass the table, fit(frame)"
    )
    for shape, hint in (((3, 10, 2), ""), ((6, 2), ": one window is X[None]")):
        with pytest.raises(DataError) as err:
            fc.predict_windows(np.zeros(shape))
        assert str(err.value) == (
            "predict_windows needs windows of shape (S, 6, 2) (windows, lookback, inputs "
            f"['y', 'x']), got {shape}{hint}"
        )


# ------------------------------------------------------- a fit is all or nothing
def test_set_params_on_a_fitted_forecaster_forgets_the_fit():
    """set_params(lookback=16) used to keep the network trained on 8 steps and forecast with
    it silently; units or horizon changes then saved an unloadable model or crashed."""
    fc = Forecaster(_config()).fit(_frame())
    with pytest.raises(ConfigError, match="units must be positive integers"):
        fc.set_params(units=[0])  # a bad setting changes nothing
    assert fc.predict().shape == (1, 1)
    with pytest.warns(UserWarning, match=r"set_params makes this Forecaster forget its fit .*"
                      r"call fit\(\) again"):  # fmt: skip
        fc.set_params(lookback=12)
    assert fc.config.lookback == 12 and not hasattr(fc, "scaler_")
    with pytest.raises(NotFittedError, match=r"not fitted yet: call fit\(\) first"):
        fc.predict(_frame())
    assert fc.fit(_frame()).predict().shape == (1, 1)


def test_a_failed_refit_leaves_the_earlier_fit_as_it_was(tmp_path):
    """A refit on a table without the target raised, but left config.data naming the new
    table beside the old scaler and network; a diverging refit left untrained weights that
    save() then wrote with the old fit's history."""
    frame = _frame()
    fc = Forecaster(_config()).fit(frame)
    before, state = fc.predict().to_numpy(), dict(fc.__dict__)
    with pytest.raises(DataError, match="target column 'y' not found"):
        fc.fit(frame.rename(columns={"y": "z"}))
    assert fc.__dict__ == state
    np.testing.assert_array_equal(fc.predict().to_numpy(), before)

    diverging = Forecaster(_config(optimizer="sgd", learning_rate=1e30, clip_norm=None))
    with pytest.raises(FloatingPointError, match="training diverged at epoch 1"):
        diverging.fit(frame)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        diverging.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_an_interrupted_fit_is_not_saved(monkeypatch, tmp_path):
    """Ctrl-C in the 2nd network of an ensemble of 3 left 2 networks; save() wrote them under
    a manifest for 3, which load() then called a damaged directory."""
    import lstmcast.forecaster as forecaster

    real, calls = forecaster.train_network, []

    def ctrl_c_in_the_second(model, *args, **kwargs):
        calls.append(model)
        if len(calls) == 2:
            model.forward = lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(forecaster, "train_network", ctrl_c_in_the_second)
    with pytest.warns(FitInterruptedWarning) as caught:  # the script goes on: it is told
        fc = Forecaster(_config(ensemble=3, epochs=4)).fit(_frame())
    assert fc.history_.interrupted
    assert [str(w.message) for w in caught] == [
        "fit was interrupted after epoch 0 of 4 of network 2 of 3: the forecaster holds the "
        "best weights so far (history_.interrupted is True) and save() refuses it; fit() "
        "again to finish"
    ]
    assert caught[0].filename == __file__  # the caller's line
    with pytest.raises(NotFittedError) as err:
        fc.save(tmp_path / "m")
    assert str(err.value) == (
        "this fit was interrupted after epoch 0 of network 2 of 3, so it is not saved: "
        "finish it first, fit()"
    )
    assert not (tmp_path / "m").exists()


def test_predict_windows_refuses_holes_like_evaluate_does():
    fc = Forecaster(_config(features=["y", "x"])).fit(_frame())
    X = np.zeros((3, 6, 2))
    X[2, 4, 1] = np.nan
    with pytest.raises(DataError) as err:
        fc.predict_windows(X)
    assert str(err.value) == (
        "predict_windows: X holds missing or infinite values (first in window 2, input 'x'): "
        "fill them first; windows are used as given, only tables get the fill"
    )
    from lstmcast.data import make_windows

    values = np.zeros((20, 2))
    values[9, 0] = np.inf  # a sliding view over rows: the first window that reads row 9 is 4
    view = make_windows(values, 6, 1, inputs=[0, 1], targets=[0]).X
    with pytest.raises(DataError, match=r"first in window 4, input 'y'"):
        fc.predict_windows(view)


def test_inputs_beyond_float32_and_overflowing_forecasts_are_refused():
    """x = 1e308 entered the float32 network as inf and gave a forecast with exit 0; a forecast
    that overflows (inputs far out of range, or damaged scaler statistics) was written blank."""
    frame = _frame()
    fc = Forecaster(_config(features=["y", "x"])).fit(frame)
    X = np.tile(frame[["y", "x"]].to_numpy()[-6:], (2, 1, 1))
    np.testing.assert_allclose(fc.predict_windows(X)[0], fc.predict(frame).to_numpy())
    X[1, 3, 1] = 1e308
    with pytest.raises(DataError) as err:
        fc.predict_windows(X)
    assert str(err.value) == (
        "input 'x' holds values too large for the network once scaled (float32 holds up to "
        "3.4e+38): check that column's values and units"
    )
    late = frame.copy()
    late.loc[late.index[-1], "x"] = 1e308
    with pytest.raises(DataError, match="input 'x' holds values too large"):
        fc.predict(late)
    real = fc.network_

    class Overflowing(torch.nn.Module):  # a network whose weights were damaged
        def forward(self, batch):
            return torch.full((len(batch), 1), float("inf"))

    fc.network_ = Overflowing()
    with pytest.raises(DataError, match=r"the forecasts overflow \(not finite numbers\)"):
        fc.predict_windows(X[:1])
    fc.network_ = real
    fc.scaler_.feature_range = [0.0, 1e-320]  # damaged statistics: the scale overflows
    with np.errstate(all="ignore"), pytest.raises(DataError) as err:
        fc.predict_windows(X[:1])
    assert str(err.value) == (
        "the model's scaler turns input 'y' into NaN: its statistics are damaged; retrain and "
        "save the model again"
    )


def test_a_target_that_arrives_as_text_is_named_when_scoring():
    """A target that is no input, arriving as text in evaluate's table, was said to be missing
    ("lacks the target column(s) ['y']"), though the table holds it."""
    frame = _frame()
    fc = Forecaster(_config(features=["x"])).fit(frame)
    texty = frame.assign(y=np.where(frame.y > 10, "hi", "lo"))
    with pytest.raises(DataError) as err:
        fc.evaluate(texty)
    assert str(err.value) == (
        "DataFrame: column 'y' holds the text 'hi' at data row 1, but the model was trained on "
        "it as numbers: pass rows in which it holds numbers"
    )


def test_warnings_name_the_callers_line_not_the_librarys(tmp_path):
    """However deep inside lstmcast a warning starts (a gap found while reading, a constant
    column found while fitting, a baseline left out while scoring), it names this file."""
    frame = _frame(300).drop(index=[40])  # a missing hour
    frame["flat"] = 1.0
    path = tmp_path / "gappy.csv"
    frame.to_csv(path, index=False)
    fc = Forecaster(_config(data=str(path)))
    with pytest.warns(UserWarning) as caught:
        fc.read(path)
        fc.fit()
        fc.evaluate(split="test", baselines=("persistence", "var"))
    places = {str(w.message): (w.filename, w.lineno) for w in caught}
    assert any("1 timestamps missing" in m for m in places), places
    assert any("feature column 'flat' is constant" in m for m in places), places
    assert any("the var baseline" in m for m in places), places
    assert {f for f, _ in places.values()} == {__file__}, places


def test_fit_puts_back_the_callers_flush_denormal_setting():
    from lstmcast.train import flush_denormal_on

    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormal floats")
    try:
        for setting in (True, False):
            torch.set_flush_denormal(setting)
            Forecaster(_config(epochs=1)).fit(_frame(n=60))
            assert flush_denormal_on() is setting
    finally:
        torch.set_flush_denormal(False)
