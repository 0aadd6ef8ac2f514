"""`painmon live` as a process: it opens the window (offscreen here) and SIGTERM ends it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.store import queries
from monitor.store.database import open_database

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_sigterm_ends_the_live_session_cleanly_without_a_dialog(tmp_path, episode_clip):
    db = f"sqlite:///{tmp_path / 'live.db'}"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "live", "--source", str(episode_clip), "--db", db,
         "--user", "Sam"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # until the session runs (or the process ends early)
        seen.append(line)
        if "ui.live.control: session 1:" in line:
            break
    assert proc.poll() is None, "".join(seen)
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)  # a guard against a hang, not a timing target
    assert proc.returncode == 0, "".join(seen) + rest
    assert "window closed (SIGTERM)" in rest

    engine = open_database(db)
    session = queries.latest_session(engine)
    assert session.end_reason == "stopped_by_user" and session.ended_at is not None
    audit = {a.action: (a.user, json.loads(a.detail_json)) for a in queries.audit(engine)}
    assert audit["session_end_signal"] == ("Sam", {"signal": "SIGTERM", "alarms": []})
    assert "self_test" in audit
    assert [e.transition for e in queries.events(engine, session.id) if e.kind == "SESSION"] == [
        "started", "ended"]


def test_a_bad_source_keeps_the_window_open_then_closing_it_exits_2(tmp_path):
    """Issue #24 item 18: a bedside window that vanished would look like one that watches, so a
    source that cannot be opened is a CANNOT MONITOR alarm in the open window; once it is closed,
    the process says why in one line and exits 2 (bad input: the supervisor does not restart)."""
    missing = tmp_path / "missing.mp4"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "live", "--source", str(missing), "--db",
         f"sqlite:///{tmp_path / 'live.db'}"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # until the window says it cannot monitor (or the process ends early)
        seen.append(line)
        if "ui.live.control: monitoring: video file not found" in line:
            break
    proc.send_signal(signal.SIGTERM)  # only a window still open can close on it
    _, rest = proc.communicate(timeout=60)  # a guard against a hang, not a timing target
    assert "window closed (SIGTERM)" in rest, "".join(seen) + rest
    assert proc.returncode == 2
    (error,) = [line for line in rest.splitlines() if line.startswith("painmon: error:")]
    assert error.startswith("painmon: error: video file not found") and str(missing) in error
