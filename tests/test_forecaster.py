"""The Forecaster: fit, predict, evaluate against baselines on the same rows, save and load."""

import re

import numpy as np
import pandas as pd
import pytest

import lstmcast
from lstmcast.errors import ConfigError, DataError, NotFittedError
from lstmcast.forecaster import ForecastConfig, Forecaster


def _config(path, **kw):
    base = dict(
        data=str(path),
        time_col="time",
        target=["load"],
        units=[8],
        epochs=3,
        batch_size=32,
        lookback=12,
        horizon=1,
        progress=False,
    )
    base.update(kw)
    return ForecastConfig(**base)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from conftest import make_synthetic_frame

    path = tmp_path_factory.mktemp("fc") / "synthetic.csv"
    make_synthetic_frame().to_csv(path, index=False)
    return path, Forecaster(_config(path, horizon=3, epochs=4)).fit()


def test_persistence_row_is_the_last_observed_value_scored_on_observed_targets_only(fitted):
    path, fc = fitted
    # by default the baselines lstmcast evaluate scores; seasonal naive (24 h) cannot run on a
    # 12-hour window and is left out with a warning that says why
    with pytest.warns(UserWarning, match=r"the seasonal_naive baseline is left out: its season "
                      r"\(24 steps at 'h'\) is longer than the lookback \(12\): train with "
                      r"--lookback 24 or more to score it"):  # fmt: skip
        result = fc.evaluate()
    assert result["dataset"] == str(path) and result["split"] == "test"
    assert result["horizon"] == 3
    rows = {r["name"]: r for r in result["results"]}
    assert set(rows) == {"lstm", "persistence", "ridge", "var"}
    # recompute persistence by hand on the test split: 600 rows, 70/15/15 -> test rows 510..599
    raw = pd.read_csv(path)["load"].to_numpy()
    filled = pd.Series(raw).ffill().bfill().to_numpy()  # the default, causal fill
    errors = []
    for t0 in range(510, 600 - 3 + 1):
        for h in range(3):
            if not np.isnan(raw[t0 + h]):
                errors.append(raw[t0 + h] - filled[t0 - 1])
    errors = np.array(errors)
    assert rows["persistence"]["n_scored"] == len(errors) == rows["lstm"]["n_scored"]
    assert rows["persistence"]["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)), rel=1e-12)
    assert rows["persistence"]["mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-12)
    assert len(rows["lstm"]["rmse_per_step"]) == 3


def test_a_csv_whose_target_is_another_columns_last_value_is_learnt(tmp_path):
    """y_t = 5 x_(t-1): the multivariate LSTM must read x where x is. A CSV's values come out
    column-major, and the training copy once laid them out row-major, so the network read a
    scramble of y and scored like persistence (7.5 against 7.5); read right, it scores 0.4."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    y = np.r_[0, 5 * x[:-1]] + 0.1 * rng.normal(size=600)
    time = pd.date_range("2022-01-01", periods=600, freq="h")
    pd.DataFrame({"time": time, "y": y, "x": x}).to_csv(tmp_path / "lag.csv", index=False)
    fc = Forecaster(_config(tmp_path / "lag.csv", target=["y"], lookback=4, epochs=15,
                            learning_rate=0.01)).fit()  # fmt: skip
    lstm, persistence = fc.evaluate(split="val", baselines=("persistence",))["results"]
    assert persistence["rmse"] > 7 and lstm["rmse"] < 0.1 * persistence["rmse"]


def test_a_saved_model_records_the_weight_decay_it_trained_with(synthetic_csv, tmp_path):
    """An unset weight decay was written as null, which lstmcast before it was optional calls
    a damaged file; it is written as the number it was: adamw's 0.01."""
    import json

    fc = Forecaster(_config(synthetic_csv, optimizer="adamw", epochs=1, units=[4])).fit()
    assert fc.config.weight_decay is None and fc.config.resolved_weight_decay() == 0.01
    fc.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "manifest.json").read_text())["config"]
    assert config["weight_decay"] == 0.01
    assert lstmcast.load(tmp_path / "m").config.weight_decay == 0.01


def test_predict_gives_the_next_horizon_timestamps_in_data_units(fitted):
    _, fc = fitted
    forecast = fc.predict()
    last = fc.table_.frame.index[-1]
    assert list(forecast.index) == list(pd.date_range(last, periods=4, freq="h")[1:])
    assert list(forecast.columns) == ["load"]
    assert 5 < forecast["load"].mean() < 15  # data units (load is about 10 +- 2), not scaled


def test_forecasts_are_stamped_in_the_zone_of_the_history(fitted, tmp_path):
    """A history with offsets is indexed in UTC: the forecast times come back in its zone (a
    tz-aware index's zone, the one offset of a CSV, else UTC), the same instants and numbers
    as from the naive UTC history; a naive history gets naive times."""
    path, fc = fitted
    recent = pd.read_csv(path, parse_dates=["time"]).iloc[-100:].set_index("time")
    naive = fc.predict(recent)
    berlin = recent.tz_localize("UTC").tz_convert("Europe/Berlin")
    kolkata = recent.tz_localize("UTC").tz_convert("Asia/Kolkata")
    kolkata.reset_index().assign(time=lambda d: d["time"].map(pd.Timestamp.isoformat)).to_csv(
        tmp_path / "kolkata.csv", index=False
    )
    assert naive.index.tz is None
    for history, zone in ((berlin, "Europe/Berlin"), (tmp_path / "kolkata.csv", "UTC+05:30")):
        forecast = fc.predict(history)
        assert str(forecast.index.tz) == zone
        assert list(forecast.index.tz_convert("UTC").tz_localize(None)) == list(naive.index)
        pd.testing.assert_frame_equal(forecast.set_axis(naive.index), naive, check_exact=True)
    assert fc.predict(tmp_path / "kolkata.csv").index[0].isoformat().endswith("+05:30")


def test_a_saved_model_predicts_the_same_numbers(fitted, tmp_path):
    path, fc = fitted
    fc.save(tmp_path / "model")
    loaded = lstmcast.load(tmp_path / "model")
    recent = pd.read_csv(path).iloc[-100:]
    recent.to_csv(tmp_path / "recent.csv", index=False)
    before = fc.predict(recent)
    after = loaded.predict(str(tmp_path / "recent.csv"))
    pd.testing.assert_frame_equal(before, after, check_exact=True, check_freq=False)
    assert loaded.evaluate()["results"][0]["rmse"] == fc.evaluate()["results"][0]["rmse"]
    for method in ("predict", "gate_traces"):  # gate_traces() was an AttributeError traceback
        with pytest.raises(ConfigError, match=rf"^a loaded model keeps no data: pass the recent "
                           rf"history, e\.g\. {method}\('latest\.csv'\)$"):  # fmt: skip
            getattr(loaded, method)()


