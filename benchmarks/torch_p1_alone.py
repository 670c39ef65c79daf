"""P1 for ``torch.nn.LSTM`` in a process that never imports lstmcast; prints the median ms.

``benchmarks/speed.py`` runs this a few times to show what a plain torch user gets: importing
lstmcast changes glibc's heap settings (``mallopt``, see ``docs/speed.md``), which speeds up
``torch.nn.LSTM`` too, so the torch times inside ``speed.py`` are torch at its best.

    python benchmarks/torch_p1_alone.py [--steps N] [--import-lstmcast]

``--import-lstmcast`` imports lstmcast and loads its engine (which applies its ``mallopt``)
without running it, to tell the heap settings apart from the effect of taking turns with
lstmcast's steps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "ACTIVE")  # as in speed.py: torch's fast mode

import torch  # noqa: E402

B, T, I, H = 256, 24, 8, 64  # P1 shapes


class Head(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm, self.head = torch.nn.LSTM(I, H, 2, batch_first=True), torch.nn.Linear(H, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=70)
    parser.add_argument("--import-lstmcast", action="store_true")
    args = parser.parse_args()
    if args.import_lstmcast:
        from lstmcast.models import _extension

        _extension.module()
    steps = args.steps
    torch.manual_seed(0)
    model = Head()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
    x, y = torch.randn(B, T, I), torch.randn(B, 1)
    times = []
    for _ in range(10 + steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    print(f"{statistics.median(times[10:]) * 1e3:.2f}")


if __name__ == "__main__":
    main()
