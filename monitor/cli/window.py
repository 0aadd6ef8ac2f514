"""`painmon live`, and the window for `painmon demo` (Qt is imported only when a window opens)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Mapping

from monitor.cli.common import NOT_A_DEVICE, add_common, monitoring_settings
from monitor.errors import EXIT_NO_DISPLAY, MonitorError

HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


def window_available(environ: Mapping[str, str] | None = None) -> bool:
    """A window a person can see: a display server, or a Qt platform that shows one."""
    environ = os.environ if environ is None else environ
    platform = environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform:
        return platform not in HEADLESS_PLATFORMS
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def require_display(environ: Mapping[str, str] | None = None) -> None:
    """Qt aborts the process (exit 134, a wall of text) when it finds no display: say it first.

    The exit status is EXIT_NO_DISPLAY, not 2, so that a supervisor started at login before the
    desktop is up tries again a few seconds later."""
    environ = os.environ if environ is None else environ
    if environ.get("QT_QPA_PLATFORM") or environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return
    raise NoDisplay("no display: this command opens a window. Run it on the bedside screen's "
                    "desktop (DISPLAY or WAYLAND_DISPLAY set), under a virtual one (xvfb-run "
                    "painmon ...), or monitor without a window: painmon run --source ...")


class NoDisplay(MonitorError):
    exit_code = EXIT_NO_DISPLAY


def add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="name or badge of the shift, recorded with acknowledgements "
                        "(default: bedside)")
    parser.add_argument("--kiosk", action="store_true",
                        help="full screen for a bedside screen; Escape does not leave it")


def register(subparsers) -> None:
    live = subparsers.add_parser("live", help="the bedside window on a camera, file or stream")
    live.add_argument("--source", default="camera:0",
                      help="camera:N, a video file, or an rtsp:// / http(s):// URL (default camera:0)")
    live.add_argument("--fast", action="store_true",
                      help="analyse a file as fast as possible instead of in real time")
    add_window_options(live)
    add_common(live)
    live.set_defaults(handler=cmd_live)


def cmd_live(args: argparse.Namespace) -> int:
    return open_window(args, args.source, realtime=not args.fast)


def open_window(args: argparse.Namespace, source: str, realtime: bool) -> int:
    """Settings as for `painmon run`, then the window until it closes."""
    from pydantic import ValidationError

    from monitor.config import describe
    from monitor.ui.live.app import run_window
    from monitor.ui.live.options import WindowOptions

    settings = monitoring_settings(args)
    require_display()
    try:
        options = WindowOptions(user=getattr(args, "user", None) or "bedside",
                                kiosk=bool(getattr(args, "kiosk", False)))
    except ValidationError as exc:
        raise MonitorError(f"invalid window option: {describe(exc)}") from None
    print(NOT_A_DEVICE, file=sys.stderr)
    return run_window(settings, source, realtime, options, getattr(args, "encounter", None))
