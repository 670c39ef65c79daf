"""Reading a table: files and frames in, columns validated and encoded, gaps re-indexed, filled.

``read_table`` turns a CSV or Parquet file (or a DataFrame) into a ``Table``: float64 columns on a
sorted, unique, regular ``DatetimeIndex`` named ``time``, with an ``observed`` mask that remembers
which values were really in the file before any gap was re-indexed or any NA was filled. Models
may read filled inputs; metrics and losses read the mask, so a missing target is never scored.
Files are read into a raw frame by ``lstmcast.data.files``; the time index (which column, how
its timestamps are read, its frequency) comes from ``lstmcast.data.timestamps``.
"""

from __future__ import annotations

import datetime
import os
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lstmcast.data.files import check_repeats, read_file
from lstmcast.data.timestamps import (
    INDEX_TIME,
    TIME_NAMES,
    check_duplicates,
    naive_utc,
    regular_index,
    show_value,
    time_index,
)
from lstmcast.errors import DataError, warn

FILLS = ("interpolate", "ffill", "none", "refuse")
CATEGORICALS = ("label", "onehot")
MAX_CATEGORIES = 32  # a text column with at most this many distinct values is categorical
ROW_NUMBER_NAMES = ("no", "index", "unnamed: 0", "row")  # dropped when they just count rows
# Missing values as agencies write them; warned about where far outside a column's other values
MISSING_CODES = (-99999, -9999, -999, 9999, 99999)
IN_MEMORY = "DataFrame"  # the name of a table read from a DataFrame, in messages and models


@dataclass
class Table:
    """A time series table ready for windowing.

    Attributes:
        frame: float64 columns on a ``DatetimeIndex`` named ``time`` (sorted, unique, regular at
            ``freq`` after re-indexing); inputs filled as ``fill`` asked.
        observed: bool, same index and columns: True where the raw value was present.
        freq: pandas offset alias (``"h"``, ``"QS-JAN"``, ...), None when the index is irregular.
        name: registry name or file path.
        encodings: categorical column -> ``{"kind", "categories", "columns"}``.
        skipped: text columns left out because they are not categorical (``free_text="skip"``)
            -> why, in one line.
        time_columns: the columns read into the time index and dropped (year/month/day/hour
            parts, a time column, a day-only date beside hours), named when one is asked for.
        tz: the zone of timestamps read with UTC offsets or from a tz-aware index or column:
            the index zone, else the one offset they all share (``+05:30``), else UTC. The
            index itself is then in UTC without a zone; forecasts are stamped back in ``tz``.
            None for timestamps without offsets (and local dates, see ``read_table``).
    """

    frame: pd.DataFrame
    observed: pd.DataFrame
    freq: str | None
    name: str
    encodings: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    time_columns: tuple[str, ...] = ()
    tz: datetime.tzinfo | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def __len__(self) -> int:
        return len(self.frame)


