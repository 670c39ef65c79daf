"""The dataset registry: what each named dataset is, where its file is found, and its preset.

Lookup order for a downloadable dataset (``beijing-pm25``):

1. an explicit ``data_dir`` argument (a folder holding the file, or the file itself);
2. the folder in the ``LSTMCAST_DATA`` environment variable;
3. the user cache: the ``cache_dir`` argument, else ``LSTMCAST_CACHE``, else ``~/.cache/lstmcast``;
4. a download from the source (URL overridable by ``LSTMCAST_BEIJING_URL``), verified and written
   atomically into the cache.

In a folder the file may be named ``beijing_pm25.csv`` or UCI's
``PRSA_data_2010.1.1-2014.12.31.csv``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lstmcast.data import download
from lstmcast.data.files import PARQUET
from lstmcast.data.table import Table, read_table
from lstmcast.errors import DataError, DatasetUnavailableError

BEIJING_URL = "https://archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip"
BEIJING_RAW = "PRSA_data_2010.1.1-2014.12.31.csv"
BEIJING_FILE = "beijing_pm25.csv"
BEIJING_COLUMNS = ["No", "year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd",
                   "Iws", "Is", "Ir"]  # fmt: skip
BEIJING_RENAME = {"pm2.5": "pollution", "DEWP": "dew", "TEMP": "temp", "PRES": "press",
                  "cbwd": "wnd_dir", "Iws": "wnd_spd", "Is": "snow", "Ir": "rain"}  # fmt: skip


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry (everything ``lstmcast datasets info`` prints)."""

    name: str
    description: str
    licence: str
    source: str  # who made it and where it is published
    columns: list[str]  # the raw file's columns
    rows: int  # the raw file's data rows
    frequency: str  # pandas alias of the time step
    preset: dict = field(default_factory=dict)  # features (in order), target, notes
    url: str | None = None  # download URL (None: bundled, nothing to fetch)
    url_env: str | None = None  # environment variable overriding ``url``
    filenames: tuple[str, ...] = ()  # names the file may carry in a data folder
    units: dict[str, str] = field(default_factory=dict)  # unit of each (renamed) numeric column


MACRO_COLUMNS = [
    "year", "quarter", "realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
    "tbilrate", "unemp", "pop", "infl", "realint",
]  # fmt: skip


