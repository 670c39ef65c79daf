"""The LSTM rows of the scoreboard: B2a and B2b through ``lstmcast compare``, and B1 replicated.

B2 (the honest protocol): ``compare`` with its default settings fits a univariate LSTM (24 h of
pollution) and a multivariate LSTM (24 h of the 8 features) per horizon and scores them beside
persistence on the same 2014 test windows. B1 (the classic tutorial): LSTM(50) -> Dense(1), MAE,
Adam 0.001, 50 epochs, batch 72, no shuffling, one hour of history, scaler fit on the whole table.

    LSTMCAST_DATA=../shared/data python benchmarks/lstm.py            # B2a, B2b and B1
    LSTMCAST_DATA=../shared/data python benchmarks/lstm.py --tasks B2a
    LSTMCAST_DATA=../shared/data python benchmarks/lstm.py --tasks B2a B2b --seeds 3  # ~15 min
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import b1_data  # noqa: E402
from _results import write_section  # noqa: E402

from lstmcast.commands.options import read_toml  # noqa: E402
from lstmcast.compare import compare  # noqa: E402
from lstmcast.evaluation import mae, rmse  # noqa: E402
from lstmcast.forecaster import ForecastConfig  # noqa: E402
from lstmcast.models import LSTMNetwork  # noqa: E402
from lstmcast.report import seed_note  # noqa: E402
from lstmcast.train import TrainConfig, predict_network, seed_everything, train_network  # noqa: E402


def b2(
    horizon: int, ensemble: int = 1, settings: dict | None = None, seeds: int = 1
) -> tuple[list, dict, list, str | None]:
    """The rows, the settings, compare's tests of whether chance could give the gaps, and
    (with ``seeds`` > 1) the sentence on each LSTM's RMSE from every seed."""
    config = ForecastConfig(**(settings or {}), horizon=horizon, ensemble=ensemble, progress=False)
    result = compare(config, baselines=("persistence",), seeds=seeds)
    if ensemble > 1:
        for row in result["results"]:
            if row["name"].startswith("lstm"):
                row["name"] += f" (ensemble of {ensemble})"
    return result["results"], result["config"], result.get("tests", []), seed_note(result)