def read_table(
    source: str | os.PathLike | pd.DataFrame,
    *,
    time_col: str | None = None,
    columns: list[str] | None = None,
    categorical: str = "label",
    fill: str = "ffill",
    reindex: bool = True,
    encodings: dict[str, dict] | None = None,
    free_text: str = "refuse",
    needed: Collection[str] = (),
    name: str | None = None,
) -> Table:
    """Read a CSV/Parquet file or a DataFrame into a ``Table``.

    Args:
        source: a ``.parquet``/``.pq`` path, any other path read as CSV (``.json``, ``.xlsx``
            and other clearly non-CSV formats are refused; gzip, bz2, xz or single-file zip
            compression is known by the first bytes, whatever the name), or a DataFrame.
        time_col: the column (or the name of the DatetimeIndex) holding timestamps. When None:
            a DatetimeIndex, else a datetime column named time/date/datetime/timestamp, else
            year/month/day[/hour[/minute]] or year/quarter columns (which otherwise stay
            inputs), else a text column named time/date/datetime/timestamp. Beside
            year/month/day, such a column on the same dates is the time when its values are
            unique, and dropped with the parts when they repeat (never an input). Timestamps
            with UTC offsets are indexed in UTC and their zone kept in ``Table.tz`` (except
            local dates that only read regular as such: daily steps across daylight saving,
            kept as naive local dates); dd/mm/yyyy dates must fit one day/month order only.
        columns: keep only these (raw) columns, in this order; default all.
        categorical: ``"label"`` (codes 0, 1, ...) or ``"onehot"`` (``col_CAT`` 0/1 columns)
            for text columns of at most ``MAX_CATEGORIES`` values, categories in alphabetical
            order, and for pandas ``category`` columns (of text, numbers or anything else),
            categories in their declared order (``series.cat.categories``, ordered or not; used
            or not): a category column is never read as its values.
        fill: ``"ffill"`` (the default; then bfill of the leading edge), ``"interpolate"`` (linear,
            then edge ffill/bfill; it can look ahead), ``"none"`` (NaN stays) or ``"refuse"``
            (DataError on any missing value).
            Categorical codes are never interpolated: they are forward/back filled.
        reindex: insert the missing timestamps of a gappy regular series as NaN rows (observed
            False, then filled).
        encodings: the ``Table.encodings`` of an earlier read (e.g. the training data): reuse its
            categories and kind so that new data gets the same codes and columns; a category not
            seen then is a DataError. A text column not among them (a model had it as numbers)
            is not encoded: it counts as free text (see ``free_text``).
        free_text: a text column with more than ``MAX_CATEGORIES`` distinct values (a name, a
            note) is not categorical: ``"refuse"`` it (DataError), or ``"skip"`` it, recording
            why in ``Table.skipped`` (the caller refuses it if it is needed).
        needed: columns a model reads (new rows for it): kept even where they build the time, as
            year/month/day parts do when the model was trained with a time column beside them.
        name: the table's name in messages and in ``Table.name`` (default: the path, or
            ``"DataFrame"``).

    A numeric column holding -999, -9999, -99999, 9999 or 99999 far outside its other values
    (by at least their range, or 1) gets a warning: a missing-value code read as a measurement?
    The values are kept as they are.

    Example:
        >>> t = read_table("beijing_pm25.csv")          # doctest: +SKIP
        >>> t.frame.shape, t.freq                          # doctest: +SKIP
        ((43824, 8), 'h')
    """
    if categorical not in CATEGORICALS:
        raise DataError(f"categorical must be one of {CATEGORICALS}, got {categorical!r}")
    if fill not in FILLS:
        raise DataError(f"fill must be one of {FILLS}, got {fill!r}")
    if free_text not in ("refuse", "skip"):
        raise DataError(f"free_text must be 'refuse' or 'skip', got {free_text!r}")
    raw, own_name, index_col = _load(source)
    name = own_name if name is None else name
    if raw.empty:
        raise DataError(f"{name}: the table has a header but no rows; pass a file with data rows")
    own_index = source.index if isinstance(source, pd.DataFrame) else None  # explains no time
    index, time_parts = time_index(raw, time_col, name, index_col, own_index, set(encodings or {}))
    tz, index = index.tz, naive_utc(index)
    dropped = [c for c in time_parts if c not in needed]
    raw = raw.drop(columns=dropped)
    raw = raw.drop(columns=[c for c in raw.columns if _is_row_number(raw[c])])
    # before columns are chosen or encoded: a station column of long format is named even
    # where --features leaves it out or it holds more names than a category may
    check_duplicates(index.sort_values(), name, raw.set_axis(index))
    if columns is not None:
        missing = [c for c in columns if c not in raw.columns]
        if missing:
            raise DataError(
                f"{name}: columns {missing} not found; the table has {list(raw.columns)}"
            )
        raw = raw[list(columns)]
    frame, encodings, skipped = _encode(raw, categorical, name, encodings)
    _warn_missing_codes(
        frame.drop(columns=_encoded_columns(encodings)) if encodings else frame, name
    )
    if skipped and free_text == "refuse":
        raise DataError(f"{next(iter(skipped.values()))}; drop it with columns=[...]")
    frame.index = index
    frame = frame.sort_index(kind="stable")
    observed = frame.notna()
    freq, full = regular_index(frame.index)
    if full is not None and len(full) > len(frame):
        gaps = full.difference(frame.index)
        message = (
            f"{name}: {len(gaps)} timestamps missing at frequency {freq!r} (first gap at {gaps[0]})"
        )
        if reindex:
            frame = frame.reindex(full)
            observed = observed.reindex(full, fill_value=False)
            message += "; re-indexed as missing rows"
        else:
            freq = None
            message += "; pass reindex=True to insert them"
        warn(message)
    frame.index.name = observed.index.name = "time"
    frame = _fill(frame, fill, set(_encoded_columns(encodings)), name)
    return Table(
        frame=frame,
        observed=observed.astype(bool),
        freq=freq,
        name=name,
        encodings=encodings,
        skipped=skipped,
        time_columns=tuple(str(c) for c in dropped if c != INDEX_TIME),
        tz=tz,
    )


