"""Clips of the crying infant's photo through the real stages (MTCNN, the face CNN, the face mesh,
the cry model, the alarm engine): the face state must not take a crying infant's alarm away.

The picture is the shared crying-infant photo filmed with the demo's drifting, noisy camera
(tests/photo_clips.py); its sound, where a test wants it, is the shared ESC-10 infant cries scored
by the real cry model. The covered versions draw a pacifier-sized disc over the photo's mouth
(tests/face_material.py: the shared data has no occluded face), where MTCNN finds it.
"""

from __future__ import annotations

import dataclasses

import pytest

import photo_clips
from face_material import occlude
from monitor.config import FaceSettings, ScoringSettings, Settings
from monitor.packets import FramePacket
from monitor.scoring.cry import CryScorer
from monitor.scoring.face_actions import FaceActionReader
from monitor.scoring.scorer import Scorer
from monitor.signal.engine import AlarmEngine
from monitor.signal.face_state import MouthState
from monitor.vision.detector import FaceDetector
from monitor.vision.finder import FaceFinder
from tests.test_fusion_material import scored, stream
from tests.audio_material import esc10_clips

FPS, SECONDS = 6.0, 20.0
SETTINGS = Settings()


@pytest.fixture(scope="module")
def stages():
    scorer = Scorer(ScoringSettings(device="cpu"))
    return scorer, FaceActionReader(FaceSettings(), "cpu")


@pytest.fixture(scope="module")
def cry_windows(shared_data):
    return scored(CryScorer(ScoringSettings(device="cpu")),
                  *stream(esc10_clips(shared_data, infant_cry=True)))


def covered_photo(kind: str):
    photo = photo_clips.prepared(photo_clips.SAD)
    face = FaceDetector(SETTINGS.vision).detect(photo.image)[0]
    return dataclasses.replace(photo, image=occlude(photo.image, face.landmarks, kind))


def run_clip(stages, windows=(), photo=None, monkeypatch=None):
    """The clip through finder, CNN, mesh (every face.every_s) and engine; sound windows fed at
    their times. Returns events, episodes and the face states read."""
    scorer, reader = stages
    if photo is not None:
        monkeypatch.setattr(photo_clips, "prepared", lambda name: photo)
    finder = FaceFinder(SETTINGS.vision)
    engine = AlarmEngine(SETTINGS.alarms, audio=SETTINGS.audio, face=SETTINGS.face)
    engine.sound(0.0, bool(windows))
    pending = [w for w in windows if w.t <= SECONDS]
    states, next_mesh = [], 0.0
    for t, frame in photo_clips.frames(photo_clips.SAD, fps=FPS, seconds=SECONDS):
        while pending and pending[0].t <= t:
            engine.cry_window(pending.pop(0))
        obs = finder.observe(FramePacket(t, round(t * FPS), frame))
        p = None
        if obs.status.value == "scored":
            p = float(scorer.score([(frame, obs.box)])[0])
            if t >= next_mesh - 1e-9:
                next_mesh = t + SETTINGS.face.every_s
                engine.face_actions(t, reader.read([(frame, obs.box, obs.landmarks)])[0])
                states.append(engine.face_state())
        engine.frame(t, obs.status, p)
    engine.end_session(SECONDS)
    events, episodes = engine.drain()
    return events, episodes, states


def pain(events):
    return [e for e in events if e.kind == "PAIN" and e.transition in ("raised", "escalated")]


def test_the_crying_infant_with_its_cry_raises_medium_pain(stages, cry_windows):
    events, episodes, states = run_clip(stages, cry_windows)
    assert pain(events) and max(e.priority for e in pain(events)) in ("medium", "high")
    assert episodes[0].cues == "face+cry"
    assert not any(s.relaxed for s in states)
    assert sum(s.mouth is MouthState.OPEN for s in states) > 0.8 * len(states)


@pytest.mark.parametrize("kind", ["disc", "band"])
def test_the_covered_crying_face_is_never_suppressed(stages, monkeypatch, kind):
    """No sound: the face alone; the covered mouth is never read closed, never relaxed, and the
    face-only PAIN is raised at face_only_priority as without the face stage."""
    events, episodes, states = run_clip(stages, photo=covered_photo(kind), monkeypatch=monkeypatch)
    assert states and not any(s.relaxed or s.mouth is MouthState.CLOSED for s in states)
    assert sum(s.mouth is MouthState.COVERED for s in states) > 0.8 * len(states)
    raised = pain(events)
    assert raised and raised[0].priority == SETTINGS.alarms.face_only_priority
    assert episodes[0].max_priority == SETTINGS.alarms.face_only_priority
