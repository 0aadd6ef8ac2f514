"""The live window driving the real pipeline (MTCNN -> CNN -> alarm engine -> SQLite) on demo clips."""

from __future__ import annotations

import json
import math
import threading

import pytest
from PyQt6.QtCore import Qt

from monitor.capture import sources
from monitor.config import AlarmSettings, AudioSettings, from_stored, load
from monitor.signal.records import CAMERA_LOST, MEDIUM, NO_FACE, PAIN
from monitor.store import queries
from monitor.store.database import open_database
from monitor.ui.live.alarmbar import STATUS
from monitor.ui.live.lifecycle import State
from monitor.vision.finder import FaceFinder
from tests.ui.clips import demo_frames

pytestmark = pytest.mark.slow


def pain_alarm(window):
    snap = window.snapshot
    return None if snap is None else next((a for a in snap.alarms if a.kind == PAIN), None)


def stored(window):
    engine = open_database(window.settings.store.url)
    session = queries.latest_session(engine)
    return engine, session


def test_demo_episode_alarm_acknowledge_and_end(qtbot, open_window, episode_clip, paced):
    window = open_window(episode_clip, user="Anna R.")
    window.run_self_test()
    asked = []
    window.confirm = lambda title, text: asked.append(text) or False

    # the gauge reaches the pain band, then the alarm is raised: medium, flashing, sounding
    qtbot.waitUntil(lambda: window.gauge.band == 2, timeout=120_000)
    assert window.gauge.label_text() == "PAIN" and not window.gauge.greyed
    qtbot.waitUntil(lambda: pain_alarm(window) is not None and pain_alarm(window).active, timeout=60_000)
    tile = window.alarm_bar.tiles[0]
    assert tile.kind == PAIN and tile.priority == MEDIUM and tile.title.startswith("!! PAIN EXPRESSION")
    assert tile.flashing and not tile.technical
    # the clip carries the demo's crying on its sound track: the tile names both cues
    qtbot.waitUntil(lambda: "cues: face + cry" in window.alarm_bar.tiles[0].detail, timeout=10_000)
    assert window.cues.row("CRY").word == "CRYING"
    qtbot.waitUntil(lambda: "medium" in window.sound.names_played()[1:], timeout=5_000)  # [0]: self-test

    # closing with an active alarm asks first; "no" keeps monitoring, and both are audited
    window.close()
    assert window.isVisible() and window.control.monitoring and "PAIN EXPRESSION" in asked[0]

    # one key acknowledges: silent with a countdown, the user recorded
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: pain_alarm(window).silenced_until is not None, timeout=10_000)
    assert window.snapshot.tone is None
    assert "acknowledged, silent" in window.alarm_bar.tiles[0].detail
    assert not window.alarm_bar.tiles[0].flashing

    # the episode ends, the alarm clears (acknowledged: nothing latches), the bar says "watching"
    qtbot.waitUntil(lambda: window.episodes.get(1) is not None and window.episodes[1].end is not None,
                    timeout=120_000)
    qtbot.waitUntil(lambda: pain_alarm(window) is None or window.ended, timeout=60_000)
    episode = window.episodes[1]
    assert episode.end_reason == "resolved" and episode.ack_by == "Anna R."
    assert 6.0 <= episode.start <= 11.0 and 15.0 <= episode.alarm_at <= 21.0 and episode.ack_at < episode.end
    assert window.trend.episode_spans() == [(episode.start, episode.end)]
    assert len(window.trend.getPlotItem().items) == 6  # S and C curves, three thresholds, the episode

    qtbot.waitUntil(lambda: window.ended, timeout=120_000)
    assert window.alarm_bar.tiles[0].kind == STATUS and window.gauge.greyed
    engine, session = stored(window)
    assert session.end_reason == "source_ended"
    (row,) = queries.episodes(engine, session.id)
    assert row.ack_by == "Anna R." and row.end_reason == "resolved" and row.cues == "face+cry"
    acks = [e for e in queries.events(engine, session.id) if e.transition == "acknowledged"]
    assert [(e.kind, e.user) for e in acks] == [(PAIN, "Anna R.")]
    actions = {a.action: json.loads(a.detail_json) for a in queries.audit(engine)}
    assert actions["stop_with_alarm_cancelled"]["alarms"] == ["!! PAIN EXPRESSION"]
    assert actions["self_test"]["colours"] == ["patient high", "patient medium", "technical low",
                                               "technical medium"]


