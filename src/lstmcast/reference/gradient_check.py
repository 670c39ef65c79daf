"""Check the reference's analytic gradients against central finite differences, in float64.

The loss is a random linear function of everything the LSTM returns::

    loss = sum(out * R) + sum(h_n * R_h) + sum(c_n * R_c)      R, R_h, R_c ~ N(0, 1), seeded

so ``backward(R, R_h, R_c)`` gives its analytic gradient, and for each checked entry ``w`` of a
parameter, of ``x``, ``h0`` or ``c0`` the numeric one is ``(loss(w + eps) - loss(w - eps)) / 2eps``.

The error of a parameter is the largest difference between analytic and numeric entries divided
by the largest gradient magnitude of that parameter: entry-wise ratios would turn the round-off
of entries that are nearly zero (about 1e-10 here) into large numbers that mean nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstmcast.errors import ConfigError
from lstmcast.reference.lstm import NumpyLSTM
from lstmcast.reference.params import check_positive


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of ``gradcheck``: the largest relative error per checked array."""

    errors: dict[str, float]  # name (torch's, or "x", "h0", "c0") -> max relative error
    entries: dict[str, int]  # name -> how many entries were compared
    tolerance: float  # an error above this fails the check

    @property
    def passed(self) -> bool:
        return all(err <= self.tolerance for err in self.errors.values())

    def table(self) -> str:
        """The errors as a text table, one line per parameter."""
        width = max(len("parameter"), *(len(name) for name in self.errors))
        lines = [f"{'parameter':<{width}}  {'max rel error':>13}  {'entries':>7}"]
        for name, err in self.errors.items():
            flag = "" if err <= self.tolerance else "  FAIL"
            lines.append(f"{name:<{width}}  {err:13.2e}  {self.entries[name]:7d}{flag}")
        return "\n".join(lines)


def gradcheck(
    model: NumpyLSTM | None = None,
    *,
    input_size: int = 3,
    hidden_sizes: Sequence[int] = (4,),
    bidirectional: bool = False,
    activation: str = "tanh",
    batch: int = 2,
    steps: int = 5,
    seed: int = 0,
    eps: float = 1e-6,
    tolerance: float = 1e-6,
    max_entries: int | None = 40,
) -> GradcheckResult:
    """Compare ``NumpyLSTM.backward`` with central differences for every parameter, x, h0, c0.

    Args:
        model: the model to check; when ``None`` a random one is built from ``input_size``,
            ``hidden_sizes`` (one width per layer), ``bidirectional``, ``activation`` and ``seed``.
            Its weights are perturbed in place and restored.
        batch, steps: B and T of the random input x (B, T, I); h0 and c0 are random too.
        eps: the finite-difference step.
        tolerance: the largest relative error that passes.
        max_entries: entries compared per array, a seeded random sample (``None``: all).

    Example:
        >>> result = gradcheck(hidden_sizes=[3, 2], bidirectional=True, seed=1)
        >>> result.passed, sorted(result.errors)[:2]
        (True, ['bias_hh_l0', 'bias_hh_l0_reverse'])
    """
    for name, value in (("batch", batch), ("steps", steps)):
        check_positive(name, value)
    if max_entries is not None:
        check_positive("max_entries", max_entries)
    for name, value in (("tolerance", tolerance), ("eps", eps)):
        if not (np.isfinite(value) and value > 0):
            raise ConfigError(f"{name} must be a positive finite number, got {value}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if model is None:
        model = NumpyLSTM.random(
            input_size, hidden_sizes, bidirectional=bidirectional, activation=activation, seed=seed
        )
    rng = np.random.default_rng(seed + 1)
    D, B = model.num_directions, batch
    x = rng.normal(size=(B, steps, model.input_size))  # (B, T, I)
    widths = [H for H in model.hidden_sizes for _ in range(D)]  # width of state j = k*D + d
    h0 = [rng.normal(size=(B, H)) for H in widths]  # D*L x (B, H_k)
    c0 = [rng.normal(size=(B, H)) for H in widths]
    R = rng.normal(size=(B, steps, D * model.hidden_sizes[-1]))  # (B, T, D*H_last)
    R_h = [rng.normal(size=(B, H)) for H in widths]
    R_c = [rng.normal(size=(B, H)) for H in widths]

    def loss() -> float:
        out, (h_n, c_n) = model.forward(x, (h0, c0))
        total = np.sum(out * R)
        for j in range(len(widths)):
            total += np.sum(h_n[j] * R_h[j]) + np.sum(c_n[j] * R_c[j])
        return float(total)

    loss()
    grads = model.backward(R, R_h, R_c)
    # each checked array as a list of parts, perturbed in place, beside its analytic gradient
    targets = {name: ([p], [grads[name]]) for name, p in model.params.items()}
    targets["x"] = ([x], [grads["x"]])
    targets["h0"] = (h0, list(grads["h0"]))
    targets["c0"] = (c0, list(grads["c0"]))

    errors, entries = {}, {}
    for name, (parts, analytic) in targets.items():
        where = [(j, idx) for j, part in enumerate(parts) for idx in np.ndindex(part.shape)]
        if max_entries is not None and len(where) > max_entries:
            where = [where[n] for n in rng.choice(len(where), max_entries, replace=False)]
        a, n = np.empty(len(where)), np.empty(len(where))
        for e, (j, idx) in enumerate(where):
            part, old = parts[j], parts[j][idx]
            part[idx] = old + eps
            up = loss()
            part[idx] = old - eps
            down = loss()
            part[idx] = old
            n[e] = (up - down) / (2 * eps)
            a[e] = analytic[j][idx]
        scale = max(np.max(np.abs(a)), np.max(np.abs(n)))
        errors[name] = float(np.max(np.abs(a - n)) / scale) if scale > 0 else 0.0
        entries[name] = len(where)
    return GradcheckResult(errors, entries, tolerance)
