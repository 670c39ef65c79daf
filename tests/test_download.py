"""The beijing-pm25 download path against a local HTTP server (never the real network)."""

from __future__ import annotations

import http.server
import io
import socket
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest

from lstmcast.data import load_dataset, locate
from lstmcast.data.registry import BEIJING_COLUMNS, BEIJING_RAW
from lstmcast.errors import DataError, DatasetUnavailableError

ROWS = 43_824


@pytest.fixture(scope="module")
def synthetic_csv() -> bytes:
    """A full-size table with the UCI columns: 43,824 hourly rows, pm2.5 NA on the first day."""
    rng = np.random.default_rng(0)
    times = pd.date_range("2010-01-01", periods=ROWS, freq="h")
    pm = rng.integers(5, 500, ROWS).astype(object)
    pm[:24] = "NA"
    frame = pd.DataFrame({
        "No": np.arange(1, ROWS + 1), "year": times.year, "month": times.month, "day": times.day,
        "hour": times.hour, "pm2.5": pm, "DEWP": rng.integers(-30, 25, ROWS),
        "TEMP": rng.integers(-15, 40, ROWS), "PRES": rng.integers(990, 1040, ROWS),
        "cbwd": rng.choice(["NE", "NW", "SE", "cv"], ROWS), "Iws": rng.random(ROWS).round(2),
        "Is": rng.integers(0, 3, ROWS), "Ir": rng.integers(0, 3, ROWS),
    })  # fmt: skip
    assert list(frame.columns) == BEIJING_COLUMNS
    return frame.to_csv(index=False).encode()


