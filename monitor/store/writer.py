"""The single database writer: one thread, fed by a bounded buffer, that never blocks monitoring.

Callers put rows and return at once. The thread writes them in batches at least every
`flush_interval_s`. When the database refuses writes (locked by another program, read-only, disk
full, server gone) the rows stay buffered, in order, and are retried with back-off until it
accepts them again; only rows beyond `queue_size` are lost, and counted. `health()` feeds the
STORAGE_FAILING technical alarm.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
    StatementError,
)

from monitor.config import StoreSettings
from monitor.errors import MonitorError
from monitor.store.database import explain, is_disk_full
from monitor.store.recovery import OPENED_HERE
from monitor.store.rows import AuditRow, EpisodeRow, EventRow, SampleRow, TraceRow
from monitor.store.schema import (
    AUDIT,
    EPISODE,
    EPISODE_END_REASONS,
    EVENT,
    SAMPLE,
    SESSION,
    SESSION_END_REASONS,
    TRACE,
)

log = logging.getLogger(__name__)

RETRY_MAX_S = 5.0  # longest pause between attempts on a failing database
LAST_ATTEMPT_S = 5.0  # how long an attempt begun before stop()'s deadline may still take
SESSION_FIELDS = frozenset(SESSION.c.keys()) - {
    "id", "ended_at", "end_reason", "heartbeat_at", "frames", "frames_scored",
}
SESSION_REQUIRED = frozenset(c.name for c in SESSION.columns if not c.nullable) & SESSION_FIELDS


@dataclass(frozen=True)
class StoreHealth:
    """What the pipeline needs to raise STORAGE_FAILING (and say how bad it is)."""

    failing_since: float | None  # time.monotonic() of the first refused write of this outage
    buffered: int  # rows waiting to be written
    capacity: int  # queue_size: buffered rows beyond this are dropped
    dropped: int  # rows lost because the buffer was full (or the writer stopped)
    rejected: int  # rows the database refused for their content (logged), not retried
    written: int
    last_error: str | None
    disk_full: bool = False  # the last refusal was for want of disk space: no point waiting


@dataclass(frozen=True, eq=False)
class _Kind:
    """Which row type a put method takes, its table, and when a batch writes it."""

    table: Table
    rank: int  # write order in a batch (episodes before the events that refer to them)
    row_type: type

    def columns(self, row: Any) -> dict[str, Any]:
        """Refuse anything but this kind's row now (the caller's bug, on the caller's thread)."""
        if not isinstance(row, self.row_type):
            raise TypeError(f"{self.table.name} rows are {self.row_type.__name__}s, "
                            f"not {type(row).__name__}")
        return asdict(row)


_EPISODE = _Kind(EPISODE, rank=0, row_type=EpisodeRow)
_SAMPLE = _Kind(SAMPLE, rank=1, row_type=SampleRow)
_TRACE = _Kind(TRACE, rank=2, row_type=TraceRow)
_EVENT = _Kind(EVENT, rank=3, row_type=EventRow)
_AUDIT = _Kind(AUDIT, rank=4, row_type=AuditRow)
_KINDS = {kind.table.name: kind for kind in (_EPISODE, _SAMPLE, _TRACE, _EVENT, _AUDIT)}


@dataclass(frozen=True)
class Unwritten:
    """What a stopped writer still holds: rows as (table, session id, columns) in their order,
    and session ends, so that a later start can write them (monitor/store/kept.py)."""

    rows: list[tuple[str, int | None, dict[str, Any]]]
    closes: dict[int, dict[str, Any]]


def write_unwritten(engine: Engine, unwritten: Unwritten) -> None:
    """Write what an earlier writer kept, in one transaction, in the order a batch writes (an
    episode before the events naming it); a session's end only where none is recorded."""
    items = sorted((_Item(_KINDS[table], session_id, row)
                    for table, session_id, row in unwritten.rows), key=lambda item: item.kind.rank)
    with engine.begin() as conn:
        StoreWriter._write_items(conn, items)
        StoreWriter._write_session_updates(conn, {}, unwritten.closes)


