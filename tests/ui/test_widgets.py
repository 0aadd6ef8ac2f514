"""The live window's parts without the pipeline: alarm tiles, gauge, sound, settings dialog."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt

from monitor.config import AlarmSettings
from monitor.packets import FaceStatus
from monitor.signal.pain_alarm import PICTURE_ENDED_REASON, SUBJECT_CHANGED_REASON
from monitor.signal.records import (CAMERA_LOST, HIGH, LOW, MEDIUM, PAIN, AlarmState, EpisodeRecord,
                                    Snapshot, Tone)
from monitor.ui.live import words
from monitor.ui.live.alarmbar import AUDIO, STATUS, alarm_tiles
from monitor.cli.window import window_available
from monitor.ui.live.dialogs import SettingsDialog, safe_range
from monitor.ui.live.gauge import Gauge
from monitor.ui.live.options import WindowOptions
from monitor.ui.live.sound import AlarmSound, tone_name


def snapshot(t=100.0, s=0.7, alarms=(), mode="monitoring", paused=None, reason=None, tone=None) -> Snapshot:
    band = None if s is None else (2 if s >= 0.6 else 1 if s >= 0.3 else 0)
    return Snapshot(t=t, s=s, s_reason=reason, s_band=band, s_label=None if s is None else
                    ("calm", "watch", "pain")[band], f=None, f_band=None, mode=mode, mode_until=None,
                    audio_paused_until=paused, alarms=tuple(alarms), tone=tone, reminder_due=False)


def alarm(kind=PAIN, priority=MEDIUM, active=True, latched=False, lost=False, silenced=None,
          episode=1) -> AlarmState:
    return AlarmState(kind, priority, active, latched, lost, active and silenced is None, silenced,
                      80.0, episode if kind == PAIN else None, "")


def episode(start=20.0, end=70.0) -> EpisodeRecord:
    return EpisodeRecord(1, start, 30.0, end, "resolved", 0.9, 0.7, 0.8, 3, MEDIUM, None, None,
                         "monitoring")


def test_patient_and_technical_tiles_differ_in_symbol_colour_and_style():
    tiles = alarm_tiles(snapshot(alarms=[alarm(CAMERA_LOST, MEDIUM), alarm(PAIN, HIGH)]), {}, str)
    pain, camera = tiles
    assert pain.title == "!!! PAIN EXPRESSION" and pain.flashing and not pain.technical
    assert camera.title == "!! CAMERA LOST" and camera.technical
    assert "check the camera" in camera.detail


def test_signal_lost_silenced_latched_and_audio_paused_are_spelled_out():
    lost = alarm_tiles(snapshot(s=None, reason="no_face", alarms=[alarm(lost=True, silenced=160.0)]),
                       {}, str)[0]
    assert "SIGNAL LOST" in lost.detail and "acknowledged, silent 1:00" in lost.detail
    assert not lost.flashing
    latched = alarm_tiles(snapshot(alarms=[alarm(active=False, latched=True)]), {1: episode()},
                          words.SessionTime(None))[0]
    assert latched.title.endswith("LATCHED") and "0:20 to 1:10 not acknowledged" in latched.detail
    paused = alarm_tiles(snapshot(paused=190.0), {}, str)
    assert [t.kind for t in paused] == [STATUS, AUDIO] and "1:30" in paused[1].detail


def test_no_alarm_says_whether_the_monitor_is_watching():
    assert alarm_tiles(snapshot(), {}, str)[0].title == "No alarm"
    blind = alarm_tiles(snapshot(s=None, reason="no_frames"), {}, str)[0]
    assert blind.title == "NOT WATCHING" and blind.detail == "no picture from the camera"
    ended = alarm_tiles(snapshot(alarms=[alarm(active=False, latched=True)]), {1: episode()},
                        words.SessionTime(None), ended=True)
    assert [t.title for t in ended] == ["MONITORING ENDED"] and "was not acknowledged" in ended[0].detail


def test_unknown_s_greys_the_gauge_with_its_reason(qtbot):
    gauge = Gauge(AlarmSettings())
    qtbot.addWidget(gauge)
    gauge.set_state(0.72, 2, "pain", None, 0.4, 2)
    assert not gauge.greyed and gauge.label_text() == "PAIN" and gauge.value_text() == "0.72"
    assert "40%" in gauge.share_text() and "band 2 of 3" in gauge.share_text()
    gauge.set_state(None, None, None, "poor_quality", None, None)
    assert gauge.greyed and gauge.value_text() == "--" and gauge.label_text() == "UNKNOWN"
    assert gauge.reason == "face not clear enough to read" and "unknown" in gauge.share_text()
    gauge.grab()  # paints without error in both states


def test_sound_plays_a_new_signal_at_once_repeats_it_and_stops_on_silence(qtbot):
    sound = AlarmSound(WindowOptions())
    sound.follow(Tone(PAIN, MEDIUM, False))
    sound.follow(Tone(PAIN, MEDIUM, False))  # same signal, inside its repeat interval: no restart
    sound.follow(Tone(PAIN, HIGH, False))  # escalation is a new signal: at once
    assert sound.names_played() == ["medium", "high"]
    sound.follow(None)
    sound.follow(Tone(CAMERA_LOST, MEDIUM, True))
    assert sound.names_played()[-1] == "technical"
    assert tone_name(Tone("NO_FACE", LOW, True)) == "low"
    if not sound.available:
        assert sound.why  # said on screen: this test machine has no audio output


def test_settings_dialog_is_locked_validates_and_explains(qtbot):
    dialog = SettingsDialog(AlarmSettings())
    qtbot.addWidget(dialog)
    assert not dialog.spins["t_on"].isEnabled() and not dialog.apply_button.isEnabled()
    assert "raises the alarm 10 s after S reaches T_on" in dialog.example.text()  # D_on
    dialog.unlock()
    assert dialog.spins["t_on"].isEnabled()
    assert dialog.spins["t_on"].minimum() == 0.4 and safe_range("d_on_s") == (3.0, 60.0)
    dialog.spins["t_off"].setValue(0.7)  # above T_on: refused with the rule in words
    assert "t_off < t_on < t_high" in dialog.error.text() and not dialog.apply_button.isEnabled()
    dialog.spins["t_off"].setValue(0.35)
    dialog.spins["d_on_s"].setValue(12)
    assert dialog.apply_button.isEnabled() and "the alarm 12 s after S reaches T_on" in dialog.example.text()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.result_settings.d_on_s == 12 and dialog.result_settings.t_off == 0.35


@pytest.mark.parametrize("face_only", ["low", "medium"])
def test_the_worked_example_is_what_the_engine_does_with_the_edited_values(qtbot, face_only):
    """ALARMS.md: a face-only alarm is raised D_on after S reaches T_on at face_only_priority; at
    medium it escalates to high after escalate_after unacknowledged, at low it never does by S
    alone (neither by time nor by T_high). The dialog's words must say so for the values shown."""
    cfg = AlarmSettings(face_only_priority=face_only, d_on_s=12, escalate_after_s=90)
    dialog = SettingsDialog(cfg)
    qtbot.addWidget(dialog)
    text = dialog.example.text()
    symbol = {"low": "!", "medium": "!!"}[face_only]
    assert f"raises the alarm {cfg.d_on_s:g} s after S reaches T_on, at {face_only} priority ({symbol})" in text
    assert f"<td>{20 + cfg.d_on_s:g}</td><td></td><td>alarm raised at {face_only} priority" in text
    if face_only == "low":
        assert "it does not escalate" in text and "escalated" not in text
        assert "for 30 s it still stays at low priority (!)" in text  # T_high does not make it high
    else:
        escalated_at = 20 + cfg.d_on_s + cfg.escalate_after_s
        assert f"<td>{escalated_at:g}</td><td></td><td>escalated to high priority (!!!): unacknowledged for 90 s" in text
        assert "escalates 90 s later to high priority (!!!)" in text
        assert "it does not escalate" not in text
    assert "LATCHED" in text  # never acknowledged during the episode

    dialog.unlock()  # the example follows the value being edited, before anything is applied
    other = "medium" if face_only == "low" else "low"
    dialog.face_only.setCurrentText(other)
    assert f"at {other} priority" in dialog.example.text()
    dialog.face_only.setCurrentText("none")
    assert "raises no alarm with these values" in dialog.example.text()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.result_settings.face_only_priority == "none"


