"""How much of a validation difference is the seed (issue 4): the documented configurations
trained from several seeds, scored on the 2013 validation split only. Writes the "seed-spread"
section of results.md.

    LSTMCAST_DATA=../shared/data python benchmarks/seed_spread.py               # B2a, ~10 min
    LSTMCAST_DATA=../shared/data python benchmarks/seed_spread.py --tasks B2a B2b   # ~20 min

Every other experiment on validation (b2_validation.py, loss_validation.py) trained one network
from seed 0, so a difference of 1 % between two rows may be the seed's doing. Here each
configuration is trained from every seed given; the rows show each seed's validation RMSE
(``Forecaster.evaluate(split="val")``, persistence on the same windows), then the mean and the
spread (max - min). The test split is not read.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _results import write_section  # noqa: E402

from lstmcast.forecaster import ForecastConfig, Forecaster  # noqa: E402


def _toml(name: str) -> dict:
    return tomllib.loads((HERE / "configs" / name).read_text())


CONFIGS = {  # task: [(label, settings)]: the default compare settings and the documented one
    "B2a": [("default (MSE)", {}), ("b2a-huber.toml", _toml("b2a-huber.toml"))],
    "B2b": [
        ("default (MSE)", {"horizon": 24}),
        ("b2b-tuned.toml", {**_toml("b2b-tuned.toml"), "horizon": 24}),
    ],
}


def validation_rmse(settings: dict) -> tuple[float, float, float, int]:
    """Validation RMSE of the LSTM and of persistence, fit seconds, best epoch."""
    fc = Forecaster(dataclasses.replace(ForecastConfig(progress=False), **settings))
    start = time.perf_counter()
    fc.fit()
    seconds = time.perf_counter() - start
    rows = {r["name"]: r["rmse"] for r in fc.evaluate(split="val", baselines=("persistence",))[
        "results"]}  # fmt: skip
    return rows["lstm"], rows["persistence"], seconds, fc.history_.best_epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", choices=sorted(CONFIGS), default=["B2a"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    seeds = args.seeds
    lines = [
        "## Seed spread on the validation split (2013)",
        "",
        "Written by `benchmarks/seed_spread.py`. pm2.5 RMSE in µg/m³ on the 2013 validation "
        "windows (B2a: t+1; B2b: t+1..t+24, every scored pair), one network per seed; the test "
        "split is not read. The other validation sections trained one network from seed 0: a "
        "difference smaller than the spread here may be the seed's doing.",
        "",
        "| task | configuration | "
        + " | ".join(f"seed {s}" for s in seeds)
        + " | mean | spread (max - min) | persistence | mean fit s |",
        "|---|---|" + "---:|" * (len(seeds) + 4),
    ]
    for task in args.tasks:
        for label, settings in CONFIGS[task]:
            runs = []
            for seed in seeds:
                runs.append(validation_rmse({**settings, "seed": seed}))
                rmse, persistence, seconds, best = runs[-1]
                print(f"{task} {label} seed {seed}: {rmse:.3f} (persistence {persistence:.3f}, "
                      f"{seconds:.0f} s, best epoch {best})", flush=True)  # fmt: skip
            values = [r[0] for r in runs]
            lines.append(
                f"| {task} | {label} | "
                + " | ".join(f"{v:.2f}" for v in values)
                + f" | {statistics.mean(values):.2f} | {max(values) - min(values):.2f} | "
                f"{runs[0][1]:.2f} | {statistics.mean(r[2] for r in runs):.0f} |"
            )
    write_section("seed-spread", "\n".join(lines))


if __name__ == "__main__":
    main()