def _load(source: str | os.PathLike | pd.DataFrame) -> tuple[pd.DataFrame, str, str | None]:
    """The raw frame (positional index), a name for messages, and the column that now holds the
    source's DatetimeIndex (its own name when it has a free one; None without such an index)."""
    if isinstance(source, pd.DataFrame):
        frame, name = _own_frame(source), IN_MEMORY
    else:
        frame, name = read_file(Path(source)), str(source)
    if isinstance(frame.index, pd.PeriodIndex):  # monthly or quarterly periods: their starts
        frame.index = frame.index.to_timestamp()
    if not isinstance(frame.index, pd.DatetimeIndex):
        # a named index (read_csv(index_col="time")) is a column, as in the CSV it came from;
        # an unnamed one only numbers the rows (df[df.x > 0] keeps the old row numbers)
        named = frame.index.name is not None and frame.index.name not in frame.columns
        return frame.reset_index(drop=not named), name, None
    index_col = frame.index.name
    if index_col is None or index_col in frame.columns:
        index_col = INDEX_TIME
    return frame.reset_index(names=index_col), name, index_col


def _own_frame(source: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``source`` with text column names, or a DataError for labels that cannot name
    one column each (several levels, repeats)."""
    if isinstance(source.columns, pd.MultiIndex):
        raise DataError(
            f"{IN_MEMORY}: its column labels have {source.columns.nlevels} levels (a MultiIndex); "
            "flatten them first, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]"
        )
    frame = source.copy()
    frame.columns = [str(c) for c in frame.columns]  # pd.DataFrame(array) names them 0, 1, ...
    check_repeats(list(frame.columns), IN_MEMORY)
    return frame


def _is_row_number(column: pd.Series) -> bool:
    """True for a ``No``-style column that only counts rows (n, n + 1, n + 2, ...)."""
    if str(column.name).lower() not in ROW_NUMBER_NAMES or not pd.api.types.is_integer_dtype(
        column
    ):
        return False
    return len(column) > 1 and bool(np.all(np.diff(column.to_numpy()) == 1))


def _encode(
    raw: pd.DataFrame, categorical: str, name: str, given: dict[str, dict] | None
) -> tuple[pd.DataFrame, dict, dict]:
    """Numeric columns as float64; text columns validated, categorical ones encoded (with the
    ``given`` encodings, if any, and then no others), free text left out (the third dict says
    why)."""
    known = given or {}
    if not any(str(c) in known for c in raw.columns) and all(
        (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype))
        and not isinstance(dtype, pd.CategoricalDtype)  # a category of numbers: its codes
        and not pd.api.types.is_complex_dtype(dtype)  # float64 would drop the imaginary part
        for dtype in raw.dtypes
    ):  # all numbers (the common case, and every forecast call): one conversion, one check
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        infinite = np.isinf(values).any(axis=0)
        if infinite.any():
            col = raw.columns[int(np.flatnonzero(infinite)[0])]
            _finite(raw[col].astype("float64"), col, name)  # raises, naming the value
        return pd.DataFrame(values, index=raw.index, columns=raw.columns), {}, {}
    out: dict[str, pd.Series] = {}
    encodings: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for col in raw.columns:
        series = raw[col]
        if isinstance(series.dtype, pd.CategoricalDtype) and given is None:
            categories = _declared(series, col, name)
            out.update(
                _codes(_as_categories(series, categories), col, categorical, categories, encodings)
            )
            continue
        if pd.api.types.is_complex_dtype(series):  # refused where it is used, like free text
            skipped[col] = (
                f"{name}: column {col!r} holds complex numbers, not real measurements (its "
                ".real and .imag, or abs, as two columns can be)"
            )
            continue
        numeric = pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)
        if numeric and str(col) not in known:
            out[col] = _finite(series.astype("float64"), col, name)
            continue
        if str(col) in known:
            kind, categories = known[str(col)]["kind"], list(known[str(col)]["categories"])
            text = _as_categories(series, categories)
            unknown = text.notna() & ~text.isin(categories)
            if unknown.any():
                row = int(np.flatnonzero(unknown.to_numpy())[0])
                raise DataError(
                    f"{name}: column {col!r} holds {show_value(series.iloc[row])} at data row "
                    f"{row + 1}, not one of the categories it was fitted on {categories}; "
                    "map it to a known category or refit"
                )
            out.update(_codes(text, col, kind, categories, encodings))
            continue
        if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(
            series
        ):  # not the time column: its numbers (ns since 1970) would be a trend, not a value
            skipped[col] = (
                f"{name}: column {col!r} holds "
                f"{'durations' if pd.api.types.is_timedelta64_dtype(series) else 'timestamps'}, "
                "not measurements (only the time column may hold times)"
            )
            continue
        numbers = pd.to_numeric(series, errors="coerce")
        present = series.notna()
        parsed = numbers.notna()
        _check_decimal_comma(series, present, parsed, col, name)
        if parsed.sum() > present.sum() / 2:
            bad = present & ~parsed
            if not bad.any():  # numbers stored as text, e.g. an object column of "0.13"
                out[col] = _finite(numbers.astype("float64"), col, name)
                continue
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{name}: numeric column {col!r} holds the text {show_value(series.iloc[row])} at "
                f"data row {row + 1}; "
                "fix the value or mark it missing (empty or NA)"
            )
        text = series.astype("string")
        if given is not None and not present.any():  # no value at all: no text either
            out[col] = numbers.astype("float64")
            continue
        categories = [str(c) for c in sorted(text.dropna().unique())]
        if len(categories) > MAX_CATEGORIES:
            hint = f"; if it holds the time, pass --time-col {col}" if timely(col) else ""
            skipped[col] = (
                f"{name}: text column {col!r} has {len(categories)} distinct values "
                f"(more than {MAX_CATEGORIES}, so not categorical{hint})"
            )
            continue
        if given is not None:  # new rows for a model that read this column as numbers (or not)
            row = int(np.flatnonzero((present & ~parsed).to_numpy())[0])
            skipped[col] = (
                f"{name}: column {col!r} holds the text {show_value(series.iloc[row])} at data "
                f"row {row + 1}"
            )
            continue
        out.update(_codes(text, col, categorical, categories, encodings))
    frame = pd.DataFrame(out, index=raw.index)
    return frame, encodings, skipped


def timely(col) -> bool:
    """Whether a column is named like a time (time, date, datetime, timestamp)."""
    return str(col).lower() in TIME_NAMES


def _finite(values: pd.Series, col, name: str) -> pd.Series:
    """``values`` unchanged, or a DataError naming the first infinite value."""
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise DataError(
            f"{name}: column {col!r} holds {show_value(values.iloc[row])} at data row {row + 1}; "
            "replace infinite values with numbers, or leave them empty (missing)"
        )
    return values


def _warn_missing_codes(frame: pd.DataFrame, name: str) -> None:
    """Warn, once per column and code, where a column holds a ``MISSING_CODES`` value (-999,
    9999, ...) that lies outside its other values' range [a, b] by at least max(b - a, 1): a
    missing-value code read as a measurement. The data are left as they are."""
    if frame.empty:
        return
    # per column, skipping NaN (NaN for a column with no value at all): no copy of the table
    reach = (frame.min() <= max(c for c in MISSING_CODES if c < 0)) | (
        frame.max() >= min(c for c in MISSING_CODES if c > 0)
    )
    if not reach.any():  # Beijing, and most tables: nothing more to look at
        return
    frame = frame.loc[:, reach.to_numpy()]  # only columns that reach a code
    values = frame.to_numpy(dtype="float64")  # (rows, columns)
    coded = np.isin(values, MISSING_CODES)
    if not coded.any():
        return
    others = np.where(coded, np.nan, values)
    low, high = np.fmin.reduce(others, axis=0), np.fmax.reduce(others, axis=0)
    has_others = ~np.isnan(low)
    margin = np.maximum(high - low, 1.0)
    for code in MISSING_CODES:
        counts = (values == code).sum(axis=0)
        far = has_others & (counts > 0) & ((code <= low - margin) | (code >= high + margin))
        for k in np.flatnonzero(far):
            warn(
                f"{name}: column {frame.columns[k]!r} holds {code} in {counts[k]} "
                f"row{'s' if counts[k] > 1 else ''}, far outside its other values "
                f"({low[k]:.6g} to {high[k]:.6g}): a missing-value code? write those cells "
                f"empty (or NA), e.g. df.replace({code}, float('nan'))"
            )


def _check_decimal_comma(
    series: pd.Series, present: pd.Series, parsed: pd.Series, col, name: str
) -> None:
    """DataError when a text column is really numbers written with a decimal comma (12,5) or
    with ',' between thousands (1,000.5); '1,000' alone may be either, and is named as both."""
    text = series[present & ~parsed].astype(str).str.strip()
    thousands = text.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
    comma = thousands | text.str.fullmatch(r"[+-]?(\d+|\d{1,3}(\.\d{3})+),\d+")
    if not comma.any() or parsed.sum() + comma.sum() <= present.sum() / 2:
        return
    decimal = comma & ~thousands  # '12,5', '1.000,25': no thousands separator reads them
    label = (decimal if decimal.any() else comma)[lambda flags: flags].index[0]
    where = f"({text[label]!r} at data row {int(series.index.get_loc(label)) + 1})"
    if decimal.any():
        raise DataError(
            f"{name}: column {col!r} writes numbers with a decimal comma {where}; re-export "
            "the table with '.' as the decimal mark"
        )
    if text[comma].str.contains(".", regex=False).any():  # '1,000.5': ',' between thousands
        raise DataError(
            f"{name}: column {col!r} writes numbers with ',' between thousands {where}; "
            "re-export the table without thousands separators"
        )
    raise DataError(
        f"{name}: column {col!r} writes numbers with a ',' {where}: a thousands separator or a "
        "decimal comma; re-export without thousands separators and with '.' as the decimal mark"
    )


def _declared(series: pd.Series, col, name: str) -> list[str]:
    """The categories of a pandas category column as text, in their declared order; a DataError
    when two read alike (1 and '1')."""
    categories = [str(c) for c in series.cat.categories]
    if len(set(categories)) < len(categories):
        twice = next(c for c, n in Counter(categories).items() if n > 1)
        raise DataError(
            f"{name}: category column {col!r} has two categories that both read {twice!r}; "
            "give each category its own name (series.cat.rename_categories)"
        )
    return categories


def _as_categories(series: pd.Series, categories: list[str]) -> pd.Series:
    """``series`` as the text of its categories: each value as ``str`` gives it (a category
    column by its categories); a value that is no category's text, matched by number when all
    ``categories`` are numbers (101.0 is the category '101'; not '1' when '01' is one too)."""
    values = series.astype(object)
    text = values.map(str, na_action="ignore").astype("string")
    levels = pd.to_numeric(pd.Series(categories, dtype=object), errors="coerce")
    if len(levels) and levels.notna().all():
        once = levels.map(levels.value_counts()) == 1  # '01' and '1' are no number's category
        numbers = pd.to_numeric(values, errors="coerce")
        matched = numbers.map(dict(zip(levels[once], pd.Series(categories)[once], strict=True)))
        matched = matched.astype("string")
        exact = text.isin(categories)  # a value that reads as a category is that category
        text = text.where(exact | matched.isna(), matched)
    return text


def _codes(
    text: pd.Series, col, kind: str, categories: list[str], encodings: dict
) -> dict[str, pd.Series]:
    """Label codes (one column) or one-hot columns for ``text``; records the encoding."""
    codes = pd.Series(pd.Categorical(text, categories=categories).codes, index=text.index)
    codes = codes.astype("float64").where(codes >= 0)
    if kind == "label":
        out = {col: codes}
    else:
        out = {f"{col}_{c}": (codes == k).astype("float64").where(codes.notna())
               for k, c in enumerate(categories)}  # fmt: skip
    encodings[str(col)] = {"kind": kind, "categories": categories, "columns": list(out)}
    return out


def _encoded_columns(encodings: dict) -> list[str]:
    return [c for enc in encodings.values() for c in enc["columns"]]


def _fill(frame: pd.DataFrame, fill: str, codes: set[str], name: str) -> pd.DataFrame:
    if fill == "none" or not frame.isna().to_numpy().any():
        return frame
    counts = frame.isna().sum()
    if fill == "refuse":
        counts = counts[counts > 0]
        listed = ", ".join(f"{c} ({n})" for c, n in counts.items())
        raise DataError(
            f"{name}: missing values in {listed} and fill='refuse'; "
            "pass fill='interpolate' or 'ffill' to fill inputs"
        )
    # a column with no value at all stays missing (observed all False): the model refuses it
    # only if it reads it
    numeric = [c for c in frame.columns if c not in codes]
    out = frame.copy()
    if fill == "interpolate" and numeric:
        out[numeric] = out[numeric].interpolate(method="linear")
    out = out.ffill().bfill()
    return out
