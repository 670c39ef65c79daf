"""``lstmcast gradcheck``: the NumPy reference's gradients against finite differences."""

from __future__ import annotations

import argparse
import math

from lstmcast.cli import command
from lstmcast.errors import ConfigError


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
    parser.add_argument("--input-size", type=int, default=3, help="input features I (default 3)")
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
    parser.add_argument("--batch", type=int, default=2, help="sequences in the batch (default 2)")
    parser.add_argument("--steps", type=int, default=5, help="time steps (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and data")
    parser.add_argument(
        "--entries",
        type=int,
        default=40,
        help="entries sampled per parameter; 0 checks all (default 40)",
    )
    parser.add_argument(
        "--tolerance", type=float, default=1e-6, help="largest error that passes (default 1e-6)"
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
    for flag, value, default in (
        ("--input-size", args.input_size, 3),
        ("--batch", args.batch, 2),
        ("--steps", args.steps, 5),
    ):
        if value < 1:
            raise ConfigError(
                f"{flag} must be a positive integer, got {value}: e.g. {flag} {default} "
                "(the default)"
            )
    if args.seed < 0:
        raise ConfigError(
            f"--seed must be a non-negative integer, got {args.seed}: e.g. --seed 0 (the default)"
        )
    if args.entries < 0:
        raise ConfigError(
            f"--entries must be a positive integer, or 0 to check every entry, got "
            f"{args.entries}: e.g. --entries 40 (the default)"
        )
    if not (math.isfinite(args.tolerance) and args.tolerance > 0):
        raise ConfigError(
            f"--tolerance must be a positive finite number, got {args.tolerance:g}: "
            "e.g. --tolerance 1e-6 (the default)"
        )
