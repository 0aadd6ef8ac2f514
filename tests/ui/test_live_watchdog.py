"""The live window watches the pipeline from its own Qt timer (issue #14): a loop that stops sending
updates is an alarm on screen and in sound even when every pipeline thread is stuck; a crashed
analysis thread is an alarm at once and a new session follows."""

from __future__ import annotations

import json
import threading

import pytest

from monitor.pipeline import watchdog
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import HIGH, MEDIUM, PIPELINE_STALLED
from monitor.store import queries
from monitor.store.database import open_database
from monitor.ui.live.lifecycle import EXIT_CRASHED, State
from monitor.vision.finder import FaceFinder

pytestmark = pytest.mark.slow


@pytest.fixture
def stuck_after(monkeypatch):
    """Face search blocks from the 10th frame on until released (released at teardown)."""
    release = threading.Event()
    observe = FaceFinder.observe
    seen = [0]

    def maybe_stuck(self, packet):
        seen[0] += 1
        if seen[0] >= 10:
            release.wait(60)
        return observe(self, packet)

    monkeypatch.setattr(FaceFinder, "observe", maybe_stuck)
    yield release
    release.set()


def test_the_window_alarms_by_itself_when_the_loop_stops(qtbot, open_window, episode_clip, paced,
                                                         stuck_after, monkeypatch):
    monkeypatch.setattr(watchdog.Watchdog, "start", lambda self: None)  # the pipeline's own: off
    window = open_window(episode_clip)
    qtbot.waitUntil(lambda: window.state is State.STALLED, timeout=60_000)
    tile = window.alarm_bar.tiles[0]
    assert tile.kind == PIPELINE_STALLED and tile.technical and tile.priority == MEDIUM
    assert tile.title.endswith("MONITORING STOPPED")
    qtbot.waitUntil(lambda: "technical" in window.sound.names_played(), timeout=5_000)
    stuck_after.set()
    qtbot.waitUntil(lambda: window.state is State.MONITORING, timeout=30_000)
    assert all(t.kind != PIPELINE_STALLED for t in window.alarm_bar.tiles)


def test_a_crashed_analysis_is_an_alarm_and_monitoring_restarts(qtbot, open_window, episode_clip,
                                                               paced, monkeypatch):
    calls = [0]
    frame = AlarmEngine.frame

    def crash_once(self, *args, **kwargs):  # the alarm engine: a fault nothing stands in for
        calls[0] += 1
        if calls[0] == 10:
            raise RuntimeError("a bug in the alarm engine")
        return frame(self, *args, **kwargs)

    monkeypatch.setattr(AlarmEngine, "frame", crash_once)
    window = open_window(episode_clip)
    qtbot.waitUntil(lambda: window.state is State.CRASHED, timeout=60_000)
    tile = window.alarm_bar.tiles[0]
    assert tile.kind == PIPELINE_STALLED and tile.priority == HIGH and "crashed" in tile.detail
    first = window.control.started.session_id if window.control.started else None
    qtbot.waitUntil(lambda: window.control.started is not None and window.control.started.session_id != first
                    and window.control.crash is None, timeout=60_000)
    engine = open_database(window.settings.store.url)
    crashed = queries.get_session(engine, first)
    assert crashed.end_reason == "crashed"
    qtbot.waitUntil(lambda: any(a.action == "restarted_after_crash" for a in queries.audit(engine)),
                    timeout=10_000)
    [restart] = [a for a in queries.audit(engine) if a.action == "restarted_after_crash"]
    assert json.loads(restart.detail_json)["previous_session"] == first
    assert restart.session_id == window.control.started.session_id


def test_the_crash_that_reaches_the_limit_closes_the_window_with_exit_1(qtbot, open_window,
                                                                        episode_clip, paced,
                                                                        monkeypatch):
    """RestartPolicy's last crash (here the first: crashes_before_exit=1) is not restarted: the
    window closes with EXIT_CRASHED for the supervisor; the crashed session's own end, arriving
    after the close, changes nothing."""
    calls = [0]
    frame = AlarmEngine.frame

    def crash_at_10th(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == 10:
            raise RuntimeError("a bug in the alarm engine")
        return frame(self, *args, **kwargs)

    monkeypatch.setattr(AlarmEngine, "frame", crash_at_10th)
    window = open_window(episode_clip, crashes_before_exit=1)
    qtbot.waitUntil(lambda: window.state is State.CLOSED and not window.isVisible(), timeout=60_000)
    assert window.control.exit_code == EXIT_CRASHED == 1
    worker = window.control.worker
    qtbot.waitUntil(lambda: not worker.running, timeout=15_000)
    worker.ended.emit(None)  # once more, late: the window stays closed
    assert window.state is State.CLOSED and not window.isVisible()
    crashed = queries.latest_session(open_database(window.settings.store.url))
    assert crashed.end_reason == "crashed"
