"""The compiled LSTM engine: ``csrc/lstm_cpu.cpp``, built on first use, with a clean fallback.

The C++ source is compiled once per machine with ``torch.utils.cpp_extension.load`` (it needs a
C++ compiler and ninja) into ``~/.cache/lstmcast/ext/<key>`` (``LSTMCAST_EXT_DIR`` overrides the
folder), where the key changes with the source, torch's version and the CPU. If anything is
missing, ``available()`` is False, ``unavailable_reason()`` says why, and ``lstmcast.nn.LSTM``
runs the pure-torch engine instead: same results, slower. ``LSTMCAST_NO_EXTENSION=1`` forces
the fallback.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import importlib.util
import os
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import torch

from lstmcast.errors import warn

SOURCE = Path(__file__).resolve().parent / "csrc" / "lstm_cpu.cpp"
_state: dict[str, object] = {}  # "module": the loaded extension, or "reason": why there is none


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
        from torch.utils import cpp_extension

        key = _cpu_key()
        root = Path(os.environ.get("LSTMCAST_EXT_DIR", Path.home() / ".cache/lstmcast/ext"))
        build = root / key
        build.mkdir(parents=True, exist_ok=True)
        flags = _compile_flags()
        name = f"lstmcast_lstm_cpu_{key}"
        module = _import_built(name, build / f"{name}.so")
        if module is None:
            if not any(build.glob(f"{name}*.so")):
                print(
                    f"lstmcast: compiling the LSTM engine once for this machine into {build} "
                    "(about a minute)",
                    file=sys.stderr,
                    flush=True,
                )
            module = cpp_extension.load(
                name=name,
                sources=[str(SOURCE)],
                extra_cflags=flags,
                extra_ldflags=["-fopenmp"],
                build_directory=str(build),
                verbose=False,
            )
        if not module.has_blas():
            raise RuntimeError("libtorch exports no sgemm_/dgemm_ on this platform")
    except Exception as err:  # no compiler, no ninja, a foreign platform: fall back quietly
        reason = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err) else ''}"
        _state["reason"] = reason
        warn(
            f"lstmcast: the compiled LSTM engine is unavailable ({reason}); using the pure-torch "
            f"engine (same results, slower)",
            RuntimeWarning,
        )
        return None
    _state["module"] = module
    return module


def _import_built(name: str, library: Path) -> ModuleType | None:
    """The extension built earlier into ``library``, imported directly; None when there is none
    or it does not import (a build killed halfway: ``cpp_extension.load`` then rebuilds it).

    Its folder's key already covers everything the build depends on, so asking ninja whether it
    is up to date adds nothing, and cost a whole rebuild (about 30 s) whenever the ninja found
    on PATH differed from the last build's: ninja 1.12 changed how it hashes the build command,
    so the venv's ninja and the system's rebuilt each other's engine in turn.
    """
    if not library.is_file():
        return None
    try:
        spec = importlib.util.spec_from_file_location(name, library)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except ImportError:
        return None
    return module


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
