"""Camera unplugged and camera frozen, injected into the real pipeline through a fake device shaped
like cv2.VideoCapture: CAMERA_LOST within 3 s, reconnects with back-off, monitoring resumes by
itself, and a pain alarm in progress stays raised as "signal lost" (ALARMS.md)."""

from __future__ import annotations

import pytest

from monitor.store import queries
from monitor.store.database import open_database
from tests.reliability.pipeline_helpers import Plug, Running, camera_monitor, wait_for

pytestmark = pytest.mark.slow
DETECT_WITHIN_S = 3.0


def _lost_after(run: Running, fault_at: float) -> float:
    lost = wait_for(lambda: run.event("CAMERA_LOST", "raised", fault_at), 10, "CAMERA_LOST")
    return lost.t - fault_at


def test_unplugged_and_frozen_camera_during_a_pain_alarm(crying_clip, scorer, tmp_path, capsys):
    plug = Plug()
    run = camera_monitor(crying_clip, tmp_path / "cam.db", scorer, plug, resume_within_s=5.0)
    try:
        wait_for(lambda: run.event("PAIN", "raised"), 60, "the pain alarm")

        # unplugged: reads fail
        fault_at = run.monitor.clock()
        plug.unplugged = True
        unplug_s = _lost_after(run, fault_at)
        wait_for(lambda: run.event("PAIN", "signal_lost", fault_at), 10, "PAIN signal lost")
        pain = run.alarm("PAIN")
        assert pain.active and pain.signal_lost
        wait_for(lambda: len(plug.opened_at) >= 4, 10, "three reconnect attempts")
        reconnect_at = plug.opened_at[1:4]  # [0] is the first open, at start
        gaps = [b - a for a, b in zip(reconnect_at, reconnect_at[1:])]
        assert gaps[1] > 1.5 * gaps[0], f"reconnects do not back off: {gaps}"
        plug.unplugged = False
        back_at = run.monitor.clock()
        wait_for(lambda: run.event("CAMERA_LOST", "cleared", back_at - 1), 15, "CAMERA_LOST cleared")
        wait_for(lambda: run.event("PAIN", "signal_resumed", fault_at), 10, "PAIN resumed")

        # frozen: the driver keeps returning the last image as a success
        fault_at = run.monitor.clock()
        plug.frozen = True
        frozen_s = _lost_after(run, fault_at)
        plug.frozen = False
        back_at = run.monitor.clock()
        wait_for(lambda: run.event("CAMERA_LOST", "cleared", back_at - 1), 15, "CAMERA_LOST cleared")
        assert run.event("PAIN", "ended") is None  # the episode continued through both faults

        # unplugged for longer than resume_within: the episode ends signal_lost, never resolved
        plug.unplugged = True
        ended = wait_for(lambda: run.event("PAIN", "ended"), 30, "the episode's end")
        assert ended.detail == "signal_lost"
    finally:
        summary = run.stop()
    reconnects = run.monitor.source.status().reconnects
    with capsys.disabled():
        print(f"\nCAMERA_LOST after unplug {unplug_s:.2f} s, after freeze {frozen_s:.2f} s; "
              f"{reconnects} reconnects, back-off gaps {[round(g, 2) for g in gaps]}")
    assert unplug_s <= DETECT_WITHIN_S
    assert frozen_s <= run.monitor.settings.alarms.frozen_after_s + 0.5
    engine = open_database(run.monitor.settings.store.url)
    episodes = queries.episodes(engine, summary.session_id)
    assert [e.end_reason for e in episodes] == ["signal_lost"]
    stored = queries.events(engine, summary.session_id)
    assert len(stored) == len(run.events)  # every transition reached the database
    assert run.monitor.writer.health().dropped == 0
