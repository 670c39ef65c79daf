"""Hyperparameter search with Optuna, scored on the validation split only.

The search space covers units, layers, dropout, optimiser, learning rate, batch size and lookback.
A study
lives in SQLite by default, or in any database URL Optuna accepts, so a search can be resumed, and
several machines can run trials of one study at once by pointing at the same database.

Example:
    >>> from lstmcast.tune import tune
    >>> study = tune(ForecastConfig(epochs=20), n_trials=30,
    ...              storage="sqlite:///runs/tune.db")               # doctest: +SKIP
    >>> best_config(ForecastConfig(), study)                          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import optuna

from lstmcast.errors import ConfigError
from lstmcast.forecaster import ForecastConfig, Forecaster


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
) -> optuna.Study:
    """Run ``n_trials`` more trials of the study ``study_name`` (created or resumed).

    Each trial fits a Forecaster on the training split and returns its validation RMSE in the
    data's units; the test split is never read. ``on_trial(study, trial)`` is called after each
    trial ends (the CLI prints a line per trial with it).
    """
    if n_trials < 1:
        raise ConfigError(f"trials must be a positive integer, got {n_trials}")
    space = space or SearchSpace()
    table = Forecaster(config).read(None)  # read once, shared by every trial
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(
            study_name=study_name,
            storage=storage,
            direction="minimize",
            load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=config.seed),
        )
    except (ValueError, ImportError) as err:
        raise ConfigError(
            f"cannot open the study storage {storage!r} ({err}): pass a database "
            "URL such as sqlite:///runs/tune.db"
        ) from None

    if not study.trials:  # the first trial is the given configuration, where it fits the space
        study.enqueue_trial(_params_of(config, space), skip_if_exists=True)

    def objective(trial: optuna.Trial) -> float:
        cfg = suggest(trial, config, space)
        start = time.perf_counter()
        fc = Forecaster(cfg).fit(table)
        trial.set_user_attr("fit_seconds", round(time.perf_counter() - start, 1))
        val = fc.evaluate(split="val")["results"]
        rmse, persistence = (
            val[0]["rmse"],
            next(r["rmse"] for r in val if r["name"] == "persistence"),
        )
        trial.set_user_attr("persistence_rmse", persistence)
        trial.set_user_attr("epochs_run", len(fc.history_.train_loss))
        return rmse if math.isfinite(rmse) else float("inf")

    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout,
        catch=(FloatingPointError,),
        callbacks=[on_trial] if on_trial else None,
    )
    return study


def _params_of(config: ForecastConfig, space: SearchSpace) -> dict:
    """``config``'s values of the searched parameters; those outside the space are left out."""
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
    return {name: value for name, (value, ok) in inside.items() if ok}


def best_config(base: ForecastConfig, study: optuna.Study) -> ForecastConfig:
    """``base`` with the best trial's parameters: what ``--config`` should be given next."""
    p = study.best_trial.params
    return base.replace(
        units=[p[f"units_l{k}"] for k in range(p["layers"])],
        preset=None,
        dropout=p["dropout"],
        optimizer=p.get("optimizer", base.optimizer),  # studies begun before it was searched
        learning_rate=p["learning_rate"],
        batch_size=p["batch_size"],
        lookback=p["lookback"],
    )
