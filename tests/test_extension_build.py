"""Building the compiled engine: a build killed earlier, the environment's own ninja, a missing
compiler, a failed build, ``~`` in LSTMCAST_EXT_DIR, a damaged library, two first builds at once.

Every test builds into its own folder. One real build (about 30 s) is shared; the others stand
in for ``cpp_extension.load``.
"""

import os
import shutil
import threading
import types

import pytest
from torch.utils import cpp_extension
from torch.utils._cpp_extension_versioner import ExtensionVersioner

from lstmcast.models import _extension

fcntl = pytest.importorskip("fcntl")


def refuse_to_wait(baton):
    raise AssertionError(f"waited on {baton.lock_file_path}")  # a killed build's: forever


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The real build, into a folder where a build killed by a signal left torch's lock file:
    (library, module, why not)."""
    root = tmp_path_factory.mktemp("ext")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LSTMCAST_EXT_DIR", str(root))
        mp.delenv("LSTMCAST_NO_EXTENSION", raising=False)
        mp.setattr(_extension, "_state", {})
        # a build into another folder earlier in this process would be renamed ..._v1
        mp.setattr(cpp_extension, "JIT_EXTENSION_VERSIONER", ExtensionVersioner())
        mp.setattr(cpp_extension.FileBaton, "wait", refuse_to_wait)
        key = _extension._cpu_key()
        (root / key).mkdir()
        (root / key / "lock").touch()
        _extension.available()
        library = root / key / f"lstmcast_lstm_cpu_{key}.so"
        return library, _extension.module(), _extension.unavailable_reason()


def engine(built):
    """The library and module the real build made (the test is skipped without a compiler)."""
    library, module, reason = built
    if reason.startswith(("no C++ compiler", "ninja not found")):
        pytest.skip(f"compiled engine unavailable: {reason}")
    assert module is not None, reason
    return library, module


@pytest.fixture
def folder(monkeypatch, tmp_path):
    """A fresh build folder, nothing loaded; PATH holds a stand-in c++ and no ninja."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "c++").write_text("#!/bin/sh\nexit 1\n")
    (bin_ / "c++").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_))
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("LSTMCAST_EXT_DIR", str(tmp_path / "ext"))
    monkeypatch.delenv("LSTMCAST_NO_EXTENSION", raising=False)
    monkeypatch.setattr(_extension, "_state", {})
    return tmp_path / "ext" / _extension._cpu_key()


def library_in(folder):
    return folder / f"lstmcast_lstm_cpu_{folder.name}.so"


def fake_load(calls, module=None, then=None):
    """A stand-in for cpp_extension.load: notes its arguments, runs ``then``, returns a module."""

    def load(**kwargs):
        calls.append(kwargs)
        if then is not None:
            then()
        return module or types.SimpleNamespace(has_blas=lambda: True)

    return load


def test_a_build_killed_by_a_signal_does_not_hang_the_next_start(built):
    """SIGTERM/SIGKILL during the first build left torch's ``lock`` file, and every later start
    waited on it forever, printing only "compiling the LSTM engine once"."""
    library, module = engine(built)
    assert module.has_blas()
    assert not (library.parent / "lock").exists()
    assert _extension._marker(library).read_text().strip() == _extension._digest(library)


def test_a_stale_torch_lock_is_removed_under_our_lock(folder, monkeypatch):
    """The same without compiling: torch's own build path, its steps stood in for."""
    folder.mkdir(parents=True)
    (folder / "lock").touch()
    steps = []
    monkeypatch.setattr(cpp_extension.FileBaton, "wait", refuse_to_wait)
    monkeypatch.setattr(cpp_extension, "JIT_EXTENSION_VERSIONER", ExtensionVersioner())
    monkeypatch.setattr(
        cpp_extension, "_write_ninja_file_and_build_library", lambda **kw: steps.append("build")
    )
    monkeypatch.setattr(
        cpp_extension,
        "_import_module_from_library",
        lambda *args: steps.append("import") or types.SimpleNamespace(has_blas=lambda: True),
    )
    assert _extension.available(), _extension.unavailable_reason()
    assert steps == ["build", "import"] and not (folder / "lock").exists()


def test_the_environments_ninja_is_used_when_its_folder_is_not_on_path(folder, monkeypatch):
    """Run without activating the venv (cron, pipx, venv/bin/lstmcast), the build said "Ninja is
    required to load C++ extensions (pip install ninja to get it)": it is installed."""
    path = str(folder.parent.parent / "bin")
    seen = []
    monkeypatch.setattr(
        cpp_extension,
        "load",
        fake_load(seen, then=cpp_extension.verify_ninja_availability),  # runs `ninja --version`
    )
    assert _extension.available(), _extension.unavailable_reason()
    assert len(seen) == 1
    assert os.environ["PATH"] == path  # changed for the build only


def test_no_compiler_is_named_and_no_build_is_started(folder, monkeypatch, capsys):
    """Without c++ the warning said only "ninja: build stopped: subcommand failed.", under
    torch's "!! WARNING !!" banner, after "compiling ... (about a minute)" at every start."""
    (folder.parent.parent / "bin" / "c++").unlink()
    calls = []
    monkeypatch.setattr(cpp_extension, "load", fake_load(calls))
    with pytest.warns(
        RuntimeWarning,
        match=r"unavailable \(no C\+\+ compiler \(c\+\+\) on PATH: install g\+\+ or clang\+\+, "
        r"or set LSTMCAST_NO_EXTENSION=1 to skip the build\)",
    ):
        assert not _extension.available()
    assert calls == [] and "compiling" not in capsys.readouterr().err


