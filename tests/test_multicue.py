"""Alarms that a sleeping infant does not set off (issue #17), through the whole pipeline on clips
built from the shared material: a pain-looking still face with camera drift, noise and a quiet room
raises no medium or high alarm; the same picture with real infant crying raises PAIN (face + cry);
a picture without a human face with crying raises CRYING and no PAIN."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest

from monitor.config import Settings, StoreSettings
from monitor.pipeline.runner import Monitor
from tests import photo_clips
from tests.cue_clips import sound_track, write_clip

pytestmark = pytest.mark.slow

FPS = 10
SECONDS = 60.0
CRYING = (15.0, 50.0)  # seconds of the clip with an infant crying on the sound track


def _alarm_events(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT t, kind, priority, transition FROM alarm_event "
                            "WHERE kind IN ('PAIN', 'CRYING') ORDER BY id").fetchall()


def _still_crying_face() -> list[np.ndarray]:
    """The crying infant photo, filmed still with the demo camera's drift, zoom and noise."""
    return [frame for _, frame in photo_clips.frames(photo_clips.SAD, fps=FPS, seconds=SECONDS)]


@pytest.fixture(scope="module")
def face_frames() -> list[np.ndarray]:
    return _still_crying_face()


def _run(clip: Path, db: Path):
    settings = Settings(store=StoreSettings(url=f"sqlite:///{db}"))
    return Monitor(settings, str(clip)).run()


def test_a_still_pain_face_in_a_quiet_room_raises_no_medium_alarm(face_frames, shared_data: Path,
                                                                  tmp_path: Path):
    clip = write_clip(tmp_path / "quiet.mp4", face_frames, FPS, sound_track(shared_data, SECONDS, None))
    db = tmp_path / "quiet.db"
    summary = _run(clip, db)
    with sqlite3.connect(db) as conn:
        p_mean = conn.execute("SELECT avg(p_mean) FROM sample WHERE p_mean IS NOT NULL").fetchone()[0]
    assert p_mean > 0.8, "the premise: the face model reads this face as pain all along"
    assert summary.audio is not None and summary.crying_s == 0.0
    raised = [e for e in _alarm_events(db) if e[3] in ("raised", "escalated")]
    assert raised and all(priority == "low" for _, _, priority, _ in raised), raised
    assert all(e.cues == "face" and e.max_priority == "low" for e in summary.episodes.values())


def test_the_same_face_with_crying_raises_pain_with_both_cues(face_frames, shared_data: Path,
                                                               tmp_path: Path):
    sound = sound_track(shared_data, SECONDS, CRYING)
    clip = write_clip(tmp_path / "crying.mp4", face_frames, FPS, sound)
    db = tmp_path / "crying.db"
    summary = _run(clip, db)
    medium = [e for e in _alarm_events(db) if e[1] == "PAIN" and e[2] in ("medium", "high")
              and e[3] in ("raised", "escalated")]
    assert medium, _alarm_events(db)
    assert CRYING[0] <= medium[0][0] <= CRYING[0] + 30.0
    assert any("cry" in e.cues for e in summary.episodes.values())
    assert not [e for e in _alarm_events(db) if e[1] == "CRYING" and e[3] == "raised"], \
        "a cry already part of the PAIN alarm raises no second alarm"


def test_crying_without_a_face_raises_crying_and_no_pain(shared_data: Path, tmp_path: Path):
    """tears_of_steel's robot (no human face), held as a still shot with sensor noise."""
    cap = cv2.VideoCapture(str(shared_data / "video/tears_of_steel.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 10)
    ok, robot = cap.read()
    cap.release()
    assert ok
    rng = np.random.default_rng(3)
    frames = [cv2.add(robot, rng.normal(0, 2.0, robot.shape).astype(np.int16), dtype=cv2.CV_8U)
              for _ in range(int(SECONDS * FPS))]
    clip = write_clip(tmp_path / "robot.mp4", frames, FPS, sound_track(shared_data, SECONDS, CRYING))
    db = tmp_path / "robot.db"
    summary = _run(clip, db)
    assert summary.frames_scored == 0
    events = _alarm_events(db)
    crying = [e for e in events if e[1] == "CRYING" and e[3] == "raised"]
    assert crying and crying[0][2] == "medium", events
    assert CRYING[0] <= crying[0][0] <= CRYING[0] + 30.0
    assert not [e for e in events if e[1] == "PAIN"], events
