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
    from lstmcast import tune as tune_module
    from lstmcast.report import figures

    fig = figures.trial_history([2, 0, 1, 3], [5.0, 7.0, float("inf"), 6.0], persistence=8.0)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["trial"].get_xdata(), [0, 2, 3])  # inf left out
    np.testing.assert_array_equal(lines["trial"].get_ydata(), [7.0, 5.0, 6.0])
    np.testing.assert_array_equal(lines["best so far"].get_ydata(), [7.0, 5.0, 5.0])
    assert lines["persistence"].get_ydata()[0] == 8.0
    assert figures.trial_history([0], [float("nan")]) is None
    assert ax.get_ylabel() == "validation RMSE"
    several = figures.trial_history([0], [0.9], 1.0, tune_module.objective_name(5))
    assert several.axes[0].get_ylabel() == (  # it said "validation RMSE" for the mean ratio
        "validation RMSE relative to\npersistence, mean over 5 targets"
    )


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


def _tune_argv(csv, out, *extra):
    return [
        "tune", "--data", str(csv), "--time-col", "time", "--target", "load", "--epochs", "1",
        "--trials", "1", "--search-lookback", "12", "--out", str(out), "--no-progress", *extra,
    ]  # fmt: skip


def _trials(db):
    study = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{db}")
    return [(t.number, t.state, t.value, t.params) for t in study.trials]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (["--target", "temp"], r"targets: \['load'\] there, \['temp'\] now"),
        (["--data", "OTHER"], r"data: \S+synthetic.csv \(sha256 \w+\) there, \S+other.csv"),
        (["--epochs", "2"], r"epochs: 1 there, 2 now\): .* settings \(--epochs 1\)$"),
        (["--clip-norm", "none"], r"clip_norm: 1.0 there, None now\): .* \(--clip-norm 1.0\)$"),
        (["--search-lookback", "12", "24"], r"search lookback: \[12\] there, \[12, 24\] now"),
        (["--search-optimizers", "adam"], r"search optimizer: \['adam', 'adamw', 'rmsprop'\]"),
    ],
)
def test_a_study_refuses_to_resume_with_other_data_settings_or_space(
    synthetic_csv, tmp_path, capsys, change, named
):
    from conftest import make_synthetic_frame

    out = tmp_path / "tune"
    assert main(_tune_argv(synthetic_csv, out)) == 0
    before = _trials(out / "study.db")
    best = (out / "best.toml").read_bytes()
    capsys.readouterr()
    other = tmp_path / "other.csv"
    make_synthetic_frame(seed=1).to_csv(other, index=False)
    argv = _tune_argv(synthetic_csv, out) + [str(other) if a == "OTHER" else a for a in change]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert re.search(r"error: the study 'lstmcast' in sqlite:///\S+ was run with other data", err)
    assert re.search(named, err), err
    assert re.search(r"pass a new --out or --study-name to start another study, or rerun with "
                     r"the study's data and settings( \(--[-\w]+ [\w.]+\))?$", err)  # fmt: skip
    assert "--data " not in err.rsplit("settings", 1)[1]  # the table's digest is no flag
    assert _trials(out / "study.db") == before  # untouched, and no trial added
    assert (out / "best.toml").read_bytes() == best
    # another study name in the same database starts afresh
    assert main(argv + ["--study-name", "other"]) == 0


def test_machines_sharing_a_study_may_read_their_own_copy_of_the_data_and_seed(
    synthetic_csv, tmp_path
):
    from lstmcast.forecaster import ForecastConfig
    from lstmcast.tune import SearchSpace, tune

    copy = tmp_path / "elsewhere" / "copy.csv"
    copy.parent.mkdir()
    copy.write_bytes(synthetic_csv.read_bytes())
    storage, space = f"sqlite:///{tmp_path / 's.db'}", SearchSpace(lookback=(12,))
    base = ForecastConfig(
        data=str(synthetic_csv), time_col="time", target=["load"], epochs=1, progress=False
    )
    tune(base, n_trials=1, storage=storage, space=space)
    study = tune(base.replace(data=str(copy), seed=7), n_trials=1, storage=storage, space=space)
    assert len(study.trials) == 2 and all(t.value is not None for t in study.trials)


