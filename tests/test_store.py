"""Storage: migrations, the single writer (also while the database fails), queries, the trace."""

from __future__ import annotations

import math
import re
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, Table, event, inspect, text
from sqlalchemy.exc import DBAPIError

from monitor.config import StoreSettings
from monitor.errors import MonitorError
from monitor.packets import FaceStatus
from monitor.store import queries
from monitor.paths import database_file
from monitor.store.database import describe_url, open_database
from monitor.store.migrate import alembic_config, backup_sqlite, head_revision
from monitor.store.rows import AuditRow, EpisodeRow, EventRow, SampleRow, TraceRow
from monitor.store.schema import AUDIT, EPISODE, EVENT, SAMPLE, TRACE, Base
from monitor.store.trace import STATUS_CODES, STATUS_OF_CODE, pack_trace, unpack_trace
from monitor.store.writer import StoreWriter

# ARCHITECTURE.md "Schema contract"
CONTRACT = {
    "monitoring_session": "id bed_label encounter_id source model_name model_sha256 device "
    "app_version settings_json started_at ended_at end_reason heartbeat_at",
    "sample": "session_id t s f frames frames_scored frames_no_face frames_poor_quality "
    "p_mean p_max",
    "frame_trace": "session_id t0",
    "episode": "id session_id start_at alarm_at end_at end_reason peak_s mean_s max_share max_band "
    "max_priority ack_at ack_by mode",
    "alarm_event": "id session_id episode_id t kind priority transition user",
    "annotation": "id episode_id t author intervention nips comment",
    "audit_event": "id t user action detail_json",
}
FAST = StoreSettings(flush_interval_s=0.1, queue_size=100)
T0 = datetime(2024, 3, 1, 22, 0, tzinfo=timezone.utc)
WAIT_S = 10.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "painmon.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{db_path}")
    yield engine
    engine.dispose()


@contextmanager
def running(engine: Engine, settings: StoreSettings = FAST) -> Iterator[StoreWriter]:
    writer = StoreWriter(engine, settings)
    try:
        yield writer
    finally:
        writer.stop()


def open_session(writer: StoreWriter) -> int:
    return writer.open_session(
        bed_label="bed-3", encounter_id="enc-42", source="file:clip.mp4", model_name="mini",
        model_sha256="ab" * 32, device="cpu", app_version="0.1.0", settings_json="{}",
        started_at=T0, clock_origin_utc=T0 - timedelta(seconds=0.5), monitor_id="ward2-pc7",
    )


def sample(t: float) -> SampleRow:
    return SampleRow(t=t, s=0.25, f=None, frames=30, frames_scored=28, frames_no_face=1,
                     frames_poor_quality=1, p_mean=0.3, p_max=0.5)


def episode(number: int, start_at: float | None, **changes) -> EpisodeRow:
    """An episode as the engine first sends it; every later save re-sends it whole."""
    return replace(EpisodeRow(number=number, start_at=start_at, alarm_at=None, end_at=None,
                              end_reason=None, peak_s=None, mean_s=None, max_share=None,
                              max_band=None, max_priority=None, ack_at=None, ack_by=None,
                              mode="normal"), **changes)


# -- migrations ---------------------------------------------------------------------------------

def test_migrations_build_the_contract_schema(engine: Engine) -> None:
    found = inspect(engine)
    for table, columns in CONTRACT.items():
        have = {column["name"] for column in found.get_columns(table)}
        assert set(columns.split()) <= have, f"{table} lacks {set(columns.split()) - have}"
    for table, time_column in [("sample", "t"), ("alarm_event", "t"), ("frame_trace", "t0")]:
        indexed = [index["column_names"] for index in found.get_indexes(table)]
        assert ["session_id", time_column] in indexed


def test_head_equals_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, Base.metadata) == []


def test_migration_chain_runs_down_and_up(engine: Engine) -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert set(CONTRACT) <= set(inspect(engine).get_table_names())


