"""lstmcast tune: short trials into SQLite, then the same study resumed."""

import tomllib

import optuna

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
    assert "6 finished trials" in capsys.readouterr().out
    # without --storage the study lives beside best.toml, in OUT/study.db
    plain = [a for a in argv if a not in ("--storage", f"sqlite:///{db}")]
    plain[plain.index("--trials") + 1] = "1"
    plain[plain.index("--out") + 1] = str(tmp_path / "own")
    assert main(plain) == 0
    own = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{tmp_path / 'own/study.db'}")
    assert len(own.trials) == 1


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
