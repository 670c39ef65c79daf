"""Checks that a table can feed an LSTM: regular steps, enough rows, usable columns.

Each raises ``DataError`` with the problem and the fix in one line (or warns, for a column that
is constant in the training split).
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import DateOffset, Day, Tick

from lstmcast.data.split import Split
from lstmcast.data.table import Table
from lstmcast.data.timestamps import pivot_advice, regular_index
from lstmcast.errors import DataError, warn

# Aliases of pandas before 2.2 that a saved model may hold and pandas 3 refuses
OLD_ALIASES = {
    "H": "h", "T": "min", "S": "s", "L": "ms", "U": "us", "N": "ns", "M": "ME", "Q": "QE",
    "A": "YE", "Y": "YE", "AS": "YS", "BM": "BME", "BQ": "BQE", "BA": "BYE", "BY": "BYE",
    "BAS": "BYS", "SM": "SME", "BH": "bh", "CBH": "cbh", "CBM": "CBME",
}  # fmt: skip
# The rule check_regular suggests for irregular timestamps: the first of these at least about
# as long as the median step (50-minute steps give 'h', 23 h to 25 h ones 'D', 28 to 31 days 'MS')
RESAMPLE_RULES = (
    ("s", "1s"), ("min", "1min"), ("5min", "5min"), ("10min", "10min"), ("15min", "15min"),
    ("30min", "30min"), ("h", "1h"), ("2h", "2h"), ("3h", "3h"), ("6h", "6h"), ("12h", "12h"),
    ("D", "1D"), ("W", "7D"), ("MS", "28D"), ("QS", "89D"), ("YS", "365D"),
)  # fmt: skip

# The grids check_regular and check_new_table advise rounding jittered timestamps onto, coarsest
# first, and how a message names a point of each
ROUNDING_UNITS = (
    ("D", "midnight"), ("12h", "a 12-hour mark"), ("6h", "a 6-hour mark"),
    ("3h", "a 3-hour mark"), ("2h", "a 2-hour mark"), ("h", "a whole hour"),
    ("30min", "a half hour"), ("15min", "a quarter hour"), ("10min", "a 10-minute mark"),
    ("5min", "a 5-minute mark"), ("min", "a whole minute"), ("s", "a whole second"),
)  # fmt: skip
JITTER = 0.1  # rounding moves no timestamp more than this share of a step (else: resample)


def frequency_offset(freq: str | None) -> DateOffset | None:
    """The pandas offset of an alias (``"h"``, ``"15min"``, ``"QS-JAN"``, and old ones such as
    ``"H"`` or ``"T"``); None for None or an alias pandas cannot read."""
    if not freq:
        return None
    try:
        return to_offset(freq)
    except (ValueError, TypeError):
        pass
    match = re.fullmatch(r"(\d*)([A-Za-z]+)(-\w+)?", str(freq).strip())
    if match is None or match[2] not in OLD_ALIASES:
        return None
    try:
        return to_offset(match[1] + OLD_ALIASES[match[2]] + (match[3] or ""))
    except (ValueError, TypeError):
        return None


def fixed_step(offset: DateOffset | None) -> pd.Timedelta | None:
    """The length of a fixed step (``h``, ``15min``, ``D``: tables are tz-naive, so a day is
    24 h); None for calendar steps (``B``, ``MS``, ``W-SUN``) and None."""
    return pd.Timedelta(offset) if isinstance(offset, Tick | Day) else None


def check_regular(table: Table) -> None:
    """An LSTM reads rows as equal steps of one series: refuse timestamps without a common step
    (advising to round them when they only jitter about one), and warn when the rows take turns
    between series stacked in long format (``check_one_series``)."""
    check_one_series(table)
    if table.freq is not None or len(table) < 3:
        return
    steps = table.frame.index.to_series().diff().dropna()
    shown = f"steps from {steps.min()} to {steps.max()}"
    hour, day = pd.Timedelta(hours=1), pd.Timedelta(days=1)
    off = (steps - steps.dt.round("D")).abs()
    if (steps >= day - hour).all() and (off <= hour).all() and (off > pd.Timedelta(0)).any():
        raise DataError(
            f"{table.name}: the timestamps are irregular ({shown}): whole days give or take an "
            "hour, as local dates converted to UTC across a daylight-saving change; write the "
            "local dates instead (e.g. 2021-03-28, or 2021-03-28T00:00+02:00 with the offset, "
            "or index.tz_convert('Europe/Berlin').tz_localize(None) in pandas)"
        )
    median = steps.median()
    rounding = _rounding(table.frame.index, median)
    if rounding is not None:
        raise DataError(
            f"{table.name}: the timestamps are irregular ({shown}, no common frequency) but "
            f"{_round_advice(table, *rounding)}"
        )
    rule = next(
        (r for r, length in RESAMPLE_RULES if pd.Timedelta(length) >= 0.9 * median),
        RESAMPLE_RULES[-1][0],
    )
    raise DataError(
        f"{table.name}: the timestamps are irregular ({shown}, no common frequency): resample "
        f"the table to a regular step first, e.g. frame.resample({rule!r}).mean()"
    )


def _rounding(
    index: pd.DatetimeIndex, step: pd.Timedelta, freq: str | None = None
) -> tuple[str, str, pd.Timedelta] | None:
    """(unit, how a point of it reads, largest move) of the coarsest grid no longer than
    ``step`` onto which rounding ``index`` moves no timestamp more than ``JITTER`` of ``step``
    and gives unique, regular timestamps (consecutive steps of ``freq`` but for gaps, when
    given); None when no grid does."""
    for unit, words in ROUNDING_UNITS:
        if fixed_step(to_offset(unit)) > 1.1 * step:
            continue
        rounded = index.round(unit)
        moved = abs(index - rounded).max()
        if moved > JITTER * step or not rounded.is_unique:
            continue
        found, full = regular_index(rounded)
        if found is not None and (freq is None or _steps_of(full, freq, found)):
            return unit, words, moved
    return None


def _round_advice(table: Table, unit: str, words: str, moved: pd.Timedelta) -> str:
    """'each lies within 4 s of a whole hour: round them, e.g. ...'."""
    seconds = moved.total_seconds()
    within = (
        f"{seconds:.3g} s" if seconds < 60
        else f"{seconds / 60:.3g} min" if seconds < 3600
        else f"{seconds / 3600:.3g} h"
    )  # fmt: skip
    time = _time_name(table)
    return (
        f"each lies within {within} of {words}: round them, e.g. frame.index = "
        f"frame.index.round({unit!r}) (or df[{time!r}] = df[{time!r}].dt.round({unit!r}))"
    )


def _time_name(table: Table) -> str:
    """The column the table's time came from, for advice on a frame: 'time' when not one."""
    return table.time_columns[0] if len(table.time_columns) == 1 else "time"


