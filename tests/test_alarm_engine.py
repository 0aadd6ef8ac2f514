"""Alarm engine against ALARMS.md: worked example, blind cases, escalation, latching, modes."""

from __future__ import annotations

import pickle

import pytest

from monitor.config import AlarmSettings
from monitor.errors import MonitorError
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import AlarmState, Snapshot

# These tests feed the face alone and assert today's face rules: a face-only episode at medium
# (the fusion rules and face_only_priority's default, low, are tested in tests/test_fusion.py).
DEFAULTS = AlarmSettings(face_only_priority="medium")


def feed(eng: AlarmEngine, *points: tuple[float, float | None]) -> None:
    for t, s in points:
        eng.feed_s(t, s)


def frames(eng: AlarmEngine, t0: float, t1: float, status: str = "scored", p: float | None = None,
           fps: float = 10.0) -> float:
    """Frames every 1/fps from t0 up to (not including) t1; returns t1."""
    n = 0
    while (t := t0 + n / fps) < t1 - 1e-9:
        eng.frame(t, status, p if status == "scored" else None)
        n += 1
    return t1


def ticks(eng: AlarmEngine, t0: float, t1: float, step: float = 0.25) -> None:
    n = 0
    while (t := t0 + n * step) <= t1 + 1e-9:
        eng.tick(t)
        n += 1


def alarm(snap: Snapshot, kind: str) -> AlarmState | None:
    found = [a for a in snap.alarms if a.kind == kind]
    assert len(found) <= 1, found
    return found[0] if found else None


def transitions(events, kind: str = "PAIN") -> list[tuple[float, str]]:
    return [(round(e.t, 3), e.transition) for e in events if e.kind == kind]


def raised_pain(s: float = 0.7, until: float = 10.0) -> AlarmEngine:
    """An engine whose pain alarm is raised at t=10 (S fed from t=0)."""
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0.0, s), (until, s))
    assert alarm(eng.snapshot(), "PAIN").active
    return eng


# --- worked example ---------------------------------------------------------------------------


def test_worked_example_to_the_second():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.10), (10, 0.10), (20, 0.62))
    assert alarm(eng.snapshot(), "PAIN") is None
    feed(eng, (29.9, 0.65))
    assert alarm(eng.snapshot(), "PAIN") is None, "raised before D_on accumulated"
    feed(eng, (30, 0.70))
    pain = alarm(eng.snapshot(), "PAIN")
    assert (pain.priority, pain.active, pain.audible, pain.since) == ("medium", True, True, 30)
    assert eng.snapshot().tone.kind == "PAIN"
    feed(eng, (45, 0.80))
    eng.acknowledge(45, "nurse_a")
    pain = alarm(eng.snapshot(), "PAIN")
    assert pain.silenced_until == 165 and not pain.audible and pain.active
    feed(eng, (60, 0.50), (70, 0.35), (84.9, 0.33))
    assert alarm(eng.snapshot(), "PAIN").active
    feed(eng, (85, 0.30))
    assert alarm(eng.snapshot(), "PAIN") is None
    events, episodes = eng.drain()
    assert transitions(events) == [(30, "raised"), (45, "acknowledged"), (85, "ended"), (85, "cleared")]
    (ep,) = episodes
    assert (ep.number, ep.start, ep.alarm_at, ep.end, ep.end_reason) == (1, 20, 30, 70, "resolved")
    assert (ep.ack_at, ep.ack_by, ep.max_priority, ep.mode) == (45, "nurse_a", "medium", "monitoring")
    assert ep.peak_s == 0.80
    # time-weighted mean of S over 20..70 (S held between feeds), over 50 s
    assert ep.mean_s == pytest.approx((0.62 * 9.9 + 0.65 * 0.1 + 0.70 * 15 + 0.80 * 15 + 0.50 * 10) / 50)


# --- onset run --------------------------------------------------------------------------------


