"""The stored trace carries the face mesh's readings (issue 23), so a session recorded with
landmarks replays to the episodes it recorded live, the face state included.

No shared photo reads "eyes closed, relaxed" (the crying infant screws its eyes up and opens its
mouth, the happy one laughs): the recorded session is the crying-infant photo filmed by the
demo's camera through the real pipeline (decoder, MTCNN, the face CNN, the engine, the SQLite
store), with the face mesh's readings replaced by a relaxed face's values (those of
tests/test_face_rule.py, well inside the shipped [face] settings): a sleeping infant whose
expression the model reads as distressed, the case the rule is for.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import numpy as np
import pytest

import photo_clips
from monitor.config import Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline
from monitor.scoring.face_actions import FaceActionReader
from monitor.store import queries
from monitor.store.database import open_database
from monitor.store.trace import (FACE_V1, UNTRUSTED_FIT, is_face, is_sound, pack_face, pack_trace,
                                 unpack_face, unpack_sound, unpack_trace)
from monitor.tuning.replay import load_session, replay, replay_output
from tests.cue_clips import write_clip
from tests.replayed import TRACE_PRECISION_S, same_episode
from tests.test_face_rule import EYES_OPEN, GREY, POOR_FIT, RELAXED

FPS, SECONDS = 6, 24.0


def f32(x: float | None) -> float | None:
    return None if x is None else float(np.float32(x))


def test_face_readings_round_trip() -> None:
    t0 = 100.0
    readings = [(100.0, RELAXED), (100.5, GREY), (101.0, POOR_FIT),
                (101.5, replace(EYES_OPEN, mouth_open=None, brow=None, outlines=(((1.0, 2.0),),)))]
    data = pack_face(readings, t0)
    assert data[0] == FACE_V1 and len(data) == 1 + 25 * len(readings)
    assert is_face(data) and not is_sound(data) and not is_face(pack_trace([], t0))
    back = unpack_face(t0, data)
    assert [r.t for r in back] == [t for t, _ in readings]
    for (_, sent), (_, got) in zip(readings, back):
        assert (got.mouth_open, got.eye_open, got.brow, got.covered, got.face_score) == tuple(
            f32(v) for v in (sent.mouth_open, sent.eye_open, sent.brow, sent.covered,
                             sent.face_score))
        # the tracker only asks whether the fit is trusted; the outlines are for drawing only
        assert got.fit_problem == (UNTRUSTED_FIT if sent.fit_problem else "")
        assert got.outlines == ()


def test_face_trace_refuses_damaged_data() -> None:
    data = pack_face([(0.0, RELAXED)], 0.0)
    damages = [(data[:-1], "face reading trace of 25 bytes is truncated"),
               (data[:-1] + b"\x07", "unknown fit code 7 in a face reading trace"),
               (b"\x02" + data[1:], "not a face reading trace (format b'\\x02')")]
    for damaged, problem in damages:
        with pytest.raises(ValueError, match=re.escape(problem)):
            unpack_face(0.0, damaged)
    with pytest.raises(ValueError, match="unknown frame trace format"):
        unpack_trace(0.0, data)  # a face row is never read as frames, nor as sound
    with pytest.raises(ValueError, match="not a sound trace"):
        unpack_sound(0.0, data)


def record(tmp_path, monkeypatch, reading_of_call) -> tuple[str, dict]:
    """The filmed photo (no sound track: the face alone) through the real pipeline; the n-th mesh
    reading is reading_of_call(n). Returns the database URL and the live episodes."""
    frames = (image for _, image in photo_clips.frames(photo_clips.SAD, fps=FPS, seconds=SECONDS))
    clip = write_clip(tmp_path / "relaxed.mp4", frames, FPS, None)
    calls = itertools.count()
    monkeypatch.setattr(FaceActionReader, "read",
                        lambda self, faces: [reading_of_call(next(calls)) for _ in faces])
    url = f"sqlite:///{tmp_path / 'relaxed.db'}"
    summary = OneSourcePipeline(Settings(store=StoreSettings(url=url)), str(clip)).run()
    assert summary.end_reason == "source_ended"
    return url, summary.episodes


def test_a_relaxed_session_replays_its_held_back_episode(tmp_path, monkeypatch) -> None:
    """Relaxed throughout: the face-only episode was recorded live without an alarm; its replay
    holds it back too. Without the face rows it would replay as raised (as before issue 23)."""
    url, live = record(tmp_path, monkeypatch, lambda n: RELAXED)
    (episode,) = live.values()
    assert (episode.cues, episode.max_priority) == ("face", "none") and episode.alarm_at is not None
    stored = load_session(open_database(url, create=False), 1)
    settings = stored.settings
    # one reading every face.every_s from the first scored frame to the last
    assert len(stored.readings) == pytest.approx(SECONDS / settings.face.every_s, abs=2)
    frame_times = {f.t for f in stored.frames}
    assert all(r.t in frame_times for r in stored.readings), "each reading at its frame's time"
    (replayed,) = replay(stored, settings.alarms)
    assert same_episode(episode, replayed)
    (unheld,) = replay(replace(stored, readings=[]), settings.alarms)
    assert unheld.max_priority == settings.alarms.face_only_priority


def test_the_face_no_longer_relaxed_replays_at_the_same_instant(tmp_path, monkeypatch) -> None:
    """Relaxed for the first 28 readings (14 s at face.every_s 0.5), then the eyes open: the
    held-back episode is raised then, live and in the replay; without the face rows the replay
    raises it at its alarm_at (10 s here: D_on after the face run began)."""
    url, live = record(tmp_path, monkeypatch, lambda n: RELAXED if n < 28 else EYES_OPEN)
    (episode,) = live.values()
    assert episode.max_priority == "low"
    database = open_database(url, create=False)
    raised = [e for e in queries.events(database, 1) if e.kind == "PAIN" and e.transition == "raised"]
    assert [e.detail for e in raised] == ["face no longer relaxed"]
    stored = load_session(database, 1)
    switch = stored.readings[28].t
    assert raised[0].t == pytest.approx(switch, abs=TRACE_PRECISION_S)
    events, (replayed,) = replay_output(stored, stored.settings.alarms)
    assert same_episode(episode, replayed)
    again = [e for e in events if e.kind == "PAIN" and e.transition == "raised"]
    assert [(e.detail, e.priority) for e in again] == [(e.detail, e.priority) for e in raised]
    assert again[0].t == pytest.approx(raised[0].t, abs=TRACE_PRECISION_S)
    events, _ = replay_output(replace(stored, readings=[]), stored.settings.alarms)
    unheld = [e for e in events if e.kind == "PAIN" and e.transition == "raised"]
    assert unheld[0].t == pytest.approx(episode.alarm_at, abs=TRACE_PRECISION_S)
    assert episode.alarm_at < switch