def check_one_series(table: Table) -> None:
    """Warn when the rows may take turns between k series stacked in long format (station A at
    hh:00, B at hh:30): a categorical column whose k values follow one another in a fixed order
    (rows i and i + k alike, neighbours never), while some other column differs less between
    rows k apart than between neighbours (or there is none)."""
    source = {c: col for col, enc in table.encodings.items() for c in enc["columns"]}
    measured = [c for c in table.frame.columns if c not in source]
    for col, enc in table.encodings.items():
        cols = enc["columns"]
        codes = table.frame[cols[0]].to_numpy()
        if len(cols) > 1:  # one-hot: the column of each row's category
            codes = table.frame[cols].to_numpy().argmax(axis=1).astype("float64")
        codes = np.where(table.observed[cols[0]].to_numpy(), codes, np.nan)
        k = len(np.unique(codes[~np.isnan(codes)]))
        if k < 2 or len(codes) < 3 * k or not _takes_turns(codes, k):
            continue
        if measured and not any(_lag_closer(table, c, k) for c in measured):
            continue
        shown = ", ".join(enc["categories"][int(c)] for c in codes[~np.isnan(codes)][: k + 1])
        time = _time_name(table)
        clock = ""
        step = fixed_step(frequency_offset(table.freq))
        if step is not None:  # series A at hh:00 and B at hh:30 come together on the hour
            per = to_offset(k * step).freqstr
            clock = (
                f"put the series on one clock, e.g. df[{time!r}] = df[{time!r}].dt.floor("
                f"{per!r}), and "
            )
        originals = list(dict.fromkeys(source.get(c, c) for c in table.frame.columns))
        warn(
            f"{table.name}: the table may hold {k} series stacked (long format): column "
            f"{col!r} takes turns between {k} values row by row ({shown}, ...) and rows {k} "
            f"apart differ less than neighbouring ones; {clock}"
            f"{pivot_advice(originals, col, time)}"
        )
        return