def test_several_targets_at_once(synthetic_csv):
    fc = Forecaster(_config(synthetic_csv, target=["load", "temp"], horizon=2, epochs=1)).fit()
    forecast = fc.predict()
    assert forecast.shape == (2, 2) and list(forecast.columns) == ["load", "temp"]
    assert fc.evaluate()["results"][0]["n_scored"] > 0


def test_several_targets_are_also_scored_one_by_one(synthetic_csv):
    from lstmcast.evaluation import metrics

    fc = Forecaster(_config(synthetic_csv, target=["load", "temp"], horizon=2, epochs=1)).fit()
    result = fc.evaluate()
    truth = fc.last_truth_
    for row in result["results"]:
        pred = fc.last_forecasts_[row["name"]]
        per = {t["target"]: t for t in row["per_target"]}
        assert list(per) == ["load", "temp"]
        for k, column in enumerate(["load", "temp"]):
            mask = None if truth.mask is None else truth.mask[..., k]
            want = metrics.rmse(truth.Y[..., k], pred[..., k], mask)
            assert per[column]["rmse"] == pytest.approx(want, rel=1e-12)
            assert per[column]["mae"] == pytest.approx(
                metrics.mae(truth.Y[..., k], pred[..., k], mask), rel=1e-12
            )
            for h in range(2):  # each horizon step, for the report's error-by-step panels
                step = None if mask is None else mask[:, h]
                want = metrics.rmse(truth.Y[:, h, k], pred[:, h, k], step)
                assert per[column]["rmse_per_step"][h] == pytest.approx(want, rel=1e-12)
            assert "unit" in per[column] and per[column]["unit"] is None  # a file: no units known
        n = [t["n_scored"] for t in row["per_target"]]
        assert sum(n) == row["n_scored"]
        # the pooled RMSE is the root of the count-weighted mean of the squared per-target ones
        squares = [c * t["rmse"] ** 2 for c, t in zip(n, row["per_target"], strict=True)]
        pooled = np.sqrt(sum(squares) / sum(n))
        assert row["rmse"] == pytest.approx(pooled, rel=1e-9)
    single = Forecaster(_config(synthetic_csv, epochs=1)).fit().evaluate()
    assert "per_target" not in single["results"][0]  # one target: the pooled row is the row


def test_registered_datasets_give_each_target_its_unit():
    def units(targets):
        cfg = ForecastConfig(data="us-macro", target=targets, units=[4], epochs=1, lookback=4,
                             progress=False)  # fmt: skip
        return Forecaster(cfg).fit().evaluate(baselines=("persistence",))

    mixed = units(["realgdp", "unemp"])
    assert mixed["unit"] is None  # the pooled numbers mix dollars and percent
    for row in mixed["results"]:
        assert [(t["target"], t["unit"]) for t in row["per_target"]] == [
            ("realgdp", "bn chained 2005 US$"),
            ("unemp", "%"),
        ]
    assert units(["realgdp", "realcons"])["unit"] == "bn chained 2005 US$"
    single = units(["unemp"])
    assert single["unit"] == "%" and "per_target" not in single["results"][0]


def test_univariate_uses_only_the_target(synthetic_csv):
    fc = Forecaster(_config(synthetic_csv, features=["load"], epochs=1)).fit()
    assert fc.inputs_ == ["load"] and fc.network_.config.n_features == 1
    assert fc.evaluate()["results"][0]["inputs"] == "univariate"


def test_baselines_that_learn_read_only_the_lstms_inputs(synthetic_csv):
    """--features temp leaves the target load out: ridge forecasts load from temp's window alone,
    as the LSTM does; VAR, which forecasts from the target's own past, is left out."""
    from sklearn.linear_model import Ridge

    fc = Forecaster(_config(synthetic_csv, features=["temp"], epochs=1)).fit()
    with pytest.warns(UserWarning, match=r"the var baseline is left out: it forecasts each "
                      r"target from its own past, which --features leaves out of the inputs; add "
                      r"the target to --features to score it"):  # fmt: skip
        result = fc.evaluate(baselines=("persistence", "ridge", "var"))
    rows = {r["name"]: r for r in result["results"]}
    assert set(rows) == {"lstm", "persistence", "ridge"}
    assert rows["ridge"]["inputs"] == "multivariate"
    assert rows["persistence"]["inputs"] == "univariate"
    # by hand: 600 rows split 70/15/15, lookback 12; train targets at rows 12..419, test 510..599
    frame = pd.read_csv(synthetic_csv)
    temp, load = frame["temp"].to_numpy(), frame["load"].to_numpy()

    def windows(first, last):
        t0 = np.array([t for t in range(first, last + 1) if not np.isnan(load[t])])
        return np.stack([temp[t - 12 : t] for t in t0]), load[t0]

    (X, y), (X_test, y_test) = windows(12, 419), windows(510, 599)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    pred = Ridge(alpha=1.0).fit((X - mean) / scale, y).predict((X_test - mean) / scale)
    assert rows["ridge"]["n_scored"] == len(y_test)
    assert rows["ridge"]["rmse"] == pytest.approx(np.sqrt(np.mean((pred - y_test) ** 2)), rel=1e-9)


def test_a_misspelt_target_names_the_nearest_column(synthetic_csv):
    with pytest.raises(
        DataError, match="target column 'lod' not found in the table: did you mean 'load'"
    ):
        Forecaster(_config(synthetic_csv, target=["lod"])).fit()


def test_predict_before_fit_says_what_to_do():
    with pytest.raises(NotFittedError, match=r"not fitted yet: call fit\(\) first"):
        Forecaster().predict()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("units", [0], r"units must be positive integers, got \[0\]"),
        ("dropout", -0.1, r"dropout must be in \[0, 1\), got -0.1"),
        ("horizon", 0, "horizon must be a positive integer, got 0"),
        ("preset", "deep", "preset must be one of simple, stacked, bidirectional, got 'deep'"),
        ("huber_delta", 0.0, r"huber_delta must be positive, got 0.0: e.g. 0.05 \(scaled units\)"),
    ],
)
def test_nonsense_hyperparameters_are_refused(field, value, message):
    with pytest.raises(ConfigError, match=message):
        ForecastConfig(**{field: value})


def test_huber_delta_reaches_the_training_loss(synthetic_csv, monkeypatch):
    """Session 1 fixed delta at 1.0 in scaled units: with min-max targets, Huber was MSE / 2."""
    import lstmcast.train

    seen = []
    real = lstmcast.train.masked_loss

    def spy(pred, target, mask, loss, delta):
        seen.append((loss, delta))
        return real(pred, target, mask, loss, delta)

    monkeypatch.setattr(lstmcast.train, "masked_loss", spy)
    Forecaster(_config(synthetic_csv, loss="huber", huber_delta=0.05, epochs=1)).fit()
    assert seen and set(seen) == {("huber", 0.05)}