def test_no_face_greys_the_gauge_and_raises_a_technical_alarm(qtbot, open_window, no_face_clip, paced):
    window = open_window(no_face_clip)
    qtbot.waitUntil(lambda: window.snapshot is not None and window.snapshot.s is not None, timeout=120_000)
    window.start_procedure("heel lance", 5)
    qtbot.waitUntil(lambda: window.snapshot.mode == "procedure", timeout=10_000)
    assert window.mode_label.text().startswith("PROCEDURE / CARE: heel lance, pain alarm sound off, ")
    assert window.mode_label.text().endswith(" left")
    window.toggle_procedure()
    qtbot.waitUntil(lambda: window.snapshot.mode == "monitoring", timeout=10_000)
    assert window.mode_label.text() == ""
    window.change_alarm_settings(AlarmSettings(no_face_after_s=4.0))
    assert "no-face delay (s) 4" in window.marker_label.text()

    qtbot.waitUntil(lambda: window.gauge.greyed and window.snapshot.s_reason == "no_face", timeout=60_000)
    assert window.gauge.value_text() == "--" and window.gauge.label_text() == "UNKNOWN"
    assert window.gauge.reason == "no face in view"
    qtbot.waitUntil(lambda: any(a.kind == NO_FACE for a in window.snapshot.alarms), timeout=60_000)
    tile = next(t for t in window.alarm_bar.tiles if t.kind == NO_FACE)
    assert tile.technical and tile.priority == "low" and tile.title == "! NO FACE IN VIEW"
    series = [s for _, s in window.trend.series()]
    assert not math.isnan(series[0]) and math.isnan(series[-1])  # the trend has a gap, not a zero

    # closing with an alarm: confirmed, audited, bounded, the session recorded as stopped by the user
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
    engine, session = stored(window)
    assert session.end_reason == "stopped_by_user"
    actions = [a.action for a in queries.audit(engine)]
    assert "settings_changed" in actions and "stop_with_alarm_confirmed" in actions
    changes = [e for e in queries.events(engine, session.id) if e.transition == "settings_changed"]
    assert changes and "no_face_after_s: 10.0 -> 4.0" in changes[0].detail


def test_window_keeps_painting_while_the_pipeline_is_stuck(qtbot, open_window, episode_clip, monkeypatch):
    gate, inside = threading.Event(), threading.Event()
    observe = FaceFinder.observe

    def stuck_observe(self, packet):
        inside.set()
        gate.wait(60)  # the pipeline is stuck on this frame until the test lets go
        return observe(self, packet)

    monkeypatch.setattr(FaceFinder, "observe", stuck_observe)
    window = open_window(episode_clip)
    qtbot.waitUntil(inside.is_set, timeout=120_000)
    try:
        ticks, paints = window.ticks, window.video.paints
        qtbot.waitUntil(lambda: window.ticks >= ticks + 15, timeout=5_000)  # repaint timer runs
        window.set_shift_user("night nurse")  # and the window answers at once
        assert window.user_button.text() == "Shift user: night nurse"

        def repainted() -> bool:
            window.video.update()
            return window.video.paints >= paints + 5

        qtbot.waitUntil(repainted, timeout=5_000)
        assert window.gauge.greyed and window.snapshot is None  # nothing scored yet: never "calm"
    finally:
        gate.set()
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=60_000)