def test_dip_shorter_than_tolerance_pauses_the_run():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.7), (6, 0.5), (10, 0.7))  # 6 s on, 4 s dip, then 4 s more
    feed(eng, (13.9, 0.7))
    assert alarm(eng.snapshot(), "PAIN") is None
    feed(eng, (14, 0.7))
    assert alarm(eng.snapshot(), "PAIN").since == 14
    assert eng.drain()[1][0].start == 0


def test_dip_longer_than_tolerance_resets_the_run():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.7), (6, 0.5), (12, 0.7), (21.9, 0.7))  # a 6 s dip: run restarts at 12
    assert alarm(eng.snapshot(), "PAIN") is None
    feed(eng, (22, 0.7))
    assert eng.drain()[1][0].start == 12


def test_s_at_t_off_resets_the_run():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.7), (8, 0.4), (9, 0.7), (18.9, 0.7))
    assert alarm(eng.snapshot(), "PAIN") is None
    feed(eng, (19, 0.7))
    assert alarm(eng.snapshot(), "PAIN") is not None


def test_raise_happens_between_sparse_inputs_at_its_own_instant():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.7), (25, 0.7))
    events, _ = eng.drain()
    assert transitions(events) == [(10, "raised")]


# --- priority ---------------------------------------------------------------------------------


def test_escalates_on_t_high_for_d_high_even_if_acknowledged():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.9), (15, 0.9))
    eng.acknowledge(15, "nurse_b")
    feed(eng, (29.9, 0.9))
    assert alarm(eng.snapshot(), "PAIN").priority == "medium"
    feed(eng, (30, 0.9))
    pain = alarm(eng.snapshot(), "PAIN")
    assert (pain.priority, pain.audible, pain.silenced_until) == ("high", True, None)
    events, (ep,) = eng.drain()
    assert (30, "escalated") in transitions(events)
    assert ep.max_priority == "high"


def test_t_high_time_accumulates_across_dips():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.9), (20, 0.7), (40, 0.9), (49.9, 0.9))
    assert alarm(eng.snapshot(), "PAIN").priority == "medium"
    feed(eng, (50, 0.9))
    assert alarm(eng.snapshot(), "PAIN").priority == "high"


def test_escalates_when_unacknowledged_for_escalate_after_and_ack_restarts_the_timer():
    eng = raised_pain()
    feed(eng, (129.9, 0.7))
    assert alarm(eng.snapshot(), "PAIN").priority == "medium"
    feed(eng, (130, 0.7))
    assert alarm(eng.snapshot(), "PAIN").priority == "high"

    eng = raised_pain()
    eng.acknowledge(60, "nurse_c")
    feed(eng, (179.9, 0.7))
    assert alarm(eng.snapshot(), "PAIN").priority == "medium"
    feed(eng, (180, 0.7))
    pain = alarm(eng.snapshot(), "PAIN")
    assert pain.priority == "high" and pain.audible


def test_silence_ends_and_audio_returns_at_current_priority():
    eng = raised_pain()
    eng.acknowledge(20, "nurse_a")
    feed(eng, (139.9, 0.7))
    assert not alarm(eng.snapshot(), "PAIN").audible
    feed(eng, (140, 0.7))
    pain = alarm(eng.snapshot(), "PAIN")
    assert pain.audible and pain.silenced_until is None and pain.priority == "high"
    assert (140, "silence_ended") in transitions(eng.drain()[0])


# --- latching ---------------------------------------------------------------------------------


def test_unacknowledged_episode_latches_with_reminders_until_acknowledged():
    eng = raised_pain()
    feed(eng, (20, 0.3), (35, 0.3))  # clears at 35, never acknowledged
    pain = alarm(eng.snapshot(), "PAIN")
    assert pain.latched and not pain.active and not pain.audible
    assert "not acknowledged" in pain.text and pain.episode == 1
    feed(eng, (154.9, 0.3))
    assert not eng.snapshot().reminder_due
    feed(eng, (155, 0.3))
    assert eng.snapshot().reminder_due
    feed(eng, (156, 0.3))
    assert not eng.snapshot().reminder_due, "a reminder is due once, not for ever"
    feed(eng, (400, 0.3))
    events, _ = eng.drain()
    assert [t for t, tr in transitions(events) if tr == "reminder"] == [155, 275, 395]
    assert (35, "latched") in transitions(events)
    eng.acknowledge(410, "nurse_d")
    assert alarm(eng.snapshot(), "PAIN") is None
    events, (ep,) = eng.drain()
    assert transitions(events) == [(410, "acknowledged"), (410, "cleared")]
    assert (ep.ack_at, ep.ack_by, ep.end_reason) == (410, "nurse_d", "resolved")


