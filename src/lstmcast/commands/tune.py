"""``lstmcast tune``: an Optuna search over the network and training settings."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lstmcast.cli import INTERRUPTED, command, stopped_by
from lstmcast.commands.options import add_config_options, config_from_args
from lstmcast.commands.output import check_output
from lstmcast.config import OPTIMIZERS, switchable_settings
from lstmcast.errors import TrainingDivergedError, warn

if TYPE_CHECKING:
    import optuna


def _tune_parser(sub):
    p = sub.add_parser(
        "tune",
        help="search units, layers, dropout, optimiser, learning rate, batch size and lookback",
        description="Run Optuna trials that each fit a forecaster and score it on the validation "
        "split (the test split is never read). The study is stored in a database, so running "
        "the command again with the same data and settings resumes it (other data, settings or "
        "search ranges are refused), and several machines can share one study URL.",
        epilog="Example: lstmcast tune --data beijing-pm25 --trials 30 --epochs 20 "
        "--storage sqlite:///runs/tune.db",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--trials", type=int, default=20, help="trials to run in this call")
    p.add_argument(
        "--storage",
        default=argparse.SUPPRESS,  # the help says the real default, which depends on --out
        help="Optuna database URL (default: sqlite:///OUT/study.db)",
    )
    p.add_argument("--study-name", default="lstmcast", help="study to create or resume")
    p.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS,  # no "(default: None)" in the help
        help="stop starting trials after this many seconds (> 0; default: no limit)",
    )
    p.add_argument("--out", default="runs/tune", help="folder for the study and best.toml")
    p.add_argument(
        "--search-lookback",
        type=int,
        nargs="+",
        default=[12, 24, 48],
        metavar="STEPS",
        help="lookbacks to choose from (one value fixes it)",
    )
    p.add_argument(
        "--search-optimizers",
        nargs="+",
        default=["adam", "adamw", "rmsprop"],
        choices=list(OPTIMIZERS),
        metavar="NAME",
        help=f"optimisers to choose from, of {', '.join(OPTIMIZERS)} (one value fixes it)",
    )
    add_config_options(p)
    return p


@command("tune", _tune_parser)
def tune(args: argparse.Namespace) -> int:
    from lstmcast.tune import SearchSpace
    from lstmcast.tune import tune as run_tune

    base = config_from_args(args)
    check_output(args.out, "--out")  # before the search, not after an hour of it
    out = Path(args.out)
    storage = getattr(args, "storage", None)
    if not storage:  # the study beside best.toml; otherwise OUT is made once trials ran
        out.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{out / 'study.db'}"
    ours: list[bool] = []  # whether each trial of this call finished
    started: list[int] = []  # the numbers in the study of the trials this call started
    live: dict = {}  # the study object itself: an in-memory study cannot be opened again
    show = sys.stderr.isatty() if base.progress is None else base.progress

    def on_start(trial) -> None:
        started.append(trial.number)
        live["study"] = trial.study
        if show:  # where the search is: the epoch bar below it says nothing of that
            print(
                f"lstmcast tune: trial {len(started)} of {args.trials} (number {trial.number} "
                "in the study)...",
                file=sys.stderr,
                flush=True,
            )

    def on_trial(study, trial) -> None:
        ours.append(trial.value is not None)
        print(trial_line(study, trial), flush=True)

    try:
        study = run_tune(
            base,
            n_trials=args.trials,
            storage=storage,
            study_name=args.study_name,
            timeout=getattr(args, "timeout", None),
            space=SearchSpace(
                lookback=tuple(args.search_lookback), optimizer=tuple(args.search_optimizers)
            ),
            on_trial=on_trial,
            on_start=on_start,
        )
    except KeyboardInterrupt:  # the trials that finished still make the best settings
        study = live.get("study") or _stored(storage, args.study_name)
        if study is not None and any(t.value is not None for t in study.trials):
            _write_results(study, base, out, storage, args.study_name)
        if study is None or not started:
            raise  # no trial of this call to tell of: main says "interrupted"
        print(
            f"lstmcast tune: {stopped_by()}: {_resume_hint(study, started[-1], out, storage)}",
            file=sys.stderr,
        )
        return INTERRUPTED
    if ours and not any(ours) and any(t.value is not None for t in study.trials):
        warn(
            f"none of this call's {len(ours)} trials finished (see the lines above); the best "
            "settings below come from the study's other trials"
        )
    _write_results(study, base, out, storage, args.study_name)
    return 0


def _resume_hint(study: optuna.Study, last: int, out: Path, storage: str) -> str:
    """What a stopped search left, trial ``last`` the last this call started, and how to go on:
    "trial 3 is recorded as failed; runs/tune/best.toml holds the best of the 3 finished
    trials; run the same command again to continue the study 'lstmcast' in sqlite:///..."."""
    from optuna.trial import TrialState

    from lstmcast.tune import in_memory

    state = next((t.state for t in study.trials if t.number == last), None)
    parts = {
        TrialState.FAIL: [f"trial {last} is recorded as failed"],
        TrialState.RUNNING: [f"trial {last} is left marked running"],
    }.get(state, [])
    done = sum(t.value is not None for t in study.trials)
    parts.append(
        f"{out / 'best.toml'} holds the best of the {done} finished trial{'s' * (done != 1)}"
        if done
        else "no trial has finished, so no best settings are written"
    )
    parts.append(
        f"the study lived in memory ({storage}) and is gone"
        if in_memory(storage)
        else f"run the same command again to continue the study {study.study_name!r} in {storage}"
    )
    return "; ".join(parts)


