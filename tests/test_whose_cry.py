"""Whose cry (ALARMS.md "Whose cry", issue 22): a cry heard while this infant's face is in view and
calm is another infant's; it raises no CRYING and corroborates no PAIN, and says so.

Constructed inputs (the rule's own timing); the real material runs in test_cry_detector_clips.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitor.config import AlarmSettings, AudioSettings, FaceSettings, from_stored
from monitor.packets import FaceActions
from monitor.signal.cry import CryWindow
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import CRYING, EventKind, Transition
from monitor.signal.whose_cry import FACE_SEEN_WITHIN_S

AUDIO = AudioSettings()
ALARMS = AlarmSettings()
CALM, PAIN_FACE = 0.05, 0.8
FPS = 10
HOP = 0.48


def session(until: float, face, audio: AudioSettings = AUDIO, mouth_open=None):
    """Frames every 1/FPS s (face(t): p, or None for no face) and loud cry windows every HOP s
    from 10 s on, each heard as crying by the detector; returns the drained events, episodes
    and the cry states seen."""
    eng = AlarmEngine(ALARMS, audio=audio)
    eng.sound(0.0, True)
    frame_times = {round(k / FPS, 6) for k in range(int(until * FPS))}
    window_times = {round(10.0 + k * HOP, 6) for k in range(int((until - 10.0) / HOP))}
    states = set()
    for t in sorted(frame_times | window_times):
        if t in window_times:
            eng.cry_window(CryWindow(t, 0.0, 0.0, 0.0, -20.0, 0.95))
        if t in frame_times:
            p = face(t)
            if p is not None and mouth_open is not None:  # the face stage's reading of the mouth
                eng.face_actions(t, FaceActions(mouth_open(t), 0.3, 0.6, 0.0, 0.99))
            eng.frame(t, "no_face") if p is None else eng.frame(t, "scored", p)
        states.add(eng.snapshot().cry_state)
    eng.end_session(until)
    events, episodes = eng.drain()
    return events, episodes, states


def raised(events, kind) -> list:
    return [e for e in events if e.kind == kind and e.transition == Transition.RAISED]


def test_a_cry_heard_while_this_calm_face_is_in_view_is_another_infants():
    events, episodes, states = session(60.0, face=lambda t: CALM)
    assert not raised(events, CRYING) and not raised(events, "PAIN") and episodes == []
    assert "nearby" in states and "crying" not in states
    cue = [(e.transition, e.detail) for e in events if e.kind == EventKind.CUE]
    assert cue[0][0] == Transition.CRY_NEARBY and "another infant" in cue[0][1]


def test_without_a_face_the_same_cry_raises_crying():
    events, _, states = session(60.0, face=lambda t: None)
    (crying,) = raised(events, CRYING)
    assert 10.0 < crying.t <= 10.0 + 15.0
    assert "nearby" not in states


def test_a_face_that_is_not_calm_gives_the_cry_back_to_this_infant():
    """The face shows distress from 30 s: the cry is this infant's from then on; the face run
    raises PAIN corroborated by the cry (medium), never a CRYING beside it."""
    events, episodes, states = session(80.0, face=lambda t: CALM if t < 30.0 else PAIN_FACE)
    pain = raised(events, "PAIN")
    assert pain and pain[0].priority == "medium" and pain[0].t >= 30.0
    assert episodes[0].cues == "face+cry"
    assert [e.transition for e in events if e.kind == EventKind.CUE] == [
        Transition.CRY_NEARBY, Transition.CRY_NEARBY_ENDED]


def test_a_face_out_of_view_for_a_second_ends_nearby():
    """The face leaves the picture at 40 s (last frame 39.9 s): FACE_SEEN_WITHIN_S later the
    detector and the gate decide."""
    events, _, _ = session(80.0, face=lambda t: CALM if t < 40.0 else None)
    (crying,) = raised(events, CRYING)
    assert crying.t > 40.0
    ended = [e.t for e in events if e.transition == Transition.CRY_NEARBY_ENDED]
    assert ended and ended[0] == pytest.approx(39.9 + FACE_SEEN_WITHIN_S, abs=1e-6)


def test_an_open_mouth_ties_the_cry_to_this_infant():
    """The face stage reads the mouth: closed (calm face, another infant's cry) until 30 s, then
    open (this infant cries, whatever the expression says): CRYING is raised."""
    closed, wide = FaceSettings().mouth_open_from / 4, FaceSettings().mouth_open_from * 4
    events, _, states = session(70.0, face=lambda t: CALM,
                                mouth_open=lambda t: closed if t < 30.0 else wide)
    assert "nearby" in states
    ended = [e.t for e in events if e.transition == Transition.CRY_NEARBY_ENDED]
    assert ended and 30.0 <= ended[0] <= 31.0
    (crying,) = raised(events, CRYING)
    assert 30.0 < crying.t <= 30.0 + 15.0


def test_a_calm_face_must_have_lasted_the_span():
    """A face that turns calm as the cry goes on hands the cry to the neighbour only after
    span_s of calm frames: before that the cry counts as this infant's."""
    calm_from = 20.0
    events, _, _ = session(60.0, face=lambda t: CALM if t >= calm_from else 0.5)
    nearby = [e.t for e in events if e.transition == Transition.CRY_NEARBY]
    assert nearby and nearby[0] == pytest.approx(calm_from + AUDIO.span_s, abs=0.11)


def test_sessions_stored_before_issue_22_keep_their_rules():
    """A stored session's settings without the new keys read as the rules it ran with."""
    stored = AudioSettings().model_dump()
    for key in ("cry_rule", "whose_cry"):
        stored.pop(key)
    settings = from_stored(json.dumps({"audio": stored}))
    assert (settings.audio.cry_rule, settings.audio.whose_cry) == ("yamnet_ema", False)
    events, _, states = session(60.0, face=lambda t: CALM, audio=settings.audio.model_copy(
        update={"cry_rule": "detector_span"}))
    assert "nearby" not in states and not [e for e in events if e.kind == EventKind.CUE]


def test_the_rule_is_recorded_with_new_sessions():
    assert (AUDIO.cry_rule, AUDIO.whose_cry) == ("detector_span", True)
    assert np.isclose(AUDIO.crying_from, AUDIO.span_on)