def test_acknowledged_episode_does_not_latch():
    eng = raised_pain()
    eng.acknowledge(12)
    feed(eng, (20, 0.3), (35, 0.3))
    assert alarm(eng.snapshot(), "PAIN") is None
    assert eng.drain()[1][0].ack_by == "bedside"


def test_escalation_after_acknowledge_needs_a_new_acknowledge_to_avoid_latching():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.9))
    eng.acknowledge(12)
    feed(eng, (31, 0.3), (46, 0.3))  # escalated at 30 (new signal), ended unacknowledged
    assert alarm(eng.snapshot(), "PAIN").latched


# --- audio pause ------------------------------------------------------------------------------


def test_audio_pause_silences_everything_for_at_most_its_maximum():
    eng = raised_pain()
    eng.audio_pause(20, "nurse_a")
    snap = eng.snapshot()
    assert snap.audio_paused_until == 140 and snap.tone is None
    assert alarm(snap, "PAIN").active, "audio pause never hides the visual signal"
    eng.audio_pause(100, "nurse_a")  # a second press restarts the countdown, never beyond the max
    assert eng.snapshot().audio_paused_until == 220
    feed(eng, (219.9, 0.7))
    assert eng.snapshot().tone is None
    feed(eng, (220, 0.7))
    assert eng.snapshot().audio_paused_until is None and eng.snapshot().tone.kind == "PAIN"
    events, _ = eng.drain()
    assert [(round(e.t), e.transition, e.user) for e in events if e.kind == "AUDIO"] == [
        (20, "audio_paused", "nurse_a"), (100, "audio_paused", "nurse_a"), (220, "audio_resumed", None)]


def test_reminder_due_during_audio_pause_sounds_when_the_pause_ends():
    eng = raised_pain()
    feed(eng, (20, 0.3), (35, 0.3))  # latched at 35, first reminder due at 155
    eng.audio_pause(100)
    feed(eng, (219, 0.3))
    events, _ = eng.drain()
    assert "reminder" not in [tr for _, tr in transitions(events)]
    feed(eng, (220, 0.3))
    assert eng.snapshot().reminder_due
    assert (220, "reminder") in transitions(eng.drain()[0])


# --- losing the picture -----------------------------------------------------------------------


def test_frames_stop_during_alarm_camera_lost_within_2s_and_pain_stays_raised_as_signal_lost():
    eng = AlarmEngine(DEFAULTS)
    last = frames(eng, 0, 20, p=0.8) - 0.1  # last frame at 19.9
    ticks(eng, 20, 21.75)
    assert alarm(eng.snapshot(), "CAMERA_LOST") is None
    eng.tick(21.9)
    camera = alarm(eng.snapshot(), "CAMERA_LOST")
    assert camera is not None and camera.priority == "medium"
    assert DEFAULTS.camera_lost_after_s <= 2
    assert camera.since - last == pytest.approx(DEFAULTS.camera_lost_after_s)
    ticks(eng, 22, 40)
    snap = eng.snapshot()
    pain = alarm(snap, "PAIN")
    assert pain.active and pain.signal_lost and pain.audible and pain.priority == "medium"
    assert "signal lost" in pain.text
    assert snap.s is None and snap.s_reason == "no_frames"
    assert alarm(snap, "NO_FACE") is None, "no NO_FACE on top of CAMERA_LOST"
    events, _ = eng.drain()
    assert (24.9, "signal_lost") in transitions(events)
    frames(eng, 40, 41, p=0.8)
    assert alarm(eng.snapshot(), "CAMERA_LOST") is None
    assert not alarm(eng.snapshot(), "PAIN").signal_lost


