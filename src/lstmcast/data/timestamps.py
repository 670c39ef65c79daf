"""The time index of a table: which column holds the time, how its timestamps are read, and
their frequency.

The time comes from a named column, a DatetimeIndex, a datetime column called
time/date/datetime/timestamp, year/month/day[/hour[/minute]] or year/quarter columns, or a text
column called time/date/datetime/timestamp. Beside year/month/day parts, a column so named
whose timestamps fall on the parts' dates is the time when its values are unique (the parts
stay columns), and is dropped with the parts when they repeat (a day-only date beside hours).
dd/mm/yyyy dates are read day-first only when no value can be month-first; timestamps with UTC
offsets are indexed in UTC (the table remembers their zone) unless only the local dates are
regular. ``regular_index`` finds the frequency of a gappy
index and the complete index that fills its gaps; ``read_table`` (``lstmcast.data.table``)
re-indexes onto it.
"""

from __future__ import annotations

import datetime
import re
import warnings
from collections.abc import Collection

import numpy as np
import pandas as pd

from lstmcast.errors import DataError

TIME_NAMES = ("time", "date", "datetime", "timestamp")  # auto-detected time columns
# dd/mm/yyyy or mm/dd/yyyy (also with . or -), optionally followed by a time of day
NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T].*)?")
# a time of day (group 1) and the UTC offset that ends a timestamp: 00:00+01:00, 00:00:00 UTC
TIME_AND_OFFSET = r"(\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
# a time of day followed by a UTC offset: 01:00+01:00, 01:00:00Z, 01:00 +0100
UTC_OFFSET = re.compile(
    r".*\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)", re.I
)
INDEX_TIME = "__index_time__"  # the column a DatetimeIndex becomes when it has no usable name
SNIFF_DATES = 20  # values of a non-time index read to tell whether it holds dates


def time_index(
    raw: pd.DataFrame,
    time_col: str | None,
    name: str,
    index_col: str | None,
    frame_index: pd.Index | None = None,
    keep: Collection[str] = (),
) -> tuple[pd.DatetimeIndex, list]:
    """The timestamps and the columns that built them or repeat them (dropped afterwards);
    ``index_col`` holds the source's DatetimeIndex, the time unless ``time_col`` names another
    column; ``frame_index``, a DataFrame's own index (no DatetimeIndex), only explains a missing
    time; ``keep``, columns a model read as categories, are never taken for the time."""
    lower = {str(c).lower(): c for c in raw.columns}
    if len(raw.columns) == 1 and " " in str(raw.columns[0]).strip():
        raise DataError(
            f"{name}: the header {str(raw.columns[0])!r} reads as a single column: use a "
            "comma-separated file (';', tab and '|' are recognised too)"
        )
    if time_col is None:
        time_col = index_col
    if time_col is not None:
        if time_col not in raw.columns:
            shown = [c for c in raw.columns if c != INDEX_TIME]
            raise DataError(f"{name}: time column {time_col!r} not found; the columns are {shown}")
        if time_col == index_col:
            _check_no_nat(raw[time_col], name)
        index_time = [index_col] if index_col not in (None, time_col) else []
        return _parse_times(raw[time_col], time_col, name), [time_col, *index_time]
    found = [lower[n] for n in TIME_NAMES if n in lower]
    typed = len(found) == 1 and pd.api.types.is_datetime64_any_dtype(raw[found[0]])
    if typed and raw[found[0]].is_unique:
        # a datetime column named time/date/...: the time, even beside year/month/day features;
        # a coarser one (days beside year/month/day/hour) repeats, and the parts build the time
        return _parse_times(raw[found[0]], found[0], name), found
    if {"year", "month", "day"} <= lower.keys():
        parts = [lower[p] for p in ("year", "month", "day", "hour", "minute") if p in lower]
        fields = {p.lower(): _integers(raw[p], p, name) for p in parts}
        try:
            index = pd.DatetimeIndex(pd.to_datetime(pd.DataFrame(fields)))
        except (ValueError, OverflowError) as err:
            raise DataError(
                f"{name}: year/month/day columns do not form valid dates: {err}"
            ) from err
        # a time/date column of the same dates (a CSV export of a frame with calendar
        # features): the time when its values are unique, else a coarser copy of it
        copies = {c: _same_dates(raw[c], index, name) for c in found if c not in keep}
        copies = {c: times for c, times in copies.items() if times is not None}
        unique = [c for c, times in copies.items() if times.is_unique]
        repeats = [c for c in copies if c not in unique]
        if len(unique) == 1:  # the parts stay, as inputs
            return copies[unique[0]], [*unique, *repeats]
        return index, [*parts, *repeats]
    if {"year", "quarter"} <= lower.keys():
        parts = [lower["year"], lower["quarter"]]
        year, quarter = (_integers(raw[p], p, name) for p in parts)
        if not quarter.between(1, 4).all():
            raise DataError(f"{name}: column {parts[1]!r} must hold quarters 1-4")
        periods = pd.PeriodIndex.from_fields(year=year, quarter=quarter, freq="Q")
        return periods.to_timestamp(how="start"), parts
    if len(found) == 1:
        return _parse_times(raw[found[0]], found[0], name), found
    if frame_index is None:
        raise DataError(
            f"{name}: cannot tell which column holds the time (columns {list(raw.columns)}); "
            "pass time_col=... (--time-col NAME), or provide year/month/day[/hour] columns"
        )
    if _holds_dates(frame_index):
        raise DataError(
            f"{name}: the index holds dates but is not a DatetimeIndex (it holds "
            f"{show_value(frame_index[0])}, ...); make it one first: "
            "df.index = pd.to_datetime(df.index)"
        )
    raise DataError(
        f"{name}: no time column or DatetimeIndex (columns {list(raw.columns)}, index of "
        f"{type(frame_index).__name__}); set one with df.index = pd.to_datetime(...), or pass "
        "time_col=... naming the column of timestamps"
    )


