"""Subcommands `painmon review | export | forward | purge`. Heavy libraries (Qt, reportlab, fhir.resources, the database driver) load in the
handlers only, so `painmon --help` stays quick."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from monitor.cli.window import require_display
from monitor.config import Settings, load
from monitor.errors import MonitorError, RuntimeFault
from monitor.text import plain_text

FORMATS = ("csv", "pdf", "fhir")


class TextProgress:
    """Progress of long work on stderr: rewritten in place on a terminal, a line every 10 s in a
    log, and always the last state."""

    LOG_EVERY_S = 10.0

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last = -self.LOG_EVERY_S

    def __call__(self, done: int, total: int, what: str) -> None:
        share = f"{100 * done / total:5.1f}%" if total else "  -  "
        line = f"{share}  {done}/{total}  {what}"
        if self._tty:
            print(f"\r{line[:110]:<110}", end="", file=sys.stderr, flush=True)
            if done >= total:
                print(file=sys.stderr)
        elif time.monotonic() - self._last >= self.LOG_EVERY_S or done >= total:
            self._last = time.monotonic()
            print(line, file=sys.stderr, flush=True)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML settings file (also $PAINMON_CONFIG)")
    parser.add_argument("--db", help="SQLAlchemy URL of the record (default: SQLite in your data "
                                     "folder; the ward's postgresql+psycopg://... URL on a "
                                     "review station)")
    parser.add_argument("--user", help="who is acting, for the audit log (default: your login)")


def _range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bed", help="only this bed")
    parser.add_argument("--session", help="only this session (its id or uid)")
    parser.add_argument("--from", dest="start", metavar="T",
                        help="ISO 8601 date or time; without an offset, in review.timezone")
    parser.add_argument("--to", dest="end", metavar="T", help="end of the range (exclusive)")


def register(sub: argparse._SubParsersAction) -> None:
    review = sub.add_parser("review", help="open the review window (episodes, timeline, notes)")
    _common(review)
    review.add_argument("--bed", help="bed to show first")
    review.set_defaults(handler=cmd_review)

    export = sub.add_parser("export", help="export episodes and samples as CSV, PDF or FHIR R4")
    _common(export)
    _range(export)
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--out", required=True, type=Path,
                        help="csv: a folder (episodes.csv, samples.csv, annotations.csv, events.csv); "
                             "pdf, fhir: a file")
    export.set_defaults(handler=cmd_export)

    forward = sub.add_parser("forward", help="copy this record to the ward's central store")
    _common(forward)
    forward.add_argument("--to", dest="target", required=True, metavar="URL",
                         help="postgresql+psycopg://USER@HOST/DB?sslmode=verify-full&sslrootcert="
                              "CA.pem (password: PGPASSWORD, PGPASSFILE or the keyring)")
    forward.add_argument("--every", type=float, metavar="S",
                         help="keep forwarding every S seconds (retrying after failures)")
    forward.set_defaults(handler=cmd_forward)

    purge = sub.add_parser("purge", help="remove the record of sessions older than DAYS")
    _common(purge)
    purge.add_argument("--older-than", required=True, type=int, metavar="DAYS")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    purge.set_defaults(handler=cmd_purge)


def _settings(args: argparse.Namespace) -> Settings:
    return load(args.config, {"store.url": args.db})


def _user(args: argparse.Namespace) -> str:
    from monitor.review.data import current_user

    return plain_text(args.user or current_user(), "the user name")


def parse_time(text: str | None, zone: tzinfo, flag: str) -> datetime | None:
    """ISO 8601 date or date-time; a time without an offset is read in `zone`."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise MonitorError(f"{flag} {text!r} is not an ISO 8601 date or time "
                           "(e.g. 2026-11-27 or 2026-11-27T22:00+01:00)") from None
    at = at.replace(tzinfo=zone) if at.tzinfo is None else at
    try:
        at.astimezone(timezone.utc)  # the record's times are UTC: the instant must exist there
    except OverflowError:
        raise MonitorError(f"{flag} {text!r} is outside the dates this program handles "
                           "(years 1 to 9999 in UTC)") from None
    return at


def cmd_review(args: argparse.Namespace) -> int:
    from monitor.store.database import open_database

    require_display()
    from monitor.ui.review.window import run_review

    settings = _settings(args)
    return run_review(open_database(settings.store.url, create=False), settings.review, _user(args), args.bed)


def cmd_export(args: argparse.Namespace) -> int:
    from monitor.review.data import display_zone
    from monitor.review.export import export
    from monitor.store.database import is_read_only, open_database

    settings = _settings(args)
    zone = display_zone(settings.review)
    start = parse_time(args.start, zone, "--from")
    end = parse_time(args.end, zone, "--to")
    if start and end and start >= end:
        raise MonitorError("--from must be before --to")
    engine = open_database(settings.store.url, create=False, reading=True)
    try:
        sessions, paths = export(engine, settings.review, args.format, args.out, _user(args),
                                 args.bed, args.session, start, end, TextProgress())
    except OSError as exc:
        raise MonitorError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    episodes = sum(len(d.episodes) for d in sessions)
    if is_read_only(engine):
        print("painmon: warning: the database is read-only (an archive copy?): this export is "
              "not recorded in its audit log", file=sys.stderr)
    print(f"exported {len(sessions)} session(s), {episodes} episode(s) as {args.format}: "
          + ", ".join(str(p) for p in paths))
    return 0


def cmd_forward(args: argparse.Namespace) -> int:
    from monitor.review.forward import central_url, forward
    from monitor.store.database import describe_url, open_database

    settings = _settings(args)
    url, warnings = central_url(args.target, settings.review)
    for warning in warnings:
        print(f"painmon: warning: {warning}", file=sys.stderr)
    source = open_database(settings.store.url, create=False)
    while True:
        try:
            target = open_database(url)
            try:
                report = forward(source, target, settings.review, _user(args), TextProgress())
            finally:
                target.dispose()
            print(f"forwarded {report.total} new row(s) of {report.sessions} session(s) to "
                  f"{describe_url(url)}")
        except (MonitorError, RuntimeFault) as exc:
            if args.every is None:
                raise
            print(f"painmon: {exc}; retrying in {args.every:g} s", file=sys.stderr)
        if args.every is None:
            return 0
        time.sleep(args.every)


def cmd_purge(args: argparse.Namespace) -> int:
    from monitor.review.purge import purge
    from monitor.store.database import open_database

    settings = _settings(args)
    report = purge(open_database(settings.store.url, create=False), args.older_than, _user(args), args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    rows = ", ".join(f"{n} {table}" for table, n in report.rows.items() if n)
    print(f"{verb} the record of {len(report.sessions)} session(s) last seen more than "
          f"{args.older_than} day(s) ago" + (f": {rows}" if rows else ""))
    return 0
