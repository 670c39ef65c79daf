"""The ``lstmcast`` command: thin subcommands over the library.

Each subcommand is a paragraph: options -> config -> one library call -> printed result.
Each subcommand lives in ``lstmcast.commands.<name>`` and registers itself with ``@command``;
``_COMMAND_MODULES`` lists the modules to import.
Any ``LstmcastError`` becomes one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Callable

from lstmcast import __version__
from lstmcast.errors import LstmcastError

AddParser = Callable[[argparse._SubParsersAction], argparse.ArgumentParser]
Run = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[AddParser, Run]] = {}


def command(name: str, add_parser: AddParser) -> Callable[[Run], Run]:
    """Register ``run`` as the subcommand ``name`` whose options ``add_parser`` declares."""

    def register(run: Run) -> Run:
        COMMANDS[name] = (add_parser, run)
        return run

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstmcast",
        description="Multivariate time-series forecasting with LSTM networks.",
        epilog="Example: lstmcast compare --data beijing-pm25",
    )
    parser.add_argument("--version", action="version", version=f"lstmcast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (add_parser, _) in COMMANDS.items():
        add_parser(sub).set_defaults(_command=name)
    return parser


INTERRUPTED, TERMINATED, READER_LEFT = 130, 143, 141  # 128 + SIGINT, SIGTERM, SIGPIPE
_terminated = False  # whether SIGTERM stopped this command (kill, timeout, docker stop, SLURM)


def stopped_by() -> str:
    """How the running command was stopped, for its last line: "terminated" after SIGTERM,
    "interrupted" after Ctrl-C."""
    return "terminated" if _terminated else "interrupted"


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv``; its exit status. SIGTERM stops it as Ctrl-C does (training
    keeps its checkpoint, tune records the running trial as failed), with status 143."""
    global _terminated
    _terminated = False
    _usable_streams()
    stdout = sys.stdout = _ReaderMayLeave(sys.stdout) if sys.stdout is not None else None
    before = _on_sigterm(_terminate)
    try:
        status = _main(argv)
    finally:  # also after --help's SystemExit
        _on_sigterm(before)
        if stdout is not None:
            stdout.flush()  # the rest of its buffer, while a closed pipe is still caught
            sys.stdout = stdout.stream
    if status == INTERRUPTED and _terminated:  # the commands and train's own stop alike
        status = TERMINATED
    if status == 0 and stdout is not None and stdout.reader_left:
        status = READER_LEFT  # what a shell reports for a tool killed by the broken pipe
    return status


def _main(argv: list[str] | None) -> int:
    try:  # the first imports take a second or two: Ctrl-C there is an interruption too
        _load_commands()
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print(f"lstmcast: {stopped_by()}", file=sys.stderr)
        return INTERRUPTED  # main makes it TERMINATED after SIGTERM
    if getattr(args, "_command", None) is None:
        parser.print_help(sys.stderr)  # a script with an empty command pipes no help
        return 2
    _, run = COMMANDS[args._command]
    prefix = f"lstmcast {args._command}"
    try:
        with warnings.catch_warnings():
            warnings.showwarning = lambda message, *_: print(
                f"{prefix}: warning: {message}", file=sys.stderr
            )
            return run(args)
    except LstmcastError as err:
        print(f"{prefix}: error: {err}", file=sys.stderr)
        return 2
    except Warning as warning:  # -W error / PYTHONWARNINGS=error made it an exception
        print(
            f"{prefix}: error: {warning} (a warning turned into an error by -W error / "
            "PYTHONWARNINGS)",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:  # stderr's reader went away (`2>&1 | head`): stop quietly
        # the standard streams are flushed at exit: point stdout at devnull so that flush
        # does not fail again (the recipe of Python's signal module documentation)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return READER_LEFT
    except OSError as err:  # a path the user named: unreadable, unwritable, disk full
        where = f": {err.filename}" if err.filename else ""
        print(f"{prefix}: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prefix}: {stopped_by()}", file=sys.stderr)
        return INTERRUPTED


class _ReaderMayLeave:
    """``sys.stdout`` for a command whose reader may go away (``lstmcast compare | head -1``):
    from the first write that finds the pipe closed, stdout goes to /dev/null, so that the
    command still finishes its work and writes its files (the study, the report, --json), and
    ``main`` ends with status 141 as a Unix tool killed by the closed pipe would."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.reader_left = False

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            self._to_devnull()
            self.stream.flush()  # what the buffer held goes to /dev/null now

    def _to_devnull(self) -> None:
        self.reader_left = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.stream.fileno())  # for the flush at exit and child processes
        os.close(devnull)

    def __getattr__(self, name: str):  # isatty, encoding, fileno, buffer...: the stream's own
        return getattr(self.stream, name)


def _on_sigterm(handler):
    """Install ``handler`` for SIGTERM (None: the default); the one it replaces, None where
    there was none from Python or none can be installed (off the main thread)."""
    try:
        return signal.signal(signal.SIGTERM, signal.SIG_DFL if handler is None else handler)
    except ValueError:  # not the main thread: SIGTERM keeps its handler
        return None


def _terminate(signum, frame) -> None:
    """SIGTERM stops the command as Ctrl-C does (see ``main``)."""
    global _terminated
    _terminated = True
    raise KeyboardInterrupt


def _usable_streams() -> None:
    """Messages and tables print whatever the terminal: a closed stderr (``2>&-``, which Python
    shows as None) is pointed at /dev/null instead of crashing the progress bar, and text the
    streams' encoding lacks (``PYTHONIOENCODING=ascii`` and a unit such as µg/m³) is written as
    escapes. Data on stdout (``predict``'s CSV) checks its own encoding: it refuses, never
    alters a column name."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the whole process
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _load_commands() -> None:
    """Import the modules whose subcommands register themselves (kept lazy for fast --help)."""
    import importlib

    for module in _COMMAND_MODULES:
        importlib.import_module(module)


_COMMAND_MODULES: list[str] = [
    "lstmcast.commands.gradcheck",
    "lstmcast.commands.forecast",
    "lstmcast.commands.datasets",
    "lstmcast.commands.tune",
]
