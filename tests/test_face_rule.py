"""The face-state rule in the alarm engine (ALARMS.md "Face state: eyes closed, relaxed"), on
traces of mesh readings: a relaxed face holds back a face-only PAIN, and nothing else changes.

Readings are FaceActions as the face stage makes them; their values sit well inside each state
of the shipped [face] settings (relaxed: lids and lips together, brow at rest).
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import AlarmSettings, AudioSettings, FaceSettings
from monitor.packets import FaceActions
from monitor.signal.cry import CryWindow
from monitor.signal.engine import AlarmEngine
from monitor.signal.face_rule import NO_LONGER_RELAXED
from monitor.signal.records import RANK

FACE = FaceSettings()
RELAXED = FaceActions(mouth_open=0.02, eye_open=0.02, brow=0.47, covered=0.0, face_score=1.0)
CRYING_FACE = FaceActions(mouth_open=0.25, eye_open=0.03, brow=0.33, covered=0.0, face_score=1.0)
EYES_OPEN = replace(RELAXED, eye_open=0.15)
COVERED = replace(RELAXED, covered=0.9)  # a pacifier: the mesh still draws closed lips
GREY = replace(RELAXED, covered=None)  # infrared: a closed mouth cannot be told from a cover
POOR_FIT = replace(RELAXED, fit_problem="mesh face score 0.02")
UNKNOWN_KINDS = {"covered": COVERED, "grey": GREY, "poor fit": POOR_FIT}
CRY = CryWindow(0.0, 0.9, 0.9, 0.0, -20.0)


def engine(face_only: str = "low") -> AlarmEngine:
    return AlarmEngine(AlarmSettings(face_only_priority=face_only), audio=AudioSettings(
        cry_rule="yamnet_ema"), face=FACE)


def drive(e: AlarmEngine, seconds: float, s_of, reading_of, hz: float = 5.0, cry_of=None):
    """S fed every 0.1 s; a mesh reading every 1/hz s (None: none); cry windows every 0.48 s."""
    events = []
    steps = round(seconds * 100)
    next_reading, next_window = 0.0, 0.975
    for i in range(steps + 1):
        t = i / 100
        if i % 10 == 0:
            e.feed_s(t, s_of(t))
        if t >= next_reading - 1e-9:
            next_reading += 1 / hz
            actions = reading_of(t)
            if actions is not None:
                e.face_actions(t, actions)
        if cry_of is not None and t >= next_window - 1e-9:
            next_window += 0.48
            e.cry_window(replace(CRY, t=t, baby_cry=cry_of(t), sobbing=cry_of(t)))
        got, _ = e.drain()
        events += got
    e.end_session(steps / 100)
    got, records = e.drain()
    return events + got, records


def pain(events):
    return [(round(ev.t, 2), ev.priority, ev.transition, ev.detail) for ev in events
            if ev.kind == "PAIN"]


def test_a_relaxed_face_raises_no_face_only_pain_at_any_priority():
    for face_only in ("low", "medium"):
        e = engine(face_only)
        events, records = drive(e, 40, lambda t: 0.7, lambda t: RELAXED)
        assert pain(events) == [], face_only
        assert records[-1].max_priority == "none" and records[-1].cues == "face"
        assert records[-1].alarm_at is not None  # recorded, as with face_only_priority none


def test_the_expression_score_is_still_shown_while_relaxed():
    e = engine()
    drive(e, 12, lambda t: 0.7, lambda t: RELAXED)
    # (drive ended the session; a fresh engine shows S before the end)
    e = engine()
    for i in range(60):
        e.feed_s(i / 5, 0.7)
        e.face_actions(i / 5, RELAXED)
    assert e.snapshot().s == 0.7 and e.face_state().label == "eyes closed, relaxed"


def test_pain_is_raised_when_the_face_stops_being_relaxed():
    """Eyes open at 20 s: the held-back episode is raised then at face_only_priority."""
    events, _ = drive(engine(), 40, lambda t: 0.7, lambda t: RELAXED if t < 20 else EYES_OPEN)
    raised = pain(events)[0]
    assert raised[1:] == ("low", "raised", NO_LONGER_RELAXED)
    assert 20.0 <= raised[0] <= 20.0 + FACE.tau_s * 3


def test_readings_that_stop_end_relaxed_at_hold_s_without_any_input_then():
    events, _ = drive(engine(), 40, lambda t: 0.7, lambda t: RELAXED if t < 20 else None)
    last_reading = 19.8
    assert pain(events)[0] == (round(last_reading + FACE.hold_s, 2), "low", "raised", NO_LONGER_RELAXED)


def test_a_crying_face_keeps_todays_rules():
    """Mouth wide open, eyes squeezed, brow lowered: not relaxed, face-only PAIN at low at D_on."""
    events, _ = drive(engine(), 30, lambda t: 0.7, lambda t: CRYING_FACE)
    assert pain(events)[0] == (10.0, "low", "raised", "")


def test_a_cry_raises_medium_pain_also_while_the_face_is_relaxed():
    events, _ = drive(engine(), 40, lambda t: 0.7, lambda t: RELAXED,
                      cry_of=lambda t: 0.9 if 15 <= t < 30 else 0.0)
    rows = pain(events)
    assert rows[0][1] == "medium" and "corroborated by cry" in rows[0][3]
    assert 15 < rows[0][0] < 18


# --- properties ----------------------------------------------------------------------------

def plans():
    """A minute of S levels, face readings and cry, in 5 s pieces."""
    piece = st.tuples(st.sampled_from([0.1, 0.5, 0.7, 0.9]),
                      st.sampled_from(["relaxed", "open", "crying", "none", *UNKNOWN_KINDS]),
                      st.booleans())
    return st.lists(piece, min_size=4, max_size=10)


def as_functions(plan, readings: dict):
    def at(t):
        return plan[min(int(t // 5), len(plan) - 1)]
    kinds = {"relaxed": RELAXED, "open": EYES_OPEN, "crying": CRYING_FACE, "none": None, **readings}
    return (lambda t: at(t)[0], lambda t: kinds[at(t)[1]],
            lambda t: 0.9 if at(t)[2] else 0.0)


def first_at(events, least: str):
    """Per episode, the first instant PAIN stood at `least` or above."""
    out = {}
    for ev in events:
        if ev.kind == "PAIN" and ev.priority and RANK[ev.priority] >= RANK[least]:
            out.setdefault(ev.episode, round(ev.t, 2))
    return out


@settings(max_examples=25, deadline=None)
@given(plans())
def test_relaxed_never_lowers_a_corroborated_pain(plan):
    """With or without face readings, PAIN reaches medium and high at the same instants."""
    s_of, reading_of, cry_of = as_functions(plan, UNKNOWN_KINDS)
    seconds = 5 * len(plan)
    with_face, _ = drive(engine(), seconds, s_of, reading_of, cry_of=cry_of)
    without, _ = drive(engine(), seconds, s_of, lambda t: None, cry_of=cry_of)
    for least in ("medium", "high"):
        assert first_at(with_face, least) == first_at(without, least)


@settings(max_examples=25, deadline=None)
@given(plans())
def test_unknown_never_suppresses(plan):
    """Readings that are covered, grey or a poor fit (never relaxed) leave every event as it is
    without any reading."""
    plan = [(s, "covered" if kind == "relaxed" else kind, cry) for s, kind, cry in plan]
    s_of, reading_of, cry_of = as_functions(plan, UNKNOWN_KINDS)
    seconds = 5 * len(plan)
    with_face, _ = drive(engine(), seconds, s_of, reading_of, cry_of=cry_of)
    without, _ = drive(engine(), seconds, s_of, lambda t: None, cry_of=cry_of)
    assert pain(with_face) == pain(without)


@settings(max_examples=15, deadline=None)
@given(plans(), st.sampled_from([2.0, 5.0, 10.0]))
def test_frame_rate_does_not_change_the_outcome(plan, hz):
    """Readings at 2, 5 or 10 a second give the same PAIN transitions, each within one
    reading interval of the 25 a second reference."""
    s_of, reading_of, cry_of = as_functions(plan, UNKNOWN_KINDS)
    seconds = 5 * len(plan)
    reference = pain(drive(engine(), seconds, s_of, reading_of, hz=25.0, cry_of=cry_of)[0])
    sampled = pain(drive(engine(), seconds, s_of, reading_of, hz=hz, cry_of=cry_of)[0])
    assert [row[1:] for row in sampled] == [row[1:] for row in reference]
    for a, b in zip(sampled, reference):
        assert abs(a[0] - b[0]) <= 1 / hz + 0.05
