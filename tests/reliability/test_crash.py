"""SIGKILL mid-run, then a restart: the database is intact, at most the last flush interval (plus
the second being aggregated) of samples is lost, and the dead session and its open episode are
closed `crashed` by the next start, which touches no other monitor's sessions."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from monitor.config import Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline
from monitor.store import queries
from monitor.store.database import open_database
from monitor.store.schema import MonitoringSession

CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[2]
SESSION = MonitoringSession.__table__

pytestmark = pytest.mark.slow


def _foreign_open_session(engine) -> int:
    """Another bed's session on a shared database, still running: recovery must not touch it."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        return conn.execute(insert(SESSION).values(
            monitor_id="another-bed", bed_label="B2", source="camera 0", app_version="x",
            started_at=now, clock_origin_utc=now)).inserted_primary_key[0]


def _run_until_killed(clip: Path, db: Path) -> tuple[int, float]:
    """Start the child, SIGKILL it 2 s (session clock) after its pain alarm is raised."""
    child = subprocess.Popen([sys.executable, str(CHILD), str(clip), str(db)], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=os.environ | {"PYTHONPATH": str(REPO)})
    session_id, raised_at, last_t = None, None, 0.0
    deadline = time.monotonic() + 120
    try:
        for line in child.stdout:
            word, _, value = line.strip().partition(" ")
            if word == "session":
                session_id = int(value)
            elif word == "pain" and value == "raised":
                raised_at = last_t
            elif word == "frame":
                last_t = float(value)
            if raised_at is not None and last_t >= raised_at + 2.0:
                break
            assert time.monotonic() < deadline, "the child never raised its pain alarm"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
    assert child.returncode == -signal.SIGKILL and session_id is not None
    return session_id, last_t


def test_sigkill_then_restart_loses_at_most_the_flush_interval(crying_clip, scorer, tmp_path):
    db = tmp_path / "crash.db"
    engine = open_database(f"sqlite:///{db}")
    other = _foreign_open_session(engine)
    dead, last_t = _run_until_killed(crying_clip, db)

    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    settings = Settings(store=StoreSettings(url=f"sqlite:///{db}"))
    samples = queries.samples(engine, dead)
    covered = max(s.t for s in samples) + 1.0  # a sample row covers [t, t + 1)
    lost_s = last_t - covered
    bound = settings.store.flush_interval_s + 1.0  # the buffer, and the second being aggregated
    print(f"SIGKILL: last frame t={last_t:.2f} s, samples up to {covered:.2f} s, "
          f"lost {max(lost_s, 0):.2f} s (bound {bound:.1f} s)")
    assert lost_s <= bound
    episode = queries.episodes(engine, dead)[0]
    assert episode.end_reason is None  # the killed process left it open

    monitor = OneSourcePipeline(settings, str(crying_clip), on_frame=lambda _r: monitor.stop(),
                                scorer=scorer)
    assert monitor.recovered == [dead]
    monitor.run()

    dead_row, other_row = queries.get_session(engine, dead), queries.get_session(engine, other)
    assert dead_row.end_reason == "crashed" and dead_row.ended_at is not None
    assert dead_row.frames == sum(s.frames for s in samples)
    assert other_row.end_reason is None and other_row.ended_at is None
    assert queries.get_session(engine, monitor.session_id).end_reason == "stopped_by_user"
    episode = queries.episodes(engine, dead)[0]
    assert episode.end_reason == "crashed" and episode.end_at >= episode.start_at
    assert [(a.session_id, a.action) for a in queries.audit(engine)] == [(dead, "session_crashed")]
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    assert dead_row.monitor_id == socket.gethostname()