def test_face_lost_for_30s_continues_one_episode():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 20, p=0.8)
    frames(eng, 20, 50, status="no_face")
    snap = eng.snapshot()
    assert snap.s is None and snap.s_reason == "no_face"
    assert alarm(snap, "PAIN").signal_lost and alarm(snap, "NO_FACE") is not None
    frames(eng, 50, 60, p=0.8)
    frames(eng, 60, 80, p=0.1)
    events, episodes = eng.drain()
    assert [tr for _, tr in transitions(events)] == [
        "raised", "signal_lost", "signal_resumed", "ended", "latched"]
    assert {ep.number for ep in episodes} == {1}
    assert episodes[-1].end_reason == "resolved"


def test_face_lost_for_90s_ends_signal_lost_and_latches_until_acknowledged():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 15, p=0.8)
    eng.acknowledge(15, "nurse_a")  # even an acknowledged alarm latches on signal loss
    frames(eng, 15, 20, p=0.8)
    frames(eng, 20, 110, status="no_face")
    snap = eng.snapshot()
    pain = alarm(snap, "PAIN")
    assert pain.latched and not pain.active and pain.signal_lost
    events, (ep,) = eng.drain()
    lost_at = 19.9 + DEFAULTS.stale_after_s
    assert (ep.end_reason, ep.end) == ("signal_lost", pytest.approx(lost_at))
    assert (ep.ack_at, ep.ack_by) == (15, "nurse_a")
    assert (round(lost_at + DEFAULTS.resume_within_s, 3), "ended") in transitions(events)
    frames(eng, 110, 200, p=0.1)
    assert alarm(eng.snapshot(), "PAIN").latched, "latched until acknowledged"
    eng.acknowledge(200, "nurse_b")
    assert alarm(eng.snapshot(), "PAIN") is None
    assert transitions(eng.drain()[0]) == [(200, "acknowledged"), (200, "cleared")]


def test_unknown_s_never_resolves_an_episode():
    eng = raised_pain()
    feed(eng, (20, 0.3), (25, None), (200, None))  # low for 5 s, then unknown
    _, (ep,) = eng.drain()
    assert ep.end_reason == "signal_lost"


def test_end_timer_pauses_while_s_unknown():
    eng = raised_pain()
    feed(eng, (20, 0.3), (25, None), (35, 0.3), (44.9, 0.3))
    assert alarm(eng.snapshot(), "PAIN").active
    feed(eng, (45, 0.3))  # 5 s + 10 s of known S <= T_off
    _, (ep,) = eng.drain()
    assert (ep.end, ep.end_reason) == (20, "resolved")


def test_s_restarts_from_the_first_p_after_stale():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 5, p=0.2)
    frames(eng, 5, 10, p=0.9)
    assert 0.2 < eng.snapshot().s < 0.9
    frames(eng, 10, 16, status="poor_quality")
    snap = eng.snapshot()
    assert snap.s is None and snap.s_reason == "poor_quality" and snap.s_band is None
    eng.frame(16, "scored", 0.33)
    assert eng.snapshot().s == 0.33
    frames(eng, 16.1, 16.5, status="no_face")
    assert eng.snapshot().s == 0.33, "unscored frames leave S unchanged"


def test_s_is_time_weighted_not_frame_weighted():
    values = []
    for fps in (10, 30):
        eng = AlarmEngine(DEFAULTS)
        frames(eng, 0, 2, p=0.0, fps=fps)
        frames(eng, 2, 5, p=1.0, fps=fps)
        values.append(eng.snapshot().s)
    assert values[0] == pytest.approx(values[1], abs=0.02)
    assert values[0] == pytest.approx(1 - 2.718281828 ** (-3 / DEFAULTS.tau_s), abs=0.03)


