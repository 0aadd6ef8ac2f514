"""The monitor watches itself (issue #14): a hang in the analysis loop is an alarm, stored while
it lasts; one session clock; user actions that fail never end monitoring."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from monitor.config import Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline
from monitor.signal.actions import Acknowledge
from monitor.signal.engine import AlarmEngine
from monitor.store import queries
from monitor.store.database import open_database
from monitor.vision.finder import FaceFinder
from tests.reliability.pipeline_helpers import Running, wait_for

HANG_AT_S = 2.0  # session time of the frame whose face search hangs
HANG_S = 15.0


def stored_events(db: Path, kind: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT t, priority, transition FROM alarm_event WHERE kind = ? "
                            "ORDER BY id", (kind,)).fetchall()


@pytest.fixture
def hanging_finder(monkeypatch):
    """MTCNN stuck for HANG_S on the first frame at or after HANG_AT_S (released at teardown)."""
    release = threading.Event()
    hang: dict[str, float] = {}
    observe = FaceFinder.observe

    def stuck(self, packet):
        if packet.t >= HANG_AT_S and "t" not in hang:
            hang["t"] = packet.t
            release.wait(HANG_S)
            hang["over"] = packet.t
        return observe(self, packet)

    monkeypatch.setattr(FaceFinder, "observe", stuck)
    yield hang, release
    release.set()


def test_a_hang_in_face_detection_is_stored_as_stalled_while_it_lasts(
        crying_clip: Path, tmp_path: Path, scorer, hanging_finder):
    hang, release = hanging_finder
    db = tmp_path / "hang.db"
    settings = Settings(store=StoreSettings(url=f"sqlite:///{db}"))
    running = Running(lambda **cb: OneSourcePipeline(settings, str(crying_clip), realtime=True,
                                                     scorer=scorer, **cb))
    raised = wait_for(lambda: [e for e in stored_events(db, "PIPELINE_STALLED")
                               if e[2] == "raised"], 12.0, "a stored PIPELINE_STALLED")
    assert "over" not in hang, "the alarm must be stored while the hang lasts, not after"
    t, priority, _ = raised[0]
    assert priority in ("medium", "high")
    assert t - hang["t"] <= 8.0, f"stored at {t:.1f} s, the hang began at {hang['t']:.1f} s"
    print(f"\nPIPELINE_STALLED stored {t - hang['t']:.2f} s after the hang began (t {hang['t']:.2f} s)")
    assert running.alarm("PIPELINE_STALLED") is not None  # the screen's snapshot shows it too
    release.set()
    wait_for(lambda: [e for e in stored_events(db, "PIPELINE_STALLED") if e[2] == "cleared"],
             10.0, "the stall cleared once the loop moves again")
    summary = running.stop()
    assert summary.frames_scored > 0


@pytest.fixture
def stuck_engine(monkeypatch):
    """The alarm engine itself stuck (inside `frame`, so under the channel's lock) on the first
    frame at or after HANG_AT_S, until the test releases it."""
    release = threading.Event()
    hang: dict[str, float] = {}
    frame = AlarmEngine.frame

    def stuck(self, t, status, p):
        if t >= HANG_AT_S and "t" not in hang:
            hang["t"] = t
            release.wait(HANG_S)
        return frame(self, t, status, p)

    monkeypatch.setattr(AlarmEngine, "frame", stuck)
    yield hang, release
    release.set()


def test_a_stall_inside_the_engine_is_stored_once_cleared_and_told_to_the_engine(
        crying_clip: Path, tmp_path: Path, scorer, stuck_engine, capsys):
    """The watchdog's direct path (issue #24 item 2): the engine holds the channel's lock, so
    the stall is stored without it, once however long it lasts; a clear follows when the loop
    moves, and the engine learns of the stall afterwards (the screen shows it)."""
    hang, release = stuck_engine
    db = tmp_path / "stuck.db"
    settings = Settings(store=StoreSettings(url=f"sqlite:///{db}"))
    running = Running(lambda **cb: OneSourcePipeline(settings, str(crying_clip), realtime=True,
                                                     scorer=scorer, **cb))
    monitor = running.monitor
    [(raised_t, _, _)] = wait_for(lambda: stored_events(db, "PIPELINE_STALLED"), 15.0,
                                  "the stall stored directly")
    assert "t" in hang and monitor.clock() > hang["t"]
    # while it goes on for several more watchdog periods (0.25 s each), nothing more is stored
    wait_for(lambda: monitor.clock() > raised_t + 2.0, 10.0, "the stall to last 2 s more")
    assert [e[2] for e in stored_events(db, "PIPELINE_STALLED")] == ["raised"]
    release.set()
    wait_for(lambda: len(stored_events(db, "PIPELINE_STALLED")) >= 2, 10.0, "the stall cleared")
    wait_for(lambda: running.event("PIPELINE_STALLED", "cleared"), 10.0, "the engine's clear")
    summary = running.stop()
    rows = stored_events(db, "PIPELINE_STALLED")
    assert [transition for _, _, transition in rows] == ["raised", "cleared"], rows
    assert rows[0][0] == raised_t < rows[1][0]
    told = [e.transition for e in running.events if e.kind == "PIPELINE_STALLED"]
    assert told == ["raised", "cleared"], "the engine (and so the screen) learns of the stall"
    with capsys.disabled():
        print(f"\nengine stuck at {hang['t']:.2f} s: the stall stored directly at {raised_t:.2f} s "
              f"(+{raised_t - hang['t']:.2f} s), once; cleared at {rows[1][0]:.2f} s")
    assert summary.frames_scored > 0


def test_the_engine_is_read_only_under_its_channels_lock(crying_clip: Path, tmp_path: Path,
                                                       scorer, monkeypatch):
    """The watchdog's thread changes the engine under the channel's lock, so every reader of its
    state takes the lock too, the progress line included (issue #24 item 8)."""
    settings = Settings(store=StoreSettings(url=f"sqlite:///{tmp_path / 'reads.db'}"))
    monitor = OneSourcePipeline(settings, str(crying_clip), scorer=scorer)
    unlocked: list[str] = []
    snapshot = AlarmEngine.snapshot

    def checked(self):
        if not monitor.channel.lock._is_owned():
            unlocked.append(threading.current_thread().name)
        return snapshot(self)

    monkeypatch.setattr(AlarmEngine, "snapshot", checked)
    progress: list[float] = []
    summary = monitor.run(on_progress=lambda _summary, snap: progress.append(snap.t))
    assert progress and summary.frames > 200
    assert unlocked == [], f"{len(unlocked)} reads of the engine outside its lock"


def test_realtime_session_end_matches_its_clock(crying_clip: Path, tmp_path: Path, scorer):
    """ended_at - clock_origin_utc is the session's own end time: one clock for rows and screen."""
    db = tmp_path / "clock.db"
    settings = Settings(store=StoreSettings(url=f"sqlite:///{db}"))
    summary = OneSourcePipeline(settings, str(crying_clip), realtime=True, scorer=scorer).run()
    session = queries.latest_session(open_database(f"sqlite:///{db}"))
    assert session.end_reason == "source_ended"
    elapsed = (session.ended_at - session.clock_origin_utc).total_seconds()
    assert abs(elapsed - summary.duration_s) <= 0.5, (elapsed, summary.duration_s)
    # paced from t = 0: the clip's 18 s take about 18 s of session time, none lost to start-up
    assert summary.duration_s == pytest.approx(18.0, abs=1.5)


class Broken:
    """A user action whose code fails on the loop thread."""

    user = "nurse"

    def apply(self, engine, t):
        raise RuntimeError("a bug in an action")


def test_a_failing_user_action_is_recorded_and_monitoring_goes_on(
        crying_clip: Path, tmp_path: Path, scorer):
    db = tmp_path / "action.db"
    settings = Settings(store=StoreSettings(url=f"sqlite:///{db}"))
    monitor = OneSourcePipeline(settings, str(crying_clip), scorer=scorer)
    monitor.act(Broken())
    monitor.act(Acknowledge("nurse"))
    summary = monitor.run()
    assert summary.end_reason == "source_ended"
    assert summary.frames > 200
    with sqlite3.connect(db) as conn:
        failed = conn.execute("SELECT kind, transition, user, detail FROM alarm_event "
                              "WHERE transition = 'failed'").fetchall()
    assert failed == [("ACTION", "failed", "nurse", "Broken: a bug in an action")]
