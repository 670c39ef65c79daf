"""``lstmcast train | evaluate | predict | compare``: the forecasting commands.

Each is a paragraph: its options (the settings flags of ``commands.options``), a config, one
library call, and the printed result (``commands.output``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import typing
from pathlib import Path

from lstmcast.cli import command, stopped_by
from lstmcast.commands.options import add_config_options, config_from_args
from lstmcast.commands.output import check_output, format_results, public_json, write_json_atomic
from lstmcast.errors import (
    ConfigError,
    LstmcastError,
    ModelFileError,
    caller_reports_interruption,
)

if typing.TYPE_CHECKING:
    pass

DEFAULT_OUT = "runs/model"


# ---------------------------------------------------------------- train
def _train_parser(sub):
    p = sub.add_parser(
        "train",
        help="train an LSTM forecaster and save it",
        description="Train an LSTM on the training split, stop early on the validation split, "
        "and save the model directory.",
        epilog="Example: lstmcast train --data beijing-pm25 --horizon 24 --out runs/pm25",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--out",
        default=argparse.SUPPRESS,
        help=f"model directory to write; while training it holds checkpoint/ (default: "
        f"{DEFAULT_OUT})",
    )
    p.add_argument(
        "--resume",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="continue the stopped or killed run whose --out was DIR, with its settings "
        "(only --epochs and --progress may change; --data may name the same table, moved); "
        "ends with the same weights as an unbroken run",
    )
    add_config_options(p)
    return p


@command("train", _train_parser)
def train(args: argparse.Namespace) -> int:
    from lstmcast.forecaster import Forecaster
    from lstmcast.modelfile import CHECKPOINT_DIR, check_no_interrupted_run, check_replaceable

    resume, out = getattr(args, "resume", None), getattr(args, "out", None)
    if resume and out and Path(out) != Path(resume):
        raise ConfigError("--resume DIR continues the run saved to DIR: drop --out")
    out = Path(resume or out or DEFAULT_OUT)
    if out.is_symlink():  # write through the link (ln -s v3 current): v3 is replaced, not the link
        out = Path(os.path.realpath(out))
    checkpoint = out / CHECKPOINT_DIR
    if checkpoint.is_dir():  # a run still going is not an interrupted one
        os.close(_hold_run(checkpoint, out))
    config = _resume_config(args, checkpoint) if resume else config_from_args(args)
    check_output(str(out), "--out")  # a read-only place: one line with the fix
    check_replaceable(out)  # before training, not after an hour of it
    created = not out.exists()
    if not resume:
        check_no_interrupted_run(out, "a new run")
        # what is left cannot be resumed (a run killed in its first epoch): it is stale
        shutil.rmtree(checkpoint, ignore_errors=True)
        settings = dataclasses.asdict(config)
        if Path(config.data).exists():  # --resume may run from another working directory
            settings["data"] = str(Path(config.data).resolve())
        write_json_atomic(str(checkpoint / "config.json"), settings)
    held = _hold_run(checkpoint, out)  # until the model is saved (or the run stops)
    _status("train", config.progress)(f"reading {config.data} and building the windows...")
    try:
        with caller_reports_interruption():  # said below, with the command that resumes
            fc = Forecaster(config).fit(checkpoint_dir=checkpoint, resume=bool(resume))
    except LstmcastError:
        os.close(held)
        if not resume:  # a run that cannot work leaves nothing behind
            shutil.rmtree(checkpoint, ignore_errors=True)
            if created:
                shutil.rmtree(out, ignore_errors=True)
        raise
    except BaseException:
        os.close(held)
        raise
    h = fc.history_
    if h.interrupted:
        members = len(fc.member_histories_)
        where = f" of network {members} of {fc.config.ensemble}" if fc.config.ensemble > 1 else ""
        print(
            f"lstmcast train: {stopped_by()} after epoch {len(h.train_loss)}{where}; nothing "
            f"saved to {out}: continue with `lstmcast train --resume {out}`",
            file=sys.stderr,
        )
        os.close(held)
        return 130
    try:
        fc.save(out)  # replaces the directory, checkpoint included
    finally:
        os.close(held)
    print(
        f"trained {len(h.train_loss)} epoch{'s' * (len(h.train_loss) != 1)} in "
        f"{fc.fit_seconds_:.1f} s "
        f"(best epoch {h.best_epoch}{', stopped early' if h.stopped_early else ''}); "
        f"saved to {out}"
    )
    scores = fc.evaluate(split="val", baselines=("persistence",))
    print(format_results(scores, " (the rows early stopping watched; `lstmcast evaluate` scores "
                                 "the test split)"))  # fmt: skip
    return 0


def _hold_run(checkpoint: Path, out: Path) -> int:
    """A descriptor of the ``checkpoint`` folder holding an exclusive lock on it: the mark of a
    live run, which the kernel drops whenever the process ends (Ctrl-C, kill -9 alike). A
    ConfigError when another process holds it: that run is not interrupted but going on."""
    fd = os.open(checkpoint, os.O_RDONLY)
    try:
        import fcntl
    except ImportError:  # no flock (Windows): live runs are not told apart
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError(
            f"another process is training into {out} now (it holds {checkpoint}): wait for it "
            "to finish, or choose another --out"
        ) from None
    return fd


def _resume_config(args, checkpoint: Path):
    """The ForecastConfig of the run being resumed, with --epochs, --progress, --data applied."""
    from lstmcast.config import RESUMABLE_CHANGES, ForecastConfig
    from lstmcast.data.sources import check_readable_again

    names = {f.name for f in dataclasses.fields(ForecastConfig)}
    # --data may name the same table elsewhere (moved, or the file a pipe was read from): the
    # checkpoint's fingerprint of the exact windows refuses any other table
    given = sorted(k for k in vars(args) if k in names and k not in (*RESUMABLE_CHANGES, "data"))
    config_file = getattr(args, "config", None)  # --config has no default (no "None" in help)
    if given or config_file:
        negated = given and getattr(args, given[0]) is False  # --no-residual, as typed
        flag = "--config" if config_file else "--" + "no-" * negated + given[0].replace("_", "-")
        raise ConfigError(
            f"--resume takes its settings from {checkpoint}; only --epochs and --progress may "
            f"change (and --data may name the same table), got {flag}"
        )
    try:
        saved = json.loads((checkpoint / "config.json").read_text())
    except FileNotFoundError:
        raise ModelFileError(
            f"no checkpoint in {checkpoint.parent}: nothing to resume; start the run with "
            f"`lstmcast train --out {checkpoint.parent}`"
        ) from None
    except (OSError, ValueError, RecursionError) as err:  # RecursionError: hostile nesting
        raise ModelFileError(
            f"{checkpoint / 'config.json'} is unreadable ({err}): start the run afresh"
        ) from None
    if not isinstance(saved, dict):
        raise ModelFileError(f"{checkpoint / 'config.json'} is not a settings object: start afresh")
    settings = {k: v for k, v in saved.items() if k in names}
    settings.update({k: getattr(args, k) for k in (*RESUMABLE_CHANGES, "data") if hasattr(args, k)})
    if not hasattr(args, "data"):
        check_readable_again(
            str(settings.get("data")),
            "this run",
            f"resume with --data FILE holding the same table: `lstmcast train --resume "
            f"{checkpoint.parent} --data FILE`",
        )
    return ForecastConfig(**settings)


# ---------------------------------------------------------------- evaluate
def _baseline_names(text: str) -> tuple[str, ...]:
    """--baselines: comma-separated names from lstmcast.baselines.BASELINES."""
    from lstmcast.baselines import BASELINES

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in BASELINES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown baseline {unknown[0]!r}: choose from {', '.join(BASELINES)}"
            if unknown
            else f"name at least one baseline from {', '.join(BASELINES)}"
        )
    return names


def _add_baselines_option(p) -> None:
    from lstmcast.baselines import BASELINES
    from lstmcast.baselines import DEFAULT_BASELINES as DEFAULT

    p.add_argument(
        "--baselines",
        type=_baseline_names,
        default=DEFAULT,
        metavar="NAMES",
        help=f"comma-separated, from {', '.join(BASELINES)} (default: {','.join(DEFAULT)}; "
        "persistence is always scored; gbm, gradient-boosted trees, fits one model per "
        "horizon step; mean, each target's training mean, is the reference for a target "
        "that wanders around a level, such as a return)",
    )
    p.add_argument(
        "--baseline-minutes",
        type=_minutes,
        metavar="M",
        help="fit a learning baseline (ridge, var, gbm) only when its fit is estimated to take "
        "at most M minutes; one over is left out with a warning (default: 15; inf: no limit; "
        "the estimate assumes a 2-core machine's speed)",
    )


def _minutes(text: str) -> float:
    """--baseline-minutes: a number of minutes above 0 (inf: no limit)."""
    try:
        minutes = float(text)
    except ValueError:
        minutes = float("nan")
    if not minutes > 0:
        raise argparse.ArgumentTypeError(f"must be a number of minutes above 0, got {text!r}")
    return minutes


def _time_limit(args: argparse.Namespace):
    """The baselines' time limit that --baseline-minutes asks for (budget.time_limit)."""
    from lstmcast.baselines.budget import time_limit

    minutes = args.baseline_minutes
    return time_limit(None if minutes is None else 60 * minutes)