def test_s_band_and_label():
    eng = AlarmEngine(DEFAULTS)
    assert eng.snapshot().s_reason == "not_started"
    for s, band, label in ((0.1, 0, "calm"), (0.3, 1, "watch"), (0.6, 2, "pain")):
        eng.feed_s(eng.snapshot().t + 1, s)
        snap = eng.snapshot()
        assert (snap.s_band, snap.s_label) == (band, label)


# --- F ------------------------------------------------------------------------------------------


def test_f_is_the_pain_face_time_share_with_its_band():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 14, p=0.9)
    assert eng.snapshot().f is None, "less than half of W scored"
    frames(eng, 14, 18, p=0.1)
    frames(eng, 18, 30, p=0.3)
    snap = eng.snapshot()
    assert snap.f == pytest.approx(14 / 30, abs=0.01) and snap.f_band == 2
    frames(eng, 30, 40, status="no_face")  # no frames scored: the share is of scored time only
    assert eng.snapshot().f == pytest.approx(4.1 / 20.1), "a share of scored time only"
    frames(eng, 40, 80, p=0.1)
    assert eng.snapshot().f == 0.0 and eng.snapshot().f_band == 0


def test_f_bands_follow_pipp_r_cut_offs():
    from monitor.signal.smoothing import face_band
    assert [face_band(f) for f in (0.0, 0.09, 0.10, 0.39, 0.40, 0.69, 0.70, 1.0, None)] == [
        0, 0, 1, 1, 2, 2, 3, 3, None]


def test_episode_records_the_highest_f():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 30, p=0.2)
    frames(eng, 30, 60, p=0.95)
    frames(eng, 60, 90, p=0.1)
    _, (ep,) = eng.drain()
    assert ep.max_share == pytest.approx(1.0, abs=0.01) and ep.max_band == 3


# --- technical alarms ---------------------------------------------------------------------------


def test_no_face_low_then_medium_after_blind_escalate():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 9.9, status="no_face")
    assert alarm(eng.snapshot(), "NO_FACE") is None
    frames(eng, 9.9, 10.1, status="no_face")
    no_face = alarm(eng.snapshot(), "NO_FACE")
    assert (no_face.priority, no_face.since, no_face.audible) == ("low", 10, True)
    assert eng.snapshot().tone.technical
    frames(eng, 10.1, 311, status="no_face", fps=2)
    assert alarm(eng.snapshot(), "NO_FACE").priority == "medium"
    eng.frame(311, "scored", 0.2)
    assert alarm(eng.snapshot(), "NO_FACE") is None


def test_poor_signal_when_faces_fail_the_quality_gate():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 11, status="poor_quality")
    snap = eng.snapshot()
    assert alarm(snap, "POOR_SIGNAL").priority == "low" and alarm(snap, "NO_FACE") is None


def test_camera_lost_report_holds_until_reported_ok():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 1, p=0.2)
    eng.technical(1, "CAMERA_LOST", True, "frozen image")
    frames(eng, 1, 5, p=0.2)
    assert alarm(eng.snapshot(), "CAMERA_LOST") is not None
    eng.technical(5, "CAMERA_LOST", False)
    assert alarm(eng.snapshot(), "CAMERA_LOST") is None
    events, _ = eng.drain()
    assert [(e.transition, e.detail) for e in events if e.kind == "CAMERA_LOST"] == [
        ("raised", "frozen image"), ("cleared", "")]


def test_storage_failing_after_its_delay_and_medium_past_half_buffer():
    eng = AlarmEngine(DEFAULTS)
    eng.technical(0, "STORAGE_FAILING", True)
    eng.tick(4.9)
    assert alarm(eng.snapshot(), "STORAGE_FAILING") is None
    eng.tick(5.0)
    assert alarm(eng.snapshot(), "STORAGE_FAILING").priority == "low"
    eng.technical(6, "STORAGE_BUFFER_HALF", True)
    assert alarm(eng.snapshot(), "STORAGE_FAILING").priority == "medium"
    eng.technical(7, "STORAGE_FAILING", False)
    assert alarm(eng.snapshot(), "STORAGE_FAILING") is None


