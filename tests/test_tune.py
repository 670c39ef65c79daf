"""lstmcast tune: short trials into SQLite, then the same study resumed."""

import re
import tomllib

import matplotlib.image
import numpy as np
import optuna
import pandas as pd
import pytest

from lstmcast.cli import main


def test_tune_runs_trials_into_sqlite_and_resumes_the_study(synthetic_csv, tmp_path, capsys):
    db = tmp_path / "study.db"
    argv = [
        "tune",
        "--data",
        str(synthetic_csv),
        "--time-col",
        "time",
        "--target",
        "load",
        "--epochs",
        "1",
        "--trials",
        "3",
        "--storage",
        f"sqlite:///{db}",
        "--out",
        str(tmp_path / "tune"),
        "--no-progress",
    ]
    assert main(argv) == 0
    study = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{db}")
    assert len([t for t in study.trials if t.value is not None]) == 3
    first_best = study.best_value
    assert main(argv[:-1] + ["--no-progress"]) == 0  # the same call again resumes
    study = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{db}")
    assert len([t for t in study.trials if t.value is not None]) == 6
    assert study.best_value <= first_best
    best = tomllib.loads((tmp_path / "tune" / "best.toml").read_text())
    assert best["units"] == [
        study.best_params[f"units_l{k}"] for k in range(study.best_params["layers"])
    ]
    assert best["lookback"] == study.best_params["lookback"]
    assert best["optimizer"] == study.best_params["optimizer"]
    assert {t.params["optimizer"] for t in study.trials} <= {"adam", "adamw", "rmsprop"}
    printed = capsys.readouterr().out
    assert "6 finished trials" in printed
    # a line per trial as it ends, the table of every trial, and a picture of the search
    values = {t.number: t.value for t in study.trials}
    lines = re.findall(r"^trial (\d+): validation RMSE (\S+) \(persistence", printed, re.M)
    assert [int(n) for n, _ in lines] == list(range(6))  # both calls, a line per trial
    assert all(float(v) == pytest.approx(values[int(n)], abs=5e-4) for n, v in lines)
    table = pd.read_csv(tmp_path / "tune" / "trials.csv")
    assert table["number"].tolist() == list(range(6))
    np.testing.assert_allclose(table["value"], [values[n] for n in range(6)])
    assert matplotlib.image.imread(tmp_path / "tune" / "trials.png").shape[1] == 9 * 144
    # without --storage the study lives beside best.toml, in OUT/study.db
    plain = [a for a in argv if a not in ("--storage", f"sqlite:///{db}")]
    plain[plain.index("--trials") + 1] = "1"
    plain[plain.index("--out") + 1] = str(tmp_path / "own")
    assert main(plain) == 0
    own = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{tmp_path / 'own/study.db'}")
    assert len(own.trials) == 1


def test_the_trial_history_figure_draws_each_trial_and_the_best_so_far():
    from lstmcast.report import figures

    fig = figures.trial_history([2, 0, 1, 3], [5.0, 7.0, float("inf"), 6.0], persistence=8.0)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["trial"].get_xdata(), [0, 2, 3])  # inf left out
    np.testing.assert_array_equal(lines["trial"].get_ydata(), [7.0, 5.0, 6.0])
    np.testing.assert_array_equal(lines["best so far"].get_ydata(), [7.0, 5.0, 5.0])
    assert lines["persistence"].get_ydata()[0] == 8.0
    assert figures.trial_history([0], [float("nan")]) is None


def test_the_first_trial_is_the_given_configuration(synthetic_csv, tmp_path):
    from lstmcast.forecaster import ForecastConfig
    from lstmcast.tune import tune

    base = ForecastConfig(
        data=str(synthetic_csv),
        time_col="time",
        target=["load"],
        units=[20, 30],
        dropout=0.1,
        learning_rate=0.002,
        batch_size=32,
        lookback=12,
        epochs=1,
        progress=False,
    )
    study = tune(base, n_trials=1, storage=f"sqlite:///{tmp_path / 's.db'}")
    assert study.trials[0].user_attrs["epochs_run"] == 1
    assert study.trials[0].params == {
        "layers": 2,
        "units_l0": 20,
        "units_l1": 30,
        "dropout": 0.1,
        "optimizer": "adam",
        "learning_rate": 0.002,
        "batch_size": 32,
        "lookback": 12,
    }


def test_the_optimiser_is_searched_and_trials_train_with_it(synthetic_csv, tmp_path, monkeypatch):
    import lstmcast.train
    from lstmcast.forecaster import ForecastConfig
    from lstmcast.tune import SearchSpace, best_config, tune

    used = []
    real = lstmcast.train._make_optimizer
    monkeypatch.setattr(
        lstmcast.train,
        "_make_optimizer",
        lambda model, config: used.append(config.optimizer) or real(model, config),
    )
    base = ForecastConfig(
        data=str(synthetic_csv), time_col="time", target=["load"], units=[8], epochs=1,
        lookback=12, progress=False, optimizer="sgd",
    )  # fmt: skip
    space = SearchSpace(optimizer=("rmsprop", "adamw"), lookback=(12,))
    study = tune(base, n_trials=4, storage=f"sqlite:///{tmp_path / 's.db'}", space=space)
    chosen = [t.params["optimizer"] for t in study.trials]
    assert set(chosen) <= {"rmsprop", "adamw"} and used == chosen  # sgd is outside the space
    assert best_config(base, study).optimizer == study.best_params["optimizer"]