def _evaluate_parser(sub):
    p = sub.add_parser(
        "evaluate",
        help="score a saved model against the baselines",
        description="Score a saved model on a split of its data beside every naive baseline, "
        "on the same windows, in the data's units.",
        epilog="Example: lstmcast evaluate runs/pm25 --split test --json scores.json",
    )
    p.add_argument("model", metavar="DIR", help="model directory written by lstmcast train")
    p.add_argument("--data", help="table or dataset name (default: the one it was trained on)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="name each longer stage on stderr (default: only when stderr is a terminal)",
    )
    _add_baselines_option(p)
    return p


def _status(command: str, progress: bool | None = None):
    """A function that prints a stage of long work to stderr, where progress bars go: on a
    terminal (``progress`` None), always (True) or never (False)."""
    show = sys.stderr.isatty() if progress is None else progress

    def say(message: str) -> None:
        if show:
            print(f"lstmcast {command}: {message}", file=sys.stderr, flush=True)

    return say


@command("evaluate", _evaluate_parser)
def evaluate(args: argparse.Namespace) -> int:
    from lstmcast.modelfile import load

    fc = load(args.model)
    reads = args.data if args.data is not None else getattr(fc, "data_source_", None)
    check_output(args.json, "--json", reads, args.model)
    say = _status("evaluate", args.progress)
    say(f"scoring the model and the baselines on the {args.split} split...")
    with _time_limit(args):
        result = fc.evaluate(args.data, split=args.split, baselines=args.baselines, status=say)
    print(format_results(result))
    if args.json:
        write_json_atomic(args.json, public_json(result))
    return 0


