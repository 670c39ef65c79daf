"""Speed (issue 6): the P1 training step, its floor, the classic examples, latency, peak memory.

Every system runs in one process, interleaved round by round, and is reported as a ratio
(to ``torch.nn.LSTM`` and to the arithmetic floor) beside the measured float32 matmul rate; the
every-core P1 table repeats that in ``--processes`` fresh processes (default 5) and quotes
medians over them.

    python benchmarks/speed.py           # full run (a few minutes), rewrites the "speed" section
    python benchmarks/speed.py --quick   # a smoke run; prints the tables, writes nothing

P1 (``../shared/benchmarks/PROTOCOL.md``): batch 256, lookback 24, 8 features, hidden 64,
2 layers, dense head to 1, float32, one Adam step (forward, backward, update) with every core.
The floor: multiply-adds of one step (forward 4·H·(I+H)·T·B per layer and direction, backward
2x forward), at 2 FLOP each, divided by the rate of a large ``torch.matmul``.

The script runs with ``OMP_WAIT_POLICY=ACTIVE`` unless the variable is set. That is
``torch.nn.LSTM``'s fast mode: its many small parallel regions pay a thread wake-up each when
idle threads sleep, and with ``PASSIVE`` (what ``import lstmcast`` sets for robustness on
shared machines) or in an unlucky process under the default policy its P1 step takes 32-38 ms
instead of 17-18 ms (the issue's "bimodal" timing). Comparing against the slow mode flatters
lstmcast; ``OMP_WAIT_POLICY=PASSIVE python benchmarks/speed.py`` shows it (see
``docs/speed.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

if "OMP_WAIT_POLICY" not in os.environ:  # must be set before OpenMP starts: re-run with it
    os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

import lstmcast.nn  # noqa: E402
from lstmcast.models import LSTMNetwork, _extension  # noqa: E402

B, T, I = 256, 24, 8  # P1 shapes
KERAS_QUOTED = {"simple": 5.0, "stacked": 7.3, "bidirectional": 6.4}  # s, issue 6, same machine
EXAMPLES = {
    "simple": "simple_lstm",
    "stacked": "stacked_lstm",
    "bidirectional": "bidirectional_lstm",
}


def step_flops(widths: list[int], directions: int = 1) -> float:
    """FLOPs of one P1 training step: 3 x the forward multiply-adds, 2 FLOP each."""
    macs, inputs = 0, I
    for h in widths:
        macs += directions * 4 * h * (inputs + h) * T * B
        inputs = directions * h
    return 2 * 3 * macs


class Head(torch.nn.Module):
    """An LSTM (any of the compared kinds) and the dense head on its last output."""

    def __init__(self, lstm: torch.nn.Module, width: int) -> None:
        super().__init__()
        self.lstm, self.head = lstm, torch.nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)  # (B, T, D*H)
        return self.head(out[:, -1])


def p1_system(kind: str, widths: list[int], activation="tanh", bidirectional=False) -> Callable:
    """One P1 optimiser step of a fresh seeded model; ``kind``: torch | lstmcast | fallback."""
    torch.manual_seed(0)
    if kind == "torch":
        lstm = torch.nn.LSTM(
            I, widths[0], len(widths), batch_first=True, bidirectional=bidirectional
        )
    else:
        lstm = lstmcast.nn.LSTM(
            I, widths, batch_first=True, bidirectional=bidirectional, activation=activation
        )
    model = Head(lstm, widths[-1] * (2 if bidirectional else 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
    x, y = torch.randn(B, T, I), torch.randn(B, 1)

    def step() -> None:
        ctx = _extension.disabled() if kind == "fallback" else contextlib.nullcontext()
        with ctx:
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()

    return step


P1_SYSTEMS = [  # label, kind, widths, activation, bidirectional
    ("torch.nn.LSTM tanh", "torch", [64, 64], "tanh", False),
    ("lstmcast tanh", "lstmcast", [64, 64], "tanh", False),
    ("lstmcast relu", "lstmcast", [64, 64], "relu", False),
    ("lstmcast tanh, widths [64, 32]", "lstmcast", [64, 32], "tanh", False),
    ("torch.nn.LSTM tanh, bidirectional", "torch", [64, 64], "tanh", True),
    ("lstmcast tanh, bidirectional", "lstmcast", [64, 64], "tanh", True),
    ("lstmcast relu, bidirectional", "lstmcast", [64, 64], "relu", True),
    ("lstmcast tanh, pure-torch engine", "fallback", [64, 64], "tanh", False),
]


def interleave(
    systems: dict[str, Callable], rounds: int, per_round: int, warmup: int, clock=time.perf_counter
) -> dict[str, list[float]]:
    """Step times per system, taking turns round by round so that drifts hit all alike."""
    for step in systems.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(rounds):
        for name, step in systems.items():
            for _ in range(per_round):
                start = clock()
                step()
                times[name].append(clock() - start)
    return times


HEAD_TO_HEAD = ("torch.nn.LSTM tanh", "lstmcast tanh", "lstmcast relu")
MATMUL = "matmul 2048³"


def p1_medians(
    rounds: int, per_round: int, warmup: int, clock, only: tuple[str, ...] | None = None
) -> dict[str, float]:
    """Median ms per step of the P1 systems (all, or those named in ``only``), interleaved,
    and under "rate" the float32 matmul GFLOP/s measured in the same rounds (a 2048³ product
    takes its turn like a system, so the floor follows the machine's drifts as the steps do)."""
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    systems = {
        label: p1_system(kind, w, act, bi)
        for label, kind, w, act, bi in P1_SYSTEMS
        if only is None or label in only
    }
    systems[MATMUL] = lambda: a @ b
    times = interleave(systems, rounds, per_round, warmup, clock)
    med = {name: statistics.median(ts) * 1e3 for name, ts in times.items()}
    med["rate"] = 2 * n**3 / (med.pop(MATMUL) / 1e3) / 1e9
    return med


def p1_processes(n: int, rounds: int, head_to_head: bool = False) -> list[dict[str, float]]:
    """P1 medians (and the matmul rate) from n fresh processes, one after the other.

    torch.nn.LSTM's step varies across processes even with spinning threads (about 18 ms in
    some, 20-22 ms in others, for reasons not found), so one
    process can flatter either side: the ratio quoted is the median over processes of each
    process's own ratio. ``head_to_head`` runs only ``HEAD_TO_HEAD`` in each process.
    """
    runs = []
    for _ in range(n):
        child = subprocess.run(
            [sys.executable, __file__, "--p1-child", str(rounds)]
            + (["--head-to-head"] if head_to_head else []),
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    return runs


def torch_alone(n: int) -> list[float]:
    """torch.nn.LSTM's P1 ms in n fresh processes that never import lstmcast."""
    script = str(HERE / "torch_p1_alone.py")
    return [
        float(subprocess.run([sys.executable, script], capture_output=True, text=True,
                             check=True).stdout.split()[-1])
        for _ in range(n)
    ]  # fmt: skip


def p1_table(runs: list[dict[str, float]]) -> str:
    """Markdown rows: medians over processes of ms, × torch.nn.LSTM (per process) and × floor."""
    ref = "torch.nn.LSTM tanh"
    rows = [
        "| system | ms / step (median) | × torch.nn.LSTM tanh | floor ms | × floor |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, _, widths, _, bi in P1_SYSTEMS:
        if label not in runs[0]:
            continue
        flops = step_flops(widths, 2 if bi else 1)
        ms = statistics.median(r[label] for r in runs)
        ratio = statistics.median(r[label] / r[ref] for r in runs)
        floor = statistics.median(flops / r["rate"] / 1e6 for r in runs)
        over = statistics.median(r[label] / (flops / r["rate"] / 1e6) for r in runs)
        rows.append(f"| {label} | {ms:.2f} | {ratio:.2f} | {floor:.2f} | {over:.2f} |")
    return "\n".join(rows)


def per_process_line(runs: list[dict[str, float]]) -> str:
    """torch.nn.LSTM's and lstmcast's step in each process, with the ratio."""
    return "; ".join(
        f"{r['torch.nn.LSTM tanh']:.1f} / {r['lstmcast tanh']:.1f} ms "
        f"({r['lstmcast tanh'] / r['torch.nn.LSTM tanh']:.3f})"
        for r in runs
    )


EXAMPLE_REPEATS = 3  # fits per example and system; the median is quoted


def classic_examples() -> dict[str, float]:
    """Median seconds to fit each classic example (100 epochs, batch 32, (100, 10, 3) data),
    a fresh model each time."""
    seconds = {}
    for name, module_name in EXAMPLES.items():
        module = __import__(module_name)
        module.main(epochs=2)  # warm-up: imports, first allocations
        times = []
        for _ in range(EXAMPLE_REPEATS):
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                module.main(epochs=100)
            times.append(time.perf_counter() - start)
        seconds[name] = statistics.median(times)
    return seconds


def keras_examples() -> dict[str, float] | None:
    """The same three fits in Keras when TensorFlow is installed (``pip install tensorflow``)."""
    try:
        import numpy as np
        from tensorflow import keras
    except ImportError:
        return None
    L = keras.layers
    rng = np.random.default_rng(0)
    X, y = rng.random((100, 10, 3), dtype=np.float32), rng.random((100, 3), dtype=np.float32)
    models = {
        "simple": lambda: [L.LSTM(50, activation="relu"), L.Dense(3)],
        "stacked": lambda: [
            L.LSTM(64, activation="relu", return_sequences=True),
            L.Dropout(0.2),
            L.LSTM(32, activation="relu"),
            L.Dropout(0.2),
            L.Dense(3),
        ],
        "bidirectional": lambda: [L.Bidirectional(L.LSTM(50, activation="relu")), L.Dense(3)],
    }
    seconds = {}
    for name, layers in models.items():
        times = []
        for _ in range(EXAMPLE_REPEATS):  # a fresh model and compile each time, as a user's fit
            model = keras.Sequential([keras.Input((10, 3)), *layers()])
            model.compile(optimizer="adam", loss="mse")
            start = time.perf_counter()
            model.fit(X, y, epochs=100, batch_size=32, verbose=0)
            times.append(time.perf_counter() - start)
        seconds[name] = statistics.median(times)
    return seconds


def latency(repeats: int) -> dict[str, float]:
    """Median ms to forecast one (1, 24, 8) window with a network loaded from its state_dict."""
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(LSTMNetwork(I, (64, 64), 1).state_dict(), buffer)
    buffer.seek(0)
    net = LSTMNetwork(I, (64, 64), 1)
    net.load_state_dict(torch.load(buffer))
    plain = Head(torch.nn.LSTM(I, 64, 2, batch_first=True), 64)
    result = {}
    for name, model in (("lstmcast LSTMNetwork", net.eval()), ("torch.nn.LSTM", plain.eval())):
        window = torch.randn(1, T, I)
        times = []
        with torch.inference_mode():
            for k in range(repeats + 20):
                start = time.perf_counter()
                model(window)
                if k >= 20:
                    times.append(time.perf_counter() - start)
        result[name] = statistics.median(times) * 1e3
    result.update(forecaster_latency(repeats))
    return result


def forecaster_latency(repeats: int) -> dict[str, float]:
    """Median ms of a forecast from a model directory loaded with ``lstmcast.load``."""
    import tempfile

    import numpy as np
    import pandas as pd

    import lstmcast

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((400, I)), columns=[f"x{k}" for k in range(I)])
    frame.insert(0, "time", pd.date_range("2024-01-01", periods=400, freq="h"))
    config = lstmcast.ForecastConfig(
        data="bench", target=["x0"], units=[64, 64], epochs=1, lookback=T, progress=False
    )
    with tempfile.TemporaryDirectory() as folder:
        lstmcast.Forecaster(config).fit(frame.set_index("time")).save(f"{folder}/model")
        model = lstmcast.load(f"{folder}/model")
    window = frame.iloc[-T:, 1:].to_numpy()[None]  # (1, T, I) in the data's units
    recent = frame.iloc[-T:].set_index("time")
    result = {}
    for name, call in (
        ("lstmcast.load(DIR).predict_windows(window)", lambda: model.predict_windows(window)),
        (f"lstmcast.load(DIR).predict(DataFrame of {T} rows)", lambda: model.predict(recent)),
    ):
        times = []
        for k in range(repeats // 5 + 20):
            start = time.perf_counter()
            call()
            if k >= 20:
                times.append(time.perf_counter() - start)
        result[name] = statistics.median(times) * 1e3
    return result


def bf16_rates() -> dict[str, float]:
    """GFLOP/s of float32 and bfloat16 matmuls at the big and at the per-step shape."""
    out = {}
    for label, (m, k, n), reps in (
        ("2048³", (2048, 2048, 2048), 5),
        ("step 256×72×256", (256, 72, 256), 200),
    ):
        for dtype in (torch.float32, torch.bfloat16):
            a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
            a @ b
            start = time.perf_counter()
            for _ in range(reps):
                a @ b
            out[f"{label} {str(dtype).split('.')[-1]}"] = (
                2 * m * k * n * reps / (time.perf_counter() - start) / 1e9
            )
    return out


def rss_mib() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_child(engine: str) -> None:
    """(Subprocess) train one epoch of B2a's shape; print resident memory before and at peak."""
    import threading

    from lstmcast.train import TrainConfig, train_network

    shared = HERE.parent.parent / "shared" / "data"
    data_dir = os.environ.get("LSTMCAST_DATA") or (str(shared) if shared.is_dir() else None)
    try:
        from _common import b2_data

        task = b2_data(horizon=1, data_dir=data_dir)
        X = task.scaler.transform(task.train.X, columns=task.inputs)
        Y = task.scaler.transform(task.train.Y, columns=task.targets)
        source = f"the B2a training windows, X {X.shape}"
    except Exception as err:  # data absent: the same shapes, random
        X, Y = torch.rand(26_280, 24, 8).numpy(), torch.rand(26_280, 1).numpy()
        source = f"random windows of B2a's shape {X.shape} ({type(err).__name__})"
    X, Y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y, dtype=torch.float32)
    torch.manual_seed(0)
    if engine == "torch":
        model = Head(torch.nn.LSTM(8, 64, 2, batch_first=True), 64)
    else:
        model = LSTMNetwork(8, (64, 64), 1)
    before, peak, done = rss_mib(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mib())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    ctx = _extension.disabled() if engine == "fallback" else contextlib.nullcontext()
    with ctx:
        train_network(model, X, Y, TrainConfig(epochs=1, batch_size=64, progress=False))
    done.set()
    sampler.join()
    print(json.dumps({"before": before, "peak": max(peak[0], rss_mib()), "source": source}))


def peak_memory() -> dict[str, dict]:
    result = {}
    for engine in ("lstmcast", "fallback", "torch"):
        proc = subprocess.run(
            [sys.executable, __file__, "--memory-child", engine],
            capture_output=True,
            text=True,
            check=True,
        )
        result[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run; writes nothing")
    parser.add_argument(
        "--processes", type=int, default=5, help="fresh processes for the every-core P1 table"
    )
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--p1-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--head-to-head", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    if args.p1_child:
        only = HEAD_TO_HEAD if args.head_to_head else None
        print(json.dumps(p1_medians(args.p1_child, 5, 10, time.perf_counter, only)))
        return
    quick = args.quick
    engine = (
        "compiled C++"
        if _extension.available()
        else (f"pure torch ({_extension.unavailable_reason()})")
    )
    threads = torch.get_num_threads()
    rounds, per_round, warmup = (2, 5, 3) if quick else (12, 5, 10)
    processes = 1 if quick else args.processes
    runs = p1_processes(processes, rounds)
    table = p1_table(runs)
    rates = ", ".join(f"{r['rate']:.0f}" for r in runs)
    print(table, "\n", per_process_line(runs))
    duel = p1_processes(processes, rounds, head_to_head=True)
    duel_table = p1_table(duel)
    print(duel_table, "\n", per_process_line(duel))
    alone = torch_alone(processes)
    print("torch.nn.LSTM alone:", alone)

    torch.set_num_threads(1)
    med1 = p1_medians(rounds // 2 or 1, per_round, 3, time.thread_time)
    rate1 = med1["rate"]
    table1 = p1_table([med1])
    torch.set_num_threads(threads)
    print(table1)

    examples = classic_examples() if not quick else {}
    keras = keras_examples() if not quick else None
    lat = latency(50 if quick else 500)
    bf16 = bf16_rates()
    memory = peak_memory() if not quick else {}
    print(
        json.dumps(
            {"examples": examples, "keras": keras, "latency": lat, "bf16": bf16, "memory": memory},
            indent=1,
        )
    )
    if quick:
        return

    keras_note = (
        "Keras measured in this run"
        if keras
        else "Keras **not measured in this run** (TensorFlow is not installed here): the "
        "times quoted in issue 6, measured on this machine type"
    )
    keras = keras or KERAS_QUOTED
    ex_rows = "\n".join(
        f"| {name} | {examples[name]:.2f} | {keras[name]:.1f} | "
        f"{examples[name] / keras[name]:.3f} |"
        for name in EXAMPLES
    )
    lat_rows = "\n".join(f"| {name} | {ms:.3f} |" for name, ms in lat.items())
    mem_rows = "\n".join(
        f"| {name} | {m['peak'] - m['before']:.0f} | {m['peak']:.0f} |"
        for name, m in (
            ("lstmcast (compiled)", memory["lstmcast"]),
            ("lstmcast (pure-torch engine)", memory["fallback"]),
            ("torch.nn.LSTM", memory["torch"]),
        )
    )
    bf16_rows = "\n".join(f"| {k} | {v:.0f} |" for k, v in bf16.items())
    wait_policy = os.environ.get("OMP_WAIT_POLICY")
    md = f"""## Speed (P1, classic examples, latency, memory)

Written by `benchmarks/speed.py` (`python benchmarks/speed.py`); {
        platform.processor() or platform.machine()
    }, {os.cpu_count()} cores shared with other jobs, torch {torch.__version__},
lstmcast engine: {engine}, OMP_WAIT_POLICY={wait_policy}. Every system ran in this one process,
interleaved in {rounds} rounds
of {per_round} steps after {warmup} warm-up steps; medians. Absolute times are noise on this
shared machine; read the ratios.

### P1 training step, every core ({threads} threads, wall time)

{processes} fresh processes one after the other, each interleaving every system as above; the
table gives medians over the processes of each process's median, of its ratio to that
process's `torch.nn.LSTM`, and of its ratio to that process's floor. Measured float32 matmul
rate per process (a 2048³ `torch.matmul` taking its turn in the same rounds; the floor is
the step's FLOPs at that rate): {rates} GFLOP/s.

{table}

`torch.nn.LSTM` tanh / lstmcast tanh per process (ratio): {per_process_line(runs)}.

### P1 head to head: only `torch.nn.LSTM` tanh and lstmcast tanh and relu in each process

The same, in {processes} more processes that interleave only these three systems (fewer
systems in between; `torch.nn.LSTM`'s step still varies from process to process).

{duel_table}

`torch.nn.LSTM` tanh / lstmcast tanh per process (ratio): {per_process_line(duel)}.

For scale, `torch.nn.LSTM` tanh in {processes} processes that never import lstmcast
(`benchmarks/torch_p1_alone.py`, same policy; no `mallopt`, so glibc hands every step's
buffers back to the kernel): {", ".join(f"{ms:.1f}" for ms in alone)} ms.

### P1 training step, one thread (CPU time of the thread: robust to other jobs)

Measured one-thread matmul rate (in the same rounds): {rate1:.0f} GFLOP/s.

{table1}

### The three classic examples: fit, 100 epochs, batch 32, (100, 10, 3) random data

Medians of {EXAMPLE_REPEATS} fits of a fresh model per example and system.

{keras_note}.

| example | lstmcast s | Keras s | ratio |
|---|---:|---:|---:|
{ex_rows}

### Single-window forecast latency (network loaded from its weights, inference mode, (1, 24, 8))

| model | ms (median of {500}) |
|---|---:|
{lat_rows}

### Peak memory of one B2a training epoch (batch 64, 2 × 64 units; one process each)

Resident memory sampled every millisecond during `train_network`, minus its level just before.

Data: {memory["lstmcast"]["source"]}.

| engine | training adds MiB (peak − before) | peak RSS MiB |
|---|---:|---:|
{mem_rows}

### bfloat16

Matmul rates (GFLOP/s) on this CPU; a bfloat16 mode is not offered (see `docs/speed.md`).

| shape, dtype | GFLOP/s |
|---|---:|
{bf16_rows}
"""
    from _results import write_section

    write_section("speed", md)
    print("wrote the speed section of benchmarks/results.md")


if __name__ == "__main__":
    main()