def test_a_full_disk_is_storage_failing_at_once():
    # issue #24 item 3: a locked database gets storage_failing_after_s to pass; a full disk does not pass
    eng = AlarmEngine(DEFAULTS)
    eng.technical(0, "STORAGE_FAILING", True, "database or disk is full")
    eng.technical(0, "STORAGE_FULL", True)
    assert alarm(eng.snapshot(), "STORAGE_FAILING").priority == "low"
    eng.technical(2, "STORAGE_FULL", False)
    eng.technical(2, "STORAGE_FAILING", False)
    assert alarm(eng.snapshot(), "STORAGE_FAILING") is None
    events, _ = eng.drain()
    assert [(e.t, e.transition) for e in events if e.kind == "STORAGE_FAILING"] == [
        (0.0, "raised"), (2.0, "cleared")]


def test_pipeline_and_model_reports_are_medium_and_acknowledged_per_kind():
    eng = raised_pain()
    eng.technical(11, "MODEL_ERROR", True, "NaN output")
    eng.technical(11, "PIPELINE_STALLED", True)
    eng.acknowledge(12, "nurse_a", kind="MODEL_ERROR")
    snap = eng.snapshot()
    assert not alarm(snap, "MODEL_ERROR").audible and alarm(snap, "PIPELINE_STALLED").audible
    assert alarm(snap, "PAIN").audible
    with pytest.raises(ValueError):
        eng.technical(13, "DISK_FULL", True)


# --- merging ------------------------------------------------------------------------------------


def test_onset_within_merge_within_reopens_the_episode():
    eng = raised_pain()
    eng.acknowledge(12)
    feed(eng, (20, 0.3), (35, 0.3))  # episode 20, cleared at 35
    _, (ep,) = eng.drain()
    assert (ep.end, ep.end_reason) == (20, "resolved")
    feed(eng, (45, 0.9), (55, 0.9))  # run starts 25 s after the end
    events, (ep,) = eng.drain()
    assert (ep.number, ep.end, ep.end_reason) == (1, None, None)
    assert transitions(events) == [(55, "raised")]
    feed(eng, (60, 0.3), (75, 0.3))
    _, (ep,) = eng.drain()
    assert (ep.number, ep.start, ep.end, ep.end_reason) == (1, 0, 60, "resolved")


def test_onset_after_merge_within_starts_a_new_episode():
    eng = raised_pain()
    feed(eng, (20, 0.3), (35, 0.3), (50.5, 0.9), (60.5, 0.9))
    _, episodes = eng.drain()
    assert [ep.number for ep in episodes] == [1, 2]
    assert episodes[1].start == 50.5


def test_a_subject_change_ends_merging_across_it():
    """Issue #24 item 5: another person's pain face within merge_within of the previous
    subject's episode is a new episode, not the old one re-opened."""
    eng = raised_pain()
    feed(eng, (20, 0.3), (35, 0.3))  # episode 1 ends at 20, cleared at 35
    _, (ep,) = eng.drain()
    assert (ep.number, ep.end, ep.end_reason) == (1, 20, "resolved")
    eng.subject_changed(40, "another face took over")
    feed(eng, (45, 0.9), (55, 0.9))  # a run 25 s after the end: would merge without the change
    events, episodes = eng.drain()
    assert [(ep.number, ep.start, ep.end) for ep in episodes] == [(2, 45, None)]
    assert ("raised", "") in [(e.transition, e.detail) for e in events if e.kind == "PAIN"]
    feed(eng, (60, 0.3), (75, 0.3))
    _, (ep,) = eng.drain()
    assert (ep.number, ep.start, ep.end, ep.end_reason) == (2, 45, 60, "resolved")


def test_reopened_episode_keeps_its_priority():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.9), (31, 0.3), (46, 0.3))  # high at 30, latched at 46
    feed(eng, (50, 0.7), (60, 0.7))
    pain = alarm(eng.snapshot(), "PAIN")
    assert pain.active and not pain.latched and pain.priority == "high"


# --- modes --------------------------------------------------------------------------------------