# ---------------------------------------------------------------- predict
def _predict_parser(sub):
    p = sub.add_parser(
        "predict",
        help="forecast the steps after the end of a table",
        description="Forecast the next HORIZON steps after the last row of --data with a saved "
        "model, in the data's units.",
        epilog="Example: lstmcast predict runs/pm25 --data latest.csv --output forecast.csv",
    )
    p.add_argument("model", metavar="DIR", help="model directory written by lstmcast train")
    p.add_argument("--data", required=True, help="table with at least LOOKBACK recent rows")
    p.add_argument("--output", metavar="CSV", help="write here instead of standard output")
    return p


def _csv(forecast, freq: str | None) -> str:
    """The forecast as CSV. At steps under a day every time is written with its time of day:
    pandas writes dates alone when every time is a midnight (one run in 24 of an hourly job)."""
    import pandas as pd

    from lstmcast.data.checks import fixed_step, frequency_offset

    step = fixed_step(frequency_offset(freq))
    if (
        isinstance(forecast.index, pd.DatetimeIndex)
        and step is not None
        and step < pd.Timedelta("1D")
    ):
        times = [t.isoformat(sep=" ") for t in forecast.index]
        forecast = forecast.set_axis(pd.Index(times, name=forecast.index.name))
    return forecast.to_csv()


@command("predict", _predict_parser)
def predict(args: argparse.Namespace) -> int:
    from lstmcast.modelfile import load

    check_output(args.output, "--output", args.data, args.model)
    if not args.output and sys.stdout is None:
        raise ConfigError("standard output is closed, so the forecast would be lost: pass --output")
    fc = load(args.model)
    forecast = fc.predict(args.data)
    text = _csv(forecast, fc.freq_)
    if args.output:
        from lstmcast.data.download import write_atomic

        target = write_atomic(Path(args.output), text.encode(), parents=False)
        print(f"wrote {len(forecast)} forecast rows to {target}", file=sys.stderr)
        return 0
    encoding = sys.stdout.encoding or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError as err:
        raise ConfigError(
            f"standard output uses the {encoding} encoding, which cannot write "
            f"{err.object[err.start : err.end]!r} of the forecast: set PYTHONIOENCODING=utf-8, or "
            "pass --output FILE"
        ) from None
    sys.stdout.write(text)
    return 0


# ---------------------------------------------------------------- compare
def _compare_parser(sub):
    p = sub.add_parser(
        "compare",
        help="univariate vs multivariate LSTM vs baselines, with a report",
        description="Fit a univariate LSTM (the target alone; with several targets, one per "
        "target) and a multivariate LSTM (every input) with the same settings, score both "
        "beside every baseline on the same test windows, and write an HTML and Markdown report.",
        epilog="Example: lstmcast compare --data beijing-pm25 --horizon 24 --out reports/pm25",
    )
    p.add_argument("--out", default="reports/compare", help="report directory")
    p.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        metavar="N",
        help="train both LSTMs from N seeds (--seed, then spaced by --ensemble so that no "
        "network's seed repeats) and report each one's "
        "RMSE range: can the seed alone change which wins? (N times the training time)",
    )
    _add_baselines_option(p)
    add_config_options(p)
    return p


@command("compare", _compare_parser)
def compare(args: argparse.Namespace) -> int:
    from lstmcast.compare import compare as run_compare
    from lstmcast.report import seed_note, verdict, write_report

    config = config_from_args(args)
    check_output(args.json, "--json", config.data)
    check_output(args.out, "--out")
    say = _status("compare", config.progress)
    with _time_limit(args):
        result = run_compare(config, baselines=args.baselines, seeds=args.seeds, status=say)
    print(format_results(result))
    print(verdict(result))
    if note := seed_note(result):
        print(note)
    if args.json:  # before the report: a failure drawing it must not lose the scores
        write_json_atomic(args.json, public_json(result))
    say("drawing the figures and writing the report...")
    paths = write_report(result, args.out)
    print(f"report: {paths['html']}")
    return 0
