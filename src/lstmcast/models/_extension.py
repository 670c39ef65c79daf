"""The compiled LSTM engine: ``csrc/lstm_cpu.cpp``, built on first use, with a clean fallback.

The C++ source is compiled once per machine with ``torch.utils.cpp_extension.load`` (it needs a
C++ compiler and ninja) into ``~/.cache/lstmcast/ext/<key>`` (``LSTMCAST_EXT_DIR`` overrides the
folder), where the key changes with the source, torch's version and the CPU. If anything is
missing, ``available()`` is False, ``unavailable_reason()`` says why, and ``lstmcast.nn.LSTM``
runs the pure-torch engine instead: same results, slower. ``LSTMCAST_NO_EXTENSION=1`` forces
the fallback.

Beside the library, ``<library>.sha256`` holds its digest and size, written once it imported;
a library that does not match is never imported (a truncated one crashes the process with a
bus error before Python can raise) but built again. ``build-failed.txt`` remembers why a build
failed, so that later starts do not spend a minute failing again; delete it to retry. Builders
take turns under an ``flock`` on ``build.lock``, which the kernel releases however a builder
dies, unlike the lock file of torch's own (a build killed by a signal left it, and every later
start waited on it forever).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import torch

from lstmcast.errors import warn

try:
    import fcntl
except ImportError:  # Windows: no flock, builders rely on torch's lock file alone
    fcntl = None

SOURCE = Path(__file__).resolve().parent / "csrc" / "lstm_cpu.cpp"
FAILED = "build-failed.txt"  # in the build folder: why its build failed (delete it to retry)
_state: dict[str, object] = {}  # "module": the loaded extension, or "reason": why there is none


class _Unavailable(RuntimeError):
    """A reason the engine cannot be built, worded for the user (shown without a type name)."""


def _compile_flags() -> list[str]:
    """g++ flags. -fopenmp matters: at::parallel_for is a header template whose OpenMP pragma
    only runs the batch slices on separate threads when the extension itself is compiled with
    OpenMP (it then shares torch's libgomp.so.1, already loaded); without it they run serially."""
    flags = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp"]
    if platform.machine() in ("x86_64", "AMD64"):
        flags.append("-march=native")
    return flags


def _cpu_key() -> str:
    """What the compiled code depends on: the source (its bytes and its path: ninja rebuilds
    when the command line changes, so two checkouts sharing a folder would rebuild each other's
    build at every start), flags, torch and the environment it lives in, Python, the CPU."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = line
                break
    except OSError:
        flags = platform.processor()
    parts = [
        SOURCE.read_bytes(),
        str(SOURCE.resolve()).encode(),
        sys.prefix.encode(),  # the torch headers and libraries the build links against
        " ".join(_compile_flags()).encode(),
        torch.__version__.encode(),
        platform.python_version().encode(),
        platform.machine().encode(),
        flags.encode(),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def _keep_freed_memory() -> None:
    """Let glibc reuse freed blocks up to 32 MiB instead of unmapping them.

    An LSTM step allocates and frees a few MiB of buffers; by default glibc returns blocks over
    128 KiB to the kernel at once, and the page faults of the next step's first touch then cost
    a third of a P1 step here (for torch.nn.LSTM as much as for this engine). Skipped when
    ``LSTMCAST_NO_MALLOPT=1`` or off glibc.
    """
    if os.environ.get("LSTMCAST_NO_MALLOPT", "") not in ("", "0") or platform.system() != "Linux":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: the largest glibc accepts
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD: keep up to 512 MiB of free heap
    except (OSError, AttributeError):
        pass


def _load() -> ModuleType | None:
    """Build (or reuse) and import the extension; None, with the reason noted, if impossible."""
    if "module" in _state or "reason" in _state:
        return _state.get("module")  # type: ignore[return-value]
    _keep_freed_memory()
    if os.environ.get("LSTMCAST_NO_EXTENSION", "") not in ("", "0"):
        _state["reason"] = "disabled by LSTMCAST_NO_EXTENSION"
        return None
    try:
        if not SOURCE.is_file():  # a wheel built without its package data
            raise _Unavailable(
                f"its C++ source {SOURCE} is not installed: reinstall lstmcast from its "
                "repository or a wheel that holds models/csrc, or set LSTMCAST_NO_EXTENSION=1"
            )
        key = _cpu_key()
        build = _build_folder(key)
        name = f"lstmcast_lstm_cpu_{key}"
        library = build / f"{name}.so"
        module = _import_built(name, library) or _build(name, library)
        if not module.has_blas():
            raise RuntimeError("libtorch exports no sgemm_/dgemm_ on this platform")
    except Exception as err:  # no compiler, no ninja, a foreign platform: fall back quietly
        reason = str(err) if isinstance(err, _Unavailable) else _cause(err)
        _state["reason"] = reason
        warn(
            f"the compiled LSTM engine is unavailable ({reason}); using the pure-torch engine "
            "(same results, slower)",
            RuntimeWarning,
        )
        return None
    _state["module"] = module
    return module


def _build_folder(key: str) -> Path:
    """The engine's build folder for ``key``, made if needed; _Unavailable naming
    ``LSTMCAST_EXT_DIR`` when it cannot be (a read-only or missing home, as in services)."""
    try:
        build = _root() / key
        build.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError) as err:  # RuntimeError: no home directory to expand
        where = getattr(err, "filename", None) or "the cache folder"
        why = getattr(err, "strerror", None) or str(err)
        raise _Unavailable(
            f"its build folder cannot be made in {where} ({why}): set LSTMCAST_EXT_DIR to a "
            "writable folder, or LSTMCAST_NO_EXTENSION=1 to skip the build"
        ) from err
    return build


def _root() -> Path:
    """The folder of the build folders: ``LSTMCAST_EXT_DIR`` (``~`` expanded: a literal ``~``
    folder in the working directory invites ``rm -rf ~``), else ``~/.cache/lstmcast/ext``."""
    given = os.environ.get("LSTMCAST_EXT_DIR", "")
    return Path(given).expanduser().absolute() if given else Path.home() / ".cache/lstmcast/ext"


def _build(name: str, library: Path) -> ModuleType:
    """Compile the extension into ``library``'s folder, one process at a time, and import it."""
    from torch.utils import cpp_extension

    build = library.parent
    ninja = _ninja_dir()
    if ninja is None and shutil.which("ninja") is None:
        raise _Unavailable(
            "ninja not found: pip install ninja into this Python environment, or set "
            "LSTMCAST_NO_EXTENSION=1 to skip the build"
        )
    compiler = os.environ.get("CXX") or "c++"  # what torch's build runs
    if shutil.which(compiler) is None:
        raise _Unavailable(
            f"no C++ compiler ({compiler}) on PATH: install g++ or clang++, or set "
            "LSTMCAST_NO_EXTENSION=1 to skip the build"
        )
    _refuse_failed_build(build)
    with _build_lock(build) as held:
        module = _import_built(name, library) or _adopt_unmarked(name, library)
        if module is not None:  # built by the process we waited for
            return module
        _refuse_failed_build(build)  # or failed there
        if held:  # every live builder holds build.lock: torch's lock is a killed build's
            (build / "lock").unlink(missing_ok=True)
        _say(f"lstmcast: compiling the LSTM engine once for this machine into {build} (a minute)")
        try:
            with _first_on_path(ninja):
                module = cpp_extension.load(
                    name=name,
                    sources=[str(SOURCE)],
                    extra_cflags=_compile_flags(),
                    extra_ldflags=["-fopenmp"],
                    build_directory=str(build),
                    verbose=False,
                )
        except Exception as err:
            if "interrupted by user" in str(err):  # Ctrl-C stopped ninja: an interruption,
                raise KeyboardInterrupt from err  # not a failed build to remember
            reason = _cause(err)
            with contextlib.suppress(OSError):
                (build / FAILED).write_text(reason + "\n")
            raise _Unavailable(reason) from err
        _mark(library)
        return module


def _cause(err: Exception) -> str:
    """``Type: line`` naming what went wrong: torch's build error ends with ninja's "build
    stopped: subcommand failed.", the compiler's own complaint ("c++: not found", "error: ...")
    comes above it."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    named = [line for line in lines if re.search(r"\berror\b|not found|fatal", line, re.I)]
    named = [line for line in named if not line.startswith(("Error building extension", "["))]
    line = (named or lines or [""])[0 if named else -1]
    return f"{type(err).__name__}: {line[:300]}"


def _refuse_failed_build(build: Path) -> None:
    """Raise the reason an earlier build in ``build`` failed, if one did."""
    marker = build / FAILED
    try:
        reason = marker.read_text().strip()
    except OSError:
        return
    raise _Unavailable(f"{reason}; an earlier build failed: delete {marker} to try again")


def _ninja_dir() -> str | None:
    """The folder of this Python environment's ninja (a dependency of lstmcast), which is not on
    PATH when the environment is not activated (cron, pipx, ``venv/bin/lstmcast`` run directly)."""
    folders = [os.path.dirname(sys.executable)]
    with contextlib.suppress(ImportError, AttributeError):
        import ninja

        folders.insert(0, ninja.BIN_DIR)
    return next((folder for folder in folders if shutil.which("ninja", path=folder)), None)


@contextlib.contextmanager
def _first_on_path(folder: str | None) -> Iterator[None]:
    """PATH with ``folder`` first, for the build only (torch runs ``ninja`` from PATH)."""
    old = os.environ.get("PATH")
    if folder:
        os.environ["PATH"] = folder + os.pathsep + (old or "")
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = old


@contextlib.contextmanager
def _build_lock(build: Path) -> Iterator[bool]:
    """Hold an ``flock`` on ``build/build.lock``: yields whether it is held (not without fcntl,
    nor on a file system without locks). The kernel releases it however the holder dies."""
    if fcntl is None:
        yield False
        return
    with open(build / "build.lock", "a") as handle:
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _say(f"lstmcast: waiting for another process compiling the LSTM engine in {build}")
                fcntl.flock(handle, fcntl.LOCK_EX)
            held = True
        except OSError:
            held = False
        yield held


def _say(message: str) -> None:
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def _digest(library: Path) -> str:
    """``sha256 size`` of a file."""
    data = library.read_bytes()
    return f"{hashlib.sha256(data).hexdigest()} {len(data)}"


def _marker(library: Path) -> Path:
    """Where the digest of a library that imported is kept."""
    return library.with_name(library.name + ".sha256")


def _mark(library: Path) -> None:
    """Record ``library`` as whole: it was just built (or checked) and imported."""
    with contextlib.suppress(OSError):
        _marker(library).write_text(_digest(library) + "\n")


def _import_built(name: str, library: Path) -> ModuleType | None:
    """The extension built earlier into ``library``, imported directly; None when there is none,
    it does not match its marker (a truncated library would crash the process with a bus error,
    not raise) or it does not import.

    Its folder's key already covers everything the build depends on, so asking ninja whether it
    is up to date adds nothing, and cost a whole rebuild (about 30 s) whenever the ninja found
    on PATH differed from the last build's: ninja 1.12 changed how it hashes the build command,
    so the venv's ninja and the system's rebuilt each other's engine in turn.
    """
    try:
        if _marker(library).read_text().strip() != _digest(library):
            return None
        spec = importlib.util.spec_from_file_location(name, library)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (OSError, ImportError):
        return None
    return module


def _adopt_unmarked(name: str, library: Path) -> ModuleType | None:
    """A library without a marker (built before markers, or its build killed halfway), kept
    and marked if it imports in a separate process (a bad one may crash it: about 2 s, once);
    else it is removed with its objects (ninja would think them up to date) and None returned.
    Runs under the build lock: nothing else writes the library meanwhile."""
    if not library.is_file():
        return None
    if not _marker(library).is_file() and _imports_elsewhere(name, library):
        _mark(library)
        return _import_built(name, library)
    for path in [library, _marker(library), *library.parent.glob("*.o")]:
        path.unlink(missing_ok=True)
    return None


def _imports_elsewhere(name: str, library: Path) -> bool:
    """Whether ``library`` imports in a fresh Python process."""
    check = (
        "import importlib.util, sys, torch; "
        "spec = importlib.util.spec_from_file_location(sys.argv[1], sys.argv[2]); "
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", check, name, str(library)], capture_output=True, timeout=300
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def module() -> ModuleType | None:
    """The loaded extension module, or None."""
    return _load()


def available() -> bool:
    """Whether the compiled engine is built and loaded (builds it on the first call)."""
    return _load() is not None


def unavailable_reason() -> str:
    """Why the compiled engine is not used ('' when it is)."""
    _load()
    return str(_state.get("reason", ""))


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Within this block, every layer runs on the pure-torch engine (for comparisons)."""
    _state["disabled"] = _state.get("disabled", 0) + 1  # type: ignore[operator]
    try:
        yield
    finally:
        _state["disabled"] -= 1  # type: ignore[operator]


def usable_for(x: torch.Tensor, *tensors: torch.Tensor | None) -> bool:
    """Whether the compiled engine can run these tensors: CPU, float32/float64, one dtype, not
    empty (an empty batch takes the pure-torch engine, which returns empty results)."""
    if _state.get("disabled") or x.numel() == 0:
        return False
    if x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
        return False
    if any(t is not None and (t.dtype != x.dtype or t.device != x.device) for t in tensors):
        return False
    return _load() is not None


def first_order_only(backward):
    """``backward`` that refuses a second derivative (``create_graph=True``, as a gradient
    penalty asks): ``once_differentiable`` alone returns gradients silently cut from the graph
    when the incoming gradients need none."""

    @functools.wraps(backward)
    def checked(ctx, *grads):
        if torch.is_grad_enabled():  # autograd enables grad in backward only for create_graph
            raise RuntimeError(
                "lstmcast.nn.LSTM has no second derivative (backward with create_graph=True, "
                "e.g. for a gradient penalty): use torch.nn.LSTM for that loss"
            )
        return backward(ctx, *grads)

    return checked


class LayerFunction(torch.autograd.Function):
    """One layer and direction through the compiled engine; same contract as ``_TorchLayer``."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, relu, reverse):
        ext = _state["module"]
        h0, c0 = h0.contiguous(), c0.contiguous()  # x may be a strided (T, B, I) view
        w_ih, w_hh = w_ih.contiguous(), w_hh.contiguous()
        bias = None if b_ih is None else b_ih + b_hh
        out, h_n, c_n, *saved = ext.forward(x, h0, c0, w_ih, w_hh, bias, relu, reverse)
        ctx.flags = (relu, reverse, b_ih is not None)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(c0, w_ih, w_hh, *saved)  # saved: xh, gates, cells, tcells, meta
        return out, h_n, c_n

    @staticmethod
    @first_order_only
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_out, d_hn, d_cn):
        relu, reverse, has_bias = ctx.flags
        ext = _state["module"]
        dx, dh0, dc0, dw_ih, dw_hh, db = ext.backward(
            d_out,
            d_hn,
            d_cn,
            *ctx.saved_tensors,
            relu,
            reverse,
            ctx.needs_input_grad[0],
            has_bias,
        )
        return dx, dh0, dc0, dw_ih, dw_hh, db, db, None, None