def test_a_study_without_a_record_of_its_settings_is_not_resumed(synthetic_csv, tmp_path):
    from lstmcast.errors import ConfigError
    from lstmcast.forecaster import ForecastConfig
    from lstmcast.tune import tune

    storage = f"sqlite:///{tmp_path / 's.db'}"
    old = optuna.create_study(study_name="lstmcast", storage=storage)  # as older versions made
    old.optimize(lambda trial: trial.suggest_float("dropout", 0, 0.4), n_trials=1)
    base = ForecastConfig(
        data=str(synthetic_csv), time_col="time", target=["load"], epochs=1, progress=False
    )
    with pytest.raises(ConfigError, match="holds trials but no record of the data and settings"):
        tune(base, n_trials=1, storage=storage)
    assert len(optuna.load_study(study_name="lstmcast", storage=storage).trials) == 1


@pytest.mark.parametrize("timeout", ["0", "-1", "nan"])
def test_a_timeout_must_be_positive(synthetic_csv, tmp_path, capsys, timeout):
    assert main(_tune_argv(synthetic_csv, tmp_path / "t", "--timeout", timeout)) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        f"error: timeout must be a positive number of seconds, got {float(timeout)}: "
        "e.g. --timeout 3600, or leave it out to run every trial"
    )
    assert not (tmp_path / "t" / "study.db").exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("bogus://x", r"not a database URL Optuna knows \(Can't load plugin: \S+bogus\)"),
        ("sqlite:///{tmp}/no/such/folder/x.db", r"the database cannot be opened \(unable to open"),
    ],
)
def test_a_storage_that_cannot_open_is_named_in_one_line(
    synthetic_csv, tmp_path, capsys, url, reason
):
    url = url.format(tmp=tmp_path)
    assert main(_tune_argv(synthetic_csv, tmp_path / "t", "--storage", url)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert re.search(f"error: cannot open the study storage {re.escape(repr(url))}: {reason}", err)
    assert err.endswith("check the URL (e.g. sqlite:///runs/tune.db) and that the folder of a "
                        "SQLite file exists")  # fmt: skip
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize(
    ("lookbacks", "message"),
    [
        (["0"], r"search lookback must be positive integers, got \[0\]: e.g. --search-lookback"),
        (["12", "500"], r"search lookback 500 is too long for \S+synthetic.csv: its training "
                        r"split holds 420 rows and lookback 500 \+ horizon 1 needs 501: search "
                        r"lookbacks of at most 419"),
    ],
)  # fmt: skip
def test_search_ranges_are_checked_before_any_trial(
    synthetic_csv, tmp_path, capsys, lookbacks, message
):
    argv = _tune_argv(synthetic_csv, tmp_path / "t")
    argv[argv.index("--search-lookback") + 1 : argv.index("--out")] = lookbacks
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and "\n" not in captured.err.strip()
    assert re.search(message, captured.err), captured.err
    assert not (tmp_path / "t" / "study.db").exists()  # no study, no failed trial


def test_search_space_fields_are_checked():
    from lstmcast.errors import ConfigError
    from lstmcast.tune import SearchSpace

    with pytest.raises(ConfigError, match=r"search optimizer must be among .*, got \['adma'\]"):
        SearchSpace(optimizer=("adma",))
    with pytest.raises(ConfigError, match=r"search units must be positive integers low <= high"):
        SearchSpace(units=(64, 16))
    with pytest.raises(ConfigError, match=r"search dropout must be 0 <= low <= high < 1"):
        SearchSpace(dropout=(0.0, 1.0))
    with pytest.raises(ConfigError, match=r"search learning_rate must be 0 < low <= high"):
        SearchSpace(learning_rate=(0.0, 0.1))
    with pytest.raises(ConfigError, match=r"search batch_size must be positive integers"):
        SearchSpace(batch_size=())


def test_a_call_whose_trials_all_failed_says_so_in_one_line(
    synthetic_csv, tmp_path, capsys, monkeypatch
):
    import lstmcast.forecaster

    def diverge(self, data=None, **kwargs):
        raise FloatingPointError("loss became nan")

    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", diverge)
    assert main(_tune_argv(synthetic_csv, tmp_path / "t")) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    expected = (
        r"error: no trial of the study 'lstmcast' in \S+ has finished \(trials: fail\): "
        r"run more --trials, or fix what made them fail"
    )
    assert re.search(expected, err), err
    assert not (tmp_path / "t" / "best.toml").exists()


def test_ctrl_c_in_a_trial_fails_it_and_stops_the_study(
    synthetic_csv, tmp_path, capsys, monkeypatch
):
    import lstmcast.train

    calls = []
    real = lstmcast.train.evaluate_loss

    def ctrl_c_in_the_second_trial(*args):  # train_network turns it into history.interrupted
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(lstmcast.train, "evaluate_loss", ctrl_c_in_the_second_trial)
    argv = _tune_argv(synthetic_csv, tmp_path / "t")
    argv[argv.index("--trials") + 1] = "3"
    assert main(argv) == 130
    out = tmp_path / "t"
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"lstmcast tune: interrupted: trial 1 is recorded as failed; {out / 'best.toml'} holds "
        "the best of the 1 finished trial; run the same command again to continue the study "
        f"'lstmcast' in sqlite:///{out / 'study.db'}"
    )
    states = [state for _, state, _, _ in _trials(tmp_path / "t" / "study.db")]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL]
    assert len(calls) == 2  # no third trial
    # the finished trial still makes the best settings (they stayed from an older call)
    best = tomllib.loads((tmp_path / "t" / "best.toml").read_text())
    study = optuna.load_study(
        study_name="lstmcast", storage=f"sqlite:///{tmp_path / 't' / 'study.db'}"
    )
    assert best["learning_rate"] == study.best_trial.params["learning_rate"]
    assert (tmp_path / "t" / "trials.csv").is_file()


