"""The one error family users see: every problem a user can cause is a ``LstmcastError``.

The CLI turns these into a single line and a non-zero exit; the message names the problem
and the fix, e.g. ``units must be a positive integer, got 0: pass --units 64``.
"""

import contextlib
import inspect
import os
import warnings
from collections.abc import Iterator


class LstmcastError(Exception):
    """Base class of every error a user can cause and act on."""


class ConfigError(LstmcastError, ValueError):
    """A nonsense argument or configuration value (zero units, negative dropout, ...)."""


class DataError(LstmcastError, ValueError):
    """A table that cannot be used as given: missing column, NaNs, too short, bad timestamps."""


class DatasetUnavailableError(LstmcastError):
    """A registered dataset is neither on disk nor downloadable (offline, bad checksum)."""


class ModelFileError(LstmcastError):
    """A model directory that is missing, truncated, corrupted, foreign or from a newer version."""


class NotFittedError(LstmcastError, AttributeError):
    """``predict``/``evaluate``/``save`` called on an estimator before ``fit``."""


class TrainingDivergedError(LstmcastError, FloatingPointError):
    """The loss became NaN or inf (``train_network`` keeps the last finished epoch's weights).

    ``summary`` is what happened without the fix ("training diverged at epoch 3 (loss nan)"),
    which ``tune`` records for a failed trial; it is the whole message when none is given.
    """

    def __init__(self, message: str, summary: str | None = None):
        super().__init__(message)
        self.summary = summary or message


class FitInterruptedWarning(UserWarning):
    """A fit stopped by Ctrl-C returned a network trained part of the way (the CLI says so in
    its own words and does not show this one)."""


@contextlib.contextmanager
def caller_reports_interruption() -> Iterator[None]:
    """For callers that stop on a fit's interruption themselves (``compare``, ``tune``, the
    CLI): the fit's FitInterruptedWarning would tell of weights they do not go on with."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitInterruptedWarning)
        yield


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn at the first caller outside lstmcast, whatever depth inside it raised the warning.

    A fixed ``stacklevel`` is right for one call path only (``read_table`` is reached from the
    user, from ``Forecaster.fit`` and from the registry). Like pandas' ``find_stack_level``,
    this walks out of the package, so the warning names the user's line and ``-W`` filters by
    module work. From the CLI every frame is lstmcast's; the CLI prints the message alone.
    """
    package = os.path.dirname(__file__) + os.sep
    frame, level = inspect.currentframe(), 1  # level 1 is this function
    try:
        while frame is not None and frame.f_code.co_filename.startswith(package):
            frame, level = frame.f_back, level + 1
    finally:
        del frame  # a frame kept in a local makes a reference cycle
    warnings.warn(message, category, stacklevel=level)
