"""How often the Diebold–Mariano test calls two equally good forecasts different (its level).

Two forecasts with equal error variance but persistent AR(1) errors (rho), as hourly weather
gives; the test should reject at p < 0.05 in about 5% of runs. Compared: the variance of
``lstmcast.evaluation.diebold_mariano`` (batch means over 20 consecutive blocks) and the usual
Newey–West variance with statsmodels' rule-of-thumb lags floor(4 (n/100)^(2/9)).

    python benchmarks/dm_level.py          # about a minute; writes section dm-level
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import statsmodels.api as sm
from scipy.signal import lfilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_section  # noqa: E402

from lstmcast.evaluation import diebold_mariano  # noqa: E402

RUNS = 300


def ar1(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    shocks = rng.normal(size=n) * np.sqrt(1 - rho**2)
    shocks[0] = rng.normal()
    return lfilter([1.0], [1.0, -rho], shocks)


def level(n: int, rho: float, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    lags = int(np.floor(4 * (n / 100) ** (2 / 9)))
    blocks = newey_west = 0
    for _ in range(RUNS):
        a, b = ar1(rng, n, rho), ar1(rng, n, rho)
        blocks += diebold_mariano(np.zeros(n), a, b)["p_value"] < 0.05
        d = a**2 - b**2
        fit = sm.OLS(d, np.ones(n)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        newey_west += fit.pvalues[0] < 0.05
    return blocks / RUNS, newey_west / RUNS


def main() -> None:
    lines = [
        "| windows | rho | batch means (20 blocks) | Newey–West, rule-of-thumb lags |",
        "|---:|---:|---:|---:|",
    ]
    for n in (2000, 8000):
        for rho in (0.0, 0.9, 0.95, 0.98):
            ours, nw = level(n, rho)
            lines.append(f"| {n:,} | {rho} | {ours:.1%} | {nw:.1%} |")
            print(lines[-1], flush=True)
    write_section(
        "dm-level",
        "## The Diebold–Mariano test's level on persistent errors\n\n"
        "Written by `benchmarks/dm_level.py`. Share of "
        f"{RUNS} runs in which two forecasts with equal, AR(1)-correlated errors are called "
        "different at p < 0.05 (a test that keeps its level says 5%). `compare` uses the batch "
        "means column.\n\n" + "\n".join(lines),
    )


if __name__ == "__main__":
    main()