def test_ctrl_c_on_an_in_memory_study_writes_the_finished_trials(
    synthetic_csv, tmp_path, capsys, monkeypatch
):
    """An in-memory study cannot be opened again: Ctrl-C wrote nothing (it reopened it empty)."""
    import lstmcast.train

    calls = []
    real = lstmcast.train.evaluate_loss

    def ctrl_c_in_the_second_trial(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(lstmcast.train, "evaluate_loss", ctrl_c_in_the_second_trial)
    argv = _tune_argv(synthetic_csv, tmp_path / "t", "--storage", "sqlite:///:memory:")
    argv[argv.index("--trials") + 1] = "3"
    assert main(argv) == 130
    err = capsys.readouterr().err
    best_toml = tmp_path / "t" / "best.toml"
    assert "lives in memory" in err and err.strip().splitlines()[-1] == (
        f"lstmcast tune: interrupted: trial 1 is recorded as failed; {best_toml} "
        "holds the best of the 1 finished trial; the study lived in memory (sqlite:///:memory:) "
        "and is gone"
    )
    assert not (tmp_path / "t" / "study.db").exists()
    rows = (tmp_path / "t" / "trials.csv").read_text().splitlines()
    assert len(rows) == 3 and "COMPLETE" in rows[1] and "FAIL" in rows[2], rows
    best = tomllib.loads((tmp_path / "t" / "best.toml").read_text())
    assert best["lookback"] == 12


def test_each_trial_is_named_as_it_starts_when_progress_is_shown(synthetic_csv, tmp_path, capsys):
    """The epoch bar alone said nothing of where the search was."""
    argv = _tune_argv(synthetic_csv, tmp_path / "t")
    argv[argv.index("--trials") + 1] = "2"
    argv[argv.index("--no-progress")] = "--progress"
    assert main(argv) == 0
    # each after the carriage return that cleared the bar before it
    starts = re.findall(r"(?:^|\r)(lstmcast tune: trial .*)", capsys.readouterr().err, re.M)
    assert starts == [
        "lstmcast tune: trial 1 of 2 (number 0 in the study)...",
        "lstmcast tune: trial 2 of 2 (number 1 in the study)...",
    ]
    argv[argv.index("--progress")] = "--no-progress"
    assert main(argv) == 0
    assert "lstmcast tune: trial" not in capsys.readouterr().err


def test_a_trials_time_is_its_fit_without_the_process_start_up(
    synthetic_csv, tmp_path, monkeypatch
):
    """The first trial's time counted warm_up (the engine's first build: about 40 s)."""
    import time

    import lstmcast.forecaster

    real_fit, fitted = lstmcast.forecaster.Forecaster.fit, []

    def fit(self, *args, **kwargs):
        fitted.append(real_fit(self, *args, **kwargs))
        return fitted[-1]

    monkeypatch.setattr(lstmcast.forecaster, "warm_up", lambda: time.sleep(1))
    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", fit)
    assert main(_tune_argv(synthetic_csv, tmp_path / "t")) == 0
    (trial,) = optuna.load_study(
        study_name="lstmcast", storage=f"sqlite:///{tmp_path / 't' / 'study.db'}"
    ).trials
    assert trial.user_attrs["fit_seconds"] == round(fitted[0].fit_seconds_, 1)


def test_a_call_whose_trials_all_failed_says_so_though_the_study_has_a_best(
    synthetic_csv, tmp_path, capsys, monkeypatch
):
    """On a shared study a machine whose every trial failed reported success in silence."""
    import lstmcast.forecaster
    from lstmcast.errors import TrainingDivergedError

    out = tmp_path / "t"
    assert main(_tune_argv(synthetic_csv, out)) == 0

    def diverge(self, data=None, **kwargs):
        raise TrainingDivergedError("training diverged at epoch 1 (loss nan)")

    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", diverge)
    capsys.readouterr()
    assert main(_tune_argv(synthetic_csv, out)) == 0  # the study's best stands
    assert (
        "lstmcast tune: warning: none of this call's 1 trials finished (see the lines above); "
        "the best settings below come from the study's other trials"
    ) in capsys.readouterr().err
    assert main(_tune_argv(synthetic_csv, tmp_path / "fresh")) == 2  # no other trials to promise
    err = capsys.readouterr().err
    assert "warning: none of this call" not in err and "has finished (trials: fail)" in err
    corrupt = tmp_path / "bad.db"
    corrupt.write_bytes(bytes(range(256)) * 20)  # "file is not a database": was a traceback
    argv = _tune_argv(synthetic_csv, tmp_path / "c") + ["--storage", f"sqlite:///{corrupt}"]
    assert main(argv) == 2
    assert "the database cannot be opened (file is not a database)" in capsys.readouterr().err


def test_processes_creating_one_study_together_retry_instead_of_failing(tmp_path, monkeypatch):
    """Two or three `tune` processes started together on a new SQLite study raced to create
    its tables: a UNIQUE-constraint traceback, or "table studies already exists"."""
    import sqlalchemy.exc

    from lstmcast import tune as tune_module

    real, calls = optuna.storages.RDBStorage, []

    def racing(url):
        calls.append(url)
        if len(calls) == 1:
            raise sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        if len(calls) == 2:
            raise sqlalchemy.exc.OperationalError(
                "CREATE", {}, Exception("table studies already exists")
            )
        return real(url)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    storage = tune_module._open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    assert isinstance(storage, real) and len(calls) == 3


def test_a_missing_database_driver_is_named(tmp_path):
    """The message said only "Failed to import DB access module" and gave SQLite advice."""
    from lstmcast import tune as tune_module
    from lstmcast.errors import ConfigError

    url = "postgresql://localhost:1/x"  # its driver (psycopg or psycopg2) is not installed
    with pytest.raises(ConfigError) as err:
        tune_module._open_storage(url)
    expected = (r"cannot open the study storage 'postgresql://localhost:1/x': its database "
                r"driver '(\w+)' is not installed; install the package that provides it "
                r"\(pip install \1\?\), or use sqlite:///")  # fmt: skip
    assert re.fullmatch(expected, str(err.value)), err.value


def test_a_failed_trial_is_one_line_without_a_traceback(
    synthetic_csv, tmp_path, capfd, monkeypatch
):
    import lstmcast.forecaster
    from lstmcast.errors import TrainingDivergedError

    real_fit, fits = lstmcast.forecaster.Forecaster.fit, []

    def diverge_once(self, data=None, **kwargs):
        fits.append(1)
        if len(fits) == 1:
            raise TrainingDivergedError(
                "training diverged at epoch 1 (loss nan): lower the learning rate (now 0.001) "
                "or set gradient clipping (clip_norm)",
                summary="training diverged at epoch 1 (loss nan)",
            )
        return real_fit(self, data, **kwargs)

    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", diverge_once)
    argv = _tune_argv(synthetic_csv, tmp_path / "t")
    argv[argv.index("--trials") + 1] = "2"
    assert main(argv) == 0
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "Trial 0 failed" not in out + err
    assert "trial 0: training diverged at epoch 1 (loss nan); recorded as failed" in out
    assert re.search(r"^trial 1: validation RMSE", out, re.M)

    # Ctrl-C outside the training loop (here while scoring) stops without a traceback too
    def ctrl_c(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "evaluate", ctrl_c)
    assert main(argv) == 130
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert err.strip().splitlines() == [
        "lstmcast tune: interrupted: trial 2 is recorded as failed; "
        f"{tmp_path / 't' / 'best.toml'} holds the best of the 1 finished trial; run the same "
        f"command again to continue the study 'lstmcast' in sqlite:///{tmp_path / 't' / 'study.db'}"
    ]


def test_best_toml_carries_the_best_trials_seed_and_train_reproduces_its_score(
    synthetic_csv, tmp_path, capsys, monkeypatch
):
    import lstmcast.forecaster

    out = tmp_path / "t"
    assert main(_tune_argv(synthetic_csv, out, "--seed", "3")) == 0
    # another process joins the study with its own seed; its trial fails, the best stays seed 3
    real_fit = lstmcast.forecaster.Forecaster.fit

    def diverge(self, data=None, **kwargs):
        raise FloatingPointError("loss became nan")

    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", diverge)
    assert main(_tune_argv(synthetic_csv, out, "--seed", "7")) == 0
    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", real_fit)
    study = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{out / 'study.db'}")
    assert [t.user_attrs.get("seed") for t in study.trials] == [3, 7]
    best = tomllib.loads((out / "best.toml").read_text())
    assert best["seed"] == 3
    # its first lines say which trial and score chose it, and how to use it
    best_trial = study.best_trial
    header = (out / "best.toml").read_text().splitlines()[:2]
    assert re.fullmatch(
        rf"# lstmcast tune: trial {best_trial.number} of study 'lstmcast', the best of 1 "
        rf"finished: validation RMSE ([\d.]+) \(persistence [\d.]+\)",
        header[0],
    ), header
    assert float(re.search(r"RMSE ([\d.]+) \(", header[0])[1]) == pytest.approx(
        study.best_value, rel=1e-3
    )
    assert header[1] == f"# train with: lstmcast train --config {out / 'best.toml'}"
    capsys.readouterr()
    assert main(["train", "--config", str(out / "best.toml"), "--out", str(tmp_path / "m")]) == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if line.startswith("lstm"))
    assert float(row.split()[2]) == pytest.approx(study.best_value, abs=5e-4), printed