def test_procedure_records_episode_suppresses_pain_audio_not_technical_and_ends_by_itself():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 5, p=0.1)
    eng.procedure_start(5, minutes=2, reason="heel lance", user="nurse_a")
    frames(eng, 5, 30, p=0.9)
    snap = eng.snapshot()
    assert (snap.mode, snap.mode_until) == ("procedure", 125)
    pain = alarm(snap, "PAIN")
    assert pain.active and not pain.audible and snap.tone is None
    ticks(eng, 30, 33)  # frames stop: CAMERA_LOST still sounds
    snap = eng.snapshot()
    assert alarm(snap, "CAMERA_LOST").audible and snap.tone.kind == "CAMERA_LOST"
    frames(eng, 33, 60, p=0.1)
    ticks(eng, 60, 130)
    assert eng.snapshot().mode == "monitoring"
    events, episodes = eng.drain()
    assert episodes[-1].mode == "procedure" and episodes[-1].end_reason == "resolved"
    mode_events = [(e.t, e.transition, e.user, e.detail) for e in events if e.kind == "MODE"]
    assert mode_events == [(5, "procedure_started", "nurse_a", "heel lance; 2 min"),
                           (125, "procedure_ended", None, "expired")]
    assert alarm(eng.snapshot(), "PAIN") is None, "an episode during a procedure does not latch"


def test_procedure_end_by_hand_returns_pain_audio():
    eng = raised_pain()
    eng.procedure_start(12)
    assert eng.snapshot().mode_until == 12 + DEFAULTS.procedure_default_min * 60
    assert not alarm(eng.snapshot(), "PAIN").audible
    eng.procedure_end(20, "nurse_a")
    assert alarm(eng.snapshot(), "PAIN").audible
    assert eng.drain()[1][0].mode == "procedure"


def test_procedure_duration_is_bounded():
    eng = AlarmEngine(DEFAULTS)
    with pytest.raises(MonitorError, match="at most 30"):
        eng.procedure_start(0, minutes=45)
    with pytest.raises(MonitorError, match="more than 0"):
        eng.procedure_start(0, minutes=0)


def test_standby_pauses_monitoring_and_reminds_when_overdue():
    eng = AlarmEngine(DEFAULTS)
    frames(eng, 0, 5, p=0.2)
    eng.standby_start(5, "nurse_a")
    frames(eng, 5, 60, status="no_face", fps=2)
    snap = eng.snapshot()
    assert (snap.mode, snap.s, snap.s_reason, snap.f) == ("standby", None, "standby", None)
    assert alarm(snap, "NO_FACE") is None
    frames(eng, 60, 80, p=0.95, fps=2)
    assert alarm(eng.snapshot(), "PAIN") is None, "no pain alarm while the infant is out of the cot"
    overdue = 5 + DEFAULTS.standby_max_min * 60
    ticks(eng, 80, overdue - 0.25, step=5)
    assert not any(e.transition == "standby_overdue" for e in eng.drain()[0])
    eng.tick(overdue)
    assert eng.snapshot().reminder_due
    eng.standby_end(overdue + 10, "nurse_b")
    snap = eng.snapshot()
    assert snap.mode == "monitoring" and snap.mode_until is None
    events, _ = eng.drain()
    assert [(e.transition, e.user) for e in events if e.kind == "MODE"] == [
        ("standby_overdue", None), ("standby_ended", "nurse_b")]
    eng.frame(overdue + 11, "no_face")
    assert alarm(eng.snapshot(), "NO_FACE") is None, "blind timers restart after standby"


# --- settings, session --------------------------------------------------------------------------


def test_settings_change_is_an_audited_event_and_applies_from_then():
    eng = AlarmEngine(DEFAULTS)
    feed(eng, (0, 0.65))
    eng.audio_pause(1)
    changed = AlarmSettings(t_on=0.7, audio_pause_max_s=30.0, face_only_priority="medium")
    eng.update_settings(2, changed, "dr_x")
    events, _ = eng.drain()
    (change,) = [e for e in events if e.kind == "SETTINGS"]
    assert (change.transition, change.user, change.t) == ("settings_changed", "dr_x", 2)
    assert "t_on: 0.6 -> 0.7" in change.detail and "audio_pause_max_s" in change.detail
    assert "t_off" not in change.detail
    assert eng.snapshot().audio_paused_until == 32, "a shorter maximum shortens the running pause"
    feed(eng, (30, 0.65))
    assert alarm(eng.snapshot(), "PAIN") is None, "0.65 is below the new T_on"
    eng.update_settings(31, changed, "dr_x")
    assert eng.drain()[0] == [], "no change, no event"


