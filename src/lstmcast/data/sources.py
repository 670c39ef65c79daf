"""Where a run's table comes from: reading it as the config says, and finding it again.

A forecaster reads a registered dataset's name, a CSV/Parquet path, a DataFrame or a ``Table``.
New rows for a trained model get its category codes and are checked for its inputs and time
step; a ``Table`` of new rows too: it is read again from its values and categories' text.
A fitted model records the name its run goes by (``config.data``) and the source of its
training table, so that a loaded model can score on that table again, from any working
directory; an in-memory table or a pipe cannot be read again, and says so.

Example:
    >>> table = read_data("beijing-pm25", ForecastConfig())        # doctest: +SKIP
    >>> source_of("table.csv")                    # '/home/me/table.csv'  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lstmcast.data.checks import check_new_table
from lstmcast.data.registry import REGISTRY, load_dataset, read_new_rows
from lstmcast.data.table import IN_MEMORY, Table, read_table
from lstmcast.errors import DataError

if TYPE_CHECKING:
    from lstmcast.config import ForecastConfig


def read_data(
    data: Table | pd.DataFrame | str | os.PathLike | None,
    cfg: ForecastConfig,
    *,
    for_predict: bool = False,
    encodings: dict | None = None,
    source: str | None = None,
    inputs: list[str] | None = None,
    freq: str | None = None,
) -> Table:
    """Read ``data`` (default ``cfg.data``) with the config's categorical, fill and time column.

    With ``for_predict`` the rows are new rows for a trained model: they get its category codes
    ``encodings``, rows in the own layout of the registered dataset ``source`` it was trained on
    are read as that dataset, and the table is checked to hold ``inputs`` at time step ``freq``.
    """
    table = None
    if isinstance(data, Table):
        if not for_predict:
            return data
        table, data = data, raw_frame(data)  # read again, as new rows in a DataFrame are
    if data is None:
        if cfg.data == IN_MEMORY:
            raise DataError(
                "this Forecaster was fitted on an in-memory table, which it does not keep "
                "for a new fit: pass the table, fit(frame)"
            )
        data = cfg.data
    data = _home(data)
    if not isinstance(data, str | os.PathLike | pd.DataFrame):
        fix = {
            "Series": "make it a table first, series.to_frame()",
            "ndarray": "make it a table first, pd.DataFrame(array, columns=[...], index="
            "timestamps)",
        }.get(type(data).__name__, "pass one of those")
        raise DataError(
            f"data must be a DataFrame, the path of a CSV or Parquet file, or a dataset name; "
            f"got {type(data).__name__}: {fix}"
        )
    # free text is refused only where it is used (plan, check_new_table), so that
    # --features can leave a column of names or notes out
    kwargs = {"categorical": cfg.categorical, "fill": cfg.fill, "free_text": "skip"}
    if cfg.time_col is not None and table is None:  # a Table's time is its index
        kwargs["time_col"] = cfg.time_col
    given, table = table, None
    if given is not None:  # its own name in messages
        kwargs["name"] = given.name
    if for_predict:  # new data gets the training categories' codes and columns
        kwargs["encodings"], kwargs["needed"] = encodings, inputs or ()
        # rows in the own layout of the registered dataset the model was trained on
        table = read_new_rows(str(source), data, **kwargs)
    if table is None and isinstance(data, pd.DataFrame):
        table = read_table(data, **kwargs)
    elif table is None:
        table = load_dataset(str(data), **kwargs)
    if given is not None:  # its name (a dataset layout renames it), and the text it left out
        table.name, table.skipped = given.name, {**given.skipped, **table.skipped}
    if for_predict:
        check_new_table(table, inputs, freq)
    return table


def raw_frame(table: Table) -> pd.DataFrame:
    """``table`` as the frame it was read from: its values where observed (NaN elsewhere, so
    that they are filled again), each categorical column as its categories' text, on its time
    index. New rows read as a ``Table`` get a model's own category codes and checks from it."""
    frame = table.frame.where(table.observed)
    for col, enc in table.encodings.items():
        categories = np.array(enc["categories"], dtype=object)
        if enc["kind"] == "label":
            codes = frame[enc["columns"][0]]
        else:  # one-hot: the column of the 1
            hot = frame[enc["columns"]]
            codes = hot.to_numpy().argmax(axis=1).astype(float)
            codes = pd.Series(codes, index=frame.index).where(hot.eq(1).any(axis=1))
        text = pd.Series(pd.NA, index=frame.index, dtype=object)
        present = codes.notna()
        text[present] = categories[codes[present].astype(int)]
        at = frame.columns.get_loc(enc["columns"][0])
        frame = frame.drop(columns=enc["columns"])
        frame.insert(at, col, text)
    return frame


def name_of(data: object, table: Table) -> str:
    """``config.data`` for a run on ``data``: a path or dataset name as given, else the table's
    own name (IN_MEMORY, or the dataset a Table was loaded from), so that an in-memory table
    never picks up the default dataset's split dates, target and units."""
    return str(data) if isinstance(data, str | os.PathLike) else table.name


def source_of(data: object) -> str | None:
    """Where the training table came from, to find it again from any working directory:
    a file path made absolute, a dataset name or a pipe as given, None for an in-memory table."""
    if not isinstance(data, str | os.PathLike):
        return None
    data = _home(data)
    if str(data) in REGISTRY or not Path(data).is_file():  # names win over files, as on reading
        return str(data)
    return str(Path(data).resolve())


def training_data_again(source: str | None, name: str) -> str:
    """What to read to score a model on its training table again: its recorded ``source``, else
    its run's ``name`` (``config.data``); DataError for an in-memory table or a pipe."""
    data = source or name
    if data == IN_MEMORY:
        raise DataError(
            "this model was fitted on an in-memory table, which its files do not "
            "hold: pass the table to score on (evaluate(frame), or --data FILE)"
        )
    check_readable_again(
        str(data), "this model", "pass the table to score on (--data FILE, or evaluate(frame))"
    )
    return data


def check_readable_again(source: str, what: str, fix: str) -> None:
    """Refuse to re-read a training table that came through a pipe (``--data <(zcat f.gz)``):
    its data is gone, and the same /dev/fd number may now be another stream. ``what`` was
    trained from it ("this model", "this run"); ``fix`` says what to pass instead."""
    path = Path(source)
    stream = path.exists() and not path.is_file() and not path.is_dir()  # a FIFO, a terminal
    if source not in REGISTRY and (stream or source.startswith(("/dev/", "/proc/"))):
        raise DataError(
            f"{what} was trained from a pipe ({source}), which cannot be read again: {fix}"
        )


def _home(data: object) -> object:
    """``~/x.csv`` as the shell would expand it: a TOML config (``data = "~/x.csv"``) and Python
    calls get no shell in between."""
    if isinstance(data, str) and data.startswith("~"):
        return os.path.expanduser(data)
    return data
