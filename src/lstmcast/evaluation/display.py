"""How score columns are shown, shared by the CLI tables and the report (no plotting imports)."""

from __future__ import annotations

import math


def decimals(values: list, least: int = 0) -> int:
    """Decimals that show a column's smallest value to four significant figures, at least
    ``least``; zeros, missing values and round-off (under 1e-6 of the largest) set no scale.

    Example:
        >>> decimals([20.76, 22.14]), decimals([0.000001234, 0.5]), decimals([0.0], least=3)
        (2, 9, 3)
    """
    finite = [
        abs(v)
        for v in values
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v
    ]
    shown = [v for v in finite if v > 1e-6 * max(finite, default=0)]
    if not shown:
        return max(least, 2)
    return max(least, 3 - math.floor(math.log10(min(shown))))