class FakeCamera:
    """Shaped like cv2.VideoCapture: delivers `frames` at 15 fps, then nothing (unplugged)."""

    def __init__(self, frames) -> None:
        self._frames = list(frames)
        self._clock = threading.Event()

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def read(self):
        if not self._frames:
            return False, None
        self._clock.wait(1 / 15)  # the camera's own frame interval
        return True, self._frames.pop(0)

    def release(self) -> None:
        self._frames = []


def test_unplugged_camera_raises_camera_lost_from_watchdog_ticks(qtbot, open_window, monkeypatch,
                                                                 settings):
    frames = demo_frames(0.0, 2.0)
    cameras = iter([FakeCamera(frames)])
    monkeypatch.setattr(sources, "_open_capture", lambda target, settings: next(cameras, FakeCamera([])))
    no_microphone = settings.model_copy(update={"audio": AudioSettings(input="none")})
    window = open_window("camera:0", settings=no_microphone)  # this cot has a camera only
    qtbot.waitUntil(lambda: window.control.started is not None and window.last_update is not None,
                    timeout=120_000)
    assert window.control.started.live and window.cues.row("CRY").word == "NO MICROPHONE"
    qtbot.waitUntil(lambda: any(a.kind == CAMERA_LOST for a in window.snapshot.alarms), timeout=60_000)
    tile = next(t for t in window.alarm_bar.tiles if t.kind == CAMERA_LOST)
    assert tile.technical and tile.title == "!! CAMERA LOST" and "check the camera" in tile.detail
    qtbot.waitUntil(lambda: window.gauge.greyed, timeout=30_000)  # S holds for stale_after_s
    assert window.gauge.reason == "no picture from the camera"
    qtbot.waitUntil(lambda: "LOST, reconnecting" in window.status_label.text(), timeout=5_000)


def test_a_bad_source_says_why_then_a_new_source_and_a_new_patient_restart_monitoring(
        qtbot, open_window, tmp_path, no_face_clip, paced):
    window = open_window(tmp_path / "missing.mp4")
    qtbot.waitUntil(lambda: window.ended, timeout=120_000)
    assert "video file not found" in window.control.failure
    tile = window.alarm_bar.tiles[0]  # said loudly: a technical alarm that sounds, not a quiet status
    assert tile.title == "!! CANNOT MONITOR" and tile.technical and "video file not found" in tile.detail
    assert window.gauge.greyed and window.video.banner.startswith("CANNOT MONITOR")
    qtbot.waitUntil(lambda: "technical" in window.sound.names_played(), timeout=5_000)

    window.change_source(str(no_face_clip))
    qtbot.waitUntil(lambda: window.snapshot is not None and window.control.monitoring, timeout=120_000)
    first = window.control.started.session_id
    encounter = window.control.encounter_id
    window.change_alarm_settings(AlarmSettings(t_on=0.7))
    assert window.marker_label.text()
    window.start_new_patient()  # a new encounter with default alarm settings
    qtbot.waitUntil(lambda: window.control.started is not None
                    and window.control.started.session_id != first, timeout=120_000)
    assert window.control.encounter_id != encounter and window.settings.alarms == AlarmSettings()
    assert window.marker_label.text() == "" and window.trend.episode_spans() == []
    assert len(window.trend.getPlotItem().items) == 5  # S and C curves, three threshold lines survive
    engine, session = stored(window)
    assert session.encounter_id == window.control.encounter_id
    assert queries.get_session(engine, first).end_reason == "stopped_by_user"
    actions = [a.action for a in queries.audit(engine)]
    assert actions.count("new_patient") == 1 and "settings_changed" in actions


def test_kiosk_stays_full_screen_and_f11_toggles_otherwise(qtbot, open_window, tmp_path):
    from monitor.ui.live.app import show

    kiosk = open_window(tmp_path / "missing.mp4", kiosk=True)
    with qtbot.waitActive(kiosk):
        show(kiosk, kiosk=True)
    assert kiosk.isFullScreen()
    qtbot.keyClick(kiosk, Qt.Key.Key_Escape)
    qtbot.keyClick(kiosk, Qt.Key.Key_P)  # keys do reach it: P answers that nothing is monitored
    assert kiosk.isFullScreen() and kiosk.last_event_label.text() == "not monitoring: nothing to act on"
    kiosk.close()

    window = open_window(tmp_path / "missing.mp4")
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(window.isFullScreen, timeout=5_000)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5_000)