def test_a_given_setting_outside_the_search_is_named_not_silently_dropped(
    synthetic_csv, tmp_path, capsys
):
    """--lookback 6 --optimizer sgd with the default search: no trial tried them, and nothing
    said so. A default outside a narrowed search (lookback 24, --search-lookback 12) is quiet."""
    out = tmp_path / "t"
    assert main(_tune_argv(synthetic_csv, out, "--lookback", "6", "--optimizer", "sgd")) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warned == [
        "lstmcast tune: warning: optimizer sgd lies outside the search space, so no trial tries "
        "it (the first trial takes the search's own value): widen it with --search-optimizers, "
        "or use `lstmcast train` for this setting",
        "lstmcast tune: warning: lookback 6 lies outside the search space, so no trial tries it "
        "(the first trial takes the search's own value): widen it with --search-lookback, or "
        "use `lstmcast train` for this setting",
    ]
    assert main(_tune_argv(synthetic_csv, tmp_path / "u")) == 0
    assert "outside the search space" not in capsys.readouterr().err


def test_a_study_run_without_clipping_or_early_stopping_writes_none_in_best_toml(
    synthetic_csv, tmp_path
):
    """best.toml dropped patience = None and clip_norm = None (TOML has no null), so the run it
    suggests clipped and stopped early; they are written "none", which --config reads back."""
    from lstmcast.commands.options import read_toml

    out = tmp_path / "t"
    assert main(_tune_argv(synthetic_csv, out, "--clip-norm", "none", "--patience", "none")) == 0
    best = tomllib.loads((out / "best.toml").read_text())
    assert (best["clip_norm"], best["patience"]) == ("none", "none")
    assert "weight_decay" not in best  # unset: the optimiser's own
    settings = read_toml(str(out / "best.toml"))
    assert settings["clip_norm"] is None and settings["patience"] is None


