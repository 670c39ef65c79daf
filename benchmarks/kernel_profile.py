"""Where a P1 step's time goes (issue 6): the compiled engine's layers alone, GEMM rates at the
per-step shapes, and a plain training loop of the P1 step. Prints; writes nothing.

    python benchmarks/kernel_profile.py
    perf record -D 8000 python benchmarks/kernel_profile.py --loop 1500   # CPU samples by symbol

The floor ratios quoted in ``docs/speed.md`` for the kernels alone come from this script; the
P1 ratios against ``torch.nn.LSTM`` come from ``benchmarks/speed.py``.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time

if "OMP_WAIT_POLICY" not in os.environ:  # as in speed.py: must be set before OpenMP starts
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import torch  # noqa: E402

import lstmcast.nn  # noqa: E402
from lstmcast.models import _extension  # noqa: E402

B, T, I, H = 256, 24, 8, 64  # P1


def median_ms(fn, repeats: int = 60, warmup: int = 10) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def gemm_rates() -> None:
    """GFLOP/s of one thread on the shapes one batch slice multiplies, and on a large product."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    for m, k, n in ((128, 72, 256), (128, 128, 256), (128, 256, 64), (3072, 256, 128), (2048,) * 3):
        a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
        mm = functools.partial(torch.mm, a, b, out=c)
        ms = median_ms(mm, repeats=200 if m < 2048 else 5, warmup=3)
        print(f"one thread, ({m} x {k}) @ ({k} x {n}): {2 * m * k * n / ms / 1e6:.0f} GFLOP/s")
    torch.set_num_threads(threads)


def layers(ext) -> None:
    """Forward and backward of one layer of P1 through the compiled engine, every thread."""
    for inputs in (I, H):
        x, h0, c0 = torch.randn(T, B, inputs), torch.zeros(B, H), torch.zeros(B, H)
        w_ih, w_hh = torch.randn(4 * H, inputs) * 0.1, torch.randn(4 * H, H) * 0.1
        bias, d_out = torch.randn(4 * H) * 0.1, torch.randn(T, B, H)
        forward = functools.partial(ext.forward, x, h0, c0, w_ih, w_hh, bias, False, False)
        saved = forward()[3:]
        backward = functools.partial(
            ext.backward, d_out, None, None, c0, w_ih, w_hh, *saved, False, False, inputs == H, True
        )
        fwd, bwd = median_ms(forward), median_ms(backward)
        macs = 4 * H * (inputs + H) * T * B
        print(
            f"layer with {inputs} inputs: forward {fwd:.2f} ms "
            f"({2 * macs / fwd / 1e6:.0f} GFLOP/s), "
            f"backward {bwd:.2f} ms ({4 * macs / bwd / 1e6:.0f} GFLOP/s at 2x the forward's work)"
        )


def loop(steps: int) -> None:
    """The P1 step in a plain loop (fused Adam, as lstmcast's training loop uses)."""
    torch.manual_seed(0)
    lstm, head = lstmcast.nn.LSTM(I, H, 2, batch_first=True), torch.nn.Linear(H, 1)
    opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], fused=True)
    x, y = torch.randn(B, T, I), torch.randn(B, 1)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        out, _ = lstm(x)
        torch.nn.functional.mse_loss(head(out[:, -1]), y).backward()
        opt.step()

    print(f"P1 step in a plain loop: {median_ms(step, repeats=steps, warmup=20):.2f} ms (median)")


def phases(rounds: int = 40) -> None:
    """The P1 step of speed.py (foreach Adam) cut into its phases, torch and lstmcast in turn."""
    models = {}
    for kind in ("torch.nn.LSTM", "lstmcast"):
        torch.manual_seed(0)
        lstm = (
            torch.nn.LSTM(I, H, 2, batch_first=True)
            if kind == "torch.nn.LSTM"
            else lstmcast.nn.LSTM(I, H, 2, batch_first=True)
        )
        head = torch.nn.Linear(H, 1)
        params = [*lstm.parameters(), *head.parameters()]
        models[kind] = (lstm, head, torch.optim.Adam(params, lr=1e-3, foreach=True))
    x, y = torch.randn(B, T, I), torch.randn(B, 1)
    names = ("zero_grad", "forward + loss", "backward", "Adam step", "whole step")
    times = {(kind, name): [] for kind in models for name in names}
    for r in range(rounds + 5):
        for kind, (lstm, head, opt) in models.items():
            for _ in range(3):
                t0 = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                t1 = time.perf_counter()
                out, _ = lstm(x)
                loss = torch.nn.functional.mse_loss(head(out[:, -1]), y)
                t2 = time.perf_counter()
                loss.backward()
                t3 = time.perf_counter()
                opt.step()
                t4 = time.perf_counter()
                if r >= 5:
                    deltas = (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)
                    for name, dt in zip(names, deltas, strict=True):
                        times[kind, name].append(dt)
    print("P1 step phases, ms (medians; foreach Adam as in speed.py):")
    for name in names:
        cells = "  ".join(
            f"{kind} {statistics.median(times[kind, name]) * 1e3:7.3f}" for kind in models
        )
        print(f"  {name:<15} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", type=int, default=200, help="steps of the plain P1 loop")
    args = parser.parse_args()
    ext = _extension.module()
    if ext is None:
        sys.exit(f"the compiled engine is unavailable: {_extension.unavailable_reason()}")
    print(f"threads: {torch.get_num_threads()}, slices on {ext.slice_threads(2)} threads")
    gemm_rates()
    layers(ext)
    phases()
    loop(args.loop)


if __name__ == "__main__":
    main()
