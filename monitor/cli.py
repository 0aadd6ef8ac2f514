"""Command line: `painmon run|demo|config|paths|replay-trace` here, the other commands from EXTENSIONS.
Bad input ends in one clear line, exit 2."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import tomli_w

from monitor import __version__, logs, paths
from monitor.config import Settings, load, settings_source
from monitor.errors import EXIT_BAD_INPUT, MonitorError
from monitor.paths import DEMO_CLIP

NOT_A_DEVICE = ("Not a certified medical device: an estimate of facial pain expression that "
                "supports, never replaces, clinical pain assessment.")

log = logging.getLogger(__name__)

# Modules that add their own subcommands: each has `register(subparsers)`, and sets `handler` on its
# parsers with `set_defaults(handler=...)`. They import heavy libraries inside the handler only.
EXTENSIONS: tuple[str, ...] = (
    "monitor.ui.live.commands",
    "monitor.supervise",
    "monitor.benchmark",
    "monitor.review.cli",
    "monitor.training.commands",
    "monitor.tuning.commands",
)


def _settings_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "store.url": getattr(args, "db", None),
        "scoring.model_dir": getattr(args, "model", None),
        "scoring.device": getattr(args, "device", None),
        "bed_label": getattr(args, "bed", None),
    }


def _settings(args: argparse.Namespace) -> Settings:
    return load(args.config, _settings_flags(args))


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML settings file (also $PAINMON_CONFIG)")
    parser.add_argument("--db", help="SQLAlchemy URL of the log (default: SQLite in your data folder)")
    parser.add_argument("--model", help="model folder with card.json and weights")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="inference device")
    parser.add_argument("--bed", help="bed label stored with the session")
    parser.add_argument("--encounter", help="pseudonymous encounter id (default: a new random one)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="painmon", description=f"Bedside infant pain-expression monitor. {NOT_A_DEVICE}")
    parser.add_argument("--version", action="version", version=f"painmon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="monitor a source headless and log to the database")
    run.add_argument("--source", required=True,
                     help="camera:N, a video file, or an rtsp:// / http(s):// URL")
    run.add_argument("--realtime", action="store_true", help="pace a file like a live camera")
    _add_common(run)

    demo = sub.add_parser("demo", help="play the embedded demo clip in the bedside window, or "
                          "analyse it headless where no window can open (no camera needed)")
    demo.add_argument("--headless", action="store_true",
                      help="analyse at full speed and print the summary, even where a window could open")
    _add_common(demo)

    config = sub.add_parser("config", help="check or show settings")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a TOML settings file without running")
    check.add_argument("file", type=Path)
    show = config_sub.add_parser("show", help="print the effective settings as TOML")
    show.add_argument("--config", type=Path, help="TOML settings file (also $PAINMON_CONFIG)")

    where = sub.add_parser("paths", help="where the settings, database, logs and models are")
    where.add_argument("--json", action="store_true", help="print one JSON object")

    replay = sub.add_parser("replay-trace", help="run a CSV trace through the alarm engine")
    replay.add_argument("trace", type=Path, help="CSV with header t,kind,value,user")
    replay.add_argument("--settings", type=Path, help="TOML settings file ([alarms] section)")
    replay.add_argument("--json", action="store_true", help="print one JSON object (the default)")

    run.set_defaults(handler=lambda a: cmd_run(a, a.source, a.realtime))
    demo.set_defaults(handler=cmd_demo)
    config.set_defaults(handler=cmd_config)
    where.set_defaults(handler=cmd_paths)
    replay.set_defaults(handler=cmd_replay_trace)
    for name in EXTENSIONS:
        importlib.import_module(name).register(sub)
    return parser


class Progress:
    """One status line: rewritten in place on a terminal, a line every 10 s in a log."""

    LOG_EVERY_S = 10.0

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last_logged = -self.LOG_EVERY_S

    def __call__(self, summary, snapshot) -> None:
        s = "unknown" if snapshot.s is None else f"{snapshot.s:.2f} {snapshot.s_label}"
        f = "-" if snapshot.f is None else f"{snapshot.f:.0%}"
        alarms = " ".join(_alarm_text(a) for a in snapshot.alarms) or "none"
        line = (f"t {snapshot.t:7.1f}s  frames {summary.frames:6d}  scored {summary.frames_scored:6d}  "
                f"S {s:<12} F {f:>4}  alarms: {alarms}")
        if self._tty:
            print(f"\r{line:<110}", end="", file=sys.stderr, flush=True)
        elif time.monotonic() - self._last_logged >= self.LOG_EVERY_S:
            self._last_logged = time.monotonic()
            print(line, file=sys.stderr, flush=True)


_SYMBOL = {"high": "!!!", "medium": "!!", "low": "!"}


def _alarm_text(alarm) -> str:
    state = " latched" if alarm.latched and not alarm.active else ""
    state += " signal-lost" if alarm.signal_lost else ""
    return f"{alarm.kind}{_SYMBOL[alarm.priority]}{state}"


def _print_summary(summary) -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"session {summary.session_id}: {summary.source}, ended: {summary.end_reason}")
    print(f"  frames {summary.frames} in {summary.duration_s:.1f} s of video, analysed at "
          f"{summary.fps:.1f} frames/s on {summary.device}")
    print(f"  scored face {summary.frames_scored}, no face {summary.frames_no_face} "
          f"({summary.no_face_s:.1f} s), poor quality {summary.frames_poor_quality}")
    print(f"  model {summary.model}")
    episodes = sorted(summary.episodes.values(), key=lambda e: e.number)
    print(f"  pain-expression episodes: {len(episodes)}")
    for e in episodes:
        end = "open" if e.end is None else f"{e.end:.1f} s"
        ack = f", acknowledged {e.ack_at:.1f} s by {e.ack_by}" if e.ack_at is not None else ""
        print(f"    #{e.number}: {e.start:.1f} s - {end} (alarm {e.alarm_at:.1f} s), "
              f"peak S {e.peak_s:.2f}, priority {e.max_priority}, {e.end_reason or 'open'}{ack}")
    print(f"  log: {summary.database}")


def cmd_run(args: argparse.Namespace, source: str, realtime: bool) -> int:
    from monitor.pipeline.runner import Monitor  # heavy imports (torch) only when monitoring

    settings = _settings(args)
    print(NOT_A_DEVICE, file=sys.stderr)
    monitor = Monitor(settings, source, realtime=realtime, encounter_id=args.encounter)
    previous = signal.signal(signal.SIGTERM, lambda *_: monitor.stop())
    try:
        summary = monitor.run(on_progress=Progress())
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print_summary(summary)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if not DEMO_CLIP.exists():
        raise MonitorError(f"the embedded demo clip is missing: {DEMO_CLIP} (regenerate it with "
                           "python tools/make_demo_clip.py)")
    from monitor.ui.live.commands import open_window, window_available  # Qt only if a window opens

    if not args.headless and window_available():
        return open_window(args, str(DEMO_CLIP), realtime=True)
    return cmd_run(args, str(DEMO_CLIP), realtime=False)


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


def cmd_replay_trace(args: argparse.Namespace) -> int:
    from monitor.signal.trace import replay_trace

    settings = load(args.settings, environ={}) if args.settings else Settings()
    print(json.dumps(replay_trace(args.trace, settings.alarms), indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure()
    try:
        return args.handler(args)
    except MonitorError as exc:
        print(f"painmon: error: {exc}", file=sys.stderr)
        log.info("painmon %s stopped on bad input: %s", args.command, exc)  # the file, not twice here
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("painmon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