@pytest.mark.parametrize(
    "preset, setting",
    [("simple", {"activation": "tanh"}), ("simple", {"units": [64, 64]}),
     ("bidirectional", {"bidirectional": False}), ("stacked", {"dropout": 0.0})],
)  # fmt: skip
def test_a_preset_refuses_a_setting_given_as_the_default_too(preset, setting):
    """The defaults are None until resolved, so 'given as the default' differs from 'not given':
    neither ForecastConfig(...) nor replace(...) lets the preset overrule it silently."""
    key = next(iter(setting))
    message = rf"preset '{preset}' sets the network .*, so --{key} cannot be given beside it"
    with pytest.raises(ConfigError, match=message):
        ForecastConfig(preset=preset, **setting)
    with pytest.raises(ConfigError, match=message):
        ForecastConfig(preset=preset).replace(**setting)
    assert ForecastConfig(preset=preset).replace(seed=1).preset == preset  # other settings vary


def test_presets_set_the_classic_shapes():
    cfg = ForecastConfig(preset="stacked")
    assert (cfg.units, cfg.activation, cfg.dropout) == ([64, 32], "relu", 0.2)


def test_gate_traces_follow_the_trained_network(fitted, tmp_path):
    import torch

    from lstmcast.reference import format_gate_trace
    from lstmcast.report.gates import plot_gate_traces

    _, fc = fitted
    gates = fc.gate_traces()
    assert list(gates) == ["l0"] and gates["l0"].h.shape == (1, 12, 8)
    n_in = len(fc.inputs_)
    window = fc.table_.frame[fc.inputs_].to_numpy()[-12:]
    x = torch.tensor(fc.scaler_.transform(window, columns=range(n_in))[None], dtype=torch.float32)
    with torch.no_grad():
        out, _ = fc.network_.lstm(x)
    np.testing.assert_allclose(gates["l0"].h[0], out[0].numpy(), atol=1e-5)
    assert ((gates["l0"].f > 0) & (gates["l0"].f < 1)).all()
    assert "f[0]" in format_gate_trace(gates["l0"], units=[0])
    assert plot_gate_traces(gates["l0"], tmp_path / "g.png").stat().st_size > 1000


def test_an_ensemble_averages_members_trained_from_successive_seeds(synthetic_csv, tmp_path):
    import torch

    single = Forecaster(_config(synthetic_csv, epochs=2)).fit()
    pair = Forecaster(_config(synthetic_csv, epochs=2, ensemble=2)).fit()
    first, second = pair.network_.members
    for a, b in zip(single.network_.parameters(), first.parameters(), strict=True):
        assert torch.equal(a, b)  # member 0 is the single network of the same seed
    assert not torch.equal(first.head.weight, second.head.weight)
    x = torch.randn(5, 12, len(pair.inputs_))
    with torch.no_grad():
        torch.testing.assert_close(pair.network_(x), (first(x) + second(x)) / 2)
    pair.save(tmp_path / "pair")
    loaded = lstmcast.load(tmp_path / "pair")
    pd.testing.assert_frame_equal(loaded.predict(str(synthetic_csv)), pair.predict())
    assert len(pair.member_histories_) == 2


def test_an_ensemble_resumes_each_member_from_its_checkpoint(synthetic_csv, tmp_path):
    import torch

    whole = Forecaster(_config(synthetic_csv, epochs=3, ensemble=2, patience=None)).fit()
    ckpt = tmp_path / "ckpt"
    Forecaster(_config(synthetic_csv, epochs=2, ensemble=2, patience=None)).fit(checkpoint_dir=ckpt)
    assert sorted(p.name for p in ckpt.iterdir()) == ["member0", "member1"]
    resumed = Forecaster(_config(synthetic_csv, epochs=3, ensemble=2, patience=None)).fit(
        checkpoint_dir=ckpt, resume=True
    )
    for a, b in zip(whole.network_.parameters(), resumed.network_.parameters(), strict=True):
        assert torch.equal(a, b)
    # the fit time counts the epochs before the stop too, not only the resumed third ones
    epochs = [h.epoch_seconds for h in resumed.member_histories_]
    assert [len(e) for e in epochs] == [3, 3]
    assert resumed.fit_seconds_ == pytest.approx(sum(map(sum, epochs)))


def test_target_all_forecasts_every_numeric_variable(synthetic_csv):
    fc = Forecaster(_config(synthetic_csv, target=["all"], epochs=1)).fit()
    assert fc.targets_ == ["load", "temp"] and fc.inputs_ == ["load", "temp", "wind"]
    assert list(fc.predict().columns) == ["load", "temp"]  # wind's codes are read, not forecast


def test_the_recorded_data_source_is_absolute_for_files_and_kept_for_names(tmp_path, monkeypatch):
    from lstmcast.data.sources import source_of

    monkeypatch.chdir(tmp_path)
    (tmp_path / "table.csv").write_text("time,x\n")
    (tmp_path / "beijing-pm25").write_text("")  # a file that shadows a dataset name
    assert source_of("table.csv") == str(tmp_path / "table.csv")
    assert source_of(tmp_path / "table.csv") == str(tmp_path / "table.csv")
    assert source_of("beijing-pm25") == "beijing-pm25"  # load_dataset reads the name first
    assert source_of("missing.csv") == "missing.csv"
    assert source_of(pd.DataFrame()) is None


def test_compare_keeps_a_forecast_stretch_for_each_target(synthetic_csv):
    from lstmcast.compare import compare

    cfg = _config(synthetic_csv, target=["load", "temp"], horizon=2, epochs=1)
    result = compare(cfg, baselines=("persistence",))
    stretch = result["stretch"]
    assert [s["target"] for s in stretch["targets"]] == ["load", "temp"]
    frame = pd.read_csv(synthetic_csv, parse_dates=["time"]).set_index("time")
    when = pd.to_datetime(stretch["time"])
    for entry in stretch["targets"]:
        actual = np.array([np.nan if v is None else v for v in entry["actual"]])
        np.testing.assert_allclose(actual, frame.loc[when, entry["target"]].to_numpy())
        # persistence at one step ahead: the value one hour before, forward filled
        previous = frame[entry["target"]].ffill().shift(1).loc[when].to_numpy()
        np.testing.assert_allclose(entry["forecasts"]["persistence"], previous)
    assert stretch["actual"] == stretch["targets"][0]["actual"]  # the first target, as before
    assert result["unit"] is None


