"""The ``lstmcast`` command: thin subcommands over the library.

Each subcommand is a paragraph: options -> config -> one library call -> printed result.
Each subcommand lives in ``lstmcast.commands.<name>`` and registers itself with ``@command``;
``_COMMAND_MODULES`` lists the modules to import.
Any ``LstmcastError`` becomes one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
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


def main(argv: list[str] | None = None) -> int:
    _usable_streams()
    try:  # the first imports take a second or two: Ctrl-C there is an interruption too
        _load_commands()
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("lstmcast: interrupted", file=sys.stderr)
        return 130
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
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as Unix tools do
        # the standard streams are flushed at exit: point stdout at devnull so that flush
        # does not fail again (the recipe of Python's signal module documentation)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the broken pipe
    except OSError as err:  # a path the user named: unreadable, unwritable, disk full
        where = f": {err.filename}" if err.filename else ""
        print(f"{prefix}: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lstmcast {args._command}: interrupted", file=sys.stderr)
        return 130


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