REGISTRY: dict[str, DatasetInfo] = {
    "beijing-pm25": DatasetInfo(
        name="beijing-pm25",
        description="Hourly PM2.5 at the US Embassy in Beijing with weather from Beijing Capital "
        "International Airport, 2010-01-01 to 2014-12-31 (pm2.5 NA in 2,067 rows).",
        licence="CC BY 4.0",
        source="UCI Machine Learning Repository, dataset 381 (Song Xi Chen, Peking University); "
        "Liang et al. (2015), Proc. R. Soc. A 471: 20150257",
        columns=BEIJING_COLUMNS,
        rows=43_824,
        frequency="h",
        preset={
            "features": list(BEIJING_RENAME.values()),
            "target": "pollution",
            "start": "2010-01-02 00:00",
            "notes": "renamed from pm2.5, DEWP, TEMP, PRES, cbwd, Iws, Is, Ir; "
            "wnd_dir label-encoded NE=0, NW=1, SE=2, cv=3 (or one-hot wnd_dir_NE..); "
            "the first day (all NA) dropped",
        },
        url=BEIJING_URL,
        url_env="LSTMCAST_BEIJING_URL",
        filenames=(BEIJING_FILE, BEIJING_RAW),
        units={
            "pollution": "µg/m³",
            "dew": "°C",
            "temp": "°C",
            "press": "hPa",
            "wnd_spd": "m/s",
            "snow": "h",
            "rain": "h",
        },
    ),
    "us-macro": DatasetInfo(
        name="us-macro",
        description="Quarterly US macroeconomic series 1959Q1-2009Q3: real GDP, consumption, "
        "investment, government spending, disposable income, CPI, M1, T-bill rate, unemployment, "
        "population, inflation, real interest rate.",
        licence="public domain (US Bureau of Economic Analysis, BLS, Federal Reserve)",
        source="statsmodels.datasets.macrodata (bundled with statsmodels, no download)",
        columns=MACRO_COLUMNS,
        rows=203,
        frequency="QS-JAN",
        preset={
            "features": MACRO_COLUMNS[2:],  # everything but the year and quarter
            "target": "realgdp",
            "notes": "time from year + quarter (quarter starts)",
        },
        units={
            **dict.fromkeys(
                ["realgdp", "realcons", "realinv", "realgovt", "realdpi"], "bn chained 2005 US$"
            ),
            "cpi": "index, 1982-84 = 100",
            "m1": "bn US$",
            "tbilrate": "%",
            "unemp": "%",
            "pop": "millions",
            "infl": "% a year",
            "realint": "%",
        },
    ),
}


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry ``name``; DataError listing the known names otherwise."""
    if name not in REGISTRY:
        raise DataError(f"unknown dataset {name!r}; known datasets: {sorted(REGISTRY)}")
    return REGISTRY[name]


def column_units(data: object, columns: list[str]) -> dict[str, str]:
    """The unit of each of ``columns`` that dataset ``data`` names (empty for other tables)."""
    info = REGISTRY.get(data) if isinstance(data, str) else None
    return {c: info.units[c] for c in columns if c in info.units} if info else {}


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: the argument, else ``LSTMCAST_CACHE``, else ``~/.cache/lstmcast``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("LSTMCAST_CACHE"):
        return Path(os.environ["LSTMCAST_CACHE"]).expanduser()
    return Path("~/.cache/lstmcast").expanduser()


def locate(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Path | None:
    """The local file of dataset ``name`` (lookup order above, without downloading), or None.

    An explicit ``data_dir`` that lacks the file is an error, not a fall-through.
    """
    info = dataset_info(name)
    if data_dir is not None:
        found = _in_folder(Path(data_dir).expanduser(), info)
        if found is None:
            raise DatasetUnavailableError(
                f"{name}: no {' or '.join(info.filenames)} in data_dir {str(data_dir)!r}; "
                "pass the folder that holds the file (or the file itself)"
            )
        return found
    chosen = os.environ.get("LSTMCAST_DATA")
    if chosen and not Path(chosen).expanduser().exists():  # a typo must not trigger a download
        raise DatasetUnavailableError(
            f"LSTMCAST_DATA={chosen} does not exist: set it to the folder that holds "
            f"{info.filenames[0]}, or unset it to use the cache (and a download)"
        )
    for folder in (chosen, cache_root(cache_dir)):
        if folder:
            found = _in_folder(Path(folder).expanduser(), info)
            if found is not None:
                return found
    return None


def fetch(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download_ok: bool = True,
) -> Path:
    """The local file of dataset ``name``, downloading it into the cache when needed."""
    info = dataset_info(name)
    if info.url is None:
        raise DataError(f"{name} is bundled ({info.source}); there is no file to fetch")
    found = locate(name, data_dir=data_dir, cache_dir=cache_dir)
    if found is not None:
        return found
    chosen = os.environ.get("LSTMCAST_DATA")
    where = (
        f"put {info.filenames[0]} in LSTMCAST_DATA={chosen}, which lacks it"
        if chosen
        else f"set LSTMCAST_DATA=/folder/with/{info.filenames[0]}"
    )
    help_offline = (
        f"to use a local copy, {where} (the file may also be named {info.filenames[-1]}) or "
        f"pass its path (data_dir=..., or --data /path/to/{info.filenames[0]})"
    )
    if not download_ok:
        raise DatasetUnavailableError(
            f"{name} is not on this machine and download is off; {help_offline}"
        )
    url = os.environ.get(info.url_env or "", "") or info.url
    data = download.fetch_bytes(url, what=name, help_offline=help_offline)
    csv = download.csv_from_zip(data, BEIJING_RAW, what=name, url=url)
    download.verify_csv(csv, columns=info.columns, rows=info.rows, what=name, url=url)
    cache = cache_root(cache_dir)
    try:
        return download.write_atomic(cache / info.filenames[0], csv)
    except OSError as err:  # a read-only or full home folder
        raise DatasetUnavailableError(
            f"{name} was downloaded but cannot be kept in the cache {cache} ({err.strerror}): "
            "set LSTMCAST_CACHE to a writable folder, or LSTMCAST_DATA to a folder holding "
            f"{info.filenames[0]}"
        ) from None


def load_dataset(
    name_or_path: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
    **read_kwargs,
) -> Table:
    """A registered dataset with its preset applied, or any table file read with ``read_table``.

    Args:
        name_or_path: ``"beijing-pm25"``, ``"us-macro"``, or the path of a CSV/Parquet file.
        data_dir: a folder holding the dataset's file (or the file itself); see the lookup order.
        cache_dir: the download cache (default ``LSTMCAST_CACHE`` or ``~/.cache/lstmcast``).
        download: allow a download when no local copy is found.
        **read_kwargs: passed to ``read_table`` (``categorical``, ``fill``, ``reindex``, ...).

    Example:
        >>> t = load_dataset("beijing-pm25")               # doctest: +SKIP
        >>> list(t.frame.columns)                          # doctest: +SKIP
        ['pollution', 'dew', 'temp', 'press', 'wnd_dir', 'wnd_spd', 'snow', 'rain']
    """
    if str(name_or_path) == "beijing-pm25":
        path = fetch("beijing-pm25", data_dir=data_dir, cache_dir=cache_dir, download_ok=download)
        try:
            return _beijing(path, **read_kwargs)
        except DataError as err:  # say where the file came from when a variable chose it
            chosen = os.environ.get("LSTMCAST_DATA")
            if data_dir is None and chosen and Path(chosen).expanduser() in (path, path.parent):
                raise DataError(f"LSTMCAST_DATA={chosen} gave {err}") from None
            raise
    if str(name_or_path) == "us-macro":
        return _us_macro(**read_kwargs)
    if str(name_or_path) not in REGISTRY and not Path(name_or_path).exists():
        raise DataError(
            f"{str(name_or_path)!r} is neither a registered dataset ({sorted(REGISTRY)}) "
            "nor an existing file; pass a dataset name or the path of a CSV/Parquet table"
        )
    return read_table(name_or_path, **read_kwargs)


def _in_folder(folder: Path, info: DatasetInfo) -> Path | None:
    if folder.is_file():
        return folder
    for filename in info.filenames:
        if (folder / filename).is_file():
            return folder / filename
    return None


def read_new_rows(
    dataset: str, source: str | os.PathLike | pd.DataFrame, **read_kwargs
) -> Table | None:
    """New rows of a registered dataset in its file's own layout (say, the last hours of the UCI
    Beijing table), read as the preset reads it: the same names and category codes, for a model
    trained on ``dataset``. None when ``source`` is not in that layout (then read it as any
    table).
    """
    if dataset != "beijing-pm25":
        return None
    try:
        if isinstance(source, pd.DataFrame):
            header = list(source.columns)
        elif Path(source).suffix.lower() in PARQUET:
            import pyarrow.parquet as pq

            header = pq.read_schema(source).names
        else:
            header = list(pd.read_csv(source, nrows=0).columns)
    except (OSError, ValueError, ImportError):
        return None  # the usual reader explains what is wrong with the file
    if not set(BEIJING_RENAME) <= {str(c).strip() for c in header}:
        return None
    return _beijing(source, whole=False, **read_kwargs)


def _beijing(path, *, whole: bool = True, **read_kwargs) -> Table:
    """The 8 classic features, renamed and ordered, from 2010-01-02 00:00 (``whole``: the UCI
    table as published; else any rows in its layout, kept as they are)."""
    info = REGISTRY["beijing-pm25"]
    read_kwargs.setdefault("columns", list(BEIJING_RENAME))
    if read_kwargs.get("encodings"):  # given under the preset's names: back to the file's
        read_kwargs["encodings"] = {
            _RAW_NAME.get(col, col): {**enc, "columns": [_raw(c) for c in enc["columns"]]}
            for col, enc in read_kwargs["encodings"].items()
        }
    table = read_table(path, time_col=None, **read_kwargs)
    rows = int(table.observed.any(axis=1).sum())  # the file's rows, not gaps filled in
    if whole and (rows != info.rows or len(table.frame) != info.rows):
        raise DataError(
            f"{path}: {rows} hourly rows, expected {info.rows} for beijing-pm25; the file is "
            "truncated or not the UCI table: delete it (a cached copy is then downloaded "
            "again), or point LSTMCAST_DATA at the UCI table"
        )
    rename = {}
    for raw, new in BEIJING_RENAME.items():
        rename[raw] = new
        for col in table.encodings.get(raw, {}).get("columns", []):
            rename[col] = col.replace(raw, new, 1)
    start = pd.Timestamp(info.preset["start"]) if whole else table.frame.index[0]
    keep = table.frame.index >= start
    encodings = {
        BEIJING_RENAME.get(col, col): {**enc, "columns": [rename.get(c, c) for c in enc["columns"]]}
        for col, enc in table.encodings.items()
    }
    return Table(
        frame=table.frame.loc[keep].rename(columns=rename),
        observed=table.observed.loc[keep].rename(columns=rename),
        freq=table.freq,
        name="beijing-pm25",
        encodings=encodings,
        time_columns=table.time_columns,
    )


_RAW_NAME = {new: raw for raw, new in BEIJING_RENAME.items()}


def _raw(column: str) -> str:
    """The file's name of a preset column: wnd_dir -> cbwd, wnd_dir_NE -> cbwd_NE."""
    for new, raw in _RAW_NAME.items():
        if column == new or column.startswith(new + "_"):
            return raw + column[len(new) :]
    return column


def _us_macro(**read_kwargs) -> Table:
    from statsmodels.datasets import macrodata

    table = read_table(macrodata.load_pandas().data, **read_kwargs)
    table.name = "us-macro"
    return table