def test_a_killed_trial_is_reported_and_the_given_configuration_is_scored_on_resume(
    synthetic_csv, tmp_path, capsys, monkeypatch
):
    import lstmcast.forecaster

    real_fit = lstmcast.forecaster.Forecaster.fit

    def killed(self, data=None, **kwargs):  # like kill -9: Optuna never hears of the trial again
        raise SystemExit(137)

    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", killed)
    out = tmp_path / "t"
    with pytest.raises(SystemExit):
        main(_tune_argv(synthetic_csv, out))
    monkeypatch.setattr(lstmcast.forecaster.Forecaster, "fit", real_fit)
    capsys.readouterr()
    assert main(_tune_argv(synthetic_csv, out)) == 0
    err = capsys.readouterr().err.strip()
    assert err == (
        "lstmcast tune: warning: trials still marked running in the study 'lstmcast': 0 (run "
        "by another process now, or left by one that was killed; they are not counted)"
    )
    (_, state0, _, given), (_, state1, _, params1) = _trials(out / "study.db")
    assert state0 == optuna.trial.TrialState.RUNNING
    assert state1 == optuna.trial.TrialState.COMPLETE and params1 == given  # enqueued again
    assert main(_tune_argv(synthetic_csv, out)) == 0  # once scored, it is not enqueued again
    study = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{out / 'study.db'}")
    assert "fixed_params" not in study.trials[2].system_attrs


