"""Store and forward to the central PostgreSQL: everything once, resumable when the server stops
mid-forward, and the same exports from the bedside file and from the central store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from monitor.cli import main
from monitor.config import ReviewSettings
from monitor.errors import MonitorError, RuntimeFault
from monitor.review import data
from monitor.review.export import export
from monitor.review.forward import APPEND_ONLY, central_url, forward
from monitor.store import queries
from review_helpers import pg_server, write_night

pytestmark = pytest.mark.slow
SETTINGS = ReviewSettings(timezone="Europe/Berlin", forward_batch_rows=10)


def ids(engine: Engine, table, column: str) -> list[int]:
    query = select(table.c[column])
    if table is data.AUDIT:
        query = query.where(table.c.session_id.is_not(None))
    with engine.connect() as conn:
        return sorted(v for v in conn.execute(query).scalars() if v is not None)


def assert_forwarded(local: Engine, central: Engine) -> None:
    """Every bedside row is in the central store exactly once."""
    for table in APPEND_ONLY:
        assert ids(central, table, "origin_id") == ids(local, table, "id"), table.name
    for table in (data.SESSION, data.EPISODE):
        assert len(ids(central, table, "id")) == len(ids(local, table, "id")), table.name
    central_sessions = {s.uid: s for s in data.find_sessions(central)}
    for s in data.find_sessions(local):
        mirror = central_sessions[s.uid]
        assert (mirror.ended_at, mirror.end_reason, mirror.heartbeat_at, mirror.episodes) == \
            (s.ended_at, s.end_reason, s.heartbeat_at, s.episodes)


def annotate(engine: Engine, comment: str) -> None:
    session = data.find_sessions(engine)[0]
    episode = data.episodes(engine, [session.id])[0]
    data.add_annotation(engine, SETTINGS, episode, "RN Okafor", "swaddling", 2, comment)


def test_forward_copies_everything_once_and_then_only_what_is_new(
        demo_db: Path, pg_url: str, engine_for) -> None:
    local, central = engine_for(f"sqlite:///{demo_db}"), engine_for(pg_url)
    annotate(local, "first")
    first = forward(local, central, SETTINGS, "forwarder")
    assert first.sessions == 1 and first.rows["sample"] == 75 and first.rows["annotation"] == 1
    assert_forwarded(local, central)
    assert forward(local, central, SETTINGS, "forwarder").total == 0
    annotate(local, "second")
    again = forward(local, central, SETTINGS, "forwarder")
    assert again.rows == {"sample": 0, "frame_trace": 0, "alarm_event": 0, "annotation": 1,
                          "audit_event": 1}
    assert_forwarded(local, central)
    comments = [a.comment for a in data.annotations(
        central, [e.id for e in data.episodes(central, [data.find_sessions(central)[0].id])])]
    assert comments == ["first", "second"]
    # store-wide audit entries stay in the database where they happened
    assert "forwarded" in [a.action for a in queries.audit(local)]
    assert "forwarded" not in [a.action for a in queries.audit(central)]


def test_server_stopped_mid_forward_then_restarted(demo_db: Path, pg_url: str,
                                                   engine_for) -> None:
    local = engine_for(f"sqlite:///{demo_db}")
    write_night(local)
    central = engine_for(pg_url)
    stopped = []

    def stop_after_some(done: int, total: int, what: str) -> None:
        if done >= 40 and not stopped:
            stopped.append(done)
            pg_server("stop")

    with pytest.raises(RuntimeFault, match="run it again"):
        forward(local, central, SETTINGS, "forwarder", progress=stop_after_some)
    assert stopped
    pg_server("start")
    central.dispose()
    central = engine_for(pg_url)
    partial = len(ids(central, data.SAMPLE, "origin_id"))
    assert 0 < partial < len(ids(local, data.SAMPLE, "id"))
    report = forward(local, central, SETTINGS, "forwarder")
    assert report.total > 0
    assert_forwarded(local, central)
    assert forward(local, central, SETTINGS, "forwarder").total == 0


def test_bedside_and_central_give_identical_exports(demo_db: Path, pg_url: str, engine_for,
                                                    tmp_path: Path) -> None:
    local, central = engine_for(f"sqlite:///{demo_db}"), engine_for(pg_url)
    write_night(local)
    annotate(local, "sucrose given; settled <2 min & calm")
    forward(local, central, SETTINGS, "forwarder")
    for fmt, name in (("csv", "csv"), ("pdf", "report.pdf"), ("fhir", "bundle.json")):
        outputs = []
        for label, engine in (("sqlite", local), ("pg", central)):
            sessions, paths = export(engine, SETTINGS, fmt, tmp_path / label / name, "RN Okafor")
            assert len(sessions) == 2
            outputs.append([p.read_bytes() for p in paths])
        assert outputs[0] == outputs[1], fmt


def test_forward_to_a_sqlite_central_store(demo_db: Path, tmp_path: Path, engine_for) -> None:
    """The forwarder itself does not need PostgreSQL (and so runs without the server too)."""
    local = engine_for(f"sqlite:///{demo_db}")
    central = engine_for(f"sqlite:///{tmp_path / 'central.db'}")
    forward(local, central, SETTINGS, "forwarder")
    assert_forwarded(local, central)


def test_a_session_that_goes_on_after_a_forward(tmp_path: Path, engine_for) -> None:
    """A live session: forwarded while open, then it ends and gets another episode."""
    local = engine_for(f"sqlite:///{tmp_path / 'live.db'}")
    central = engine_for(f"sqlite:///{tmp_path / 'central.db'}")
    session_id = write_night(local)
    forward(local, central, SETTINGS, "forwarder")
    with local.begin() as conn:  # the writer would do this for a running monitor
        conn.execute(data.EPISODE.insert().values(
            session_id=session_id, number=4, start_at=500.0, end_at=None, max_priority="low"))
    forward(local, central, SETTINGS, "forwarder")
    assert [e.number for e in data.episodes(central, [data.find_sessions(central)[0].id])] == \
        [1, 2, 3, 4]
    assert_forwarded(local, central)


def test_forward_command_line(demo_db: Path, pg_url: str, capsys, engine_for) -> None:
    assert main(["forward", "--db", f"sqlite:///{demo_db}", "--to", pg_url]) == 0
    out, err = capsys.readouterr()
    assert "forwarded" in out and "100.0%" in err  # progress on stderr
    assert_forwarded(engine_for(f"sqlite:///{demo_db}"), engine_for(pg_url))


def test_central_url_password_and_tls(monkeypatch) -> None:
    settings = ReviewSettings()
    with pytest.raises(MonitorError, match="not put the password in the URL"):
        central_url("postgresql+psycopg://u:secret@central/painmon", settings, {})
    with pytest.raises(MonitorError, match="sslmode"):
        central_url("postgresql+psycopg://u@central/painmon?sslmode=sometimes", settings, {})
    asked: list[tuple[str, str]] = []

    def keyring_password(service: str, account: str) -> str:
        asked.append((service, account))
        return "from-keyring"

    monkeypatch.setattr("keyring.get_password", keyring_password)
    url, warnings = central_url("postgresql+psycopg://u@central.ward/painmon", settings, {})
    assert ":from-keyring@" in url and asked == [("painmon", "u@central.ward")]
    assert warnings and "verify-full" in warnings[0]
    url, warnings = central_url(
        "postgresql+psycopg://u@central.ward/painmon?sslmode=verify-full&sslrootcert=/ca.pem",
        settings, {"PGPASSWORD": "x"})
    assert warnings == [] and "from-keyring" not in url and "sslrootcert=%2Fca.pem" in url


def test_review_records_read_from_central_keep_wall_times(demo_db: Path, pg_url: str,
                                                          engine_for) -> None:
    local, central = engine_for(f"sqlite:///{demo_db}"), engine_for(pg_url)
    forward(local, central, SETTINGS, "forwarder")
    (a,), (b,) = data.find_sessions(local), data.find_sessions(central)
    ea, eb = data.episodes(local, [a.id])[0], data.episodes(central, [b.id])[0]
    assert data.wall_time(a, ea.start_at) == data.wall_time(b, eb.start_at)
    assert isinstance(data.wall_time(b, eb.start_at), datetime)
    assert abs(data.wall_time(b, eb.start_at) - datetime.now(timezone.utc)) < timedelta(hours=1)