def test_end_session_ends_the_open_episode_and_refuses_more_input():
    eng = raised_pain()
    eng.end_session(50, "stopped_by_user")
    events, (ep,) = eng.drain()
    assert (ep.end, ep.end_reason) == (50, "session_ended")
    assert [(e.kind, e.transition, e.detail) for e in events][-1] == ("SESSION", "ended", "stopped_by_user")
    with pytest.raises(RuntimeError, match="after the monitoring session ended"):  # a caller's bug, not bad input
        eng.tick(51)


def test_drain_returns_latest_copy_of_each_changed_episode_once():
    eng = raised_pain()
    eng.acknowledge(11, "nurse_a")
    _, episodes = eng.drain()
    assert len(episodes) == 1 and episodes[0].ack_by == "nurse_a"
    assert eng.drain() == ([], [])


def test_invalid_inputs_are_refused():
    eng = AlarmEngine(DEFAULTS)
    with pytest.raises(ValueError, match=r"p must be within 0\.\.1 \(got 1\.5\)"):
        eng.frame(0, "scored", 1.5)
    with pytest.raises(ValueError, match="p must be given exactly for scored frames"):
        eng.frame(0, "scored")
    with pytest.raises(ValueError, match=r"exactly for scored frames \(status no_face, p 0\.5\)"):
        eng.frame(0, "no_face", 0.5)
    with pytest.raises(ValueError, match="'blurred' is not a valid FaceStatus"):
        eng.frame(0, "blurred")
    with pytest.raises(ValueError, match=r"session time must be a finite number of seconds \(got nan\)"):
        eng.tick(float("nan"))
    events, episodes = eng.drain()
    assert [e.transition for e in events] == ["started"] and episodes == [], "refused inputs change nothing"


def test_a_snapshot_only_reads():
    """Issue #24 item 8: snapshot() changes nothing, so the screen (another thread) may take one
    at any time: the engine's whole state is the same before and after, and a run with a
    snapshot after every input hands out what a run without them does."""
    from monitor.signal.cry import CryWindow

    def session(eng: AlarmEngine, look) -> None:
        eng.sound(0, True)
        for i in range(400):  # 40 s of a pain face, crying and moving over 10-20 s
            t = i / 10
            eng.frame(t, "scored", 0.9 if 5 <= t < 30 else 0.1)
            look()
            if i % 5 == 0:
                eng.cry_window(CryWindow(t + 0.975, 0.9 if 10 <= t < 20 else 0.0, 0.0, 0.0, -20.0))
                look()
            eng.movement(t, 0.01 if 10 <= t < 20 else 0.0)
            look()
        for i in range(40):  # then only ticks: the camera is lost, F's window moves on
            eng.tick(40 + i * 0.5)
            look()
        eng.acknowledge(61, "nurse_a")
        look()

    watched, plain = AlarmEngine(AlarmSettings()), AlarmEngine(AlarmSettings())

    def look() -> None:
        before = pickle.dumps(watched)
        first, second = watched.snapshot(), watched.snapshot()
        assert first == second
        assert pickle.dumps(watched) == before, f"snapshot() changed the engine at {first.t}"

    session(watched, look)
    session(plain, lambda: None)
    assert watched.drain() == plain.drain()
    assert watched.snapshot() == plain.snapshot()


def test_late_input_is_handled_now_not_in_the_past():
    eng = raised_pain()
    eng.tick(20)
    eng.frame(19.9, "scored", 0.7)  # a frame scored after the watchdog tick
    assert eng.snapshot().t == 20
