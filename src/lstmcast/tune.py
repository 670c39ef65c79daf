"""Hyperparameter search with Optuna, scored on the validation split only.

The search space covers units, layers, dropout, optimiser, learning rate, batch size and lookback.
A study lives in SQLite by default, or in any database URL Optuna accepts, so a search can be
resumed, and several machines can run trials of one study at once by pointing at the same
database. A study records what its trials must share (the data, its split and columns, the fixed
settings and the search space) and refuses to be resumed with anything else.

Example:
    >>> from lstmcast.tune import tune
    >>> study = tune(ForecastConfig(epochs=20), n_trials=30,
    ...              storage="sqlite:///runs/tune.db")               # doctest: +SKIP
    >>> best_config(ForecastConfig(), study)                          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Callable

import numpy as np
import optuna
import sqlalchemy.exc
from optuna.trial import TrialState

from lstmcast.config import OPTIMIZERS, flag_for
from lstmcast.data import Table
from lstmcast.errors import ConfigError, DataError, caller_reports_interruption, warn
from lstmcast.forecaster import ForecastConfig, Forecaster

# Settings a trial chooses itself, or that may differ between the machines sharing a study
# (the seed, so that their samplers draw different trials); every other setting must match.
_SEARCHED = ("preset", "units", "dropout", "optimizer", "learning_rate", "batch_size", "lookback")
_FREE = ("progress", "seed")
DRIVER_PACKAGES = {"MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary"}  # module: package
STORAGE_ATTEMPTS = 5  # opens of a new study's database while other processes create it
# Replaced in the fingerprint by what they resolve to: the data's content, the targets and
# inputs, and the first and last timestamps of the training and validation rows.
_RESOLVED = ("data", "target", "features", "train_end", "val_end", "train_fraction", "val_fraction")


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """The ranges a study samples from; every field a plain range or a list of choices."""

    max_layers: int = 3  # layers: 1 .. max_layers
    units: tuple[int, int] = (16, 128)  # width of each layer, sampled on a log scale
    dropout: tuple[float, float] = (0.0, 0.4)  # dropout between layers and before the head
    optimizer: tuple[str, ...] = ("adam", "adamw", "rmsprop")  # add "sgd" to try it too
    learning_rate: tuple[float, float] = (1e-4, 1e-2)  # the optimiser's step size, log scale
    batch_size: tuple[int, ...] = (32, 64, 128, 256)  # windows per step
    lookback: tuple[int, ...] = (12, 24, 48)  # hours (steps) of history per window

    def __post_init__(self) -> None:
        _check_choices("lookback", self.lookback, "--search-lookback 12 24 48")
        _check_choices("batch_size", self.batch_size, "SearchSpace(batch_size=(32, 64))")
        bad_optimizers = [o for o in self.optimizer if o not in OPTIMIZERS]
        if not self.optimizer or bad_optimizers:
            raise ConfigError(
                f"search optimizer must be among {', '.join(OPTIMIZERS)}, got "
                f"{list(self.optimizer)}: e.g. --search-optimizers adam rmsprop"
            )
        if not _is_count(self.max_layers):
            raise ConfigError(
                f"search max_layers must be a positive integer, got {self.max_layers!r}"
            )
        lo, hi = self.units
        if not (_is_count(lo) and _is_count(hi) and lo <= hi):
            raise ConfigError(
                f"search units must be positive integers low <= high, got {self.units}"
            )
        lo, hi = self.dropout
        if not 0 <= lo <= hi < 1:
            raise ConfigError(f"search dropout must be 0 <= low <= high < 1, got {self.dropout}")
        lo, hi = self.learning_rate
        if not 0 < lo <= hi:
            raise ConfigError(
                f"search learning_rate must be 0 < low <= high, got {self.learning_rate}"
            )


def _is_count(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 1


def _check_choices(name: str, values, example: str) -> None:
    """Refuse an empty list of choices, or one that holds anything but positive integers."""
    if not values or not all(_is_count(v) for v in values):
        raise ConfigError(
            f"search {name} must be positive integers, got {list(values)}: e.g. {example}"
        )


def suggest(trial: optuna.Trial, base: ForecastConfig, space: SearchSpace) -> ForecastConfig:
    """The configuration ``trial`` asks for: ``base`` with the searched fields replaced."""
    layers = trial.suggest_int("layers", 1, space.max_layers)
    units = [trial.suggest_int(f"units_l{k}", *space.units, log=True) for k in range(layers)]
    return base.replace(
        units=units,
        preset=None,
        dropout=trial.suggest_float("dropout", *space.dropout),
        optimizer=trial.suggest_categorical("optimizer", list(space.optimizer)),
        learning_rate=trial.suggest_float("learning_rate", *space.learning_rate, log=True),
        batch_size=trial.suggest_categorical("batch_size", list(space.batch_size)),
        lookback=trial.suggest_categorical("lookback", list(space.lookback)),
    )


def tune(
    config: ForecastConfig,
    *,
    n_trials: int = 20,
    storage: str | None = None,
    study_name: str = "lstmcast",
    timeout: float | None = None,
    space: SearchSpace | None = None,
    on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
    on_start: Callable[[optuna.Trial], None] | None = None,
) -> optuna.Study:
    """Run ``n_trials`` more trials of the study ``study_name`` (created or resumed).

    Each trial fits a Forecaster on the training split and returns its validation RMSE in the
    data's units; with several targets, the mean over targets of its validation RMSE relative
    to persistence's (see ``relative_rmse``), since their pooled RMSE would be the RMSE of the
    target with the largest unit. The test split is never read. ``on_start(trial)`` is called
    as each trial starts, and ``on_trial(study, trial)`` after each trial ends (the CLI prints
    a line per trial with it); a trial stopped by Ctrl-C is recorded as failed, and the
    KeyboardInterrupt goes on to the caller.
    """
    if n_trials < 1:
        raise ConfigError(f"trials must be a positive integer, got {n_trials}")
    if timeout is not None and not timeout > 0:  # 0, negative or NaN would run no trial at all
        raise ConfigError(
            f"timeout must be a positive number of seconds, got {timeout}: e.g. --timeout 3600, "
            "or leave it out to run every trial"
        )
    space = space or SearchSpace()
    table = Forecaster(config).read(None)  # read once, shared by every trial
    fingerprint = _fingerprint(config, table, space)  # also checks every lookback fits the data
    # Optuna logs each study opened (INFO) and each failed trial with a traceback (WARNING);
    # on_trial says what matters in a line
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        study_name=study_name,
        storage=_open_storage(storage),
        direction="minimize",
        load_if_exists=True,
    )
    # a resumed study seeds its sampler with the trials it holds too: the same seed alone
    # drew the earlier trials' settings again (TPE's first trials are random)
    held = len(study.trials)
    seed = (
        config.seed
        if held == 0
        else int(np.random.SeedSequence([config.seed, held]).generate_state(1)[0])
    )
    study.sampler = optuna.samplers.TPESampler(seed=seed)
    _check_fingerprint(study, fingerprint, table.name, storage)

    _warn_running(study)
    # the first trial is the given configuration, where it fits the space; a resumed study
    # queues it again until it is scored (its trial may have been interrupted or killed)
    given = _params_of(config, space)
    _warn_outside(config, space)
    if not any(_scores(trial, given) for trial in study.trials):
        study.enqueue_trial(given, user_attrs={"given": given})

    def objective(trial: optuna.Trial) -> float:
        cfg = suggest(trial, config, space)
        trial.set_user_attr("seed", cfg.seed)  # processes sharing a study may differ in it
        if on_start is not None:
            on_start(trial)
        try:
            with caller_reports_interruption():  # stopped below, and said by the caller
                fc = Forecaster(cfg).fit(table)
        except FloatingPointError as err:  # TrainingDivergedError: the study goes on
            trial.set_user_attr("failed_because", getattr(err, "summary", str(err)))
            raise
        if fc.history_.interrupted:  # training stops at Ctrl-C and returns: stop the study too
            raise KeyboardInterrupt  # Optuna records the trial as failed, then re-raises it
        # the fit's own clock: not the process's start-up (the engine's first build, ~40 s)
        trial.set_user_attr("fit_seconds", round(fc.fit_seconds_, 1))
        val = fc.evaluate(split="val", baselines=("persistence",))["results"]
        persistence = next(r for r in val if r["name"] == "persistence")
        trial.set_user_attr("epochs_run", len(fc.history_.train_loss))
        if "per_target" in val[0]:  # several targets: their pooled RMSE mixes units
            rmse, left_out = relative_rmse(val[0]["per_target"], persistence["per_target"])
            scored = len(val[0]["per_target"]) - len(left_out)  # the targets it averages
            trial.set_user_attr("objective", objective_name(scored))
            trial.set_user_attr("persistence_rmse", 1.0)  # persistence's score on this scale
            if left_out:
                trial.set_user_attr("left_out", left_out)
        else:
            rmse = val[0]["rmse"]
            trial.set_user_attr("persistence_rmse", persistence["rmse"])
        return rmse if math.isfinite(rmse) else float("inf")

    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout,
        catch=(FloatingPointError,),
        callbacks=[on_trial] if on_trial else None,
    )
    return study


def objective_name(n_targets: int) -> str:
    """What a study with several targets minimises, in words (trial lines, trials.csv)."""
    return f"validation RMSE relative to persistence, mean over {n_targets} targets"


def relative_rmse(model: list[dict], persistence: list[dict]) -> tuple[float, list[str]]:
    """The mean over targets of the model's RMSE over persistence's on the same windows
    (persistence scores 1.0), and the targets left out: those on which persistence's RMSE is 0
    or not finite, so that no ratio exists (a target constant over the validation split).

    Raises:
        DataError: no target is left to score.

    Example:
        >>> relative_rmse([{"target": "a", "rmse": 0.9}, {"target": "b", "rmse": 3.0}],
        ...               [{"target": "a", "rmse": 1.0}, {"target": "b", "rmse": 2.0}])
        (1.2, [])
    """
    ratios, left_out = [], []
    for ours, base in zip(model, persistence, strict=True):
        if math.isfinite(base["rmse"]) and base["rmse"] > 0:
            ratios.append(ours["rmse"] / base["rmse"])
        else:
            left_out.append(ours["target"])
    if not ratios:
        raise DataError(
            f"persistence's validation RMSE is 0 or not finite on every target "
            f"({', '.join(left_out)}), so no trial can be scored relative to it: tune on "
            "targets that vary over the validation split (--target)"
        )
    return float(np.mean(ratios)), left_out


def _scores(trial: optuna.trial.FrozenTrial, params: dict) -> bool:
    """Whether ``trial`` scored ``params``, waits to, or showed that they diverge."""
    done = trial.state in (TrialState.COMPLETE, TrialState.WAITING) or (
        trial.state == TrialState.FAIL and "failed_because" in trial.user_attrs
    )
    given = trial.params or trial.user_attrs.get("given", {})  # a waiting trial has no params yet
    return done and all(name in given and given[name] == v for name, v in params.items())


def _warn_running(study: optuna.Study) -> None:
    """Say in a line which trials are marked running: live elsewhere, or killed (kill -9)."""
    running = [str(t.number) for t in study.trials if t.state == TrialState.RUNNING]
    if running:
        warn(
            f"trials still marked running in the study {study.study_name!r}: "
            f"{', '.join(running)} (run by another process now, or left by one that was "
            "killed; they are not counted)",
        )


def in_memory(url: str | None) -> bool:
    """Whether the study storage ``url`` lives in memory (None, ``sqlite:///:memory:``): it ends
    with the process, so it can be neither resumed nor shared."""
    return url is None or (
        url.startswith("sqlite") and (url.endswith(":memory:") or url.rstrip("/") == "sqlite:")
    )


def _open_storage(url: str | None) -> optuna.storages.BaseStorage | None:
    """The database at ``url`` (None: in memory), or a ConfigError saying why it cannot open."""
    if url is None:
        return None
    if in_memory(url):
        warn(
            f"the study storage {url!r} lives in memory: it ends with this call, so it can be "
            "neither resumed nor shared; pass a file (e.g. sqlite:///runs/tune.db) to keep it"
        )
    fix = "check the URL (e.g. sqlite:///runs/tune.db) and that the folder of a SQLite file exists"
    for attempt in range(STORAGE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url)
        except sqlalchemy.exc.DatabaseError as err:  # also "file is not a database"
            # processes starting one new study together race to create its tables: the
            # loser finds them made ("already exists", a UNIQUE constraint) and opens again
            racing = "already exists" in str(err.orig) or isinstance(
                err, sqlalchemy.exc.IntegrityError
            )
            if racing and attempt + 1 < STORAGE_ATTEMPTS:
                time.sleep(0.2 * (attempt + 1))
                continue
            reason = f"the database cannot be opened ({err.orig})"
        except sqlalchemy.exc.ArgumentError as err:  # NoSuchModuleError too: unknown dialect
            reason = f"not a database URL Optuna knows ({str(err).splitlines()[0]})"
        except ImportError as err:  # the URL names a driver that is not installed
            missing = getattr(err.__cause__, "name", None) or str(err)
            package = DRIVER_PACKAGES.get(missing, missing)
            reason = f"its database driver {missing!r} is not installed"
            fix = (
                f"install the package that provides it (pip install {package}?), or use sqlite:///"
            )
        break
    raise ConfigError(f"cannot open the study storage {url!r}: {reason}; {fix}")


def _check_data(config: ForecastConfig, table: Table, space: SearchSpace):
    """Refuse, before any trial, data that every trial would fail on; the targets, inputs and
    split the trials will use."""
    forecaster = Forecaster(config)
    targets, inputs, split = forecaster.plan(table, lookback=min(space.lookback))
    longest, horizon, train_rows = max(space.lookback), config.horizon, split.sizes()["train"]
    if train_rows < longest + horizon:
        raise DataError(
            f"search lookback {longest} is too long for {table.name}: its training split holds "
            f"{train_rows} rows and lookback {longest} + horizon {horizon} needs "
            f"{longest + horizon}: search lookbacks of at most {train_rows - horizon} "
            "(--search-lookback)"
        )
    # the validation and test splits need horizon rows whatever the lookback: plan checked them
    return targets, inputs, split


def _fingerprint(config: ForecastConfig, table: Table, space: SearchSpace) -> dict:
    """What every trial of one study must share, as the JSON the study stores it in."""
    targets, inputs, split = _check_data(config, table, space)
    digest = hashlib.sha256(json.dumps(table.columns).encode())
    for part in (table.frame.index, table.frame, table.observed):
        digest.update(np.ascontiguousarray(part.to_numpy()).tobytes())
    index = table.frame.index
    skip = _SEARCHED + _FREE + _RESOLVED
    fingerprint = {k: v for k, v in dataclasses.asdict(config).items() if k not in skip}
    fingerprint |= {
        "data": digest.hexdigest(),
        "targets": targets,
        "inputs": inputs,
        "training rows": f"{index[split.train][0]} .. {index[split.train][-1]}",
        "validation rows": f"{index[split.val][0]} .. {index[split.val][-1]}",
    }
    if len(targets) > 1:  # studies made before scored several targets by their pooled RMSE
        fingerprint["objective"] = objective_name(len(targets))
    fingerprint |= {f"search {k}": v for k, v in dataclasses.asdict(space).items()}
    return json.loads(json.dumps(fingerprint))  # tuples as lists, as the study gives them back


def _check_fingerprint(study: optuna.Study, now: dict, data_name: str, storage) -> None:
    """Stamp a new study with ``now``; refuse to resume one whose trials were run otherwise."""
    saved = study.user_attrs.get("fingerprint")
    where = f"the study {study.study_name!r} in {storage}"
    if saved is None:
        if study.trials:
            raise ConfigError(
                f"{where} holds trials but no record of the data and settings they were run "
                "with (made by an older lstmcast): pass a new --out or --study-name to start a "
                "study that can be resumed safely"
            )
        study.set_user_attr("fingerprint", now)
        study.set_user_attr("data_name", data_name)
        return
    changed = sorted(k for k in saved.keys() | now.keys() if saved.get(k) != now.get(k))
    if not changed:
        return
    was = "; ".join(
        f"data: {study.user_attrs.get('data_name')} (sha256 {str(saved.get(k))[:12]}) there, "
        f"{data_name} (sha256 {now[k][:12]}) now"
        if k == "data"
        else f"{k}: {saved.get(k)!r} there, {now.get(k)!r} now"
        for k in changed
    )
    # settings a flag gives back: not "data" (the table's digest here; its name is above)
    flags = [flag_for(k, saved[k]) for k in changed if k in _SETTINGS - {"data"} and k in saved]
    flags = [f for f in flags if f]
    raise ConfigError(
        f"{where} was run with other data or settings ({was}): pass a new --out or "
        "--study-name to start another study, or rerun with the study's data and settings"
        + (f" ({' '.join(flags)})" if flags else "")
    )


_SETTINGS = {f.name for f in dataclasses.fields(ForecastConfig)}


def _params_of(config: ForecastConfig, space: SearchSpace) -> dict:
    """``config``'s values of the searched parameters; those outside the space are left out."""
    return {name: value for name, (value, ok) in _placed(config, space).items() if ok}


def _warn_outside(config: ForecastConfig, space: SearchSpace) -> None:
    """A warning for each setting given (not a default) that the search cannot try: it lies
    outside the space, so the first trial (the given configuration) goes without it."""
    defaults = {k: v for k, (v, _) in _placed(ForecastConfig(), space).items()}
    outside = [(k, v) for k, (v, ok) in _placed(config, space).items()
               if not ok and defaults.get(k) != v]  # fmt: skip
    for name, value in outside:
        label = "units" if name.startswith("units_l") else name
        widen = {"lookback": "--search-lookback", "optimizer": "--search-optimizers"}.get(
            name, "SearchSpace(...) from Python"
        )
        warn(
            f"{label} {value} lies outside the search space, so no trial tries it (the first "
            f"trial takes the search's own value): widen it with {widen}, or use "
            "`lstmcast train` for this setting"
        )


def _placed(config: ForecastConfig, space: SearchSpace) -> dict[str, tuple[object, bool]]:
    """Each searched parameter's value in ``config`` and whether the space holds it."""
    inside = {
        "layers": (len(config.units), 1 <= len(config.units) <= space.max_layers),
        "dropout": (config.dropout, space.dropout[0] <= config.dropout <= space.dropout[1]),
        "optimizer": (config.optimizer, config.optimizer in space.optimizer),
        "learning_rate": (
            config.learning_rate,
            space.learning_rate[0] <= config.learning_rate <= space.learning_rate[1],
        ),
        "batch_size": (config.batch_size, config.batch_size in space.batch_size),
        "lookback": (config.lookback, config.lookback in space.lookback),
    }
    for k, u in enumerate(config.units):
        inside[f"units_l{k}"] = (u, space.units[0] <= u <= space.units[1])
    return inside


def best_config(base: ForecastConfig, study: optuna.Study) -> ForecastConfig:
    """``base`` with the best trial's parameters and seed: what ``--config`` should get next."""
    best = study.best_trial
    p = best.params
    return base.replace(
        seed=best.user_attrs.get("seed", base.seed),  # base's for trials that did not record it
        units=[p[f"units_l{k}"] for k in range(p["layers"])],
        preset=None,
        dropout=p["dropout"],
        optimizer=p.get("optimizer", base.optimizer),  # studies begun before it was searched
        learning_rate=p["learning_rate"],
        batch_size=p["batch_size"],
        lookback=p["lookback"],
    )
