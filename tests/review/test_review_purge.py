"""`painmon purge`: old records go, with an audit entry; recent ones and the audit log stay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from monitor.cli import main
from monitor.config import ReviewSettings
from monitor.errors import MonitorError
from monitor.review import data
from monitor.review.purge import purge
from monitor.store import queries
from review_helpers import NIGHT_BED, write_night

pytestmark = pytest.mark.slow


def test_purge_removes_old_records_on_both(store_url: str, engine_for) -> None:
    engine = engine_for(store_url)
    old = write_night(engine, bed="NICU-6", hours_ago=24 * 40)
    recent = write_night(engine, hours_ago=2)
    episode = data.episodes(engine, [old])[0]
    data.add_annotation(engine, ReviewSettings(), episode, "RN Lee", None, 2, "old note")
    data.audit_opened(engine, queries.get_session(engine, old), "RN Lee", "test")

    dry = purge(engine, 30, "admin", dry_run=True)
    assert dry.rows["sample"] == 540 and len(data.find_sessions(engine)) == 2
    report = purge(engine, 30, "admin")
    assert report.sessions == [queries.get_session(engine, old).uid]
    assert report.rows == {"annotation": 1, "alarm_event": 3, "episode": 3, "sample": 540,
                           "frame_trace": 0}
    assert [s.id for s in data.find_sessions(engine)] == [recent]
    assert queries.samples(engine, old) == [] and queries.episodes(engine, old) == []
    assert len(queries.samples(engine, recent)) == 540
    assert queries.get_session(engine, old).purged_at is not None
    actions = [(a.action, a.session_id) for a in queries.audit(engine)]
    assert ("session_opened", old) in actions and ("annotation_added", old) in actions
    (entry,) = [a for a in queries.audit(engine) if a.action == "purged"]
    assert entry.user == "admin" and json.loads(entry.detail_json)["rows"]["sample"] == 540
    assert purge(engine, 30, "admin").sessions == []  # nothing twice
    with pytest.raises(MonitorError, match="purged"):
        data.resolve_session(engine, str(old))


def test_a_running_session_is_never_purged(tmp_path, engine_for) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'p.db'}")
    session_id = write_night(engine, hours_ago=24 * 40)
    with engine.begin() as conn:  # still running: no end, fresh heartbeat
        conn.execute(data.SESSION.update().values(
            ended_at=None, end_reason=None, heartbeat_at=datetime.now(timezone.utc)))
    assert purge(engine, 30, "admin").sessions == []
    assert len(queries.samples(engine, session_id)) == 540
    later = datetime.now(timezone.utc) + timedelta(days=31)
    assert len(purge(engine, 30, "admin", now=later).sessions) == 1


def test_purge_command_line(tmp_path, engine_for, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = engine_for(url)
    write_night(engine, bed=NIGHT_BED, hours_ago=24 * 10)
    assert main(["purge", "--db", url, "--older-than", "7", "--dry-run"]) == 0
    assert "would remove the record of 1 session" in capsys.readouterr().out
    assert main(["purge", "--db", url, "--older-than", "0"]) == 2
    assert main(["purge", "--db", url, "--older-than", "7", "--user", "ward admin"]) == 0
    assert "removed the record of 1 session" in capsys.readouterr().out
    assert [a.user for a in queries.audit(engine) if a.action == "purged"] == ["ward admin"]
