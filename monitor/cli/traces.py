"""`painmon replay-trace`: a CSV of inputs through the alarm engine."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from monitor.config import Settings, load


def register(sub: argparse._SubParsersAction) -> None:
    replay = sub.add_parser("replay-trace", help="run a CSV trace through the alarm engine")
    replay.add_argument("trace", type=Path, help="CSV with header t,kind,value,user")
    replay.add_argument("--settings", type=Path,
                        help="TOML settings file ([alarms], [audio] and [movement] sections)")
    replay.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    replay.set_defaults(handler=cmd_replay_trace)


def cmd_replay_trace(args: argparse.Namespace) -> int:
    from monitor.signal.trace import replay_trace

    settings = load(args.settings, environ={}) if args.settings else Settings()
    print(json.dumps(replay_trace(args.trace, settings.alarms, settings.audio, settings.movement),
                     indent=2))
    return 0