def test_compare_on_a_table_of_the_target_alone_fits_one_univariate_lstm(synthetic_csv, tmp_path):
    from lstmcast.compare import compare
    from lstmcast.report import verdict

    csv = tmp_path / "alone.csv"
    pd.read_csv(synthetic_csv)[["time", "load"]].to_csv(csv, index=False)
    result = compare(_config(csv, features=None, epochs=1), baselines=("persistence", "ridge"))
    rows = {(r["name"], r["inputs"], r["kind"]) for r in result["results"]}
    assert rows == {("lstm-univariate", "univariate", "lstm"),
                    ("ridge", "univariate", "baseline"),
                    ("persistence", "univariate", "baseline")}  # fmt: skip
    assert list(result["history"]) == ["lstm-univariate"]
    assert list(result["inputs"]) == ["univariate"]
    assert "lstm-univariate" in result["stretch"]["forecasts"]
    assert verdict(result).startswith("The univariate LSTM (load alone)")
    assert re.search(
        r"no multivariate LSTM was run to compare against; too few test windows \(\d+ < 625\) "
        r"to test whether chance could give the gap\.$",
        verdict(result),
    )


@pytest.mark.parametrize(
    "columns",
    [["time", "load", "temp"], ["time", "load", "temp", "wind"]],
    ids=["every column a target", "and one more input"],
)
def test_compare_with_several_targets_fits_one_univariate_lstm_per_target(
    synthetic_csv, tmp_path, columns
):
    """The univariate row of several targets is one LSTM per target, each reading its own
    history alone: the same forecasts as fitting each target alone, scored on the same rows."""
    from lstmcast.compare import compare
    from lstmcast.evaluation import score
    from lstmcast.report import verdict

    csv = tmp_path / "table.csv"
    pd.read_csv(synthetic_csv)[columns].to_csv(csv, index=False)
    cfg = _config(csv, target=["load", "temp"], features=None, horizon=2, epochs=1)
    result = compare(cfg, baselines=("persistence", "ridge"))
    rows = {r["name"]: r for r in result["results"]}
    assert {name: row["inputs"] for name, row in rows.items()} == {
        "lstm-multivariate": "multivariate", "lstm-univariate": "univariate",
        "persistence": "univariate", "ridge": "multivariate", "ridge-univariate": "univariate",
    }  # fmt: skip
    assert list(result["history"]) == [
        "lstm-multivariate", "lstm-univariate load", "lstm-univariate temp"
    ]  # fmt: skip
    assert result["inputs"]["univariate"] == ["load", "temp"]
    assert result["inputs"]["multivariate"] == [c for c in columns if c != "time"]

    # each target alone, fitted and scored on its own: the same forecasts, row for row
    pred, truth, mask = [], [], []
    for target in ["load", "temp"]:
        alone = Forecaster(cfg.replace(target=[target], features=[target])).fit()
        alone.evaluate(baselines=(), name="x")
        assert alone.inputs_ == [target]
        pred.append(alone.last_forecasts_["x"])
        truth.append(alone.last_truth_.Y)
        mask.append(alone.last_truth_.mask)
        single = {t["target"]: t for t in rows["lstm-univariate"]["per_target"]}[target]
        s = score(truth[-1], pred[-1], mask[-1])
        np.testing.assert_allclose([single["rmse"], single["mae"]], [s["rmse"], s["mae"]],
                                   rtol=1e-6)  # fmt: skip
        assert single["n_scored"] == s["n_scored"]
    pooled = score(np.concatenate(truth, -1), np.concatenate(pred, -1), np.concatenate(mask, -1))
    np.testing.assert_allclose(rows["lstm-univariate"]["rmse"], pooled["rmse"], rtol=1e-6)
    assert rows["lstm-univariate"]["n_scored"] == rows["persistence"]["n_scored"]
    np.testing.assert_allclose(
        result["stretch"]["forecasts"]["lstm-univariate"],
        np.concatenate(pred, -1)[: len(result["stretch"]["time"]), 0, 0], rtol=1e-6
    )  # fmt: skip
    assert "univariate LSTM (each of the 2 targets alone)" in verdict(result)


def test_an_in_memory_table_never_takes_the_default_datasets_split_target_or_units(tmp_path):
    """fit(frame) with the default config (data="beijing-pm25") used to split the frame at
    Beijing's dates, forecast 'pollution', call it µg/m³, and evaluate a saved copy on Beijing."""
    rng = np.random.default_rng(0)
    index = pd.date_range("2012-06-01", "2014-06-30", freq="D")  # spans the Beijing split dates
    frame = pd.DataFrame({"pollution": rng.normal(100, 10, len(index)),
                          "b": rng.normal(size=len(index))}, index=index)  # fmt: skip
    settings = dict(lookback=5, units=[4], epochs=1, progress=False)
    with pytest.raises(ConfigError, match=r"no target column given: pass --target COLUMN \(one "
                       r"of: pollution, b\)"):  # fmt: skip
        Forecaster(ForecastConfig(**settings)).fit(frame)
    fc = Forecaster(ForecastConfig(target="pollution", **settings)).fit(frame)
    n = len(index)
    assert fc.split_.train == slice(0, int(0.7 * n))  # the fractions, not 2012 | 2013 | 2014
    scores = fc.evaluate()
    assert scores["dataset"] == "DataFrame" and scores["unit"] is None
    fc.save(tmp_path / "model")
    with pytest.raises(DataError, match=r"fitted on an in-memory table, which its files do not "
                       r"hold: pass the table to score on"):  # fmt: skip
        lstmcast.load(tmp_path / "model").evaluate()
    again = lstmcast.load(tmp_path / "model").evaluate(frame)
    assert again["results"][0]["rmse"] == pytest.approx(scores["results"][0]["rmse"])


def test_target_all_forecasts_quantities_not_category_codes(synthetic_csv):
    """--target all forecast the label code of the text column wind as a number; naming a
    category's column as the target is refused."""
    with pytest.raises(DataError, match=r"target column 'wind' holds the categories of the text "
                       r"column 'wind', not a quantity, and cannot be forecast by regression: "
                       r"pick a numeric --target \(it can stay an input\)"):  # fmt: skip
        Forecaster(_config(synthetic_csv, target=["wind"], epochs=1)).fit()
    onehot = _config(synthetic_csv, target=["wind_N"], categorical="onehot", epochs=1)
    with pytest.raises(DataError, match="target column 'wind_N' holds the categories of the text "
                       "column 'wind'"):  # fmt: skip
        Forecaster(onehot).fit()