@dataclass(frozen=True)
class _Item:
    kind: _Kind
    session_id: int | None
    row: dict[str, Any]


def _require_utc(name: str, value: datetime) -> None:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _is_row_error(exc: BaseException) -> bool:
    """Errors caused by a row's content: retrying the same row can never succeed."""
    return isinstance(exc, (IntegrityError, DataError)) or (
        isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)
    )


class StoreWriter:
    """Owns all writes of one monitor; one session at a time (rows need no session_id)."""

    def __init__(self, engine: Engine, settings: StoreSettings) -> None:
        self._engine = engine
        self._interval = settings.flush_interval_s
        self._capacity = settings.queue_size
        self._lock = threading.Lock()  # guards everything below that callers touch
        self._incoming: list[_Item] = []
        self._heartbeats: dict[int, datetime] = {}  # latest only: older beats carry nothing
        self._closes: dict[int, dict[str, Any]] = {}
        self._session_id: int | None = None
        self._buffered = self._dropped = self._rejected = self._written = 0
        self._failing_since: float | None = None
        self._last_error: str | None = None
        self._disk_full = False
        self._pending: list[_Item] = []  # writer thread only: taken from _incoming, not yet written
        self._failures = 0
        self._deadline = float("inf")
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    # -- the caller's side -----------------------------------------------------------------

    def open_session(self, **fields: Any) -> int:
        """Insert the session row now; MonitorError if the database refuses (no half start)."""
        if unknown := fields.keys() - SESSION_FIELDS:
            raise ValueError(f"monitoring_session: unknown fields {sorted(unknown)}")
        if missing := SESSION_REQUIRED - fields.keys():
            raise ValueError(f"monitoring_session: missing fields {sorted(missing)}")
        for name in ("started_at", "clock_origin_utc"):
            _require_utc(name, fields[name])
        try:
            with self._engine.begin() as conn:
                session_id = conn.execute(insert(SESSION).values(**fields)).inserted_primary_key[0]
        except SQLAlchemyError as exc:
            raise MonitorError(f"cannot start a monitoring session: the database refused: "
                               f"{explain(exc)}") from None
        OPENED_HERE.add((str(self._engine.url), session_id))  # alive: never "recovered"
        with self._lock:
            self._session_id = session_id
        log.info("monitoring session %d opened", session_id)
        return session_id

    def add_sample(self, row: SampleRow) -> None:
        self._put(_SAMPLE, _SAMPLE.columns(row))

    def add_trace(self, row: TraceRow) -> None:
        self._put(_TRACE, _TRACE.columns(row))

    def add_event(self, row: EventRow) -> None:
        """`row.episode` is the episode's number (or None); the writer links its id."""
        self._put(_EVENT, _EVENT.columns(row))

    def save_episode(self, row: EpisodeRow) -> None:
        """Insert episode `row.number`, or replace every column of the stored one."""
        columns = _EPISODE.columns(row)
        if row.end_reason not in EPISODE_END_REASONS | {None}:
            raise ValueError(f"episode end_reason {row.end_reason!r} is not one of "
                             f"{sorted(EPISODE_END_REASONS)}")
        self._put(_EPISODE, columns)

    def add_audit(self, row: AuditRow) -> None:
        """Append to the audit log, stamped `at` now (UTC wall time)."""
        self._put(_AUDIT, _AUDIT.columns(row) | {"at": datetime.now(timezone.utc)},
                  session_optional=True)

    def heartbeat(self, at: datetime) -> None:
        """Time of the last processed frame; only the newest one is written."""
        _require_utc("heartbeat at", at)
        with self._lock:
            self._heartbeats[self._current_session()] = at

    def close_session(self, ended_at: datetime, end_reason: str, frames: int,
                      frames_scored: int) -> None:
        """Record the end and the totals; written with (after) everything buffered before."""
        _require_utc("ended_at", ended_at)
        if end_reason not in SESSION_END_REASONS:
            raise ValueError(f"session end_reason {end_reason!r} is not one of "
                             f"{sorted(SESSION_END_REASONS)}")
        with self._lock:
            self._closes[self._current_session()] = {
                "ended_at": ended_at, "end_reason": end_reason,
                "frames": frames, "frames_scored": frames_scored,
            }

    def health(self) -> StoreHealth:
        with self._lock:
            return StoreHealth(
                failing_since=self._failing_since, buffered=self._buffered,
                capacity=self._capacity, dropped=self._dropped, rejected=self._rejected,
                written=self._written, last_error=self._last_error, disk_full=self._disk_full,
            )

    def unwritten_closes(self) -> dict[int, dict[str, Any]]:
        """Session ends the database has not taken yet (after `stop`: the ones it never will)."""
        with self._lock:
            return {session_id: dict(fields) for session_id, fields in self._closes.items()}

    def unwritten(self) -> Unwritten | None:
        """After `stop`: the rows and session ends it will never write, once its last attempt
        has ended (None if that attempt still hangs: a row kept now might be written after)."""
        self._thread.join(LAST_ATTEMPT_S)
        if self._thread.is_alive():
            return None
        with self._lock:
            items = self._pending + self._incoming
            closes = {session_id: dict(fields) for session_id, fields in self._closes.items()}
        return Unwritten([(item.kind.table.name, item.session_id, dict(item.row)) for item in items],
                         closes)

    def stop(self, timeout_s: float = 5.0) -> StoreHealth:
        """Refuse new rows, write what is buffered (within `timeout_s`), end the thread."""
        with self._lock:  # so no row slips in after the final flush took the buffer
            self._deadline = time.monotonic() + timeout_s
            self._stopping.set()
        self._thread.join(timeout_s)
        health = self.health()
        if health.buffered:
            log.error("store writer stopped with %d rows not written (%s)",
                      health.buffered, health.last_error)
        return health

    def _current_session(self) -> int:
        if self._session_id is None:
            raise RuntimeError("open_session() first: rows belong to a session")
        return self._session_id

    def _put(self, kind: _Kind, columns: dict[str, Any], session_optional: bool = False) -> None:
        with self._lock:
            session_id = self._session_id if session_optional else self._current_session()
            if self._stopping.is_set() or self._buffered >= self._capacity:
                if not self._dropped:
                    log.warning("store buffer full or writer stopped: dropping rows")
                self._dropped += 1
                return
            self._incoming.append(_Item(kind, session_id, columns))
            self._buffered += 1

    # -- the writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        delay = self._interval
        while not self._stopping.wait(delay):
            delay = self._interval if self._flush() else self._backoff()
        while not self._flush():
            remaining = self._deadline - time.monotonic()
            if remaining < self._interval:
                return
            time.sleep(min(self._backoff(), remaining))

    def _backoff(self) -> float:
        return min(RETRY_MAX_S, self._interval * 2 ** self._failures)

    def _flush(self) -> bool:
        """One attempt to write everything buffered; False if the database refused."""
        with self._lock:
            self._pending.extend(self._incoming)
            self._incoming = []
            beats, closes = dict(self._heartbeats), dict(self._closes)
        if not (self._pending or beats or closes):
            return True
        self._pending.sort(key=lambda item: item.kind.rank)  # stable: order kept per table
        try:
            with self._engine.begin() as conn:
                self._write_items(conn, self._pending)
                self._write_session_updates(conn, beats, closes)
        except Exception as exc:  # anything (even a bug here) keeps the rows: never kill the thread
            if not _is_row_error(exc):
                return self._failed(exc)
            return self._write_one_by_one(beats, closes)
        self._done(len(self._pending), beats, closes)
        self._pending = []
        return True

    def _write_one_by_one(self, beats: dict, closes: dict) -> bool:
        """A batch held a bad row: write each row alone so one bad row costs only itself."""
        while self._pending:
            item = self._pending[0]
            try:
                with self._engine.begin() as conn:
                    self._write_items(conn, [item])
            except Exception as exc:
                if not _is_row_error(exc):
                    return self._failed(exc)
                log.error("database refused a %s row %r: %s", item.kind.table.name, item.row,
                          explain(exc))
                with self._lock:
                    self._rejected += 1
                    self._buffered -= 1
            else:
                self._done(1, {}, {})
            self._pending.pop(0)
        try:
            with self._engine.begin() as conn:
                self._write_session_updates(conn, beats, closes)
        except Exception as exc:
            return self._failed(exc)
        self._done(0, beats, closes)
        return True

    def _failed(self, exc: BaseException) -> bool:
        reason = explain(exc)
        with self._lock:
            if self._failing_since is None:
                self._failing_since = time.monotonic()
                log.warning("database refuses writes (%s); buffering %d rows", reason,
                            self._buffered)
            self._last_error = reason
            self._disk_full = is_disk_full(exc)
        self._failures += 1
        return False

    def _done(self, count: int, beats: dict, closes: dict) -> None:
        with self._lock:
            self._written += count
            self._buffered -= count
            if self._failing_since is not None:
                log.info("database accepts writes again after %.1f s",
                         time.monotonic() - self._failing_since)
            self._failing_since = None
            self._last_error = None
            self._disk_full = False
            for slots, written in ((self._heartbeats, beats), (self._closes, closes)):
                for session_id, value in written.items():
                    if slots.get(session_id) is value:  # not replaced by a newer one meanwhile
                        del slots[session_id]
        self._failures = 0

    @staticmethod
    def _write_items(conn: Connection, items: Iterable[_Item]) -> None:
        for kind, group in groupby(items, key=lambda item: item.kind):
            group = list(group)
            if kind is _EPISODE:
                for item in group:
                    _upsert_episode(conn, item.session_id, item.row)
                continue
            rows = [{"session_id": item.session_id, **item.row} for item in group]
            if kind is _EVENT:
                rows = [_link_episode(conn, row) for row in rows]
            conn.execute(insert(kind.table), rows)

    @staticmethod
    def _write_session_updates(conn: Connection, beats: dict, closes: dict) -> None:
        for session_id, at in beats.items():
            conn.execute(update(SESSION).where(SESSION.c.id == session_id).values(heartbeat_at=at))
        for session_id, fields in closes.items():  # an end already recorded is never overwritten
            if conn.execute(update(SESSION).where((SESSION.c.id == session_id)
                                                  & SESSION.c.ended_at.is_(None))
                            .values(**fields)).rowcount == 0:
                log.warning("session %d was ended already: its end %s is not recorded over it",
                            session_id, fields["end_reason"])


def _upsert_episode(conn: Connection, session_id: int | None, row: dict[str, Any]) -> None:
    where = (EPISODE.c.session_id == session_id) & (EPISODE.c.number == row["number"])
    if conn.execute(update(EPISODE).where(where).values(**row)).rowcount == 0:
        conn.execute(insert(EPISODE).values(session_id=session_id, **row))


def _link_episode(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """Replace the episode number by the id of the episode row (written earlier in the batch)."""
    row = dict(row)
    number = row.pop("episode", None)
    row["episode_id"] = None
    if number is not None:
        row["episode_id"] = conn.execute(
            select(EPISODE.c.id).where(
                (EPISODE.c.session_id == row["session_id"]) & (EPISODE.c.number == number)
            )
        ).scalar_one_or_none()
        if row["episode_id"] is None:
            log.error("alarm event at t=%s names episode %s, which was never saved",
                      row["t"], number)
    return row
