"""Fetching a registered file: download, unzip, verify, then an atomic write into the cache.

Nothing reaches the cache until the bytes have been checked (a readable zip, the expected CSV
header and row count), and the write itself is a temp file plus ``os.replace``: a truncated,
corrupted or interrupted download leaves the cache exactly as it was.
"""

from __future__ import annotations

import errno
import http.client
import io
import os
import stat
import urllib.error
import urllib.request
import uuid
import zipfile
import zlib
from pathlib import Path

from lstmcast.errors import DatasetUnavailableError

TIMEOUT_S = 60.0


def fetch_bytes(url: str, *, what: str, help_offline: str) -> bytes:
    """The body at ``url``; DatasetUnavailableError (with ``help_offline``) if unavailable."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            expected = response.headers.get("Content-Length")
            data = response.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", None) or err
        raise DatasetUnavailableError(
            f"cannot download {what} from {url} ({reason}); {help_offline}"
        ) from err
    if expected is not None and expected.isdigit() and int(expected) != len(data):
        raise DatasetUnavailableError(
            f"download of {what} from {url} is truncated ({len(data)} of {expected} bytes); "
            f"try again, or {help_offline}"
        )
    return data


def csv_from_zip(data: bytes, member: str, *, what: str, url: str) -> bytes:
    """The bytes of ``member`` (matched by file name) inside the zip ``data``, CRC-checked."""
    if not data.startswith(b"PK"):  # every zip starts so; a CSV or an HTML page does not
        start = data[:40].decode("utf-8", errors="replace").splitlines()[0] if data else ""
        raise DatasetUnavailableError(
            f"the file downloaded for {what} from {url} is not a zip archive (it starts "
            f"{start!r}): the URL must serve the UCI zip; for a plain {member} set "
            "LSTMCAST_DATA to its folder instead. Nothing was written to the cache"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if Path(n).name == member]
            if not names:
                raise DatasetUnavailableError(
                    f"the zip downloaded for {what} from {url} holds no {member} "
                    f"(it holds {archive.namelist()[:5]})"
                )
            return archive.read(names[0])
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as err:
        raise DatasetUnavailableError(
            f"the file downloaded for {what} from {url} is not a readable zip "
            f"({len(data)} bytes; truncated or corrupted: {err}); nothing was written to the cache"
        ) from err


def verify_csv(data: bytes, *, columns: list[str], rows: int, what: str, url: str) -> None:
    """Check the header and the number of data rows of a CSV held in memory."""
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    header = [c.strip().strip('"') for c in lines[0].split(",")] if lines else []
    if header != columns:
        raise DatasetUnavailableError(
            f"the {what} file from {url} has columns {header[:16]}, expected {columns}; "
            "the source may have changed: point lstmcast at a verified local copy"
        )
    found = sum(1 for line in lines[1:] if line.strip())
    if found != rows:
        raise DatasetUnavailableError(
            f"the {what} file from {url} has {found} data rows, expected {rows} "
            "(truncated or changed); nothing was written to the cache"
        )


FD_ALIASES = ("/dev/stdout", "/dev/stderr")  # written into (appended), never replaced


def write_atomic(path: Path, data: bytes, *, parents: bool = True) -> Path:
    """Write ``data`` to ``path`` through a hidden file in the same folder and ``os.replace``.

    The file gets the usual permissions (the umask's, not ``mkstemp``'s owner-only 0600); a
    failed write leaves ``path`` as it was and no hidden file behind. Errors name ``path``.
    ``parents``: create missing folders (else a missing folder is a FileNotFoundError). A
    symlink to a file is written through (its target replaced, the link kept); a path that is
    no regular file (a named pipe, ``/dev/null``) or an alias of an open descriptor
    (``/dev/stdout``, ``/dev/fd/N``) is written into, never replaced."""
    path = Path(path)
    if _special(path):
        try:  # appended: /dev/stdout on a redirected file must not cut what is there
            with open(path, "ab") as fh:
                fh.write(data)
        except OSError as err:
            raise _naming(err, path) from None
        return path
    if path.is_symlink() and path.exists():  # a dangling link is replaced, as a file would be
        path = Path(os.path.realpath(path))
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path.parent))
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:  # a full disk names no file of its own
        tmp.unlink(missing_ok=True)
        raise _naming(err, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _special(path: Path) -> bool:
    """Whether ``path`` is something a write goes into rather than replaces: a named pipe, a
    device, or an alias of an open file descriptor (``/dev/stdout``, ``/dev/fd/N``), which on a
    redirected file must not lose what the command printed there before."""
    if str(path) in FD_ALIASES or str(path).startswith(("/dev/fd/", "/proc/self/fd/")):
        return path.exists()
    try:
        mode = path.stat().st_mode  # follows symlinks
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _naming(err: OSError, path: Path) -> OSError:
    """``err`` naming ``path`` when it names no file (ENOSPC from a write, EPIPE)."""
    if err.filename is not None:
        return err
    return type(err)(err.errno, err.strerror or str(err), str(path))
