"""``lstmcast datasets``: list the registry, describe a dataset, or fetch its file."""

from __future__ import annotations

import argparse

from lstmcast.cli import command
from lstmcast.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "datasets",
        help="list, describe or fetch the registered datasets",
        description=(
            "list: every registered dataset. info NAME: its source, licence, columns, preset and "
            "where its file is found. fetch NAME: find the file (data folder, LSTMCAST_DATA, the "
            "cache) or download, verify and cache it, then print its path."
        ),
        epilog="Example: lstmcast datasets fetch beijing-pm25 --cache-dir ~/.cache/lstmcast",
    )
    parser.add_argument("action", choices=["list", "info", "fetch"], help="what to do")
    parser.add_argument(
        "name", nargs="?", help="dataset name for info and fetch, e.g. beijing-pm25"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="a folder holding the file (or the file itself)"
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="download cache (default $LSTMCAST_CACHE or ~/.cache/lstmcast)",
    )
    parser.add_argument("--no-download", action="store_true", help="never download; fail instead")
    return parser


@command("datasets", add_parser)
def run(args: argparse.Namespace) -> int:
    from lstmcast.data import REGISTRY, dataset_info, fetch, load_dataset, locate

    if args.action == "list":
        for info in REGISTRY.values():
            print(f"{info.name:14s} {info.rows:>7,} rows  {info.frequency:7s} {info.description}")
        return 0
    if not args.name:
        raise ConfigError(
            f"datasets {args.action} needs a NAME: lstmcast datasets {args.action} beijing-pm25"
        )
    info = dataset_info(args.name)
    if args.action == "fetch":
        if info.url is None:
            print(f"{info.name} is bundled ({info.source}); nothing to fetch")
            return 0
        path = fetch(
            info.name,
            data_dir=args.data_dir,
            cache_dir=args.cache_dir,
            download_ok=not args.no_download,
        )
        load_dataset(info.name, data_dir=path, download=False)  # every command's checks
        print(path)
        return 0
    where = (
        "bundled"
        if info.url is None
        else locate(info.name, data_dir=args.data_dir, cache_dir=args.cache_dir)
    )
    print(f"name:        {info.name}")
    print(f"description: {info.description}")
    print(f"licence:     {info.licence}")
    print(f"source:      {info.source}")
    print(f"rows:        {info.rows:,} at frequency {info.frequency!r}")
    print(f"columns:     {', '.join(info.columns)}")
    features = ", ".join(info.preset.get("features", []))
    print(f"features:    {features} (target {info.preset.get('target')})")
    if info.preset.get("notes"):
        print(f"preset:      {info.preset['notes']}")
    if info.units:
        print(f"units:       {', '.join(f'{c} {u}' for c, u in info.units.items())}")
    if info.url:
        print(f"download:    {info.url} (override with ${info.url_env})")
    print(f"local copy:  {where or 'none yet (fetched on first use, or set LSTMCAST_DATA)'}")
    return 0