def test_evaluate_on_another_table_scores_only_rows_after_the_models_validation_data(tmp_path):
    """A model split by fractions is scored on another table where its training and validation
    data ended, not at the new table's own 70/15/15: a shorter table's "test" rows used to be
    rows the model was trained on."""
    from conftest import make_synthetic_frame

    frame = make_synthetic_frame(800)
    frame.iloc[:600].to_csv(tmp_path / "first600.csv", index=False)
    fc = Forecaster(_config(tmp_path / "first600.csv", epochs=1)).fit()
    times = frame["time"]
    assert fc.split_ends_ == [str(times[419]), str(times[509])]  # rows 0-419 train, 420-509 val
    fc.save(tmp_path / "model")
    loaded = lstmcast.load(tmp_path / "model")
    assert loaded.split_ends_ == fc.split_ends_

    # the first 300 rows are all training rows: refused, not scored as a "test" split
    frame.iloc[:300].to_csv(tmp_path / "first300.csv", index=False)
    with pytest.raises(
        DataError,
        match=r"first300.csv \(2021-03-01 00:00:00 .. 2021-03-13 11:00:00\) holds too few rows "
        r"in the model's test period \(after 2021-03-22 05:00:00, when its training and "
        r"validation data ended\) for one window of lookback 12 \+ horizon 1: pass a table",
    ):
        loaded.evaluate(str(tmp_path / "first300.csv"))

    # all 800 rows: the test targets are rows 510..799 (those observed), persistence by hand
    frame.to_csv(tmp_path / "all.csv", index=False)
    scores = loaded.evaluate(str(tmp_path / "all.csv"), baselines=("persistence",))
    load = frame["load"]
    truth, last = load.iloc[510:].to_numpy(), load.ffill().shift(1).iloc[510:].to_numpy()
    seen = ~np.isnan(truth)
    persistence = next(r for r in scores["results"] if r["name"] == "persistence")
    assert persistence["n_scored"] == seen.sum() == 289
    np.testing.assert_allclose(
        persistence["rmse"], np.sqrt(np.mean((truth[seen] - last[seen]) ** 2)), rtol=1e-12
    )
    np.testing.assert_allclose(loaded.last_truth_.t0, np.arange(510, 800))

    # new rows alone (after the validation data): scored; ridge has no training rows to learn
    # from and is left out with a warning, persistence needs none
    frame.iloc[600:].to_csv(tmp_path / "new.csv", index=False)
    left_out = (
        r"the ridge baseline is left out: .*new.csv holds no window of the model's training "
        r"period \(up to 2021-03-18 11:00:00\)"
    )
    with pytest.warns(UserWarning, match=left_out):
        scores = loaded.evaluate(str(tmp_path / "new.csv"), baselines=("persistence", "ridge"))
    assert [r["name"] for r in scores["results"]] == ["lstm", "persistence"]
    assert loaded.last_truth_.t0[0] == 12  # the first 12 new rows are history only
    assert scores["results"][1]["n_scored"] == (~np.isnan(load.iloc[612:].to_numpy())).sum()


def test_fit_and_baseline_times_start_after_the_processs_one_time_imports(synthetic_csv):
    """The first optimizer of a process imports torch's compiler stack (over a second) and the
    first gbm imports scikit-learn (about a second): fit times used to include them, which
    made whichever model came first in `compare` look slow. Checked in a fresh interpreter:
    when each clock starts, those modules are already loaded."""
    import subprocess
    import sys

    script = f"""
import sys, time, warnings
import lstmcast.evaluation.scoreboard as scoreboard
import lstmcast.forecaster as forecaster
from lstmcast import ForecastConfig, Forecaster
warnings.simplefilter("ignore")
loaded = []
class Clock:
    @staticmethod
    def perf_counter():
        loaded.append(("torch._dynamo" in sys.modules, "sklearn.ensemble" in sys.modules))
        return time.perf_counter()
assert "torch._dynamo" not in sys.modules and "sklearn" not in sys.modules
forecaster.time = scoreboard.time = Clock  # the model's clocks, the baselines' clocks
fc = Forecaster(ForecastConfig(data=r"{synthetic_csv}", time_col="time", target=["load"],
                               units=[4], epochs=1, lookback=12, progress=False)).fit()
assert loaded[0][0], "fit's clock started before the first optimizer's imports"
del loaded[:]
fc.evaluate(baselines=("ridge",))
assert "sklearn" not in sys.modules, "ridge solves its own normal equations"
fc.evaluate(baselines=("gbm",))
# the last baseline's four clock reads: fit start and end, predict start and end
assert loaded[-4][1], "gbm's fit clock started before sklearn's import"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_an_older_model_file_without_split_ends_leaves_ridge_out_in_words(synthetic_csv, tmp_path):
    """Model files written before split_ends existed split a new table as the config says; on
    a table too short to train ridge, the warning that leaves it out read split_ends[0] and
    crashed (AttributeError, then TypeError)."""
    import json

    cfg = ForecastConfig(data=str(synthetic_csv), time_col="time", target=["load"], units=[4],
                         epochs=1, lookback=12, progress=False)  # fmt: skip
    Forecaster(cfg).fit().save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    del manifest["split_ends"], manifest["manifest_sha256"]  # as an older lstmcast wrote it
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    # 16 rows split as the config says: 11 for training, too few for a window of 12 + 1
    pd.read_csv(synthetic_csv).iloc[-16:].to_csv(tmp_path / "new.csv", index=False)
    with pytest.warns(UserWarning, match=r"the ridge baseline is left out: .*new.csv holds no "
                      r"window of the model's training period to fit it on; pass"):  # fmt: skip
        scores = lstmcast.load(tmp_path / "m").evaluate(
            str(tmp_path / "new.csv"), baselines=("persistence", "ridge")
        )
    assert [r["name"] for r in scores["results"]] == ["lstm", "persistence"]


@pytest.mark.parametrize(
    ("target", "ensemble"), [(["load"], 1), (["load", "temp"], 2)], ids=["one target", "two"]
)
def test_compare_with_several_seeds_scores_each_lstm_from_each_seed(synthetic_csv, target,
                                                                    ensemble):  # fmt: skip
    """`compare --seeds 3`: each LSTM trained from 3 seeds (spaced by the ensemble size, so no
    member's seed repeats), each scored as a Forecaster of that seed scores on its own."""
    from lstmcast.compare import compare
    from lstmcast.report import seed_note

    cfg = _config(synthetic_csv, target=target, epochs=1, seed=5, ensemble=ensemble)
    result = compare(cfg, baselines=("persistence",), seeds=3)
    seeds = result["seeds"]
    assert seeds["seed"] == [5, 5 + ensemble, 5 + 2 * ensemble]
    rows = {r["name"]: r["rmse"] for r in result["results"]}
    assert seeds["lstm-multivariate"][0] == rows["lstm-multivariate"]  # the first is the run's
    assert seeds["lstm-univariate"][0] == rows["lstm-univariate"]
    for k, seed in enumerate(seeds["seed"][1:], start=1):
        alone = Forecaster(cfg.replace(seed=seed)).fit()
        scores = alone.evaluate(baselines=("persistence",), name="m")["results"][0]
        assert seeds["lstm-multivariate"][k] == pytest.approx(scores["rmse"], rel=1e-9)
    uni = Forecaster(cfg.replace(seed=seeds["seed"][2], target=["load"], features=["load"]))
    if target == ["load"]:
        scored = uni.fit().evaluate(baselines=("persistence",), name="u")["results"][0]["rmse"]
        assert seeds["lstm-univariate"][2] == pytest.approx(scored, rel=1e-9)
    assert len(set(seeds["lstm-multivariate"])) == 3  # the seeds really differ
    note = seed_note(result)
    assert note.startswith(f"Trained from seeds 5, {5 + ensemble}, {5 + 2 * ensemble}, the ")
    assert "of 3 seeds, so the seed" in note


def test_compare_refuses_seeds_past_torchs_range_before_training(synthetic_csv, monkeypatch):
    """--seeds 2 --seed 2**64 - 1 trained the first pair, then failed naming a seed not given."""
    from lstmcast.compare import compare

    def no_training(self, *args, **kwargs):
        raise AssertionError("trained before checking the seeds")

    monkeypatch.setattr(Forecaster, "fit", no_training)
    with pytest.raises(ConfigError, match=r"^--seeds 2 from --seed 18446744073709551615 reaches "
                       r"seed 18446744073709551616, over torch's 18446744073709551615: use a "
                       r"smaller --seed$"):  # fmt: skip
        compare(_config(synthetic_csv, seed=2**64 - 1), seeds=2)


def test_compare_refuses_a_seed_count_that_is_not_a_positive_whole_number(synthetic_csv):
    from lstmcast.compare import compare

    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match=r"seeds must be a positive whole number, got "):
            compare(_config(synthetic_csv, epochs=1), seeds=bad)