def _zip(csv: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(BEIJING_RAW, csv)
    return buffer.getvalue()


class _Server:
    """A threaded HTTP server on 127.0.0.1 serving ``files`` (path -> (body, Content-Length))."""

    def __init__(self):
        self.files: dict[str, tuple[bytes, int]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.requests.append(self.path)
                if self.path not in server.files:
                    self.send_error(404)
                    return
                body, length = server.files[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.timeout = 5
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def serve(self, path: str, body: bytes, length: int | None = None) -> str:
        self.files[path] = (body, len(body) if length is None else length)
        return self.url + path


@pytest.fixture
def server():
    srv = _Server()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, and no LSTMCAST_DATA, so that only the download can find the file."""
    monkeypatch.delenv("LSTMCAST_DATA", raising=False)
    folder = tmp_path / "cache"
    monkeypatch.setenv("LSTMCAST_CACHE", str(folder))
    return folder


def test_download_verifies_and_caches(server, cache, monkeypatch, synthetic_csv):
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", server.serve("/381.zip", _zip(synthetic_csv)))
    table = load_dataset("beijing-pm25")
    assert table.frame.shape == (ROWS - 24, 8)
    assert table.frame.index[0] == pd.Timestamp("2010-01-02 00:00")
    assert (cache / "beijing_pm25.csv").read_bytes() == synthetic_csv
    assert sorted(p.name for p in cache.iterdir()) == ["beijing_pm25.csv"]  # no temp file left
    load_dataset("beijing-pm25")
    assert server.requests == ["/381.zip"]  # the second load reads the cache


def _assert_cache_untouched(cache):
    assert not cache.exists() or list(cache.iterdir()) == []


def test_truncated_zip_is_refused_and_the_cache_untouched(
    server, cache, monkeypatch, synthetic_csv
):
    data = _zip(synthetic_csv)
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", server.serve("/cut.zip", data[: len(data) // 2]))
    with pytest.raises(
        DatasetUnavailableError, match=r"is not a readable zip \(\d+ bytes; truncated"
    ):
        load_dataset("beijing-pm25")
    _assert_cache_untouched(cache)


def test_connection_cut_short_is_refused(server, cache, monkeypatch, synthetic_csv):
    data = _zip(synthetic_csv)
    url = server.serve("/short.zip", data[:1000], length=len(data))  # promises more than it sends
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", url)
    with pytest.raises(
        DatasetUnavailableError, match=r"cannot download beijing-pm25 .*IncompleteRead"
    ):
        load_dataset("beijing-pm25")
    _assert_cache_untouched(cache)


def test_corrupted_zip_is_refused_and_the_cache_untouched(
    server, cache, monkeypatch, synthetic_csv
):
    data = bytearray(_zip(synthetic_csv))
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # zero a stretch of the compressed stream
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", server.serve("/bad.zip", bytes(data)))
    with pytest.raises(
        DatasetUnavailableError, match="is not a readable zip .*nothing was written"
    ):
        load_dataset("beijing-pm25")
    _assert_cache_untouched(cache)


def test_wrong_row_count_is_refused(server, cache, monkeypatch, synthetic_csv):
    short = b"\n".join(synthetic_csv.split(b"\n")[:101]) + b"\n"
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", server.serve("/short.zip", _zip(short)))
    with pytest.raises(DatasetUnavailableError, match="has 100 data rows, expected 43824"):
        load_dataset("beijing-pm25")
    _assert_cache_untouched(cache)


def test_offline_says_how_to_use_a_local_copy(cache, monkeypatch):
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", f"http://127.0.0.1:{port}/381.zip")
    with pytest.raises(
        DatasetUnavailableError,
        match=r"cannot download beijing-pm25 .* set LSTMCAST_DATA=/folder/with/beijing_pm25.csv",
    ):
        load_dataset("beijing-pm25")
    with pytest.raises(DatasetUnavailableError, match="download is off"):
        load_dataset("beijing-pm25", download=False)
    _assert_cache_untouched(cache)


def test_missing_file_on_the_server(server, cache, monkeypatch):
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", server.url + "/missing.zip")
    with pytest.raises(DatasetUnavailableError, match="Not Found"):
        load_dataset("beijing-pm25")


def test_lookup_order_explicit_then_env_then_cache(tmp_path, cache, monkeypatch, synthetic_csv):
    cache.mkdir()
    (cache / "beijing_pm25.csv").write_bytes(synthetic_csv)
    assert locate("beijing-pm25") == cache / "beijing_pm25.csv"
    env = tmp_path / "env"
    env.mkdir()
    (env / BEIJING_RAW).write_bytes(synthetic_csv)  # UCI's own file name is accepted
    monkeypatch.setenv("LSTMCAST_DATA", str(env))
    assert locate("beijing-pm25") == env / BEIJING_RAW
    explicit = tmp_path / "mine.csv"
    explicit.write_bytes(synthetic_csv)
    assert locate("beijing-pm25", data_dir=explicit) == explicit
    with pytest.raises(
        DatasetUnavailableError, match="no beijing_pm25.csv or PRSA_data.* in data_dir"
    ):
        locate("beijing-pm25", data_dir=tmp_path / "nowhere")


def test_a_plain_csv_mirror_is_named_as_such_not_as_a_broken_zip(
    server, cache, monkeypatch, synthetic_csv
):
    """A complete CSV served where the zip belongs was called "truncated or corrupted"."""
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", server.serve("/plain.csv", synthetic_csv))
    with pytest.raises(DatasetUnavailableError) as err:
        load_dataset("beijing-pm25")
    assert str(err.value) == (
        f"the file downloaded for beijing-pm25 from {server.url}/plain.csv is not a zip archive "
        "(it starts 'No,year,month,day,hour,pm2.5,DEWP,TEMP,P'): the URL must serve the UCI "
        f"zip; for a plain {BEIJING_RAW} set LSTMCAST_DATA to its folder instead. Nothing was "
        "written to the cache"
    )
    _assert_cache_untouched(cache)


def test_a_damaged_cached_copy_is_refused_by_fetch_too_and_named_with_the_fix(
    cache, synthetic_csv, capsys
):
    """`datasets fetch` printed the path of a truncated cached file (exit 0) that every command
    then refused without a fix; rows deleted mid-file passed as gaps, with a warning only."""
    from lstmcast.cli import main

    lines = synthetic_csv.split(b"\n")
    cache.mkdir()
    for damaged in (b"\n".join(lines[:30_000]), b"\n".join(lines[:20_000] + lines[20_500:])):
        (cache / "beijing_pm25.csv").write_bytes(damaged)
        assert main(["datasets", "fetch", "beijing-pm25", "--no-download"]) == 2
        out, err = capsys.readouterr()
        rows = 29_999 if len(damaged) < len(synthetic_csv) * 0.8 else ROWS - 500
        assert out == "" and err.strip().endswith(
            f"beijing_pm25.csv: {rows} hourly rows, expected {ROWS} for beijing-pm25; the file "
            "is truncated or not the UCI table: delete it (a cached copy is then downloaded "
            "again), or point LSTMCAST_DATA at the UCI table"
        ), err


def test_lstmcast_data_that_is_wrong_is_named_not_skipped(tmp_path, cache, monkeypatch):
    """LSTMCAST_DATA naming a folder that does not exist was skipped silently (online, a
    download replaced the user's copy); one that lacks the file got advice to set it."""
    monkeypatch.setenv("LSTMCAST_DATA", str(tmp_path / "typo"))
    with pytest.raises(DatasetUnavailableError) as err:
        load_dataset("beijing-pm25")
    assert str(err.value) == (
        f"LSTMCAST_DATA={tmp_path / 'typo'} does not exist: set it to the folder that holds "
        "beijing_pm25.csv, or unset it to use the cache (and a download)"
    )
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("LSTMCAST_DATA", str(tmp_path / "empty"))
    with pytest.raises(DatasetUnavailableError) as err:
        load_dataset("beijing-pm25", download=False)
    assert f"to use a local copy, put beijing_pm25.csv in LSTMCAST_DATA={tmp_path / 'empty'}, " \
        "which lacks it (the file may" in str(err.value)  # fmt: skip


def test_a_download_the_cache_cannot_keep_says_where_to_put_it(
    server, cache, monkeypatch, synthetic_csv
):
    """A read-only home folder: the download succeeded, then 'Read-only file system' with no
    fix. (Simulated: the test runs as root, whom permissions do not stop.)"""
    from lstmcast.data import download

    def read_only(path, data, **kwargs):
        raise OSError(30, "Read-only file system", str(path))

    monkeypatch.setattr(download, "write_atomic", read_only)
    monkeypatch.setenv("LSTMCAST_BEIJING_URL", server.serve("/381.zip", _zip(synthetic_csv)))
    with pytest.raises(DatasetUnavailableError) as err:
        load_dataset("beijing-pm25")
    assert str(err.value) == (
        f"beijing-pm25 was downloaded but cannot be kept in the cache {cache} (Read-only file "
        "system): set LSTMCAST_CACHE to a writable folder, or LSTMCAST_DATA to a folder holding "
        "beijing_pm25.csv"
    )


def test_a_wrong_file_found_through_lstmcast_data_names_the_variable(tmp_path, cache, monkeypatch):
    other = tmp_path / "mine.csv"
    other.write_text("time,y\n2020-01-01,1\n2020-01-02,2\n")
    monkeypatch.setenv("LSTMCAST_DATA", str(other))  # a file, not the folder of the UCI table
    with pytest.raises(DataError) as err:
        load_dataset("beijing-pm25")
    assert str(err.value).startswith(f"LSTMCAST_DATA={other} gave {other}: ")
