"""A/B two builds of the compiled engine on P1 in one process, interleaved, beside torch.

    git show HEAD~1:src/lstmcast/models/csrc/lstm_cpu.cpp > /tmp/old.cpp
    python benchmarks/ab_engine.py /tmp/old.cpp [--rounds 20] [--old-flags "-O2"] [--contiguous]

"new" is the working tree's engine (``lstmcast.models._extension``), "old" is the given source
built with the same flags (plus ``--old-flags``); both run the same ``lstmcast.nn.LSTM``
through the P1 step of ``speed.py``, taking turns with ``torch.nn.LSTM`` round by round.
With ``--contiguous`` the old build gets contiguous inputs and output gradients (for sources
from before session 3, which needed them; the copies are then timed with "old", as they were
part of its step). A dev tool for deciding whether a kernel change is worth keeping:
differences under ~1 % are within this machine's noise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
from pathlib import Path

if "OMP_WAIT_POLICY" not in os.environ:  # as speed.py: torch's fast mode
    os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
    os.execv(sys.executable, [sys.executable, *sys.argv])

from torch.utils import cpp_extension  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # noqa: E402

from lstmcast.models import _extension  # noqa: E402


class _Contiguous:
    """An engine module whose inputs are made contiguous first (for sources that need it)."""

    def __init__(self, module) -> None:
        self.module = module

    def forward(self, x, *rest):
        return self.module.forward(x.contiguous(), *rest)

    def backward(self, d_out, *rest):
        return self.module.backward(None if d_out is None else d_out.contiguous(), *rest)


def build(source: Path, extra_flags: list[str]):
    tag = hashlib.sha256(source.read_bytes() + " ".join(extra_flags).encode()).hexdigest()[:10]
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / "lstmcast-ab" / tag
    folder.mkdir(parents=True, exist_ok=True)
    module = cpp_extension.load(
        name=f"lstmcast_ab_{tag}",
        sources=[str(source)],
        extra_cflags=_extension._compile_flags() + extra_flags,
        extra_ldflags=["-fopenmp"],
        build_directory=str(folder),
    )
    module.has_blas()  # probes brgemm, as the library does on load
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the other engine source (a .cpp file)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--old-flags", default="", help="extra compiler flags for the old build")
    parser.add_argument(
        "--contiguous", action="store_true", help="copy inputs contiguous for the old build"
    )
    args = parser.parse_args()
    new = _extension.module()
    if new is None:
        sys.exit(f"the compiled engine is unavailable: {_extension.unavailable_reason()}")
    old = build(args.old, args.old_flags.split())
    if args.contiguous:
        old = _Contiguous(old)

    def using(module, step):
        def run() -> None:
            _extension._state["module"] = module
            step()

        return run

    systems = {
        "torch": speed.p1_system("torch", [64, 64]),
        "new": using(new, speed.p1_system("lstmcast", [64, 64])),
        "old": using(old, speed.p1_system("lstmcast", [64, 64])),
    }
    times = speed.interleave(systems, args.rounds, 5, 10)
    _extension._state["module"] = new
    med = {name: statistics.median(ts) * 1e3 for name, ts in times.items()}
    print(
        " ".join(f"{name} {ms:.2f} ms" for name, ms in med.items()),
        f"| new/old {med['new'] / med['old']:.3f}",
        f"new/torch {med['new'] / med['torch']:.3f} old/torch {med['old'] / med['torch']:.3f}",
    )


if __name__ == "__main__":
    main()