def b1() -> list[dict]:
    task = b1_data()
    scale = lambda X: task.scaler.transform(X).astype(np.float32)  # noqa: E731
    seed_everything(0)
    net = LSTMNetwork(task.train.X.shape[2], [50], n_outputs=1)
    cfg = TrainConfig(
        epochs=50,
        batch_size=72,
        learning_rate=1e-3,
        loss="mae",
        shuffle=False,
        patience=None,
        lr_patience=None,
        clip_norm=None,
        progress=False,
    )
    Y = task.scaler.transform(task.train.Y[:, :, 0], columns=task.targets)  # (S, 1)
    start = time.perf_counter()
    train_network(net, scale(task.train.X), Y, cfg)
    fit = time.perf_counter() - start
    pred = predict_network(net, scale(task.test.X)).numpy()[:, None, :]  # (S, 1, 1)
    pred = task.scaler.inverse_transform(pred, columns=task.targets)
    persistence = task.test.X[:, -1:, task.targets]  # (S, 1, 1)
    row = lambda name, p, s: {  # noqa: E731
        "name": name,
        "inputs": "multivariate",
        "rmse": rmse(task.test.Y, p, task.test.mask),
        "mae": mae(task.test.Y, p, task.test.mask),
        "n_scored": int(task.test.mask.sum()),
        "fit_seconds": s,
    }
    return [row("lstm (tutorial recipe)", pred, fit), row("persistence", persistence, 0.0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tasks", nargs="+", default=["B2a", "B2b", "B1"], choices=["B2a", "B2b", "B1"]
    )
    parser.add_argument("--config", help="TOML settings for the B2 runs (section lstm-<file stem>)")
    parser.add_argument(
        "--ensemble",
        type=int,
        default=1,
        help="B2 networks per model, averaged (section lstm-ensemble when > 1)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="B2: train both LSTMs from this many seeds too (section lstm-seeds-N when > 1)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=torch.get_num_threads(),
        help="torch threads (default: every core)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        "| task | system | inputs | RMSE | MAE | skill vs persistence | n scored | fit s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    settings, tests, notes = None, [], []
    overrides = read_toml(args.config) if args.config else None
    for task in args.tasks:
        if task == "B1":
            rows = b1()
        else:
            rows, settings, found, note = b2(
                1 if task == "B2a" else 24, args.ensemble, overrides, args.seeds
            )
            tests += [(task, t) for t in found]
            notes += [f"- {task}: {note}"] if note else []
        base = next(r["rmse"] for r in rows if r["name"] == "persistence")
        for r in rows:
            fit = "" if r.get("fit_seconds") is None else f"{r['fit_seconds']:.1f}"
            lines.append(
                f"| {task} | {r['name']} | {r['inputs']} | {r['rmse']:.2f} | "
                f"{r['mae']:.2f} | {1 - r['rmse'] / base:+.1%} | {r['n_scored']:,} | "
                f"{fit} |"
            )
            print(lines[-1], flush=True)
    shown = {
        k: v
        for k, v in (settings or {}).items()
        if k
        in (
            "units",
            "dropout",
            "activation",
            "loss",
            *(("huber_delta",) if (settings or {}).get("loss") == "huber" else ()),
            "optimizer",
            "learning_rate",
            "batch_size",
            "epochs",
            "patience",
            "lookback",
            "scaler",
            "fill",
            "residual",
            "seed",
        )
    }
    chance = [
        f"- {task}: {t['a']} against {t['b']}: p = {t['p_value']:.2g} "
        f"(t = {t['statistic']:.2f}, {t['n_windows']:,} windows)"
        for task, t in tests
        if t["p_value"] is not None
    ]
    section = "lstm" if args.ensemble == 1 else "lstm-ensemble"
    if args.seeds > 1:
        section = f"lstm-seeds-{args.seeds}"
    if args.config:
        section = f"lstm-{Path(args.config).stem}"
        if args.ensemble > 1:
            section += f"-ensemble-{args.ensemble}"
    md = (
        f"## LSTM ({', '.join(args.tasks)}){' ensembles' if args.ensemble > 1 else ''}"
        f"{f' from {args.seeds} seeds' if args.seeds > 1 else ''}"
        f"{' with ' + Path(args.config).name if args.config else ''}\n\n"
        "Written by `benchmarks/lstm.py` "
        "(`LSTMCAST_DATA=../shared/data python benchmarks/lstm.py`). Errors in µg/m³ on the test "
        "split, persistence on the same rows; fit seconds are wall time on a shared "
        f"{torch.get_num_threads()}-thread CPU run (noise: compare within a run).\n\n"
        + "\n".join(lines)
        + "\n\nB2 rows come from `lstmcast compare` with its default settings"
        + (f" and `--ensemble {args.ensemble}`" if args.ensemble > 1 else "")
        + (f" and the settings of `{args.config}`" if args.config else "")
        + (f": `{shown}`" if shown else "")
        + ". Inputs are forward filled (causal); NA targets are never trained on or scored."
        + (
            " B1 follows the tutorial recipe exactly (NA filled with 0, scaler on the whole table)."
            if "B1" in args.tasks
            else ""
        )
        + (
            "\n\nCould chance give these gaps? Diebold–Mariano tests of squared errors on the "
            "same windows, the variance from 20 consecutive blocks of the test year "
            "(`lstmcast.evaluation.diebold_mariano`; t < 0 when the first is better):\n\n"
            + "\n".join(chance)
            if chance
            else ""
        )
        + (
            "\n\nCould the seed give these gaps? Both LSTMs trained from each seed and scored on "
            "the same test windows (the table above is the first seed's):\n\n" + "\n".join(notes)
            if notes
            else ""
        )
    )
    write_section(section, md)


if __name__ == "__main__":
    main()