def test_a_home_relative_data_path_is_expanded_as_a_shell_would(synthetic_csv, monkeypatch):
    """`data = "~/x.csv"` in a TOML config (no shell in between) was 'neither a registered
    dataset nor an existing file'."""
    from lstmcast.data.sources import source_of

    monkeypatch.setenv("HOME", str(synthetic_csv.parent))
    cfg = _config(f"~/{synthetic_csv.name}", epochs=1)
    assert len(Forecaster(cfg).read(None).frame) == len(pd.read_csv(synthetic_csv))
    assert source_of(f"~/{synthetic_csv.name}") == str(synthetic_csv.resolve())


def test_fit_on_a_frame_leaves_config_as_given(synthetic_csv):
    # scikit-learn manners: fit never changes a constructor parameter. fit(frame) used to write
    # data="DataFrame" into config, so a clone or a later fit() forgot the configured CSV
    import sklearn.base

    frame = pd.read_csv(synthetic_csv)
    config = _config(synthetic_csv, epochs=1)
    fc = Forecaster(config).fit(frame)
    assert fc.config == config and fc.get_params()["config"].data == str(synthetic_csv)
    assert fc.data_name_ == "DataFrame" and fc.run_config().data == "DataFrame"
    assert fc.evaluate(frame)["dataset"] == "DataFrame"
    again = sklearn.base.clone(fc).fit()  # reads the configured CSV
    assert again.data_name_ == str(synthetic_csv)
    assert fc.fit().data_name_ == str(synthetic_csv)  # and so does the same forecaster
    assert fc.predict().equals(again.predict())