def test_a_failed_build_names_the_compilers_complaint_and_is_not_retried(
    folder, monkeypatch, capsys
):
    """The warning kept torch's last line ("ninja: build stopped: subcommand failed.") and lost
    the compiler's; and every start spent a minute failing again."""
    output = (
        "Error building extension 'lstmcast_lstm_cpu_x': [1/2] c++ -MMD -MF lstm_cpu.o.d -O3\n"
        "FAILED: lstm_cpu.o\n"
        "lstm_cpu.cpp:1:10: fatal error: torch/extension.h: No such file or directory\n"
        "compilation terminated.\n"
        "ninja: build stopped: subcommand failed.\n"
    )
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise RuntimeError(output)

    monkeypatch.setattr(cpp_extension, "load", failing)
    cause = r"RuntimeError: lstm_cpu.cpp:1:10: fatal error: torch/extension.h: No such file"
    with pytest.warns(RuntimeWarning, match=cause):
        assert not _extension.available()
    assert len(calls) == 1 and "compiling" in capsys.readouterr().err

    monkeypatch.setattr(_extension, "_state", {})  # the next start
    with pytest.warns(RuntimeWarning, match=cause + r".*; an earlier build failed: delete "):
        assert not _extension.available()
    assert len(calls) == 1 and "compiling" not in capsys.readouterr().err
    assert str(folder / "build-failed.txt") in _extension.unavailable_reason()

    (folder / "build-failed.txt").unlink()  # how a user retries
    monkeypatch.setattr(_extension, "_state", {})
    with pytest.warns(RuntimeWarning, match=cause):
        _extension.available()
    assert len(calls) == 2


def test_ctrl_c_during_the_first_build_is_an_interruption_not_a_failed_build(folder, monkeypatch):
    """Ctrl-C stops ninja, which torch reports as a RuntimeError: it was caught as a failed
    build, remembered in build-failed.txt, and the run went on with the slow engine."""

    def interrupted(**kwargs):
        raise RuntimeError(
            "Error building extension 'lstmcast_lstm_cpu_x': ninja: build stopped: interrupted "
            "by user."
        )

    monkeypatch.setattr(cpp_extension, "load", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _extension.available()
    assert not (folder / "build-failed.txt").exists()


def test_a_tilde_in_lstmcast_ext_dir_means_home(folder, monkeypatch, tmp_path):
    """LSTMCAST_EXT_DIR='~/lstmcast-ext' made a folder named ~ in the working directory (which a
    user then removes with rm -rf ~)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LSTMCAST_EXT_DIR", "~/lstmcast-ext")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    calls = []
    monkeypatch.setattr(cpp_extension, "load", fake_load(calls))
    assert _extension.available(), _extension.unavailable_reason()
    assert calls[0]["build_directory"] == str(tmp_path / "home" / "lstmcast-ext" / folder.name)
    assert list((tmp_path / "work").iterdir()) == []


def test_a_damaged_library_is_built_again_not_imported(built, folder, monkeypatch):
    """A truncated library in the cache was imported directly and killed every run with a bus
    error (exit 135), no message."""
    good, module = engine(built)
    library = library_in(folder)
    folder.mkdir(parents=True)
    shutil.copy(good, library)
    _extension._mark(library)
    library.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    calls = []
    rebuild = fake_load(calls, module, then=lambda: shutil.copy(good, library))
    monkeypatch.setattr(cpp_extension, "load", rebuild)
    assert _extension.available(), _extension.unavailable_reason()
    assert len(calls) == 1
    assert _extension._marker(library).read_text().strip() == _extension._digest(good)


def test_a_library_from_before_markers_is_checked_once_then_trusted(built, folder, monkeypatch):
    """A library built by an earlier lstmcast has no marker: kept if it imports in a separate
    process, built again if not (a truncated one crashes that process, not this one)."""
    good, module = engine(built)
    library = library_in(folder)
    folder.mkdir(parents=True)
    shutil.copy(good, library)
    calls = []
    monkeypatch.setattr(cpp_extension, "load", fake_load(calls, module))
    assert _extension.available() and calls == []
    assert _extension._marker(library).is_file()

    _extension._marker(library).unlink()
    # a new file: this process has the old one mapped, and truncating a mapped library in
    # place kills the process with a bus error when it next touches those pages (at exit)
    library.unlink()
    library.write_bytes(good.read_bytes()[:4096])
    monkeypatch.setattr(_extension, "_state", {})
    assert _extension.available() and len(calls) == 1
    assert not library.exists()  # removed before the build (ninja took it for up to date)


def test_a_second_first_build_waits_for_the_first_then_imports_it(built, folder, monkeypatch):
    """Two processes starting on a machine with no engine yet: the second waits on the first's
    lock, then imports what it built instead of building again."""
    good, module = engine(built)
    library = library_in(folder)
    folder.mkdir(parents=True)
    waiting = threading.Event()
    monkeypatch.setattr(_extension, "_say", lambda line: "waiting" in line and waiting.set())
    calls = []
    monkeypatch.setattr(cpp_extension, "load", fake_load(calls, module))
    results = []
    with open(folder / "build.lock", "a") as first:  # the first process, building
        fcntl.flock(first, fcntl.LOCK_EX)
        second = threading.Thread(target=lambda: results.append(_extension.available()))
        second.start()
        assert waiting.wait(120), "the second start did not wait for the first build"
        shutil.copy(good, library)
        _extension._mark(library)
    second.join()
    assert results == [True] and calls == []
