"""The training loss, chosen on the 2013 validation split only (issue 4): MSE against Huber at a
few switch points, for B2a (default settings) and B2b (``configs/b2b-tuned.toml``). Writes the
"loss-validation" section of results.md.

    LSTMCAST_DATA=../shared/data python benchmarks/loss_validation.py     # ~15 min on 2 cores

Every row is the validation RMSE of ``Forecaster.evaluate(split="val")`` (persistence on the
same windows). Huber's ``huber_delta`` is in scaled target units: with the min-max scaler fitted
on 2010-2012 (pm2.5 range 0-994), 0.03 is a change of about 30 µg/m³ from the last value,
beyond which errors count linearly instead of squared. The test split is not read.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _results import write_section  # noqa: E402

from lstmcast.forecaster import ForecastConfig, Forecaster  # noqa: E402

TASKS = {  # task: (settings, Huber switch points tried)
    "B2a": ({}, (0.03, 0.05)),
    "B2b": ({**tomllib.loads((HERE / "configs" / "b2b-tuned.toml").read_text()), "horizon": 24},
            (0.05, 0.1)),
}  # fmt: skip


def validation_rmse(settings: dict) -> tuple[float, float, float, int]:
    """Validation RMSE of the LSTM and of persistence, fit seconds, best epoch."""
    fc = Forecaster(dataclasses.replace(ForecastConfig(progress=False), **settings))
    start = time.perf_counter()
    fc.fit()
    seconds = time.perf_counter() - start
    rows = {r["name"]: r["rmse"] for r in fc.evaluate(split="val")["results"]}
    return rows["lstm"], rows["persistence"], seconds, fc.history_.best_epoch


def main() -> None:
    lines = [
        "## The training loss on the validation split (2013)",
        "",
        "Written by `benchmarks/loss_validation.py`. pm2.5 RMSE in µg/m³ on the 2013 validation "
        "windows (B2a: t+1; B2b: t+1..t+24, every scored pair); persistence on the same "
        "windows; the test split is not read. `huber_delta` is in scaled target units (0.03 "
        "is about 30 µg/m³).",
        "",
        "| task | loss | RMSE | persistence | vs MSE | fit s | best epoch |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for task, (settings, deltas) in TASKS.items():
        runs = [("mse", {})] + [(f"huber, delta {d}", {"loss": "huber", "huber_delta": d})
                                for d in deltas]  # fmt: skip
        mse = None
        for label, loss in runs:
            rmse, persistence, seconds, epoch = validation_rmse({**settings, **loss})
            mse = mse or rmse
            print(task, label, rmse, flush=True)
            lines.append(
                f"| {task} | {label} | {rmse:.2f} | {persistence:.2f} | {rmse / mse - 1:+.1%} | "
                f"{seconds:.0f} | {epoch} |"
            )
    write_section("loss-validation", "\n".join(lines))


if __name__ == "__main__":
    main()