def _takes_turns(codes: np.ndarray, k: int) -> bool:
    """Whether observed codes repeat every ``k`` rows and never in neighbouring rows."""
    later, next_ = codes[k:], codes[1:]
    seen_k = ~np.isnan(codes[:-k]) & ~np.isnan(later)
    seen_1 = ~np.isnan(codes[:-1]) & ~np.isnan(next_)
    return bool(
        seen_k.any()
        and (codes[:-k][seen_k] == later[seen_k]).all()
        and (codes[:-1][seen_1] != next_[seen_1]).all()
    )


def _lag_closer(table: Table, col: str, k: int) -> bool:
    """Whether rows ``k`` apart differ less, on average, than neighbouring rows in ``col``."""
    x = table.frame[col].where(table.observed[col]).to_numpy()
    lag_k, lag_1 = np.abs(x[k:] - x[:-k]), np.abs(x[1:] - x[:-1])
    if np.isnan(lag_k).all() or np.isnan(lag_1).all():
        return False
    return bool(np.nanmean(lag_k) < np.nanmean(lag_1))


def check_length(
    table: Table, split: Split, lookback: int, horizon: int, fractions: tuple[float, float] | None
) -> None:
    """Each split must hold a window: say how many rows the table needs when it is too short."""
    L, H = lookback, horizon
    sizes = split.sizes()
    needs = {"training": (sizes["train"], L + H), "validation": (sizes["val"], H),
             "test": (sizes["test"], H)}  # fmt: skip
    short = [part for part, (size, need) in needs.items() if size < need]
    if not short:
        return
    if fractions is None and short == ["test"]:  # split by dates
        raise DataError(
            f"the split leaves {_rows(sizes['test'], 'test')}; horizon {H} needs at least {H} to "
            "score one window: move val_end earlier or shorten horizon"
        )
    if fractions is None:
        raise DataError(
            f"the split leaves {_rows(sizes['train'], 'training')} and "
            f"{_rows(sizes['val'], 'validation')}; "
            f"lookback {L} + horizon {H} needs at least {L + H} and {H}: move train_end/val_end "
            "or shorten lookback/horizon"
        )
    n = L + H
    while (
        round(n * fractions[0]) < L + H
        or round(n * fractions[1]) < H
        or n - round(n * fractions[0]) - round(n * fractions[1]) < H
    ):
        n += 1
    size, need = needs[short[0]]
    raise DataError(
        f"{table.name} has {len(table)} rows, too few for lookback {L} + horizon {H}: the "
        f"{short[0]} split gets {size} and needs {need}; pass at least {n} rows, shorten "
        "--lookback/--horizon, or give that split a larger share (--train-fraction/--val-fraction)"
    )


def _rows(n: int, part: str) -> str:
    """``1 test row``, ``2 test rows``."""
    return f"{n} {part} row{'' if n == 1 else 's'}"