def test_reminders_and_procedure_end_sound_and_the_unlock_is_audited(qtbot, open_window, no_face_clip,
                                                                    paced):
    from monitor.signal.records import AlarmEvent
    from monitor.ui.live.dialogs import SettingsDialog

    window = open_window(no_face_clip, user="Anna")
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=120_000)
    window.control.worker.drained.emit([AlarmEvent(5.0, PAIN, MEDIUM, "reminder", episode=1),
                                 AlarmEvent(6.0, "MODE", None, "procedure_ended", detail="expired")], [])
    assert window.sound.names_played()[-2:] == ["reminder", "reminder"]
    assert window.last_event_label.text() == "0:06  procedure ended"
    dialog = SettingsDialog(window.settings.alarms, window)
    window.unlock_settings(dialog)
    assert dialog.is_unlocked and dialog.spins["t_on"].isEnabled()
    window.stop_for_signal("SIGTERM")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
    engine, _ = stored(window)
    assert [(a.action, a.user) for a in queries.audit(engine)][-2:] == [
        ("settings_unlocked", "Anna"), ("session_end_signal", "Anna")]


def test_a_new_patient_gets_the_units_settings_and_a_change_without_a_session_is_audited(
        qtbot, open_window, tmp_path, no_face_clip, paced):
    """Issue #24 item 10: the unit chose face_only_priority medium (its TOML file) and T_on 0.7
    (PAINMON_*); a bedside change made while nothing is monitored is audited on its own, and a new
    patient starts with the unit's values, not the code's defaults."""
    unit_file = tmp_path / "unit.toml"
    unit_file.write_text('[alarms]\nface_only_priority = "medium"\n')
    unit = load(unit_file, flags={"store.url": f"sqlite:///{tmp_path / 'unit.db'}"},
                environ={"PAINMON_ALARMS__T_ON": "0.7"})
    assert (unit.alarms.face_only_priority, unit.alarms.t_on) == ("medium", 0.7)
    window = open_window(tmp_path / "missing.mp4", settings=unit)
    qtbot.waitUntil(lambda: window.state is State.ENDED, timeout=120_000)

    edited = unit.alarms.model_copy(update={"face_only_priority": "low", "t_on": 0.65})
    window.change_alarm_settings(edited)  # no session runs: applied for the next one, and audited
    assert window.settings.alarms == edited
    assert window.last_event_label.text() == "alarm settings changed: they apply when monitoring starts"
    engine = open_database(unit.store.url)
    qtbot.waitUntil(lambda: any(a.action == "settings_changed" for a in queries.audit(engine)),
                    timeout=10_000)
    (row,) = [a for a in queries.audit(engine) if a.action == "settings_changed"]
    assert row.session_id is None and row.t is None and row.user == "bedside"
    assert json.loads(row.detail_json)["changed"] == {"face_only_priority": ["medium", "low"],
                                                      "t_on": [0.7, 0.65]}

    window.change_source(str(no_face_clip))
    qtbot.waitUntil(lambda: window.state is State.MONITORING, timeout=120_000)
    first = window.control.started.session_id
    assert from_stored(queries.get_session(engine, first).settings_json).alarms == edited
    window.start_new_patient()
    qtbot.waitUntil(lambda: window.control.started is not None
                    and window.control.started.session_id != first, timeout=120_000)
    assert window.settings.alarms == unit.alarms
    stored = from_stored(queries.get_session(engine, window.control.started.session_id).settings_json)
    assert stored.alarms == unit.alarms and stored.alarms.face_only_priority == "medium"
    marker = window.marker_label.text()  # the unit's values still differ from the code's: marked
    assert "face only priority medium" in marker and "alarm threshold 0.7" in marker