@pytest.mark.parametrize("categorical", ["label", "onehot"])
def test_new_rows_as_a_table_get_the_models_codes_and_checks_as_a_frame_does(categorical):
    """A Table was used as it was read: rows without category 'E' got codes for ['N', 'S']
    instead of the fitted ['E', 'N', 'S'] (another forecast, no error), and daily rows into an
    hourly model got hourly timestamps."""
    from lstmcast.data import read_table

    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame(
        {"a": np.sin(np.arange(n) / 5) + rng.normal(0, 0.1, n), "b": rng.normal(0, 1, n)},
        index=pd.date_range("2020-01-01", periods=n, freq="h").rename("time"),
    )
    frame["w"] = np.array(["E", "N", "S"])[(np.arange(n) // 7) % 3]
    frame["a"] += (frame["w"] == "E") * 3
    fc = Forecaster(ForecastConfig(target=["a"], epochs=1, units=[4], lookback=4, horizon=2,
                                   categorical=categorical, progress=False)).fit(frame)  # fmt: skip
    new = frame.iloc[-20:].copy()
    new["w"] = new["w"].replace("E", "N")  # no 'E' in the new rows
    new.iloc[3, 1] = np.nan  # filled as the model fills, whatever the Table's own fill
    table = read_table(new, categorical="onehot" if categorical == "label" else "label",
                       fill="none")  # fmt: skip
    pd.testing.assert_frame_equal(fc.predict(table), fc.predict(new))
    scores = [[(r["name"], r["rmse"], r["n_scored"]) for r in fc.evaluate(data)["results"]]
              for data in (table, new)]  # fmt: skip
    assert scores[0] == scores[1]
    daily = new.set_axis(pd.date_range("2021-01-01", periods=20, freq="D").rename("time"))
    with pytest.raises(DataError, match="is at frequency 'D', but the model was trained on 'h'"):
        fc.predict(read_table(daily))
    unknown = new.assign(w="W")
    with pytest.raises(DataError, match=r"column 'w' holds 'W' at data row 1, not one of the "
                       r"categories it was fitted on \['E', 'N', 'S'\]"):  # fmt: skip
        fc.predict(read_table(unknown))


def test_evaluate_scores_no_window_that_reads_values_filled_back_from_later_ones():
    """New rows whose target began with 10 missing values: the leading edge is back filled
    with the first observed value, so the first scored windows read their own target as input
    (persistence's error exactly 0 there)."""
    rng = np.random.default_rng(1)
    n, L = 200, 4
    frame = pd.DataFrame(
        {"a": np.cumsum(rng.normal(size=n)), "b": rng.normal(size=n)},
        index=pd.date_range("2020-01-01", periods=n, freq="h").rename("time"),
    )
    fc = Forecaster(ForecastConfig(target=["a"], epochs=1, units=[4], lookback=L, horizon=1,
                                   progress=False)).fit(frame)  # fmt: skip
    new = frame.iloc[170:].copy()  # the test period
    new.iloc[:10, 0] = np.nan
    result = fc.evaluate(new, baselines=("persistence",))
    truth, persistence = fc.last_truth_, fc.last_forecasts_["persistence"]
    assert truth.t0[0] == 11  # the first target after row 10, a's first observed value
    assert np.abs(persistence - truth.Y)[truth.mask].min() > 0
    assert result["results"][1]["n_scored"] == len(new) - 11
    # predict reads the whole history before the forecast: a leading gap is no leak there
    assert np.isfinite(fc.predict(new.iloc[:12]).to_numpy()).all()  # rows 8, 9 filled
    with pytest.raises(DataError, match=r"column 'a' is first observed at 2020-01-08 12:00:00, "
                       r"too late for any window of the test rows \(horizon 1\) to read it "
                       r"before its targets: pass a table in which it is observed at least 2 "
                       r"rows before the test rows end"):  # fmt: skip
        fc.evaluate(new.iloc[:11])


def test_an_input_first_observed_late_in_training_leaves_every_later_window_scored():
    """Back-filled rows before a value that comes before every target are the past: the
    validation windows early stopping watched are all scored (train printed 13 of 87 of them,
    or saved the model and exited 2)."""
    rng = np.random.default_rng(2)
    n = 300
    frame = pd.DataFrame(
        {"a": np.cumsum(rng.normal(size=n)), "b": rng.normal(size=n)},
        index=pd.date_range("2020-01-01", periods=n, freq="h").rename("time"),
    )
    late = frame.assign(b=frame["b"].where(np.arange(n) >= 200))  # training ends at row 209
    cfg = ForecastConfig(target=["a"], epochs=1, units=[4], lookback=48, progress=False)
    scored = [Forecaster(cfg).fit(f).evaluate(split="val", baselines=("persistence",))
              for f in (frame, late)]  # fmt: skip
    assert [r["results"][0]["n_scored"] for r in scored] == [45, 45]


@pytest.mark.parametrize("residual", [True, False])
def test_targets_are_encoded_a_chunk_at_a_time_as_the_same_float32_numbers(
    fitted, monkeypatch, residual
):
    """The training targets are written in float32 a chunk of windows at a time, not copied
    whole in float64 twice on the way: the same numbers train_network used to round them to,
    NaN where unobserved, with or without the residual."""
    from lstmcast.data import make_windows

    path, fc = fitted
    fc = Forecaster(fc.config.replace(residual=residual, target=["load", "temp"]))
    fc.targets_ = fc.inputs_ = ["load", "temp"]
    rng = np.random.default_rng(1)
    values = rng.normal(size=(200, 2)) * [1e3, 1e-3] + [7.0, 1e5]
    values[rng.random(200) < 0.1, 0] = np.nan
    w = make_windows(values, 12, 3, inputs=[0, 1], targets=[0, 1])
    expected = w.Y.copy()
    if residual:
        expected = expected - w.X[:, -1, [0, 1]][:, None, :]
    expected = np.asarray(expected.reshape(len(expected), -1), dtype=np.float32)
    monkeypatch.setattr("lstmcast.baselines.chunks.CHUNK_VALUES", 6 * 5)  # 5 windows a chunk
    got = fc._encode_targets(w)
    assert got.dtype == np.float32 and np.isnan(got).any()
    np.testing.assert_array_equal(got, expected)


def test_a_fit_whose_targets_would_not_fit_in_memory_is_refused_before_training(
    fitted, monkeypatch
):
    """Many targets x a long horizon once ran out of memory after the training, with a
    traceback: the estimate is checked against the free memory before any window is cut."""
    path, _ = fitted
    monkeypatch.setattr("lstmcast.baselines.budget.available_memory", lambda: 10_000)
    fc = Forecaster(_config(path, horizon=4, target=["load", "temp"]))
    refusal = (
        r"^training needs about \S+ KiB \(\S+ KiB for [\d,]+ windows x 4 steps x 2 targets\), "
        r"but 9.8 KiB is free here: forecast fewer targets \(--target\), a shorter --horizon, "
        r"or fewer rows$"
    )
    with pytest.raises(DataError, match=refusal):
        fc.fit()
    assert not hasattr(fc, "network_")
    monkeypatch.setattr("lstmcast.baselines.budget.available_memory", lambda: None)  # unknown
    assert hasattr(fc.fit(), "network_")


def test_several_targets_over_several_steps_land_in_their_own_step_and_column():
    """Two targets on scales 1000 times apart, each repeating a pattern of period 4, are fully
    determined by a window of 8 rows: a fitted model must forecast every (step, target) of
    the known future. The network's outputs are step-major (step 1's targets, then step 2's);
    read target-major, a's column would get b's forecasts and the errors would be of b's
    range, not a few thousandths."""
    n, t = 240, np.arange(240 + 3)
    a = np.array([0.0, 1.0, 3.0, 2.0])[t % 4]
    b = np.array([700.0, 1000.0, 400.0, 900.0])[t % 4]
    time = pd.date_range("2022-01-01", periods=n + 3, freq="h")
    frame = pd.DataFrame({"time": time[:n], "a": a[:n], "b": b[:n]})
    config = ForecastConfig(target=["a", "b"], lookback=8, horizon=3, units=[16], epochs=30,
                            learning_rate=0.01, batch_size=16, patience=None,
                            progress=False)  # fmt: skip
    fc = Forecaster(config).fit(frame)
    forecast = fc.predict()
    assert list(forecast.columns) == ["a", "b"] and list(forecast.index) == list(time[n:])
    future = pd.DataFrame({"a": a[n:], "b": b[n:]}, index=time[n:])  # 0 1 3 and 700 1000 400
    np.testing.assert_allclose(forecast["a"], future["a"], atol=0.05)  # a spans 3
    np.testing.assert_allclose(forecast["b"], future["b"], atol=10)  # b spans 600
    lstm, persistence = fc.evaluate(baselines=("persistence",))["results"]
    for ours, naive in zip(lstm["per_target"], persistence["per_target"], strict=True):
        assert ours["rmse"] < 0.02 * naive["rmse"]
    pred, truth = fc.last_forecasts_["lstm"], fc.last_truth_.Y  # (S, 3, 2) each
    np.testing.assert_allclose(pred[..., 0], truth[..., 0], atol=0.05)
    np.testing.assert_allclose(pred[..., 1], truth[..., 1], atol=10)


@pytest.mark.parametrize(("scaler", "stats"), [("minmax", ("data_min_", "data_max_")),
                                                ("standard", ("mean_", "std_"))])  # fmt: skip
def test_the_scaler_learns_from_the_training_rows_alone(tmp_path, scaler, stats):
    """Validation and test values far outside the training range must not reach the scaler's
    statistics: they are future values, unknown when the model is trained."""
    from conftest import make_synthetic_frame

    from lstmcast.data.scalers import make_scaler

    frame = make_synthetic_frame()
    frame.loc[420:, ["load", "temp"]] += 1000.0  # rows 420.. are validation and test (70/15/15)
    frame.to_csv(tmp_path / "jump.csv", index=False)
    fc = Forecaster(_config(tmp_path / "jump.csv", target=["load", "temp"], epochs=1,
                            scaler=scaler)).fit()  # fmt: skip
    assert fc.split_.train == slice(0, 420)
    rows = fc.table_.frame[fc.columns_].to_numpy(dtype=np.float64)[:420]
    expected = make_scaler(scaler).fit(rows)
    for stat in stats:
        np.testing.assert_array_equal(getattr(fc.scaler_, stat), getattr(expected, stat))
    if scaler == "minmax":  # the raw training rows, NaN aside, in load and temp
        columns = [fc.columns_.index(c) for c in ("load", "temp")]
        raw = frame.loc[:419, ["load", "temp"]]
        np.testing.assert_array_equal(fc.scaler_.data_max_[columns], raw.max().to_numpy())
        np.testing.assert_array_equal(fc.scaler_.data_min_[columns], raw.min().to_numpy())
        assert (fc.scaler_.data_max_[columns] < 100).all()


def test_early_stopping_watches_the_validation_rows_and_trains_on_the_training_rows(
    tmp_path, monkeypatch
):
    """The windows handed to training are those whose targets lie in each split: a target
    that counts rows (0..599) shows which rows each set scores, once the scaling (min-max on
    the training rows 0..419) is undone."""
    import lstmcast.forecaster as forecaster

    seen = {}

    def spy(network, X, Y, config, *, X_val, Y_val, **kwargs):
        seen.update(X=X, Y=Y, X_val=X_val, Y_val=Y_val)
        return train_network(network, X, Y, config, X_val=X_val, Y_val=Y_val, **kwargs)

    train_network = forecaster.train_network
    monkeypatch.setattr(forecaster, "train_network", spy)
    time = pd.date_range("2022-01-01", periods=600, freq="h")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"time": time, "row": np.arange(600.0), "x": rng.normal(size=600)})
    fc = Forecaster(_config(None, target=["row"], horizon=2, lookback=5, epochs=1,
                            residual=False)).fit(frame)  # fmt: skip
    assert (fc.split_.train, fc.split_.val) == (slice(0, 420), slice(420, 510))
    first = np.arange(5, 419)  # first target row of each training window: 5..418 (+1 <= 419)
    rows = {name: np.rint(seen[name].astype(np.float64) * 419).reshape(-1, 2)
            for name in ("Y", "Y_val")}  # fmt: skip
    np.testing.assert_array_equal(rows["Y"], np.c_[first, first + 1])
    val_first = np.arange(420, 509)  # 420..508: both steps inside 420..509
    np.testing.assert_array_equal(rows["Y_val"], np.c_[val_first, val_first + 1])
    # each validation window reads the 5 rows before its first target (back across the split)
    row_input = np.rint(seen["X_val"][..., fc.inputs_.index("row")].astype(np.float64) * 419)
    np.testing.assert_array_equal(row_input, val_first[:, None] - np.arange(5, 0, -1))


