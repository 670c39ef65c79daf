"""How often the Diebold–Mariano test calls two equally good forecasts different (its level).

Two forecasts with equal error variance; each target row's error is independent or persists as
an AR(1) series (rho), as hourly weather gives, and a window at horizon H holds the errors of
its H target rows, so neighbouring windows share H - 1 of them. The test should reject at
p < 0.05 in about 5% of runs. Compared: ``lstmcast.evaluation.diebold_mariano`` (batch means
over 5-20 blocks of at least 5 (H + 24) scored windows, not run on a shorter split), the fixed
20 blocks over every window it used before, and, at horizon 1, the usual Newey–West variance
with statsmodels' rule-of-thumb lags floor(4 (n/100)^(2/9)). A second table leaves targets
unscored (missing), which the fixed blocks counted as windows with no difference.

    python benchmarks/dm_level.py          # about a minute; writes section dm-level
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import statsmodels.api as sm
from scipy import stats
from scipy.signal import lfilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_section  # noqa: E402

from lstmcast.errors import DataError  # noqa: E402
from lstmcast.evaluation import diebold_mariano  # noqa: E402

RUNS = 1000
SIZES = (40, 100, 200, 500, 700, 1200, 2000, 2500, 8000)  # 2,500: 20 blocks at their shortest


def row_errors(rng: np.random.Generator, rows: int, rho: float) -> np.ndarray:
    """One error per target row, of unit variance: independent, or AR(1) with ``rho``."""
    shocks = rng.normal(size=rows) * np.sqrt(1 - rho**2)
    shocks[0] = rng.normal()
    return lfilter([1.0], [1.0, -rho], shocks)


def windows(errors: np.ndarray, count: int, horizon: int) -> np.ndarray:
    """(S, H, 1): window s's errors at steps 1..H are those of target rows s..s+H-1."""
    return errors[np.arange(count)[:, None] + np.arange(horizon)[None, :]][..., None]


def fixed_blocks(y, a, b, mask) -> float:
    """The p-value of the test before: 20 blocks over every window, an unscored one as 0."""
    keep = mask & np.isfinite(y)
    d = np.where(keep, (a - y) ** 2 - (b - y) ** 2, 0.0).reshape(len(y), -1).sum(axis=1)
    means = [part.mean() for part in np.array_split(d * len(y) / keep.sum(), 20)]
    return stats.ttest_1samp(means, 0.0).pvalue


def level(count: int, horizon: int, rho: float, scored=None, seed: int = 0) -> dict:
    """Rejection shares at p < 0.05 over RUNS runs of equal forecasts; ``scored(rng, count)``
    gives the (S,) windows whose targets are scored (every one when None)."""
    rng = np.random.default_rng(seed)
    y = np.zeros((count, horizon, 1))
    rejected = {"before": 0, "after": 0, "newey_west": 0}
    blocks = None
    for _ in range(RUNS):
        a = windows(row_errors(rng, count + horizon, rho), count, horizon)
        b = windows(row_errors(rng, count + horizon, rho), count, horizon)
        mask = np.ones(y.shape, bool)
        if scored is not None:
            mask[~scored(rng, count)] = False
        rejected["before"] += fixed_blocks(y, a, b, mask) < 0.05
        try:
            test = diebold_mariano(y, a, b, mask)
            rejected["after"] += test["p_value"] < 0.05
            blocks = test["blocks"]
        except DataError:  # too short a split: the test is not run
            pass
        if horizon == 1 and scored is None:
            d = (a**2 - b**2).ravel()
            lags = int(np.floor(4 * (count / 100) ** (2 / 9)))
            fit = sm.OLS(d, np.ones(count)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
            rejected["newey_west"] += fit.pvalues[0] < 0.05
    out = {key: n / RUNS for key, n in rejected.items()}
    out["blocks"] = blocks
    return out


def first(share: float) -> Callable:
    """Only the first ``share`` of the windows scored (a sensor that stopped)."""
    return lambda rng, count: np.arange(count) < round(share * count)


def gaps(rng: np.random.Generator, count: int, length: int = 48, missing: float = 0.4):
    """Targets missing in stretches of ``length`` windows, about ``missing`` of them in all."""
    starts = rng.random(count) < missing / length
    return ~np.convolve(starts, np.ones(length), mode="full")[:count].astype(bool)


def main() -> None:
    def after(cell: dict) -> str:
        return "not run" if cell["blocks"] is None else f"{cell['after']:.1%}"

    main_lines = [
        "| horizon | windows | errors | before: 20 blocks | after: blocks | after |"
        " Newey–West, rule-of-thumb lags |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    for horizon in (1, 24):
        for rho in (0.0, 0.9, 0.98):
            errors = "independent" if rho == 0 else f"AR(1) rho {rho}"
            for count in SIZES:
                cell = level(count, horizon, rho)
                nw = f"{cell['newey_west']:.1%}" if horizon == 1 else "—"
                main_lines.append(
                    f"| {horizon} | {count:,} | {errors} | {cell['before']:.1%} | "
                    f"{cell['blocks'] or '—'} | {after(cell)} | {nw} |"
                )
                print(main_lines[-1], flush=True)
    sparse_lines = [
        "| windows | scored windows | errors | before: 20 blocks | after: blocks | after |",
        "|---:|---|---|---:|---:|---:|",
    ]
    sparse = [
        (90, "the first 10", 0.0, first(10 / 90)),
        (2000, "the first 700", 0.0, first(0.35)),
        (2000, "the first 700", 0.9, first(0.35)),
        (2000, "60%, gaps of 48", 0.9, gaps),
        (8000, "60%, gaps of 48", 0.98, gaps),
    ]
    for count, which, rho, scored in sparse:
        cell = level(count, 1, rho, scored)
        errors = "independent" if rho == 0 else f"AR(1) rho {rho}"
        sparse_lines.append(
            f"| {count:,} | {which} | {errors} | {cell['before']:.1%} | "
            f"{cell['blocks'] or '—'} | {after(cell)} |"
        )
        print(sparse_lines[-1], flush=True)
    write_section(
        "dm-level",
        "## The Diebold–Mariano test's level on correlated errors\n\n"
        "Written by `benchmarks/dm_level.py`. Share of "
        f"{RUNS} runs in which two forecasts with equal errors are called different at "
        "p < 0.05 (a test that keeps its level says 5%). Each target row's error is independent "
        "or AR(1); a window at horizon 24 holds 24 rows' errors, sharing 23 with the next "
        "window. *after* is `lstmcast.evaluation.diebold_mariano`, which `compare` uses: "
        "batch means over up to 20 blocks of at least 5 (horizon + 24) scored windows, not run "
        "with fewer than 5 such blocks (*blocks* is how many it cut). *before* is the fixed "
        "20 blocks over every window it used until then.\n\n"
        + "\n".join(main_lines)
        + "\n\nWith targets missing (horizon 1): the fixed blocks counted a window with nothing "
        "scored as no difference; now such windows are dropped before the blocks are cut.\n\n"
        + "\n".join(sparse_lines),
    )


if __name__ == "__main__":
    main()