def test_a_queued_given_trial_is_not_queued_twice(synthetic_csv, tmp_path, monkeypatch):
    # a run stopped between queuing the given settings and starting the trial leaves it waiting:
    # the next run scores that trial instead of queuing a second copy
    out = tmp_path / "t"
    with monkeypatch.context() as m:
        m.setattr(optuna.Study, "optimize", lambda self, *a, **k: None)
        assert main(_tune_argv(synthetic_csv, out)) == 2  # "no trial has finished (waiting)"
    study = optuna.load_study(study_name="lstmcast", storage=f"sqlite:///{out / 'study.db'}")
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.WAITING]
    given = study.trials[0].user_attrs["given"]
    assert main(_tune_argv(synthetic_csv, out)) == 0
    ((_, state, _, params),) = _trials(out / "study.db")
    assert state == optuna.trial.TrialState.COMPLETE and given.items() <= params.items()


def test_a_resumed_study_draws_new_settings(synthetic_csv, tmp_path):
    # the sampler was seeded with --seed alone, so a second run drew the first run's random
    # start-up trials again and trained them twice
    out = tmp_path / "t"
    argv = _tune_argv(synthetic_csv, out)
    argv[argv.index("--trials") + 1] = "3"
    assert main(argv) == 0
    argv[argv.index("--trials") + 1] = "2"
    assert main(argv) == 0
    params = [p for _, _, _, p in _trials(out / "study.db")]
    assert len(params) == 5
    assert params[3] not in params[:3] and params[4] not in params[:3]
    fresh = tmp_path / "fresh"  # a new study with the same seed still draws the same trials
    argv[argv.index("--out") + 1] = str(fresh)
    argv[argv.index("--trials") + 1] = "3"
    assert main(argv) == 0
    assert [p for _, _, _, p in _trials(fresh / "study.db")] == params[:3]