def test_backup_is_a_private_consistent_copy(engine: Engine, db_path: Path) -> None:
    with running(engine) as writer:
        open_session(writer)
    copy = backup_sqlite(db_path, "before-test")
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT bed_label FROM monitoring_session").fetchall() == [("bed-3",)]


# -- writer round trip ----------------------------------------------------------------------------

def test_writer_round_trip(engine: Engine) -> None:
    frames = [(10.0, 0, 0.75), (10.04, 1, None), (10.08, 2, None), (10.12, FaceStatus.SCORED, 0.5)]
    with running(engine) as writer:
        session_id = open_session(writer)
        for t in range(3):
            writer.add_sample(sample(float(t)))
        writer.add_trace(TraceRow(t0=10.0, n=len(frames), data=pack_trace(frames, 10.0)))
        opened = episode(1, 20.0, max_priority="medium")
        writer.save_episode(opened)
        writer.add_event(EventRow(t=30.0, kind="PAIN", priority="medium", transition="raised",
                                  episode=1))
        writer.add_event(EventRow(t=31.0, kind="NO_FACE", priority="low", transition="raised",
                                  detail="cot empty"))
        ended = replace(opened, alarm_at=30.0, ack_at=45.0, ack_by="RN Lee", end_at=70.0,
                        end_reason="resolved", peak_s=0.8, cues="face+cry")
        writer.save_episode(ended)
        writer.save_episode(episode(2, 100.0))
        writer.add_audit(AuditRow(action="acknowledge", t=45.0, user="RN Lee",
                                  detail_json='{"episode": 1}'))
        writer.heartbeat(T0 + timedelta(seconds=120))
        writer.close_session(T0 + timedelta(seconds=121), "completed", frames=3600,
                             frames_scored=3400)
        health = writer.stop()
    assert (health.buffered, health.dropped, health.rejected, health.written) == (0, 0, 0, 10)

    session = queries.get_session(engine, session_id)
    assert session == queries.latest_session(engine)
    assert session.monitor_id == "ward2-pc7"
    assert session.clock_origin_utc == T0 - timedelta(seconds=0.5)
    assert session.heartbeat_at == T0 + timedelta(seconds=120)
    assert (session.end_reason, session.frames, session.frames_scored) == ("completed", 3600, 3400)
    assert session.ended_at.tzinfo is not None

    stored = queries.samples(engine, session_id)
    assert [{key: row[key] for key in asdict(sample(0.0))} for row in stored] == [
        asdict(sample(t)) for t in (0.0, 1.0, 2.0)]

    episodes = queries.episodes(engine, session_id)
    assert [e.number for e in episodes] == [1, 2]  # the upsert changed episode 1 in place
    first = episodes[0]
    assert {key: first[key] for key in asdict(ended)} == asdict(ended)  # the last save, whole

    events = queries.events(engine, session_id)
    assert [(e.kind, e.episode) for e in events] == [("PAIN", 1), ("NO_FACE", None)]
    assert events[0].episode_id == first.id and events[1].detail == "cot empty"

    stored_frames = queries.trace(engine, session_id)
    assert stored_frames == [
        (10.0 + float(np.float32(t - 10.0)), STATUS_OF_CODE[STATUS_CODES.get(s, s)], p, None)
        for t, s, p in frames]
    assert [f.status for f in stored_frames] == ["scored", "no_face", "poor_quality", "scored"]

    (entry,) = queries.audit(engine)
    assert (entry.session_id, entry.t, entry.action) == (session_id, 45.0, "acknowledge")
    assert entry.at.tzinfo is not None