def _same_dates(column: pd.Series, dates: pd.DatetimeIndex, name: str) -> pd.DatetimeIndex | None:
    """``column`` read as timestamps when each falls on the day of ``dates`` (built from
    year/month/day parts), else None (a label such as '30 Jan', times of day, other text)."""
    if not (
        pd.api.types.is_datetime64_any_dtype(column)
        or pd.api.types.is_object_dtype(column)
        or pd.api.types.is_string_dtype(column)
    ):
        return None
    try:
        times = naive_utc(_parse_times(column, str(column.name), name))
    except (DataError, TypeError, ValueError, OverflowError):
        return None
    return times if (times.normalize() == dates.normalize()).all() else None


def _check_no_nat(column: pd.Series, name: str) -> None:
    """DataError naming the first NaT of a DataFrame's DatetimeIndex (here ``column``)."""
    empty = column.isna().to_numpy()
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        index = "the index" if column.name == INDEX_TIME else f"the index {column.name!r}"
        raise DataError(
            f"{name}: {index} holds an empty value (NaT) at row {row + 1} (df.iloc[{row}]); "
            "drop or fix those rows first, e.g. df = df[df.index.notna()]"
        )


def _holds_dates(index: pd.Index) -> bool:
    """Whether a DataFrame's index that is not a DatetimeIndex holds dates (``datetime.date``
    objects, or text that reads as timestamps); only to explain a missing time."""
    values = pd.Series(index[:SNIFF_DATES], dtype=object).dropna()
    if values.empty:
        return False
    if values.map(lambda v: isinstance(v, (datetime.date, np.datetime64))).all():
        return True
    if not values.map(lambda v: isinstance(v, str)).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return bool(pd.to_datetime(values, errors="coerce", format="mixed").notna().all())