# --- several targets and small scores (audit 14, fixes 2 and 3) ------------------------------


def test_several_targets_are_tuned_relative_to_persistence_not_by_their_pooled_rmse(
    synthetic_csv, tmp_path, capsys
):
    """The pooled RMSE of load (~2) and big (temp in millions) is big's alone: a trial was
    ranked by the target of the largest unit."""
    from lstmcast.forecaster import ForecastConfig, Forecaster
    from lstmcast.tune import SearchSpace, best_config, tune

    frame = pd.read_csv(synthetic_csv)
    frame["big"] = frame["temp"] * 1e6
    data = tmp_path / "two.csv"
    frame.to_csv(data, index=False)
    config = ForecastConfig(data=str(data), time_col="time", target=["load", "big"],
                            features=["load", "temp", "big"], epochs=1, lookback=12,
                            progress=False)  # fmt: skip
    space_args = ["--search-lookback", "12"]
    study = tune(config, n_trials=1, space=SearchSpace(lookback=(12,)))
    trial = study.best_trial
    assert trial.user_attrs["objective"] == (
        "validation RMSE relative to persistence, mean over 2 targets"
    )
    assert trial.user_attrs["persistence_rmse"] == 1.0
    # the same trial again, scored by hand: each target's RMSE over persistence's, averaged
    fc = Forecaster(best_config(config, study)).fit()
    rows = fc.evaluate(split="val", baselines=("persistence",))["results"]
    ours, base = rows[0]["per_target"], next(r for r in rows if r["name"] == "persistence")
    ratios = [o["rmse"] / b["rmse"] for o, b in zip(ours, base["per_target"], strict=True)]
    assert trial.value == pytest.approx(np.mean(ratios), rel=1e-6)
    assert trial.value != pytest.approx(rows[0]["rmse"], rel=1e-3)  # not the pooled RMSE
    # the command says what it minimised, on every line
    argv = ["tune", "--data", str(data), "--time-col", "time", "--target", "load", "big",
            "--features", "load", "temp", "big", "--epochs", "1", "--trials", "1",
            "--out", str(tmp_path / "t"), "--no-progress", *space_args]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^trial 0: validation RMSE relative to persistence, mean over 2 targets "
                     r"\d\.\d{4} \(persistence 1\.0000\)", printed, re.M)  # fmt: skip
    assert re.search(r"^best validation RMSE relative to persistence, mean over 2 targets "
                     r"\d\.\d{4} \(persistence 1\.0000\) with", printed, re.M)  # fmt: skip
    table = pd.read_csv(tmp_path / "t" / "trials.csv")
    assert table["user_attrs_objective"].tolist() == [trial.user_attrs["objective"]]


