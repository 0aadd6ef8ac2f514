"""Fusion of the face with the cry and movement cues (ALARMS.md "Cues beyond the face: fusion")."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import AlarmSettings, AudioSettings, MovementSettings
from monitor.signal.cry import CryWindow
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import AlarmState, Snapshot
from monitor.signal.trace import replay_trace

DEFAULTS = AlarmSettings()  # face_only_priority "low"
AUDIO = AudioSettings(cry_rule="yamnet_ema")  # the EMA rule these timings are worked out for
MOVEMENT = MovementSettings()
HOP = 0.5  # between cry windows
LOUD = -20.0  # dBFS: above the loudness gate
CRY = 0.9  # a window's cry score while the infant cries
TRACES = Path(__file__).parent / "data" / "traces"
VIGOROUS = MOVEMENT.vigorous_from * 2


def engine(**changes) -> AlarmEngine:
    return AlarmEngine(AlarmSettings(**changes) if changes else DEFAULTS, audio=AUDIO)


def play(eng: AlarmEngine, t0: float, t1: float, s: float | None = "keep", cry: float | None = None,
         m: float | None = None, step: float = HOP) -> None:
    """From t0 up to (not including) t1: S fed at t0 (unless "keep"), then every `step` a cry
    window scoring `cry` (None: no window) and a movement reading `m` (None: no reading)."""
    if s != "keep":
        eng.feed_s(t0, s)
    n = 1
    while (t := t0 + n * step) < t1 - 1e-9:
        if cry is not None:
            eng.cry_window(CryWindow(t, cry, 0.0, 0.0, LOUD))
        if m is not None:
            eng.movement(t, m)
        n += 1


def alarm(snap: Snapshot, kind: str) -> AlarmState | None:
    found = [a for a in snap.alarms if a.kind == kind]
    assert len(found) <= 1, found
    return found[0] if found else None


def transitions(events, kind: str) -> list[tuple[float, str, str, str]]:
    return [(round(e.t, 3), e.transition, e.priority, e.detail) for e in events if e.kind == kind]


def crying_from(t0: float) -> float:
    """When the cry state turns crying for windows of CRY every HOP from t0 + HOP after quiet:
    the first window whose C reaches cry_on, plus cry_min_s (cry.py)."""
    import math
    first = next(k for k in range(1, 100) if CRY * (1 - math.exp(-k * HOP / AUDIO.tau_s)) >= AUDIO.cry_on)
    return t0 + first * HOP + AUDIO.cry_min_s


# --- PAIN needs corroboration -------------------------------------------------------------------


def test_face_only_pain_is_low_and_never_escalates_by_s_alone():
    eng = engine()
    play(eng, 0, 400, s=0.95, cry=0.0, m=0.0)  # quiet room, still infant, pain face for 400 s
    pain = alarm(eng.snapshot(), "PAIN")
    assert (pain.priority, pain.since, pain.active) == ("low", DEFAULTS.d_on_s, True)
    assert "cues: face" in pain.text
    events, (episode,) = eng.drain()
    assert [tr for _, tr, _, _ in transitions(events, "PAIN")] == ["raised"]
    assert (episode.max_priority, episode.cues) == ("low", "face")


def test_crying_in_the_onset_window_raises_medium_face_plus_cry_and_no_crying_alarm():
    eng = engine()
    play(eng, 0, 60, s=0.7, cry=CRY)
    pain = alarm(eng.snapshot(), "PAIN")
    assert (pain.priority, pain.since) == ("medium", DEFAULTS.d_on_s)
    assert "face + cry" in pain.text
    events, (episode,) = eng.drain()
    assert episode.cues == "face+cry"
    assert transitions(events, "CRYING") == [], "the cry is part of the PAIN alarm"


def test_a_cry_that_stopped_before_the_raise_still_corroborates():
    eng = engine()
    play(eng, 0, 5, s=0.7, cry=CRY)  # crying from 2.5 s until C falls below cry_off
    play(eng, 5, 30, cry=0.0)
    events, (episode,) = eng.drain()
    assert transitions(events, "PAIN")[0] == (DEFAULTS.d_on_s, "raised", "medium", "")
    assert episode.cues == "face+cry"


def test_a_cry_before_the_run_started_does_not_corroborate():
    eng = engine()
    play(eng, 0, 10, s=0.1, cry=CRY)
    play(eng, 10, 25, cry=0.0)  # C below cry_off about 3.3 s after the cry: quiet by 14 s
    assert eng.snapshot().cry_state == "quiet"
    play(eng, 25, 60, s=0.7, cry=0.0)
    _, (episode,) = eng.drain()
    assert (episode.start, episode.max_priority, episode.cues) == (25, "low", "face")


def test_face_only_alarm_is_upgraded_when_crying_comes_later():
    eng = engine()
    play(eng, 0, 20, s=0.7, cry=0.0)
    assert alarm(eng.snapshot(), "PAIN").priority == "low"
    eng.acknowledge(15)
    play(eng, 20, 40, cry=CRY)
    pain = alarm(eng.snapshot(), "PAIN")
    assert pain.priority == "medium" and pain.audible, "a new alarm signal sounds after an ack"
    events, (episode,) = eng.drain()
    assert (crying_from(20), "escalated", "medium", "corroborated by cry") in transitions(events, "PAIN")
    assert (episode.alarm_at, episode.max_priority, episode.cues) == (10, "medium", "face+cry")
    assert transitions(events, "CRYING") == []


def test_upgrade_goes_straight_to_high_when_t_high_was_already_held():
    eng = engine()
    play(eng, 0, 50, s=0.95, cry=0.0)  # T_high held from 0: D_high met at 30, alarm stays low
    assert alarm(eng.snapshot(), "PAIN").priority == "low"
    play(eng, 50, 60, cry=CRY)
    assert alarm(eng.snapshot(), "PAIN").priority == "high"
    events, _ = eng.drain()
    assert (crying_from(50), "escalated", "high", "corroborated by cry") in transitions(events, "PAIN")


def test_corroborated_alarm_escalates_when_unacknowledged():
    eng = engine()
    play(eng, 0, 200, s=0.7, cry=CRY)
    events, _ = eng.drain()
    assert (DEFAULTS.d_on_s + DEFAULTS.escalate_after_s, "escalated", "high",
            f"unacknowledged for {DEFAULTS.escalate_after_s:g} s") in transitions(events, "PAIN")


def test_movement_corroborates_a_face_but_never_alarms_alone():
    eng = engine()
    play(eng, 0, 60, s=0.1, cry=0.0, m=VIGOROUS)
    snap = eng.snapshot()
    assert snap.movement_state == "vigorous" and snap.alarms == ()
    play(eng, 60, 90, s=0.7, cry=0.0, m=VIGOROUS)
    pain = alarm(eng.snapshot(), "PAIN")
    assert (pain.priority, pain.since) == ("medium", 70)
    _, (episode,) = eng.drain()
    assert episode.cues == "face+movement"


def test_still_and_whimper_do_not_corroborate():
    eng = engine()
    whimper = (AUDIO.whimper_on + AUDIO.cry_off) / 2  # C settles between whimper_on and cry_on
    play(eng, 0, 60, s=0.7, cry=whimper, m=0.0)
    snap = eng.snapshot()
    assert (snap.cry_state, snap.movement_state) == ("whimper", "still")
    assert alarm(snap, "PAIN").priority == "low"


def test_unknown_cues_are_neither_for_nor_against():
    eng = engine()
    play(eng, 0, 5, s=0.7, cry=CRY, m=VIGOROUS)  # crying seen in the run's window
    eng.sound(5, False, "microphone lost")
    for k in range(1, 70):
        eng.movement(5 + k * HOP, None, "camera moving")
    snap = eng.snapshot()
    assert (snap.cry_state, snap.cry_reason, snap.c) == ("no_microphone", "microphone lost", None)
    assert (snap.movement_state, snap.movement_reason, snap.m) == ("unknown", "camera moving", None)
    assert alarm(snap, "PAIN").priority == "medium", "lost cues do not take corroboration back"


def test_face_only_priority_medium_is_the_face_rules():
    eng = engine(face_only_priority="medium")
    play(eng, 0, 40, s=0.9, cry=0.0, m=0.0)
    assert alarm(eng.snapshot(), "PAIN").priority == "high", "T_high for D_high escalates"
    _, (episode,) = eng.drain()
    assert (episode.max_priority, episode.cues) == ("high", "face")


def test_face_only_priority_none_records_without_an_alarm_until_corroborated():
    eng = engine(face_only_priority="none")
    play(eng, 0, 30, s=0.7, cry=0.0)
    snap = eng.snapshot()
    assert snap.alarms == () and snap.tone is None
    events, (episode,) = eng.drain()
    assert transitions(events, "PAIN") == []
    assert (episode.alarm_at, episode.max_priority, episode.cues) == (10, "none", "face")
    play(eng, 30, 40, cry=CRY)
    pain = alarm(eng.snapshot(), "PAIN")
    assert (pain.priority, pain.since, pain.audible) == ("medium", crying_from(30), True)
    events, (episode,) = eng.drain()
    assert transitions(events, "PAIN") == [(crying_from(30), "raised", "medium", "corroborated by cry")]
    play(eng, 40, 70, s=0.1, cry=0.0)
    _, (episode,) = eng.drain()
    assert (episode.end, episode.end_reason, episode.max_priority) == (40, "resolved", "medium")


def test_face_only_none_episode_that_ends_alone_neither_sounds_nor_latches():
    eng = engine(face_only_priority="none")
    play(eng, 0, 20, s=0.7)
    play(eng, 20, 60, s=0.1)
    eng.tick(60)
    events, (episode,) = eng.drain()
    assert eng.snapshot().alarms == () and transitions(events, "PAIN") == []
    assert (episode.end, episode.end_reason, episode.max_priority) == (20, "resolved", "none")


def test_a_face_only_priority_change_upgrades_an_open_face_only_alarm():
    eng = engine()
    play(eng, 0, 20, s=0.7, cry=0.0)
    eng.update_settings(20, AlarmSettings(face_only_priority="medium"), "dr_x")
    assert alarm(eng.snapshot(), "PAIN").priority == "medium"
    events, _ = eng.drain()
    assert (20, "escalated", "medium", "face_only_priority changed") in transitions(events, "PAIN")


# --- CRYING --------------------------------------------------------------------------------------


def test_crying_with_the_face_turned_away_raises_crying_then_latches():
    eng = engine()
    play(eng, 0, 10, s=None, cry=0.0)
    play(eng, 10, 40, cry=CRY)
    start = crying_from(10)
    crying = alarm(eng.snapshot(), "CRYING")
    assert (crying.priority, crying.since, crying.audible) == ("medium", start + DEFAULTS.crying_after_s, True)
    assert alarm(eng.snapshot(), "PAIN") is None
    assert not eng.snapshot().tone.technical, "a patient alarm, not a technical one"
    play(eng, 40, 80, cry=0.0)
    crying = alarm(eng.snapshot(), "CRYING")
    assert crying.latched and not crying.active and "not acknowledged" in crying.text
    events, episodes = eng.drain()
    assert episodes == [], "CRYING makes no pain episode"
    ended = [t for t, tr, _, _ in transitions(events, "CRYING") if tr == "ended"]
    last_cry_window = 40 - HOP
    assert ended == [pytest.approx(last_cry_window + 3.5 + DEFAULTS.crying_clear_s)], \
        "C falls below cry_off 3.5 s after the last cry window (0.9 e^(-3.5/1.5) < 0.1)"
    eng.acknowledge(80, "nurse_a", kind="CRYING")
    assert alarm(eng.snapshot(), "CRYING") is None


def test_crying_dips_shorter_than_the_tolerance_pause_the_onset():
    eng = engine()
    play(eng, 0, 5, s=None, cry=0.0)
    play(eng, 5, 11, cry=CRY)  # crying 7.5-11+3.5 s
    play(eng, 11, 13, cry=0.0)  # C stays above cry_off: no dip at all
    play(eng, 13, 40, cry=CRY)
    assert alarm(eng.snapshot(), "CRYING").since == crying_from(5) + DEFAULTS.crying_after_s

    eng = engine()
    play(eng, 0, 5, s=None, cry=0.0)
    play(eng, 5, 11, cry=CRY)
    play(eng, 11, 25, cry=0.0)  # quiet from 14.5 s for longer than dip_tolerance: run reset
    play(eng, 25, 60, cry=CRY)
    assert alarm(eng.snapshot(), "CRYING").since == crying_from(25) + DEFAULTS.crying_after_s


def test_crying_waits_while_the_face_shows_pain_and_the_pain_alarm_carries_it():
    eng = engine()
    play(eng, 0, 5, s=0.1, cry=0.0)
    eng.feed_s(5, 0.65)  # the face shows pain from 5 s; crying from 0 s
    play(eng, 5, 30, s=0.65, cry=CRY)
    events, _ = eng.drain()
    assert transitions(events, "CRYING") == []
    assert transitions(events, "PAIN")[0][:3] == (15, "raised", "medium")


def test_crying_alarm_is_handed_over_to_a_pain_alarm_with_the_cry():
    eng = engine()
    play(eng, 0, 30, s=None, cry=CRY)
    assert alarm(eng.snapshot(), "CRYING").active
    play(eng, 30, 50, s=0.7, cry=CRY)  # the face turns back, showing pain
    snap = eng.snapshot()
    assert alarm(snap, "CRYING") is None and alarm(snap, "PAIN").priority == "medium"
    events, (episode,) = eng.drain()
    assert transitions(events, "CRYING")[-1] == (40, "cleared", "medium", "carried by PAIN")
    assert episode.cues == "face+cry"


def test_crying_raised_when_the_pain_alarm_carrying_it_ends():
    eng = engine()
    play(eng, 0, 20, s=0.7, cry=CRY)
    play(eng, 20, 60, s=0.1, cry=CRY)  # the face calms at 20; the cry goes on
    events, _ = eng.drain()
    pain = transitions(events, "PAIN")
    assert (20 + DEFAULTS.d_off_s, "ended", "medium", "resolved") in pain
    assert transitions(events, "CRYING")[0][:2] == (20 + DEFAULTS.d_off_s, "raised")


def test_crying_during_procedure_is_silent_and_standby_pauses_the_cues():
    eng = engine()
    eng.procedure_start(0, minutes=5, reason="feeding")
    play(eng, 0, 30, s=None, cry=CRY)
    crying = alarm(eng.snapshot(), "CRYING")
    assert crying.active and not crying.audible
    eng.standby_start(30)
    play(eng, 30, 200, cry=CRY, m=VIGOROUS)
    snap = eng.snapshot()
    assert (snap.cry_state, snap.cry_reason, snap.movement_state, snap.movement_reason) == (
        "no_microphone", "standby", "unknown", "standby")
    crying = alarm(snap, "CRYING")
    assert crying.latched and crying.signal_lost, "standby: the raised alarm follows signal loss"
    events, _ = eng.drain()
    assert (30 + DEFAULTS.resume_within_s, "ended", "medium", "signal_lost") in transitions(events, "CRYING")


def test_crying_escalates_when_unacknowledged():
    eng = engine()
    play(eng, 0, 200, s=None, cry=CRY)
    since = crying_from(0) + DEFAULTS.crying_after_s
    events, _ = eng.drain()
    assert (since + DEFAULTS.escalate_after_s, "escalated", "high",
            f"unacknowledged for {DEFAULTS.escalate_after_s:g} s") in transitions(events, "CRYING")


# --- cue inputs ----------------------------------------------------------------------------------


def test_cue_states_in_the_snapshot():
    eng = engine()
    snap = eng.snapshot()
    assert (snap.c, snap.cry_state, snap.cry_reason) == (None, "no_microphone", "no microphone")
    assert (snap.m, snap.movement_state) == (None, "unknown")
    eng.sound(0, True)
    assert eng.snapshot().cry_reason == "no sound yet"
    play(eng, 0.0, 4.0, m=VIGOROUS)
    snap = eng.snapshot()
    assert snap.m == VIGOROUS and snap.movement_state == "vigorous"
    eng.cry_window(CryWindow(4.0, 0.8, 0.3, 0.0, LOUD))
    snap = eng.snapshot()
    assert snap.c == 0.8 and snap.cry_state == "whimper", "the first window starts C; crying needs cry_min_s"
    eng.tick(4.0 + AUDIO.lost_after_s - 0.01)
    assert eng.snapshot().cry_state != "no_microphone"
    eng.tick(4.0 + AUDIO.lost_after_s)
    snap = eng.snapshot()
    assert snap.cry_state == "no_microphone" and snap.c is None, "no windows: unknown by itself"


def test_no_sound_source_and_microphone_lost():
    eng = engine()
    eng.sound(0, False, "no sound track")
    eng.cry_window(CryWindow(1.0, 0.0, 0.0, 0.0, LOUD))
    assert eng.snapshot().cry_state == "quiet"
    eng.technical(2, "MICROPHONE_LOST", True, "device unplugged")
    eng.sound(2, False, "microphone lost")
    snap = eng.snapshot()
    lost = alarm(snap, "MICROPHONE_LOST")
    assert (lost.priority, lost.audible, snap.tone.technical) == ("medium", True, True)
    assert snap.cry_reason == "microphone lost"
    eng.acknowledge(3, kind="MICROPHONE_LOST")
    assert not alarm(eng.snapshot(), "MICROPHONE_LOST").audible
    eng.technical(4, "MICROPHONE_LOST", False)
    assert alarm(eng.snapshot(), "MICROPHONE_LOST") is None


def test_late_cry_window_counts_now():
    eng = engine()
    eng.tick(10)
    eng.cry_window(CryWindow(9.5, 0.5, 0.0, 0.0, LOUD))
    eng.cry_window(CryWindow(9.9, 0.5, 0.0, 0.0, LOUD))  # also late, and not after the first
    snap = eng.snapshot()
    assert snap.t == pytest.approx(10.0, abs=0.01) and snap.cry_state != "no_microphone"


def test_bad_cue_inputs_are_refused():
    eng = engine()
    with pytest.raises(ValueError, match="baby_cry"):
        eng.cry_window(CryWindow(1.0, 1.5, 0.0, 0.0, LOUD))
    with pytest.raises(ValueError, match="movement"):
        eng.movement(1.0, -0.1)
    with pytest.raises(ValueError, match="movement"):
        eng.movement(1.0, float("nan"))


def test_engine_takes_the_cue_settings():
    slow = AlarmEngine(DEFAULTS, audio=AudioSettings(cry_rule="yamnet_ema", cry_min_s=5.0))
    play(slow, 0, 5, s=None, cry=CRY)  # C >= cry_on from the 0.5 s window to the 4.5 s one
    assert slow.snapshot().cry_state == "whimper", "C >= cry_on for less than cry_min_s"
    play(slow, 5, 7, cry=CRY)
    assert slow.snapshot().cry_state == "crying"


# --- subject change ------------------------------------------------------------------------------


def test_subject_change_restarts_s_and_drops_the_onset():
    eng = engine(face_only_priority="medium")
    for i in range(80):  # 8 s of a pain face, not yet alarming
        eng.frame(i / 10, "scored", 0.9)
    eng.subject_changed(8.0, "a parent's face")
    snap = eng.snapshot()
    assert (snap.s, snap.s_reason, snap.f) == (None, "subject_changed", None)
    for i in range(81, 250):
        eng.frame(i / 10, "scored", 0.9)
        if i / 10 < 8.1 + DEFAULTS.d_on_s - 1e-9:
            assert alarm(eng.snapshot(), "PAIN") is None, i
    events, (episode,) = eng.drain()
    assert [(e.t, e.kind, e.transition, e.detail) for e in events if e.kind == "SUBJECT"] == [
        (8.0, "SUBJECT", "subject_changed", "a parent's face")]
    assert (episode.start, episode.alarm_at) == (8.1, pytest.approx(8.1 + DEFAULTS.d_on_s))


def test_subject_change_during_an_alarm_follows_the_signal_lost_rules():
    eng = engine(face_only_priority="medium")
    play(eng, 0, 20, s=0.7)
    eng.subject_changed(20, "another face")
    pain = alarm(eng.snapshot(), "PAIN")
    assert pain.active and pain.signal_lost


# --- worked example ------------------------------------------------------------------------------

EXAMPLE_S = [(0, 0.10), (10, 0.10), (20, 0.62), (30, 0.70), (45, 0.80), (60, 0.50), (70, 0.35),
             (85, 0.30), (90, None)]
EXAMPLE_CRYING = [(34, 50), (100, 125)]  # cry windows score 0.9 here, else 0


def test_worked_example_with_cues_to_the_second():
    """ALARMS.md "Worked example with cues", from its table."""
    eng = engine()
    inputs = [(float(t), 0, "s", s) for t, s in EXAMPLE_S]
    inputs += [(k * HOP, 1, "cry", CRY if any(a <= k * HOP < b for a, b in EXAMPLE_CRYING) else 0.0)
               for k in range(1, 301)]
    inputs += [(45.0, 2, "ack", "nurse_a"), (150.0, 2, "ack", "nurse_b")]
    states = {}
    for t, _, kind, value in sorted(inputs, key=lambda x: x[:2]):
        if kind == "s":
            eng.feed_s(t, value)
        elif kind == "cry":
            eng.cry_window(CryWindow(t, value, 0.0, 0.0, LOUD))
        else:
            eng.acknowledge(t, value)
        states[t] = eng.snapshot().cry_state
    assert [t for t in sorted(states) if states[t] == "crying" and states.get(t - HOP) != "crying"] == [36, 102]
    assert [t for t in sorted(states) if states[t] != "crying" and states.get(t - HOP) == "crying"] == [53, 128]
    eng.end_session(150.5)
    events, (episode,) = eng.drain()
    assert transitions(events, "PAIN") == [
        (30, "raised", "low", ""), (36, "escalated", "medium", "corroborated by cry"),
        (45, "acknowledged", "medium", ""), (85, "ended", "medium", "resolved"),
        (85, "cleared", "medium", "")]
    assert transitions(events, "CRYING") == [
        (112, "raised", "medium", ""), (143, "ended", "medium", "resolved"),
        (143, "latched", "medium", ""), (150, "acknowledged", "medium", ""),
        (150, "cleared", "medium", "latch acknowledged")]
    assert (episode.start, episode.alarm_at, episode.end, episode.end_reason) == (20, 30, 70, "resolved")
    assert (episode.max_priority, episode.cues, episode.ack_at, episode.ack_by) == (
        "medium", "face+cry", 45, "nurse_a")


def test_worked_example_trace_replays_the_same():
    result = replay_trace(TRACES / "fusion_example.csv", DEFAULTS, AUDIO)
    assert result["episodes"] == [{
        "start": 20.0, "alarm_at": 30.0, "end": 70.0, "end_reason": "resolved",
        "max_priority": "medium", "ack_at": 45.0, "ack_by": "nurse_a", "mode": "monitoring",
        "cues": "face+cry"}]
    assert [(e["t"], e["kind"], e["transition"]) for e in result["events"]
            if e["kind"] in ("PAIN", "CRYING")] == [
        (30.0, "PAIN", "raised"), (36.0, "PAIN", "escalated"), (45.0, "PAIN", "acknowledged"),
        (85.0, "PAIN", "ended"), (85.0, "PAIN", "cleared"), (112.0, "CRYING", "raised"),
        (143.0, "CRYING", "ended"), (143.0, "CRYING", "latched"), (150.0, "CRYING", "acknowledged"),
        (150.0, "CRYING", "cleared")]