def _parse_times(column: pd.Series, col: str, name: str) -> pd.DatetimeIndex:
    """Timestamps; those with UTC offsets stay zone-aware (in the column's zone, in the one
    offset they all share, else in UTC; ``read_table`` keeps the zone and indexes in UTC), so
    that an hourly series stays hourly across a daylight-saving change, unless only the local
    dates are regular (daily or longer steps across such a change): then the offset is dropped
    and the local wall-clock times kept. dd/mm/yyyy dates are read day-first only when
    no value can be month-first; an order that cannot be told is a DataError."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_datetime64_any_dtype(column):
        raise DataError(
            f"{name}: time column {col!r} holds numbers ({show_value(column.iloc[0])} at data "
            "row 1), not timestamps; pass the column that holds dates and times as --time-col"
        )
    text = None
    if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
        text = column.dropna().astype(str).str.strip()
    dayfirst = text is not None and _day_first(text, col, name)
    with warnings.catch_warnings():  # "could not infer format": the bad value is named below
        warnings.simplefilter("ignore", UserWarning)
        try:
            times = pd.to_datetime(column, errors="coerce", dayfirst=dayfirst)
        except ValueError:  # "Mixed timezones": offsets that change, e.g. +01:00 to +02:00
            times = pd.to_datetime(column, errors="coerce", dayfirst=dayfirst, utc=True)
    bad = times.isna()
    if bad.any():
        if text is not None:
            _check_offsets(text, col, name)
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{name}: time column {col!r} holds {show_value(column.iloc[row])} at data row "
            f"{row + 1}, which is not a timestamp; fix the value or pass the right --time-col"
        )
    if getattr(times.dt, "tz", None) is None:
        return pd.DatetimeIndex(times)
    aware = pd.DatetimeIndex(times)  # in the column's zone, or its one offset, else UTC
    if regular_index(naive_utc(aware).sort_values())[0] is not None:
        return aware
    # Local midnights (or month starts) across a daylight-saving change are 23 or 25 h apart in
    # UTC but one day apart on the wall clock: then the local dates are the regular series.
    if text is not None:
        wall_clock = text.str.replace(TIME_AND_OFFSET, r"\1", regex=True, case=False)
        local = pd.to_datetime(wall_clock, errors="coerce", dayfirst=dayfirst)
    else:
        local = times.dt.tz_localize(None)
    local = pd.DatetimeIndex(local)
    if not local.isna().any() and regular_index(local.sort_values())[0] is not None:
        return local
    return aware


def naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """``index`` in UTC without a zone (a naive index as it is)."""
    return index if index.tz is None else index.tz_convert("UTC").tz_localize(None)


def _day_first(text: pd.Series, col: str, name: str) -> bool:
    """Whether dd/mm/yyyy-style dates are day-first: only when some day is past 12 (so no value
    reads month-first); a DataError when either order fits (ambiguous) or neither (mixed)."""
    if text.empty or not NUMERIC_DATE.fullmatch(text.iloc[0]):
        return False
    parts = text.str.extract(NUMERIC_DATE.pattern + "$")
    if parts[0].isna().any():  # mixed layouts: the parser names the odd value
        return False
    first, second = parts[0].astype(int), parts[2].astype(int)
    month_first, day_first = (first <= 12).all(), (second <= 12).all()
    if month_first and day_first and (first != second).any():
        label = (first != second).idxmax()
        raise DataError(
            f"{name}: time column {col!r} holds dates such as {text[label]!r} (data row "
            f"{label + 1}) that read both day-first and month-first; write the dates as "
            "ISO YYYY-MM-DD"
        )
    if not month_first and not day_first:
        late_day, late_month = (first > 12).idxmax(), (second > 12).idxmax()
        raise DataError(
            f"{name}: time column {col!r} mixes day-first and month-first dates "
            f"({text[late_day]!r} at data row {late_day + 1}, {text[late_month]!r} at data "
            f"row {late_month + 1}); write the dates as ISO YYYY-MM-DD"
        )
    return not month_first


def _check_offsets(text: pd.Series, col: str, name: str) -> None:
    """DataError when some timestamps carry a UTC offset and others do not."""
    aware = text.str.fullmatch(UTC_OFFSET.pattern, case=False)
    if aware.any() and not aware.all():
        with_offset, without = aware.idxmax(), (~aware).idxmax()
        raise DataError(
            f"{name}: time column {col!r} mixes timestamps with a UTC offset "
            f"({text[with_offset]!r} at data row {with_offset + 1}) and without "
            f"({text[without]!r} at data row {without + 1}); give every timestamp an "
            "offset (e.g. +01:00) or none"
        )


def show_value(value: object) -> str:
    """A value as messages show it: 3, 2.5, 'SW', an empty value (never np.int64(3))."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return "an empty value"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return str(value)
    return repr(value)


def _integers(column: pd.Series, col: str, name: str) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{name}: time part {col!r} holds {show_value(column.iloc[row])} at data row "
            f"{row + 1}; expected a whole number"
        )
    return values.astype("int64")


def check_duplicates(
    index: pd.DatetimeIndex, name: str, columns: pd.DataFrame | None = None
) -> None:
    """DataError naming the first repeated timestamps; with ``columns`` (the table's other
    columns, indexed by its timestamps in any order), one for series stacked in long format
    when a column such as a station takes a different value in each row of a timestamp."""
    duplicated = index[index.duplicated()].unique()
    if not len(duplicated):
        return
    if columns is not None:
        _check_long_format(columns, name)
    first = ", ".join(str(t) for t in duplicated[:3])
    fix = "remove or aggregate the repeated rows"
    if _clocks_went_back(duplicated):
        fix = (
            f"if they are local times repeated when the clocks went back on "
            f"{duplicated[0].date()}, give them with UTC offsets (e.g. "
            f"{duplicated[0].isoformat()}+02:00, then +01:00 in Central Europe) or in UTC; "
            f"else {fix}"
        )
    raise DataError(f"{name}: {len(duplicated)} duplicate timestamps (first: {first}); {fix}")


