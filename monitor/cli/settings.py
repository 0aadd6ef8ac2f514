"""`painmon config check|show` and `painmon paths`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import tomli_w

from monitor import paths
from monitor.config import load, settings_source


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="check or show settings")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a TOML settings file without running")
    check.add_argument("file", type=Path)
    show = config_sub.add_parser("show", help="print the effective settings as TOML")
    show.add_argument("--config", type=Path, help="TOML settings file (also $PAINMON_CONFIG)")
    config.set_defaults(handler=cmd_config)

    where = sub.add_parser("paths", help="where the settings, database, logs and models are")
    where.add_argument("--json", action="store_true", help="print one JSON object")
    where.set_defaults(handler=cmd_paths)


def cmd_config(args: argparse.Namespace) -> int:
    if args.config_command == "check":
        settings = load(args.file, environ={})
        changed = settings.non_defaults()
        print(f"{args.file}: valid; {len(changed)} setting(s) differ from the defaults")
        for key, value in sorted(changed.items()):
            print(f"  {key} = {value!r}")
        return 0
    print(tomli_w.dumps(_without_none(load(args.config).model_dump(mode="json"))), end="")
    return 0


def _without_none(tree: dict) -> dict:
    """TOML has no null: an unset value (e.g. the default database URL) is left out."""
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in tree.items() if v is not None}


def cmd_paths(args: argparse.Namespace) -> int:
    locations = paths.describe()
    source = settings_source()
    if args.json:
        print(json.dumps(locations | {"settings_in_use": str(source) if source else None}, indent=2))
        return 0
    for name, where in locations.items():
        print(f"{name:<9} {where}")
    print(f"settings in use: {source or 'none (defaults and PAINMON_* variables)'}")
    return 0