def _stored(storage: str, name: str) -> optuna.Study | None:
    """The study as its database holds it now; None for one that lived in memory."""
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=storage)
    except Exception:  # noqa: BLE001 - an in-memory or unreachable study: nothing to write
        return None


def _write_results(study: optuna.Study, base, out: Path, storage: str, name: str) -> None:
    """best.toml, trials.csv and trials.png from the study's finished trials, and where."""
    import tomli_w

    from lstmcast.data.download import write_atomic
    from lstmcast.report import figures
    from lstmcast.tune import best_config

    done = [t for t in study.trials if t.value is not None]
    if not done:
        states = sorted({t.state.name.lower() for t in study.trials})
        raise TrainingDivergedError(
            f"no trial of the study {name!r} in {storage} has finished (trials: "
            f"{', '.join(states) or 'none'}): run more --trials, or fix what made them fail"
        )
    best = study.best_trial
    out.mkdir(parents=True, exist_ok=True)
    print(f"study {name!r} in {storage}: {len(done)} finished trials")
    persistence = best.user_attrs.get("persistence_rmse", float("nan"))
    d = _decimals([best.value, persistence])
    print(f"best {_score(best.value, persistence, best, d)} with {best.params}")
    switched = switchable_settings()  # None there is "off", written as TOML has no null
    settings = {
        k: "none" if v is None else v
        for k, v in dataclasses.asdict(best_config(base, study)).items()
        if v is not None or k in switched
    }
    objective = best.user_attrs.get("objective", "validation RMSE")
    header = (
        f"# lstmcast tune: trial {best.number} of study {name!r}, the best of {len(done)} "
        f"finished: {_score(best.value, persistence, best, d)}\n"
        f"# train with: lstmcast train --config {out / 'best.toml'}\n"
    )
    write_atomic(out / "best.toml", (header + tomli_w.dumps(settings)).encode())
    write_atomic(out / "trials.csv", study.trials_dataframe().to_csv(index=False).encode())
    fig = figures.trial_history(
        [t.number for t in done],
        [t.value for t in done],
        best.user_attrs.get("persistence_rmse"),
        objective,
    )
    if fig is not None:
        write_atomic(out / "trials.png", figures.png_bytes(fig))
    print(
        f"best settings: {out / 'best.toml'} (train with: lstmcast train --config "
        f"{out / 'best.toml'}); every trial: {out / 'trials.csv'}, {out / 'trials.png'}"
    )


def trial_line(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> str:
    """One line on a finished trial: its score and settings, and the best so far."""
    if trial.value is None:
        because = trial.user_attrs.get("failed_because")
        if because is not None:
            return f"trial {trial.number}: {because}; recorded as failed"
        return f"trial {trial.number}: {trial.state.name.lower()}"
    p = trial.params
    units = "/".join(str(p[f"units_l{k}"]) for k in range(p["layers"]))
    settings = (
        f"units {units}, dropout {p['dropout']:.2f}, {p.get('optimizer', 'adam')}, "
        f"lr {p['learning_rate']:.1e}, batch {p['batch_size']}, lookback {p['lookback']}"
    )
    persistence = trial.user_attrs.get("persistence_rmse")
    seconds = trial.user_attrs.get("fit_seconds")
    best = study.best_trial
    d = _decimals([trial.value, best.value, persistence])
    text = f"trial {trial.number}: {_score(trial.value, persistence, trial, d)}"
    text += f" in {seconds:.0f} s" if seconds is not None else ""
    return f"{text}; {settings}; best so far {best.value:.{d}f} (trial {best.number})"


def _score(value: float, persistence: float | None, trial, d: int) -> str:
    """ "validation RMSE 0.01226 (persistence 0.01226)" at ``d`` decimals, or with several
    targets "validation RMSE relative to persistence, mean over 5 targets 0.9312 (persistence
    1.0000)"."""
    text = f"{trial.user_attrs.get('objective', 'validation RMSE')} {value:.{d}f}"
    text += f" (persistence {persistence:.{d}f})" if persistence is not None else ""
    if left_out := trial.user_attrs.get("left_out"):
        text += f" ({', '.join(left_out)} left out: persistence's RMSE is 0 or not finite there)"
    return text


def _decimals(values: list) -> int:
    """The evaluate tables' decimals (four significant figures of the smallest value), with up
    to three more while two different values would still print alike."""
    from lstmcast.evaluation.display import decimals

    finite = {v for v in values if isinstance(v, int | float) and math.isfinite(v)}
    d = decimals(list(finite))
    for _ in range(3):
        if len({f"{v:.{d}f}" for v in finite}) == len(finite):
            break
        d += 1
    return d