def _check_long_format(columns: pd.DataFrame, name: str) -> None:
    """DataError when the repeated timestamps are k series stacked in long format: most
    timestamps repeat, and some column takes k distinct values in all and never the same one
    twice at one timestamp, where k is the most rows a timestamp has; text columns are preferred
    to numbers."""
    groups = columns.groupby(level=0, sort=False)
    sizes = groups.size()
    k = int(sizes.max())
    if k < 2 or (sizes > 1).mean() < 0.5:  # a few repeated rows: no series stacked
        return
    distinct = groups.nunique(dropna=False)
    stacked = [
        c
        for c in columns.columns
        if (distinct[c] == sizes).all() and columns[c].nunique(dropna=False) == k
    ]
    if not stacked:
        return
    stacked.sort(key=lambda c: pd.api.types.is_numeric_dtype(columns[c]))  # text first
    col = stacked[0]
    raise DataError(
        f"{name}: {k} series stacked in one table (long format): column {col!r} takes {k} "
        f"values at each timestamp; {pivot_advice(columns, col, columns.index.name)}"
    )


def pivot_advice(columns: pd.DataFrame | Collection[str], col: str, time: str | None) -> str:
    """How to make one column per value of ``col`` (a station): ``df.pivot`` on the time column
    ``time`` (default 'time') with the other ``columns`` as values, or one station's rows."""
    values = [str(c) for c in columns if c != col]
    shown = f"[{values[0]!r}, ...]" if len(values) > 1 else repr(values)
    return (
        f"make one column per {col}, e.g. df.pivot(index={str(time or 'time')!r}, "
        f"columns={col!r}, values={shown}) then flatten the names, or keep one {col}'s rows"
    )


def _clocks_went_back(duplicated: pd.DatetimeIndex) -> bool:
    """Whether repeated local times look like the hour repeated when daylight saving ends: all
    within one hour between midnight and 4:00 of one Sunday, without a UTC offset."""
    if duplicated.tz is not None:
        return False
    first, last = duplicated.min(), duplicated.max()
    return (
        first.day_of_week == 6
        and last - first < pd.Timedelta(hours=1)
        and last.hour < 4
        and first.date() == last.date()
    )


def infer_freq(index: pd.DatetimeIndex) -> str | None:
    """The pandas offset alias of a regular index (``"h"``, ``"QS-JAN"``), else None."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        freq = pd.infer_freq(index)
    return getattr(freq, "freqstr", freq)


def regular_index(index: pd.DatetimeIndex) -> tuple[str | None, pd.DatetimeIndex | None]:
    """(frequency, complete regular index) of a possibly gappy index; (None, None) if irregular."""
    freq = infer_freq(index)
    if freq is not None and _spans(freq, index):
        return freq, index
    if len(index) < 3:
        return None, None
    # Candidates: the frequency of short stretches (calendar steps such as months), then the
    # most common step (fixed steps such as hours).
    candidates = []
    for start in range(0, len(index) - 4, max(1, len(index) // 16)):
        candidate = infer_freq(index[start : start + 5])
        if candidate is not None and candidate not in candidates:
            candidates.append(candidate)
    step = pd.Series(index[1:] - index[:-1]).mode()[0]
    candidates.append(pd.tseries.frequencies.to_offset(step).freqstr)
    # Of those that hold every timestamp, the one that leaves the fewest missing: business days
    # with holidays that start on a Monday have Monday-Friday stretches, which read as daily.
    covering = []
    for candidate in candidates:
        full = pd.date_range(index[0], index[-1], freq=candidate)
        if index.isin(full).all():
            covering.append((len(full), candidate, full))
    if not covering:
        return None, None
    _, candidate, full = min(covering, key=lambda c: c[0])  # the first of equals
    inferred = infer_freq(full)
    return (inferred if inferred and _spans(inferred, full) else candidate), full


def _spans(freq: str, index: pd.DatetimeIndex) -> bool:
    """Whether ``freq`` steps from the first timestamp give exactly ``index`` (pandas can infer
    ``"BMS"`` for month starts that fall on a weekend, which would misdate forecasts)."""
    return pd.date_range(index[0], periods=len(index), freq=freq).equals(index)