def test_a_target_left_out_of_the_relative_score_is_not_counted_in_the_objective(
    synthetic_csv, tmp_path
):
    """A constant target is left out of the mean (no ratio to persistence's 0): the objective
    said "mean over 3 targets" while it averaged 2."""
    from lstmcast.forecaster import ForecastConfig
    from lstmcast.tune import SearchSpace, tune

    frame = pd.read_csv(synthetic_csv).assign(flat=5.0)
    frame.to_csv(tmp_path / "three.csv", index=False)
    config = ForecastConfig(data=str(tmp_path / "three.csv"), time_col="time",
                            target=["load", "temp", "flat"], epochs=1, lookback=12,
                            progress=False)  # fmt: skip
    with pytest.warns(UserWarning, match="'flat'"):
        trial = tune(config, n_trials=1, space=SearchSpace(lookback=(12,))).best_trial
    assert trial.user_attrs["left_out"] == ["flat"]
    assert trial.user_attrs["objective"] == (
        "validation RMSE relative to persistence, mean over 2 targets"
    )


def test_a_target_persistence_forecasts_exactly_is_left_out_of_the_relative_score():
    from lstmcast.errors import DataError
    from lstmcast.tune import relative_rmse

    model = [{"target": "a", "rmse": 0.5}, {"target": "flat", "rmse": 0.1},
             {"target": "b", "rmse": 3.0}]  # fmt: skip
    base = [{"target": "a", "rmse": 1.0}, {"target": "flat", "rmse": 0.0},
            {"target": "b", "rmse": 2.0}]  # fmt: skip
    assert relative_rmse(model, base) == (pytest.approx((0.5 + 1.5) / 2), ["flat"])
    base[0]["rmse"], base[2]["rmse"] = float("nan"), 0.0
    message = (
        r"^persistence's validation RMSE is 0 or not finite on every target \(a, flat, b\), so "
        r"no trial can be scored relative to it: tune on targets that vary over the validation "
        r"split \(--target\)$"
    )
    with pytest.raises(DataError, match=message):
        relative_rmse(model, base)


def test_trial_lines_show_enough_figures_to_tell_small_scores_apart():
    """A returns target read 'validation RMSE 0.012 (persistence 0.012)' on every trial."""
    from lstmcast.commands.tune import trial_line

    study = optuna.create_study(direction="minimize")
    params = {"layers": 1, "units_l0": 16, "dropout": 0.0, "optimizer": "adam",
              "learning_rate": 1e-3, "batch_size": 32, "lookback": 12}  # fmt: skip
    dists = {"layers": optuna.distributions.IntDistribution(1, 3),
             "units_l0": optuna.distributions.IntDistribution(16, 128),
             "dropout": optuna.distributions.FloatDistribution(0, 0.4),
             "optimizer": optuna.distributions.CategoricalDistribution(["adam"]),
             "learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2),
             "batch_size": optuna.distributions.CategoricalDistribution([32]),
             "lookback": optuna.distributions.CategoricalDistribution([12])}  # fmt: skip
    for value in (0.012259, 0.012116):
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions=dists, value=value,
            user_attrs={"persistence_rmse": 0.012263, "fit_seconds": 1.0}))  # fmt: skip
    first, second = study.trials
    assert trial_line(study, first).startswith(
        "trial 0: validation RMSE 0.012259 (persistence 0.012263) in 1 s;"
    )  # 0.01226 and 0.01226 at four significant figures: two more decimals tell them apart
    assert trial_line(study, second).startswith(
        "trial 1: validation RMSE 0.01212 (persistence 0.01226) in 1 s;"
    )
    assert trial_line(study, second).endswith("; best so far 0.01212 (trial 1)")
    relative = optuna.trial.create_trial(
        params=params, distributions=dists, value=0.93,
        user_attrs={"persistence_rmse": 1.0, "left_out": ["flat"],
                    "objective": "validation RMSE relative to persistence, mean over 2 targets"},
    )  # fmt: skip
    alone = optuna.create_study(direction="minimize")
    alone.add_trial(relative)
    assert trial_line(alone, alone.trials[0]).startswith(
        "trial 0: validation RMSE relative to persistence, mean over 2 targets 0.9300 "
        "(persistence 1.0000) (flat left out: persistence's RMSE is 0 or not finite there)"
    )
