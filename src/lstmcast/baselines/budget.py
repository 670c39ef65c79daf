"""What a learning baseline may spend here: the memory this process can still take, and time.

A learning baseline estimates, from the windows' shape alone and before it allocates anything,
the memory its fit holds at once and the seconds it takes; ``check_budget`` refuses a fit over
either with a one-line ConfigError naming the size and the fix, which the scoreboard turns into
"left out" with a warning. The estimates are rough (within a factor of about 2 on a 2-core
machine) and err large; the limits are module settings a caller or a test may change, and
``time_limit(seconds)`` raises the time limit for the work inside it (the CLI's
``--baseline-minutes``).

Example:
    >>> check_budget("ridge", 2**30, 5.0, "a Gram matrix", memory=2**20)  # doctest: +SKIP
    ConfigError: ridge needs about 1.0 GiB for a Gram matrix, but 1.0 MiB is free here: ...
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
import os
from collections.abc import Iterator

from lstmcast.errors import ConfigError

MEMORY_SHARE = 0.8  # the share of the free memory a fit may take (the rest: the process's own)
TIME_LIMIT_S = 900.0  # a fit estimated to take longer (15 minutes here) is not started
# the speeds the estimates assume, measured on a 2-core machine (see tests/test_baselines.py)
FLOPS = 4e10  # multiply-adds a second of a matrix product (BLAS: ridge's and VAR's Gram matrix)
SOLVE_FLOPS = 2.5e9  # n**3 a second of an n x n least-squares solve (VAR's order search)
GBM_SECONDS = 1.7e-6  # seconds per window x input x model of a gbm fit (Beijing B2b: 224 s)
FIX = "use a shorter --lookback or fewer --features, or leave it out of --baselines"
MORE_TIME = "or allow it more time with --baseline-minutes"
_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar("time_limit", default=None)


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Let a baseline's fit inside the block take up to ``seconds`` (None: ``TIME_LIMIT_S``);
    a context variable, so threads started inside the block keep the module's limit.

    Example:
        >>> with time_limit(3600):  # doctest: +SKIP
        ...     fc.evaluate(split="test", baselines=("gbm",))
    """
    number = isinstance(seconds, numbers.Real) and not isinstance(seconds, bool)
    if seconds is not None and not (number and seconds > 0):
        raise ConfigError(f"the time limit for a baseline must be above 0 seconds, got {seconds!r}")
    token = _limit.set(seconds)
    try:
        yield
    finally:
        _limit.reset(token)


def available_memory() -> int | None:
    """Bytes this process can still allocate: the machine's available memory (psutil), less
    for an address-space limit (``ulimit -v``) already partly used; None where unknown."""
    free = None
    try:
        import psutil

        free = int(psutil.virtual_memory().available)
        used = int(psutil.Process().memory_info().vms)
    except (ImportError, OSError):  # psutil missing or refused: POSIX's count of free pages
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            pass
        used = None
    cap = _address_space_limit()
    if cap is not None and used is not None:
        free = cap - used if free is None else min(free, cap - used)
    return None if free is None else max(0, free)


def _address_space_limit() -> int | None:
    """The process's address-space limit (``ulimit -v``) in bytes; None when unlimited or
    unknown (no ``resource`` module on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    cap = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if cap == resource.RLIM_INFINITY else int(cap)


def check_budget(
    name: str,
    need: float,
    seconds: float,
    what: str,
    *,
    memory: float | None = None,
    fix: str = FIX,
) -> None:
    """ConfigError when a fit of ``name`` needing ``need`` bytes (for ``what``) would not fit in
    ``MEMORY_SHARE`` of ``memory`` (default: ``available_memory()``), or would take over
    ``TIME_LIMIT_S`` seconds, or those of the ``time_limit`` block it runs in (estimated
    ``seconds``); the message ends with ``fix``."""
    memory = available_memory() if memory is None else memory
    if memory is not None and need > MEMORY_SHARE * memory:
        raise ConfigError(
            f"{name} needs about {size(need)} for {what}, but {size(memory)} is free here: {fix}"
        )
    limit = _limit.get()
    limit = TIME_LIMIT_S if limit is None else limit
    if seconds > limit:
        raise ConfigError(
            f"{name} would take about {duration(seconds)} to fit {what}, over the "
            f"{duration(limit)} limit: {fix}, {MORE_TIME}"
        )


def size(n: float) -> str:
    """Bytes as a short text: ``size(2**31)`` is ``'2.0 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def duration(seconds: float) -> str:
    """Seconds as a short text: ``duration(5400)`` is ``'1.5 h'``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"
