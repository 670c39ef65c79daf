"""The one error family users see: every problem a user can cause is a ``LstmcastError``.

The CLI turns these into a single line and a non-zero exit; the message names the problem
and the fix, e.g. ``units must be a positive integer, got 0: pass --units 64``.
"""


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
    """The loss became NaN or inf (``train_network`` keeps the last finished epoch's weights)."""
