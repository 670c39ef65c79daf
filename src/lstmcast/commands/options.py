"""The settings flags every forecasting command shares: each ``ForecastConfig`` field is a flag
(``--lookback 48``, ``--units 64 32``, ``--no-residual``); ``--config FILE.toml`` reads the same
names from a TOML file, and flags given on the command line override it.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import tomllib
import types
import typing

from lstmcast.errors import ConfigError

if typing.TYPE_CHECKING:
    from lstmcast.config import ForecastConfig


def _field_help() -> dict[str, str]:
    """The comment beside each ForecastConfig field: the help text of its flag."""
    from lstmcast.config import ForecastConfig

    source = inspect.getsource(ForecastConfig)
    return dict(re.findall(r"^\s+(\w+): [^#\n]*#\s*(.+)$", source, flags=re.M))


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One flag per ForecastConfig field (default: not given), plus ``--config FILE.toml``."""
    from lstmcast.config import NETWORK_DEFAULTS, ForecastConfig, switchable_settings

    helps = _field_help()
    parser.add_argument(
        "--config",
        metavar="FILE.toml",
        default=argparse.SUPPRESS,  # no "(default: None)" in the help
        help="read settings from a TOML file (keys as the flags, e.g. lookback = 48)",
    )
    group = parser.add_argument_group("settings (override --config)")
    hints = typing.get_type_hints(ForecastConfig)
    for f in dataclasses.fields(ForecastConfig):
        flag = "--" + f.name.replace("_", "-")
        kind, is_list = _scalar_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        default = NETWORK_DEFAULTS.get(f.name, default)
        if isinstance(default, tuple):
            default = list(default)
        text = _help_text(helps.get(f.name, ""), default)
        if kind is bool:
            group.add_argument(
                flag,
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=text,
            )
        else:
            off = f.name in switchable_settings()
            group.add_argument(
                flag,
                dest=f.name,
                type=_or_none(kind) if off else kind,
                nargs="+" if is_list else None,
                default=argparse.SUPPRESS,
                help=f"{text[:-1]}; none: off)" if off else text,
                metavar=f.name.upper(),
            )


def _help_text(comment: str, default) -> str:
    """A flag's help: its field's comment and default. None cannot be typed, so a comment's
    "None: ..." reads "default: ...", and a default of None with no such words is "unset"."""
    if default is not None:
        return f"{comment} (default: {default})"
    if "None:" in comment:
        return comment.replace("None:", "default:")
    return comment if "unset:" in comment else f"{comment} (default: unset)"


def _or_none(kind: type):
    """The flag's type, taking ``none`` for None (an optional setting whose default is on:
    ``--clip-norm none`` turns clipping off)."""

    def convert(text: str):
        return None if text.strip().lower() == "none" else kind(text)

    convert.__name__ = kind.__name__  # argparse names it in "invalid float value: 'x'"
    return convert


def _scalar_type(hint) -> tuple[type, bool]:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = args[0]
    if typing.get_origin(hint) is list:
        return typing.get_args(hint)[0], True
    return hint, False


def config_from_args(args: argparse.Namespace, **overrides) -> ForecastConfig:
    """A ForecastConfig from ``--config`` TOML, then the flags given, then ``overrides``."""
    from lstmcast.config import ForecastConfig

    settings: dict = {}
    if getattr(args, "config", None):
        settings.update(read_toml(args.config))
    from_file = set(settings)
    names = {f.name for f in dataclasses.fields(ForecastConfig)}
    flags = {k: v for k, v in vars(args).items() if k in names}
    settings.update(flags)
    settings.update(overrides)
    _check_preset(settings, from_file - set(flags) - set(overrides), getattr(args, "config", None))
    config = ForecastConfig(**settings)
    _check_ignored(config)
    return config


def _check_ignored(config: ForecastConfig) -> None:
    """Refuse, for a new run, a setting it would ignore: huber_delta without the huber loss,
    split fractions on a dataset that splits by its own dates. (Stored configs that hold such
    a setting, from files saved before, still load: they pass ForecastConfig alone.)"""
    from lstmcast.data.periods import DEFAULT_SPLITS

    if config.loss != "huber" and config.huber_delta != type(config).huber_delta:
        raise ConfigError(
            f"huber_delta is read by the huber loss only, so with loss {config.loss!r} it would "
            "be ignored: add --loss huber, or drop huber_delta (the flag or the TOML key)"
        )
    moved = config.moved_fractions()
    dated = config.train_end is None and config.val_end is None and config.data in DEFAULT_SPLITS
    if moved and dated:  # the dataset's dates win: the fraction would be ignored without a word
        train_end, val_end = DEFAULT_SPLITS[config.data]
        raise ConfigError(
            f"{config.data} splits by its own dates (training to {train_end}, validation to "
            f"{val_end}), so {moved[0]} would be ignored: give --train-end and --val-end to "
            "move the split, or drop it"
        )


def _check_preset(settings: dict, in_file: set[str], file: str | None) -> None:
    """A network setting named beside --preset is refused even when it equals the default
    (--activation tanh with the relu presets), which ForecastConfig alone cannot tell; one
    that came from the TOML file ``file`` (``in_file``) is named there, not as a flag."""
    from lstmcast.config import PRESETS, preset_clash

    preset = settings.get("preset")
    clash = [k for k in PRESETS.get(preset, ()) if k in settings] if preset else []
    if clash:
        where = f"{clash[0]} in {file}" if clash[0] in in_file else None
        raise ConfigError(preset_clash(preset, clash[0], where))


def read_toml(path: str) -> dict:
    from lstmcast.config import ForecastConfig, switchable_settings

    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found: check the path") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML ({err})") from None
    settings = {k.replace("-", "_"): v for k, v in raw.items()}
    if len(settings) < len(raw):  # batch_size and batch-size: TOML sees two keys
        name = next(n for n in settings if sum(k.replace("-", "_") == n for k in raw) > 1)
        spelt = " and ".join(k for k in raw if k.replace("-", "_") == name)
        raise ConfigError(f"config file {path} gives {name} twice ({spelt}): keep one")
    for key in switchable_settings() & settings.keys():
        if isinstance(settings[key], str) and settings[key].strip().lower() == "none":
            settings[key] = None
    names = {f.name for f in dataclasses.fields(ForecastConfig)}
    unknown = sorted(k for k in raw if k.replace("-", "_") not in names)  # as the file has it
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
            "see `lstmcast train --help` for the names"
        )
    return settings
