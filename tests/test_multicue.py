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
from monitor.pipeline.runner import OneSourcePipeline
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
    return OneSourcePipeline(settings, str(clip)).run()


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


@pytest.fixture(scope="module")
def crying_run(face_frames, shared_data: Path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("crying")
    sound = sound_track(shared_data, SECONDS, CRYING)
    clip = write_clip(folder / "crying.mp4", face_frames, FPS, sound)
    return _run(clip, folder / "crying.db"), folder / "crying.db"


def test_the_same_face_with_crying_raises_pain_with_both_cues(crying_run):
    summary, db = crying_run
    medium = [e for e in _alarm_events(db) if e[1] == "PAIN" and e[2] in ("medium", "high")
              and e[3] in ("raised", "escalated")]
    assert medium, _alarm_events(db)
    assert CRYING[0] <= medium[0][0] <= CRYING[0] + 30.0
    assert any("cry" in e.cues for e in summary.episodes.values())
    assert not [e for e in _alarm_events(db) if e[1] == "CRYING" and e[3] == "raised"], \
        "a cry already part of the PAIN alarm raises no second alarm"


def test_cry_seconds_are_stored_where_the_crying_is(crying_run):
    """A window is stored at the second of its end; one 0.975 s window every 0.48 s hop, so the
    crying laid in from 15 s to 50 s shows from second 15 or 16 to second 50 or 51."""
    summary, db = crying_run
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT t, c, cry_max FROM sample ORDER BY t").fetchall()
    assert all(c is not None for _, c, _ in rows[2:]), "with a sound track C is known"
    crying = [t for t, _, cry_max in rows if cry_max is not None and cry_max >= 0.05]
    start, end = CRYING
    assert start <= crying[0] <= start + 0.975 + 0.48
    assert end <= crying[-1] <= end + 0.975 + 0.48
    assert len(crying) >= 0.9 * (end - start)
    assert summary.crying_s == pytest.approx(end - start, abs=6.0)


def test_a_clip_without_sound_is_no_microphone_and_still_scores_faces(face_frames, tmp_path: Path):
    clip = write_clip(tmp_path / "silent.mp4", face_frames[:200], FPS, None)
    db = tmp_path / "silent.db"
    summary = _run(clip, db)
    assert summary.audio is None and summary.frames_scored >= 190
    with sqlite3.connect(db) as conn:
        (audio,) = conn.execute("SELECT audio FROM monitoring_session").fetchone()
        cues = conn.execute("SELECT count(*), count(c), count(cry_max) FROM sample").fetchone()
    assert audio is None
    assert cues[0] >= 19 and cues[1:] == (0, 0), "no microphone: C unknown, never 0"


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
