"""``lstmcast gradcheck``: the NumPy reference's gradients against finite differences."""

from __future__ import annotations

import argparse
import math

from lstmcast.cli import command
from lstmcast.errors import ConfigError

# the defaults of the number flags, also named in their error messages
DEFAULTS = {"input_size": 3, "batch": 2, "steps": 5, "seed": 0, "entries": 40, "tolerance": 1e-6}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "gradcheck",
        help="check the NumPy LSTM's backward pass against finite differences",
        description=(
            "Build a random NumPy LSTM (float64, seeded), compare its analytic gradients for "
            "every weight, bias, the input and the initial states with central finite "
            "differences, print the largest relative error per parameter, and exit 0 when all "
            "are within the tolerance, 1 otherwise."
        ),
        epilog="Example: lstmcast gradcheck --hidden 8 4 --bidirectional --activation relu",
    )
    parser.add_argument(
        "--input-size",
        type=int,
        default=DEFAULTS["input_size"],
        help="input features I (default %(default)s)",
    )
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[4],
        metavar="H",
        help="hidden width, or one width per layer, e.g. --hidden 8 4 (default 4)",
    )
    parser.add_argument(
        "--layers", type=int, default=None, help="layers; repeats a single --hidden width"
    )
    parser.add_argument("--bidirectional", action="store_true", help="bidirectional layers")
    parser.add_argument(
        "--activation", choices=["tanh", "relu"], default="tanh", help="cell activation"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=DEFAULTS["batch"],
        help="sequences in the batch (default %(default)s)",
    )
    parser.add_argument(
        "--steps", type=int, default=DEFAULTS["steps"], help="time steps (default %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULTS["seed"], help="seed for weights and data"
    )
    parser.add_argument(
        "--entries",
        type=int,
        default=DEFAULTS["entries"],
        help="entries sampled per parameter; 0 checks all (default %(default)s)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULTS["tolerance"],
        help="largest error that passes (default 1e-6)",
    )
    return parser


@command("gradcheck", add_parser)
def run(args: argparse.Namespace) -> int:
    from lstmcast.reference import gradcheck

    hidden = _layer_widths(args)
    _check_flags(args)
    result = gradcheck(
        input_size=args.input_size,
        hidden_sizes=hidden,
        bidirectional=args.bidirectional,
        activation=args.activation,
        batch=args.batch,
        steps=args.steps,
        seed=args.seed,
        tolerance=args.tolerance,
        max_entries=args.entries or None,
    )
    print(result.table())
    verdict = "passed" if result.passed else "FAILED"
    print(
        f"{verdict}: largest error {max(result.errors.values()):.2e}, tolerance {args.tolerance:g}"
    )
    return 0 if result.passed else 1


def _layer_widths(args: argparse.Namespace) -> list[int]:
    """One hidden width per layer, from --hidden and --layers."""
    hidden = list(args.hidden)
    if any(width < 1 for width in hidden):
        raise ConfigError(
            f"--hidden widths must be positive integers, got {' '.join(map(str, hidden))}: "
            "e.g. --hidden 4 (the default) or --hidden 8 4"
        )
    if args.layers is None:
        return hidden
    if args.layers < 1:
        raise ConfigError(
            f"--layers must be a positive integer, got {args.layers}: e.g. --layers 2, "
            "or leave it out for one layer per --hidden width"
        )
    if len(hidden) == 1:
        return hidden * args.layers
    if len(hidden) != args.layers:
        raise ConfigError(
            f"--layers {args.layers} disagrees with {len(hidden)} --hidden widths {hidden}: "
            "give one width per layer, or one width and --layers"
        )
    return hidden


def _check_flags(args: argparse.Namespace) -> None:
    """Refuse sizes, seeds and tolerances the check cannot use, naming the flag."""
    for name in ("input_size", "batch", "steps"):
        value, flag = getattr(args, name), "--" + name.replace("_", "-")
        if value < 1:
            raise ConfigError(
                f"{flag} must be a positive integer, got {value}: e.g. {flag} {DEFAULTS[name]} "
                "(the default)"
            )
    if args.seed < 0:
        raise ConfigError(
            f"--seed must be a non-negative integer, got {args.seed}: "
            f"e.g. --seed {DEFAULTS['seed']} (the default)"
        )
    if args.entries < 0:
        raise ConfigError(
            f"--entries must be a positive integer, or 0 to check every entry, got "
            f"{args.entries}: e.g. --entries {DEFAULTS['entries']} (the default)"
        )
    if not (math.isfinite(args.tolerance) and args.tolerance > 0):
        raise ConfigError(
            f"--tolerance must be a positive finite number, got {args.tolerance:g}: "
            "e.g. --tolerance 1e-6 (the default)"
        )