def test_ensemble_member_k_is_the_network_fitted_from_seed_plus_k(synthetic_csv):
    """Member k is, bit for bit, the single network fitted with seed + k (its initial weights
    and its shuffling both); history_ is the first member's, as for gate_traces."""
    import torch

    singles = [Forecaster(_config(synthetic_csv, epochs=2, seed=s)).fit() for s in (5, 6)]
    pair = Forecaster(_config(synthetic_csv, epochs=2, seed=5, ensemble=2)).fit()
    for single, member in zip(singles, pair.network_.members, strict=True):
        for a, b in zip(single.network_.parameters(), member.parameters(), strict=True):
            assert torch.equal(a, b)
    first, second = pair.network_.members
    assert not torch.equal(first.head.weight, second.head.weight)
    for single, history in zip(singles, pair.member_histories_, strict=True):
        assert history.train_loss == single.history_.train_loss
        assert history.val_loss == single.history_.val_loss
    assert pair.member_histories_[0].val_loss != pair.member_histories_[1].val_loss
    assert pair.history_ is pair.member_histories_[0]


def test_baselines_learn_from_the_training_rows_alone_in_a_table_passed_again(synthetic_csv):
    """The model's own rows passed again as new data are cut where its training and validation
    data ended: ridge and VAR learn from the training rows only, as on the training table, and
    score the same (fitted on training and validation rows, they scored otherwise)."""
    fc = Forecaster(_config(synthetic_csv, horizon=2, epochs=1)).fit()
    baselines = ("persistence", "ridge", "var")
    own = fc.evaluate(baselines=baselines)["results"]
    again = fc.evaluate(pd.read_csv(synthetic_csv), baselines=baselines)["results"]
    assert [r["name"] for r in own] == [r["name"] for r in again] == ["lstm", *baselines]
    for ours, theirs in zip(own, again, strict=True):
        for key in ("rmse", "mae", "n_scored", "rmse_per_step"):
            assert ours[key] == theirs[key], (ours["name"], key)
    assert fc.split_ends_[0] == pd.read_csv(synthetic_csv)["time"][419]


def test_a_target_left_out_of_the_features_makes_every_target_learn_levels(synthetic_csv):
    """residual learns the change from the last observed value of a target that is an input;
    when some target is not an input (temp here), every target learns its levels: the fit,
    forecasts and scores are those of residual=False, bit for bit."""
    import torch

    kw = dict(target=["load", "temp"], features=["load", "wind"], horizon=2, epochs=1)
    fc = Forecaster(_config(synthetic_csv, **kw)).fit()
    levels = Forecaster(_config(synthetic_csv, residual=False, **kw)).fit()
    assert fc.inputs_ == ["load", "wind"] and fc.columns_ == ["load", "wind", "temp"]
    for a, b in zip(fc.network_.parameters(), levels.network_.parameters(), strict=True):
        assert torch.equal(a, b)
    forecast = fc.predict()
    assert forecast.shape == (2, 2) and list(forecast.columns) == ["load", "temp"]
    pd.testing.assert_frame_equal(forecast, levels.predict())
    clock = {"fit_seconds", "predict_seconds"}
    scores, scores_levels = (
        [
            {k: v for k, v in row.items() if k not in clock}
            for row in model.evaluate(baselines=("persistence", "ridge"))["results"]
        ]
        for model in (fc, levels)
    )
    assert scores == scores_levels
    assert scores[0]["n_scored"] > 0 and np.isfinite(scores[0]["rmse"])
