"""Command line: `painmon <command>`; each module of this package registers its own commands.

Bad input ends in one clear line, exit 2; a fault of the machine or a model that monitoring could
not contain in one line too, exit 1 (the supervisor restarts on it, never on bad input). Modules
import their heavy libraries (torch, Qt, reportlab) inside their handlers only, so `painmon --help`
stays quick.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from monitor import __version__, benchmark, logs, supervise
from monitor.cli import (cry, cry_detector, monitoring, review, settings, traces, training,
                         tuning, window)
from monitor.cli.common import NOT_A_DEVICE
from monitor.errors import MonitorError, RuntimeFault
from monitor.paths import DEMO_CLIP

__all__ = ["DEMO_CLIP", "NOT_A_DEVICE", "build_parser", "main"]

log = logging.getLogger(__name__)

# In `painmon --help` order: the bedside commands first.
COMMAND_MODULES = (monitoring, window, supervise, cry, settings, traces, benchmark, review,
                   training, cry_detector, tuning)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="painmon", description=f"Bedside infant pain-expression monitor. {NOT_A_DEVICE}")
    parser.add_argument("--version", action="version", version=f"painmon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure()
    try:
        return args.handler(args)
    except MonitorError as exc:
        print(f"painmon: error: {exc}", file=sys.stderr)
        log.info("painmon %s stopped on bad input: %s", args.command, exc)  # the file, not twice here
        return exc.exit_code
    except RuntimeFault as exc:
        print(f"painmon: fault: {exc}", file=sys.stderr)
        log.error("painmon %s stopped on a fault: %s", args.command, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("painmon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