def test_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "painmon.db"
    engine = open_database(f"sqlite:///{path}")
    with running(engine) as writer:
        open_session(writer)
        writer.add_sample(sample(0.0))
        wait_for(lambda: writer.health().written == 1, "the first write")
        for private in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    for folder in (path.parent, path.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    engine.dispose()


def test_default_database_is_in_the_user_data_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert database_file() == tmp_path / "painmon" / "painmon.db"
    open_database(None).dispose()
    assert database_file().is_file()


# -- a failing database -------------------------------------------------------------------------

@contextmanager
def locked(engine: Engine, path: Path) -> Iterator[None]:
    """Another program holds the write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextmanager
def per_connection(engine: Engine, on: str, off: str) -> Iterator[None]:
    """A pragma on every connection the writer takes, as long as the block runs."""
    state = {"pragma": on}

    def apply(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.execute(state["pragma"])

    event.listen(engine, "checkout", apply)
    try:
        yield
    finally:
        state["pragma"] = off


def read_only(engine: Engine, _path: Path):
    # Running as root, chmod cannot make the file read-only: SQLite's query_only gives the
    # same refusal ("attempt to write a readonly database").
    return per_connection(engine, "PRAGMA query_only=1", "PRAGMA query_only=0")


def disk_full(engine: Engine, _path: Path):
    # max_page_count cannot go below the current size: the file may not grow at all.
    return per_connection(engine, "PRAGMA max_page_count=1", "PRAGMA max_page_count=1000000")


@pytest.mark.parametrize("failure", [locked, read_only, disk_full], ids=lambda f: f.__name__)
def test_failing_database_buffers_and_loses_nothing(engine: Engine, db_path: Path,
                                                    failure) -> None:
    with running(engine) as writer:
        session_id = open_session(writer)
        with failure(engine, db_path):
            started = time.monotonic()
            writer.save_episode(episode(1, 1.0))
            for t in range(20):
                writer.add_sample(sample(float(t)))
            writer.add_event(EventRow(t=5.0, kind="PAIN", priority="high", transition="raised",
                                      episode=1))
            big = [(float(i) / 30, 0, 0.5) for i in range(2000)]  # more than a free page holds
            writer.add_trace(TraceRow(t0=0.0, n=len(big), data=pack_trace(big, 0.0)))
            assert time.monotonic() - started < 0.1, "puts must not wait for the database"
            wait_for(lambda: writer.health().failing_since is not None, "failing health")
            health = writer.health()
            assert (health.buffered, health.dropped, health.written) == (23, 0, 0)
            assert health.last_error
            assert health.disk_full == (failure is disk_full), "only a full disk is said to be full"
        wait_for(lambda: writer.health().buffered == 0, "the buffer to drain")
        health = writer.health()
        assert (health.failing_since, health.dropped, health.written) == (None, 0, 23)
    stored = queries.samples(engine, session_id)
    assert [row.t for row in stored] == [float(t) for t in range(20)]
    assert [e.episode for e in queries.events(engine, session_id)] == [1]
    assert len(queries.trace(engine, session_id)) == 2000


def test_full_buffer_drops_and_counts(engine: Engine) -> None:
    with running(engine) as writer:
        session_id = open_session(writer)
        with read_only(engine, Path()):
            for t in range(FAST.queue_size + 5):
                writer.add_sample(sample(float(t)))
            assert writer.health().dropped == 5
        wait_for(lambda: writer.health().buffered == 0, "the buffer to drain")
    assert len(queries.samples(engine, session_id)) == FAST.queue_size


def test_a_bad_row_costs_only_itself(engine: Engine) -> None:
    with running(engine) as writer:
        session_id = open_session(writer)
        writer.add_sample(sample(0.0))
        writer.save_episode(episode(1, None))  # start_at is NOT NULL
        writer.add_sample(sample(1.0))
        wait_for(lambda: writer.health().buffered == 0, "the buffer to drain")
        health = writer.health()
    assert (health.rejected, health.written, health.failing_since) == (1, 2, None)
    assert len(queries.samples(engine, session_id)) == 2


def test_stop_is_bounded_when_the_database_stays_locked(engine: Engine, db_path: Path) -> None:
    writer = StoreWriter(engine, FAST)
    open_session(writer)
    writer.add_sample(sample(0.0))
    with locked(engine, db_path):
        started = time.monotonic()
        health = writer.stop(timeout_s=1.0)
        assert time.monotonic() - started < 2.5
    assert health.buffered == 1  # reported (and logged), not silently lost


def test_open_session_on_a_locked_database_is_a_clear_error(engine: Engine, db_path: Path) -> None:
    with (running(engine) as writer, locked(engine, db_path),
          pytest.raises(MonitorError, match="cannot start a monitoring session.*locked")):
        open_session(writer)


def test_puts_check_their_rows(engine: Engine) -> None:
    with running(engine) as writer:
        with pytest.raises(RuntimeError, match="open_session"):
            writer.add_sample(sample(0.0))
        open_session(writer)
        with pytest.raises(TypeError, match="sample rows are SampleRows, not dict"):
            writer.add_sample(asdict(sample(0.0)))
        with pytest.raises(TypeError, match="alarm_event rows are EventRows, not SampleRow"):
            writer.add_event(sample(1.0))
        with pytest.raises(ValueError, match="end_reason"):
            writer.save_episode(episode(1, 0.0, end_reason="finished"))
        assert writer.health().buffered == 0
        with pytest.raises(ValueError, match="timezone-aware"):
            writer.heartbeat(datetime(2024, 1, 1))
        with pytest.raises(ValueError, match="end_reason"):
            writer.close_session(T0, "finished", 0, 0)


@pytest.mark.parametrize("row_type, table", [
    (SampleRow, SAMPLE), (TraceRow, TRACE), (EventRow, EVENT), (EpisodeRow, EPISODE),
    (AuditRow, AUDIT)], ids=["sample", "trace", "event", "episode", "audit"])
def test_rows_give_every_column_the_writer_does_not_fill(row_type: type, table: Table) -> None:
    """A column added to the schema but not to its row would never be written."""
    filled = {"id", "session_id", "origin_id", "at", "episode_id"}
    named = {f.name for f in fields(row_type)} - {"episode"}  # the writer links episode_id
    assert named == set(table.columns.keys()) - filled


# -- audit ------------------------------------------------------------------------------------

def test_audit_log_refuses_update_and_delete(engine: Engine) -> None:
    with running(engine) as writer:
        writer.add_audit(AuditRow(action="settings_unlocked", user="RN Lee"))
    assert len(queries.audit(engine)) == 1
    for statement in ("UPDATE audit_event SET user = 'someone else'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert queries.audit(engine)[0].user == "RN Lee"


# -- bad inputs -------------------------------------------------------------------------------

def test_a_text_file_is_not_a_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shift notes\n")
    with pytest.raises(MonitorError, match="not a database.*move it aside"):
        open_database(f"sqlite:///{notes}")


def test_unwritable_folder(tmp_path: Path) -> None:
    regular = tmp_path / "file"
    regular.write_text("")
    with pytest.raises(MonitorError, match="cannot create the database .*writable location"):
        open_database(f"sqlite:///{regular}/sub/painmon.db")


@pytest.mark.parametrize("url, message", [
    ("painmon.db", "not a valid database URL"),
    ("sqlite://host:port/x.db", "not a valid database URL"),
    ("nosuchdb://host/x", "unknown database kind 'nosuchdb'"),
    ("mysql+nosuchdriver://host/x", "unknown database kind"),
    ("postgresql+psycopg2://nurse:secret@host/painmon", "driver .* not installed"),
])
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(MonitorError, match=message) as caught:
        open_database(url)
    assert "secret" not in str(caught.value)


def test_a_database_from_a_newer_version(engine: Engine, db_path: Path) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(MonitorError, match="newer painmon"):
        open_database(f"sqlite:///{db_path}")


def test_another_programs_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
    with pytest.raises(MonitorError, match="another program"):
        open_database(f"sqlite:///{path}")


def test_describe_url_hides_the_password() -> None:
    assert describe_url("postgresql+psycopg://nurse:secret@host/painmon") == (
        "postgresql+psycopg://nurse:***@host/painmon")


# -- frame trace ------------------------------------------------------------------------------

frame = st.tuples(st.floats(0.0, 60.0), st.sampled_from(list(FaceStatus)), st.floats(0.0, 1.0)).map(
    lambda f: (f[0], f[1], f[2] if f[1] is FaceStatus.SCORED else None))


@given(t0=st.floats(0.0, 1e6), frames=st.lists(frame, max_size=50), as_codes=st.booleans())
def test_trace_round_trip(t0: float, frames: list, as_codes: bool) -> None:
    rows = sorted(((t0 + dt, status, p) for dt, status, p in frames), key=lambda row: row[0])
    expected = [
        (t0 + float(np.float32(t - t0)), status, None if p is None else float(np.float32(p)), None)
        for t, status, p in rows
    ]
    if as_codes:  # what the pipeline's trace buffer hands over
        rows = [(t, STATUS_CODES[status], p) for t, status, p in rows]
    assert unpack_trace(t0, pack_trace(rows, t0)) == expected


@pytest.mark.parametrize("row, problem", [
    ((0.0, 0, None), "p must be given for scored frames only"),  # code 0: scored, without p
    ((0.0, 1, 0.5), "p must be given for scored frames only"),  # code 1: no face, with a p
    ((0.0, 0, 1.5), "p=1.5 is outside 0..1"),
    ((0.0, 0, math.nan), "p=nan is outside 0..1"),
    ((0.0, 7, None), "unknown frame status code 7"),
    ((0.0, "scored", 0.5), "unknown frame status code 'scored'"),  # a code or a FaceStatus only
])
def test_trace_refuses_inconsistent_frames(row: tuple, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        pack_trace([row], 0.0)


def test_trace_keeps_movement_and_reads_the_first_format() -> None:
    rows = [(1.0, FaceStatus.SCORED, 0.75, 0.004), (1.5, FaceStatus.NO_FACE, None, None)]
    assert unpack_trace(1.0, pack_trace(rows, 1.0)) == [
        (1.0, FaceStatus.SCORED, 0.75, float(np.float32(0.004))), (1.5, FaceStatus.NO_FACE, None, None)]
    # format 1 rows (written before the movement cue) still read, m unknown
    v1 = bytes([1]) + np.array([(0.5, 0, 0.25)], dtype=[("dt", "<f4"), ("status", "u1"),
                                                        ("p", "<f4")]).tobytes()
    assert unpack_trace(2.0, v1) == [(2.5, FaceStatus.SCORED, 0.25, None)]


def test_sound_windows_round_trip_beside_frames(tmp_path: Path) -> None:
    from dataclasses import astuple

    from monitor.signal.cry import CryWindow
    from monitor.store.trace import is_sound, pack_sound, unpack_sound

    # one window scored by the cry detector too (p), one by YAMNet alone (a session before it)
    windows = [CryWindow(3.475, 0.5, 0.25, 0.125, -20.0, p=0.875),
               CryWindow(3.955, 0.0, 0.0, 0.0, -61.5)]
    data = pack_sound(windows, 3.0)
    assert is_sound(data) and not is_sound(pack_trace([], 0.0))

    def rounded(w: CryWindow) -> tuple:
        return tuple(None if v is None else round(v, 4) for v in astuple(w))

    assert [rounded(w) for w in unpack_sound(3.0, data)] == [rounded(w) for w in windows]
    with pytest.raises(ValueError, match="unknown frame trace format"):
        unpack_trace(3.0, data)  # a sound row is never read as frames


def test_trace_refuses_damaged_data() -> None:
    data = pack_trace([(0.0, FaceStatus.NO_FACE, None)], 0.0)
    damages = [(data[:-1], f"frame trace of {len(data) - 1} bytes is truncated"),  # a byte short
               (b"\x09" + data[1:], "unknown frame trace format b'\\t'"),  # format byte 9
               (data[:1] + b"\0\0\0\0\x05\0\0\0\0", "frame trace of 10 bytes is truncated")]
    for damaged, problem in damages:
        with pytest.raises(ValueError, match=re.escape(problem)):
            unpack_trace(0.0, damaged)