def test_a_window_opens_only_where_someone_can_see_it():
    assert not window_available({})
    assert not window_available({"QT_QPA_PLATFORM": "offscreen"})
    assert window_available({"DISPLAY": ":0"})
    assert window_available({"WAYLAND_DISPLAY": "wayland-0"})
    assert window_available({"QT_QPA_PLATFORM": "xcb"})
    assert not window_available({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})


def test_reset_returns_to_the_units_values_not_the_codes_defaults(qtbot):
    """Issue #24 item 10: a unit that chose face-only medium and T_on 0.7 gets those back."""
    unit = AlarmSettings(face_only_priority="medium", t_on=0.7)
    dialog = SettingsDialog(AlarmSettings(face_only_priority="low", t_on=0.65), unit=unit)
    qtbot.addWidget(dialog)
    dialog.unlock()
    qtbot.mouseClick(dialog.reset_button, Qt.MouseButton.LeftButton)
    assert dialog.candidate() == unit and "at medium priority (!!)" in dialog.example.text()


def test_every_reason_the_engine_gives_for_an_unknown_s_is_in_words():
    # the reasons PainAlarm.s_reason() can give: the modes', the subject's, the file's, the camera's,
    # and every unscored face status
    reasons = {"standby", SUBJECT_CHANGED_REASON, PICTURE_ENDED_REASON, "no_frames", "not_started",
               *(status.value for status in FaceStatus if status is not FaceStatus.SCORED)}
    for reason in reasons:
        assert words.unknown_reason(reason) != reason, f"{reason!r} is shown as its code"
