"""Reading a file into a raw frame: Parquet, or CSV (plain or compressed) with its separator.

The first bytes tell the compression (a pipe has no suffix), the first lines the separator
and whether lines above the header (metadata, '#' comments) must go; formats that are not CSV
and would be misread as one are refused by their suffix. In a ';' file, whole numbers with '.'
between thousands ('5.000' beside '929') are refused where the evidence is strong (see
``_check_thousands_dots``). What the columns hold is ``lstmcast.data.table``'s business.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import gzip
import io
import lzma
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from lstmcast.errors import DataError

DELIMITERS = (",", ";", "\t", "|")  # CSV separators, told apart on the first lines (ties: first)
SNIFF_LINES = 20  # lines read to tell the separator: the header and the rows that agree with it
HEAD_BYTES = 65536  # at most this much of a file is read (decompressed) for that
# Compressed CSVs, known by their first bytes whatever the file is called (a pipe has no suffix)
COMPRESSIONS = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}
OPENERS = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
PARQUET = (".parquet", ".pq")
# Formats that are not CSV and would otherwise be misread as one (anything else is read as CSV)
REFUSED = {
    ".json": "JSON", ".jsonl": "JSON Lines", ".ndjson": "JSON Lines", ".xlsx": "Excel",
    ".xlsm": "Excel", ".xls": "Excel", ".ods": "OpenDocument spreadsheet", ".feather": "Feather",
    ".arrow": "Arrow", ".orc": "ORC", ".pkl": "pickle", ".pickle": "pickle", ".h5": "HDF5",
    ".hdf5": "HDF5", ".hdf": "HDF5", ".npy": "NumPy", ".npz": "NumPy", ".xml": "XML",
    ".html": "HTML", ".sqlite": "SQLite", ".db": "database", ".dta": "Stata", ".sav": "SPSS",
}  # fmt: skip


def check_repeats(names: list[str], name: str) -> None:
    """DataError when a column name appears more than once (pandas would rename or drop one)."""
    repeated = sorted(c for c, n in Counter(names).items() if c and n > 1)  # linear: wide tables
    if repeated:
        raise DataError(
            f"{name}: column name(s) {repeated} appear more than once; rename or drop the "
            "repeats so that each column has its own name"
        )


def read_file(path: Path) -> pd.DataFrame:
    """A Parquet file (index kept), or anything else read as CSV; known non-CSV formats refused.
    A pipe (``--data <(zcat data.csv.gz)``) is read once, then parsed from memory."""
    if path.is_dir():
        raise DataError(f"{path} is a folder; pass the path of a CSV or Parquet table in it")
    if not path.exists():
        raise DataError(f"no such file: {str(path)!r}; pass the path of a CSV or Parquet table")
    source = path if path.is_file() else io.BytesIO(path.read_bytes())
    suffix = path.suffix.lower()
    if suffix in REFUSED:
        raise DataError(
            f"{path}: {REFUSED[suffix]} files are not supported; pass a CSV or Parquet table "
            "(.csv, .parquet, .pq): export it first, e.g. with pandas' df.to_csv or df.to_parquet"
        )
    try:
        if suffix in PARQUET:
            import pyarrow.parquet as pq

            check_repeats(pq.read_schema(source).names, str(path))
            frame = pd.read_parquet(source)
        else:
            frame = _read_csv(source, str(path))
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty; pass a CSV with a header row and data rows"
        ) from None
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: is not UTF-8 text ({_bad_utf8(source, err)}); re-save it as UTF-8 CSV"
        ) from None
    except (ValueError, OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(
            f"{path}: cannot be read as a table ({first}); pass a CSV or Parquet file"
        ) from None
    return frame


def _read_csv(source: Path | io.BytesIO, name: str) -> pd.DataFrame:
    """A CSV, plain or compressed, with the separator its first lines agree on; DataError for
    repeated column names and for a header that reads as one joined column."""
    compression = _compression(source)
    numbered = _head_lines(source, compression)
    lines = [line for _, line in numbered]
    _check_preamble(numbered, name)
    sep = _sniff_delimiter(lines)
    header = next(csv.reader(lines[:1], delimiter=sep, skipinitialspace=True), [])
    check_repeats(header, name)
    frame = pd.read_csv(source, sep=sep, skipinitialspace=True, compression=compression)
    joined = str(frame.columns[0]) if len(frame.columns) == 1 else ""
    if any(d in joined for d in (*DELIMITERS, " ", ":")):  # a header joined by another sep
        raise DataError(
            f"{name}: the header {joined!r} reads as a single column: use a comma-separated "
            f"file (';', tab and '|' are recognised too; the first lines read as {sep!r}-"
            "separated), and quote a name that holds the separator"
        )
    if sep == ";":  # European files: '.' may separate thousands there ('5.000' for 5000)
        _check_thousands_dots(frame, source, compression, name)
    return frame


def _check_preamble(numbered: list[tuple[int, str]], name: str) -> None:
    """DataError when lines above the header (metadata such as "Station: BJ01", '#' comments)
    have fewer fields than the rows below them, by the separator that splits the most of the
    first lines alike. One line of one field fewer is left to pandas (rows with an index)."""
    lines = [line for _, line in numbered]
    best = None  # (lines in the body, -start, width, widths): the longest body wins
    for sep in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=sep)]
        start = len(widths)
        while start > 0 and widths[start - 1] == widths[-1]:
            start -= 1
        if widths and widths[-1] > 1 and len(widths) - start >= 2:
            best = max(best or (0,), (len(widths) - start, -start, widths[-1], widths))
    if best is None or best[1] == 0:
        return
    start, width, widths = -best[1], best[2], best[3]
    above = list(zip(lines[:start], widths[:start], strict=True))
    if not all(w < width or line.lstrip().startswith("#") for line, w in above):
        return  # the header is among them: ragged rows, pandas says where
    if start == 1 and widths[0] == width - 1 and not lines[0].lstrip().startswith("#"):
        return
    line_no = numbered[start][0]
    what = "line" if line_no == 2 else f"{line_no - 1} lines"
    fields = f"{widths[0]} field{'s' if widths[0] != 1 else ''}"
    raise DataError(
        f"{name}: the first {what} ({lines[0]!r}{', ...' if start > 1 else ''}) "
        f"{'does' if line_no == 2 else 'do'} not look like the header of the rows below "
        f"({fields} against {width} from line {line_no}): delete the lines above the header "
        "(metadata or comments) so that the first line is the header"
    )


def _check_thousands_dots(
    frame: pd.DataFrame, source: Path | io.BytesIO, compression: str | None, name: str
) -> None:
    """DataError for a ';' file whose whole numbers use '.' between thousands ('5.000' beside
    '929'), which read 1000 times too small. Strong evidence only: at least 3 values with '.',
    each 1-3 digits then groups of three ('5.000', '12.345.678'), one of them ending in 0 (a
    writer that drops trailing zeros would not write it), beside numbers of at most 3 digits
    without '.' (a writer of three decimals would write '929.000'). Only float columns whose
    values are all whole thousandths are read again, as text."""
    candidates = []
    for col in frame.columns:
        values = frame[col]
        if not pd.api.types.is_float_dtype(values):
            continue
        thousandths = values.dropna().to_numpy() * 1000
        if len(thousandths) and np.allclose(thousandths, np.round(thousandths), rtol=0, atol=1e-6):
            candidates.append(col)
    if not candidates:
        return
    if isinstance(source, io.BytesIO):
        source.seek(0)
    text = pd.read_csv(
        source, sep=";", skipinitialspace=True, compression=compression, usecols=candidates,
        dtype=str, keep_default_na=False,
    )  # fmt: skip
    for col in candidates:
        raw = text[col].str.strip()
        dotted = raw.str.contains(".", regex=False)
        grouped = raw[dotted].str.fullmatch(r"[1-9]\d{0,2}(\.\d{3})+")
        plain = raw[~dotted & raw.str.fullmatch(r"\d+")]
        if (
            grouped.sum() < 3
            or not grouped.all()
            or not raw[dotted].str.endswith("0").any()
            or plain.empty
            or plain.str.len().max() > 3
        ):
            continue
        first = raw[dotted].index[0]
        value = raw[first]
        raise DataError(
            f"{name}: column {col!r} writes {value!r} (data row {first + 1}) beside whole "
            f"numbers such as {plain.iloc[0]!r}: {value!r} reads as {float(value):g} with '.' "
            "as the decimal mark; if '.' separates thousands there, re-export without "
            "thousands separators"
        )


def _bad_utf8(source: Path | io.BytesIO, err: UnicodeDecodeError) -> str:
    """What is not UTF-8, and where: "invalid continuation byte, b'\\xe9' on line 201" for a
    plain-text ``source`` (pandas' own error counts in its chunk, not in the file), read again a
    megabyte at a time; for a compressed one, pandas' reason and bytes alone."""
    if _compression(source) is not None:
        return _undecoded(err)
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, newline = 1, None
    with (
        io.BytesIO(source.getvalue())
        if isinstance(source, io.BytesIO)
        else open(source, "rb") as fh
    ):
        while chunk := fh.read(1 << 20):
            if newline is None:  # \n, or old Mac files' \r alone
                newline = b"\r" if b"\r" in chunk and b"\n" not in chunk else b"\n"
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as bad:  # bad.object: the undecoded tail of the last
                # chunk (no newline in it) and this chunk; bad.start counts in it
                return _undecoded(bad, lines + bad.object.count(newline, 0, bad.start))
            lines += chunk.count(newline)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as bad:  # the file ends inside a character
            return _undecoded(bad, lines)
    return _undecoded(err)


def _undecoded(err: UnicodeDecodeError, line: int | None = None) -> str:
    """ "invalid start byte, b'\\xb5'" and, when known, " on line N"."""
    where = "" if line is None else f" on line {line}"
    return f"{err.reason}, {err.object[err.start : err.end]!r}{where}"


def _compression(source: Path | io.BytesIO) -> str | None:
    """``gzip``, ``bz2``, ``xz`` or ``zip`` by the file's first bytes; None for plain text."""
    if isinstance(source, io.BytesIO):
        start = source.getbuffer()[:8].tobytes()
    else:
        with open(source, "rb") as fh:
            start = fh.read(8)
    return next((kind for magic, kind in COMPRESSIONS.items() if start.startswith(magic)), None)


def _head_lines(source: Path | io.BytesIO, compression: str | None) -> list[tuple[int, str]]:
    """The first ``SNIFF_LINES`` non-empty lines of a CSV, decompressed, as text, each with its
    line number (from 1)."""
    own = isinstance(source, io.BytesIO)
    with contextlib.nullcontext(source) if own else open(source, "rb") as stream:
        if compression == "zip":  # pandas reads a zip holding one file: that file
            with zipfile.ZipFile(stream) as archive, archive.open(archive.namelist()[0]) as fh:
                head = fh.read(HEAD_BYTES)
        elif compression is not None:
            with OPENERS[compression](stream) as fh:  # leaves ``stream`` open
                head = fh.read(HEAD_BYTES)
        else:
            head = stream.read(HEAD_BYTES)
    if own:
        source.seek(0)  # pandas reads from here
    lines = head.decode("utf-8-sig", errors="replace").splitlines()
    if len(head) == HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # cut short; a header longer than HEAD_BYTES still shows its separator
    return [(k, line) for k, line in enumerate(lines, 1) if line.strip()][:SNIFF_LINES]


def _sniff_delimiter(lines: list[str]) -> str:
    """The separator of a CSV: of , ; tab |, the one that splits the header into columns and the
    most rows into as many (then the most columns; ties go to the comma, listed first). A name
    holding '|' or ';' does not outvote the rows."""

    def agreement(sep: str) -> tuple[bool, int, int]:
        widths = [len(row) for row in csv.reader(lines, delimiter=sep)] or [0]
        return widths[0] > 1, sum(w == widths[0] for w in widths[1:]), widths[0]

    return max(DELIMITERS, key=agreement)
