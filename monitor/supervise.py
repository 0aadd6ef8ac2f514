"""`painmon supervise`: keeps the monitor running on a bedside PC that has no systemd.

The policy is the systemd user unit's (packaging/linux/painmon.service), so a ward gets the same
behaviour either way: after a crash (a non-zero exit, or death by a signal other than a stop
request) start it again after RESTART_DELAY_S, for as long as it takes; a clean exit (0), a stop
request (SIGTERM, SIGINT, SIGHUP) and bad input (exit 2: a restart cannot mend a wrong setting)
end supervision. The restarted monitor closes its predecessor's session as `crashed`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Sequence

from monitor import paths
from monitor.errors import EXIT_BAD_INPUT, MonitorError

log = logging.getLogger(__name__)

RESTART_DELAY_S = 5.0  # systemd: RestartSec=5
DELAY_RANGE_S = (0.5, 300.0)
# What systemd's Restart=on-failure treats as a clean stop rather than a crash.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE)
DEFAULT_COMMAND = ("live",)


def should_restart(returncode: int) -> bool:
    """Restart=on-failure with RestartPreventExitStatus=2, as the unit says."""
    if returncode < 0:
        return -returncode not in STOP_SIGNALS
    return returncode not in (0, EXIT_BAD_INPUT)


def describe_exit(returncode: int) -> str:
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:  # a signal without a name (real-time signals)
        return f"killed by signal {-returncode}"


def monitor_command(arguments: Sequence[str]) -> list[str]:
    """The painmon command line for the child: the bundle's own program, or this Python."""
    if paths.frozen():
        return [str(Path(sys.executable).with_name("painmon")), *arguments]
    return [sys.executable, "-m", "monitor.cli", *arguments]


def supervise(command: Sequence[str], delay_s: float = RESTART_DELAY_S) -> int:
    """Run `command` until it ends in a way that needs no restart; its last exit code.

    SIGTERM, SIGINT or SIGHUP to the supervisor are passed to the monitor, which then closes its
    session cleanly, and supervision ends."""
    stopping = threading.Event()
    child: subprocess.Popen | None = None

    def forward(signum, _frame) -> None:
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {signum: signal.signal(signum, forward) for signum in handled}
    starts = 0
    try:
        while not stopping.is_set():
            try:
                child = subprocess.Popen(list(command))
            except OSError as exc:
                raise MonitorError(f"cannot start the monitor ({command[0]}): {exc}") from None
            if stopping.is_set():  # a stop that came while it was being started
                child.send_signal(signal.SIGTERM)
            starts += 1
            log.info("supervisor: monitor started (pid %d, start %d)", child.pid, starts)
            returncode = child.wait()
            if stopping.is_set() or not should_restart(returncode):
                log.info("supervisor: monitor ended (%s); not restarting", describe_exit(returncode))
                return returncode if returncode >= 0 else 128 - returncode
            log.warning("supervisor: monitor %s; restarting in %.1f s", describe_exit(returncode),
                        delay_s)
            stopping.wait(delay_s)
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "supervise", help="run the monitor and restart it after a crash (for PCs without systemd)",
        description="Runs a painmon command (default: live) and starts it again "
        f"{RESTART_DELAY_S:g} s after a crash, as the systemd unit does. A clean exit, a stop "
        "request or bad input (exit 2) ends supervision.")
    parser.add_argument("--restart-delay", type=float, default=RESTART_DELAY_S, metavar="S",
                        help=f"seconds before a restart (default {RESTART_DELAY_S:g})")
    parser.add_argument("monitor_args", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                        help="the painmon command to keep running, e.g. -- live --kiosk")
    parser.set_defaults(handler=cmd_supervise)


def cmd_supervise(args: argparse.Namespace) -> int:
    low, high = DELAY_RANGE_S
    if not low <= args.restart_delay <= high:
        raise MonitorError(f"--restart-delay must be between {low:g} and {high:g} s")
    arguments = list(args.monitor_args)
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    if arguments[:1] == ["supervise"]:
        raise MonitorError("supervise runs a monitor command, not itself")
    return supervise(monitor_command(arguments or DEFAULT_COMMAND), args.restart_delay)
