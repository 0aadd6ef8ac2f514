"""The store on both backends: migrations, the writer, append-only audit and annotations, and
the upgrade of a populated bedside file to the forwarding schema."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from monitor.config import ReviewSettings
from monitor.review import data
from monitor.store import queries
from monitor.store.database import open_database
from monitor.store.migrate import alembic_config, head_revision
from monitor.store.schema import Base

from review_helpers import NIGHT_BED, write_night

pytestmark = pytest.mark.slow


def test_head_equals_the_models_on_both(store_url: str, engine_for) -> None:
    engine = engine_for(store_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, Base.metadata) == []
    indexes = {i["name"]: i for i in inspect(engine).get_indexes("sample")}
    assert indexes["ix_sample_session_id_origin_id"]["unique"]


def test_writer_round_trip_on_both(store_url: str, engine_for) -> None:
    engine = engine_for(store_url)
    session_id = write_night(engine)
    session = queries.get_session(engine, session_id)
    assert session.bed_label == NIGHT_BED and len(session.uid) == 32
    assert session.end_reason == "completed" and session.ended_at.tzinfo is not None
    assert len(queries.samples(engine, session_id)) == 540
    assert [e.max_priority for e in queries.episodes(engine, session_id)] == \
        ["high", "low", "medium"]
    assert [e.episode for e in queries.events(engine, session_id)] == [1, 2, 3]


def test_audit_and_annotations_cannot_be_changed_on_both(store_url: str, engine_for) -> None:
    engine = engine_for(store_url)
    session_id = write_night(engine)
    episode = data.episodes(engine, [session_id])[0]
    data.add_annotation(engine, ReviewSettings(), episode, "RN Lee", "sucrose", 3, "settled")
    refused = [
        'UPDATE audit_event SET "user" = \'someone else\'',
        "DELETE FROM audit_event",
        "UPDATE annotation SET nips = 0",
    ]
    for statement in refused:
        with pytest.raises(DBAPIError):
            with engine.begin() as conn:
                conn.execute(text(statement))
    (note,) = data.annotations(engine, [episode.id])
    assert (note.nips, note.author) == (3, "RN Lee")
    assert [a.action for a in queries.audit(engine)] == ["annotation_added"]
    assert queries.audit(engine)[0].user == "RN Lee"


def test_a_populated_bedside_file_upgrades_to_head(tmp_path: Path) -> None:
    """0001 -> head on a file with data keeps the rows, gives each session a uid and keeps the
    audit triggers (no table rebuild)."""
    path = tmp_path / "old.db"
    engine = open_database(f"sqlite:///{path}")
    write_night(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    engine.dispose()
    raw = sqlite3.connect(path)
    assert "uid" not in {row[1] for row in raw.execute("PRAGMA table_info(monitoring_session)")}
    raw.execute("INSERT INTO audit_event (at, action) VALUES ('2026-01-01 00:00:00', 'x')")
    raw.commit()
    raw.close()
    engine = open_database(f"sqlite:///{path}")
    (session,) = data.find_sessions(engine)
    assert len(session.uid) == 32 and session.episodes == 3
    assert len(data.samples(engine, session.id)) == 540
    with pytest.raises(DBAPIError):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))
    engine.dispose()


def test_sessions_in_a_range_and_gaps(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 's.db'}")
    session_id = write_night(engine, hours_ago=3.0)
    write_night(engine, bed="NICU-6", hours_ago=30.0)
    now = datetime.now(timezone.utc)
    assert data.beds(engine) == ["NICU-5", "NICU-6"]
    recent = data.find_sessions(engine, start=now - timedelta(hours=24))
    assert [s.bed_label for s in recent] == ["NICU-5"]
    assert [s.bed_label for s in data.find_sessions(engine, bed="NICU-6")] == ["NICU-6"]
    session = queries.get_session(engine, session_id)
    found = data.gaps(session, data.samples(engine, session_id), ReviewSettings())
    assert found.unknown == [(100.0, 130.0)]
    assert found.not_running == [(300.0, 360.0)]
    assert data.record_end(data.samples(engine, session_id), found) == 600.0
    with engine.begin() as conn:  # as if the monitor had died: no end, heartbeat at 700 s
        conn.execute(data.SESSION.update().where(data.SESSION.c.id == session_id).values(
            ended_at=None, end_reason=None,
            heartbeat_at=session.clock_origin_utc + timedelta(seconds=700)))
    crashed = queries.get_session(engine, session_id)
    found = data.gaps(crashed, data.samples(engine, session_id), ReviewSettings())
    assert found.not_running == [(300.0, 360.0), (600.0, 700.0)]
    assert data.crashed(crashed)
    engine.dispose()


def test_the_commands_are_listed(capsys) -> None:
    from monitor.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("review", "export", "forward", "purge"):
        assert name in out