def check_columns_used(table: Table, train: slice, columns: list[str], targets: list[str]) -> None:
    """Every column the model reads needs values in the training split; constant ones warn."""
    observed = table.observed[columns].iloc[train]
    values = {c: table.frame[c].iloc[train][observed[c]] for c in columns}
    useless = {c for c in columns if values[c].nunique() < 2}  # constant, or empty in training
    usable = " ".join(c for c in columns if c not in useless)
    kept = " ".join(c for c in targets if c not in useless)  # of several (--target all: ~50)
    for col in columns:
        what = "target" if col in targets else "feature"
        fix = (
            (
                f"leave it out: --target {kept}"
                if len(targets) > 1 and kept
                else "choose another --target"
            )
            if col in targets
            else f"leave it out: --features {usable}"
            if usable
            else "leave it out, though no other column varies in the training split either"
        )
        if not table.observed[col].any():
            raise DataError(f"{what} column {col!r} holds no value at all: {fix}")
        if not observed[col].any():
            raise DataError(
                f"{what} column {col!r} holds no value in the training split: {fix}, "
                "or move train_end later"
            )
        if values[col].nunique() == 1:
            warn(
                f"{what} column {col!r} is constant ({values[col].iloc[0]:g}) in the training "
                f"split: it tells the model nothing; {fix}",
            )


def check_no_free_text(table: Table, columns: list[str]) -> None:
    """DataError when one of ``columns``, which a model read as numbers, was read past as text
    (``Table.skipped``): name it and its text rather than call it missing."""
    free = [c for c in columns if c in table.skipped]
    if free:
        raise DataError(
            f"{table.skipped[free[0]]}, but the model was trained on it as numbers: pass rows "
            "in which it holds numbers"
        )


def check_new_table(table: Table, columns: list[str], freq: str | None) -> None:
    """New data must hold the trained columns (any order; extra ones are ignored) and its rows
    must be consecutive steps of the trained frequency ``freq``."""
    missing = [c for c in columns if c not in table.frame.columns]
    check_no_free_text(table, missing)
    if missing:
        raise DataError(
            f"{table.name} lacks the column(s) {missing} the model was trained on; it needs "
            f"{columns} (extra columns are ignored, their order does not matter)"
        )
    if freq is None or _steps_of(table.frame.index, freq, table.freq):
        return
    if len(table) < 3:
        shown = " and ".join(str(t) for t in table.frame.index)
        what = "timestamps {} are not consecutive" if len(table) > 1 else "timestamp {} is not on"
        raise DataError(
            f"{table.name}: the {what.format(shown)} {freq!r} steps, the steps the model was "
            f"trained on: pass rows {freq!r} apart"
        )
    if table.freq is None:
        step = fixed_step(frequency_offset(freq))
        rounding = None if step is None else _rounding(table.frame.index, step, freq)
        if rounding is not None:
            raise DataError(
                f"{table.name}: the timestamps are irregular, but the model was trained on "
                f"{freq!r} steps and {_round_advice(table, *rounding)}"
            )
        raise DataError(
            f"{table.name}: the timestamps are irregular, but the model was trained on "
            f"{freq!r} steps: resample the table to {freq!r} first"
        )
    raise DataError(
        f"{table.name} is at frequency {table.freq!r}, but the model was trained on "
        f"{freq!r} steps: resample the table to {freq!r} "
        f"(e.g. frame.resample({freq!r}).mean()) or train a model at {table.freq!r}"
    )


def _steps_of(index: pd.DatetimeIndex, freq: str, table_freq: str | None) -> bool:
    """Whether every row of ``index`` is one ``freq`` step after the one before (whatever the
    first day: a business-day table is not daily even when it starts on a Monday)."""
    offset = frequency_offset(freq)
    if offset is None:  # an alias this pandas cannot read: compare the names
        return table_freq == freq
    try:
        steps = pd.date_range(index[0], periods=len(index), freq=offset)
    except (ValueError, OverflowError):  # OutOfBoundsDatetime: 300,000 years from the first row
        return False
    return steps.equals(index)


def missing_columns_message(missing: list[str], columns: list[str], what: str = "column") -> str:
    """The one line for columns not in the table, with the closest name and the ones there are."""
    name = missing[0]
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"available: {', '.join(columns)}"
    return f"{what} column {name!r} not found in the table: {hint}"
