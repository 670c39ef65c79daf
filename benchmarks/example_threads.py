"""The classic examples on one thread and on every thread, under this process's OpenMP wait
policy: why ``train_network`` picks one thread for tiny steps only when idle threads sleep.
Prints medians of 3 fits (seconds); writes nothing.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/example_threads.py
    OMP_WAIT_POLICY=ACTIVE python benchmarks/example_threads.py
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

import lstmcast.train  # noqa: E402

EXAMPLES = ("simple_lstm", "stacked_lstm", "bidirectional_lstm")


def fit_seconds(module, repeats: int = 3) -> float:
    times = []
    with contextlib.redirect_stdout(io.StringIO()):
        module.main(epochs=2)  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            module.main(epochs=100)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    policy = os.environ.get("OMP_WAIT_POLICY", "(lstmcast's default: PASSIVE)")
    modules = [__import__(name) for name in EXAMPLES]
    real = lstmcast.train._threads_for
    for label, choose in (
        ("one thread", lambda model, X, bs, threads: 1),
        ("every thread", lambda model, X, bs, threads: threads),
        ("train_network's choice", real),
    ):
        lstmcast.train._threads_for = choose
        cells = ", ".join(f"{m.__name__} {fit_seconds(m):.3f} s" for m in modules)
        print(f"OMP_WAIT_POLICY={policy}, {label}: {cells}", flush=True)
    lstmcast.train._threads_for = real


if __name__ == "__main__":
    main()
