"""The face mesh's actions on record (issue 23): each second's sample keeps its last trusted
reading and the face state in words; a second without a reading keeps none."""

from __future__ import annotations

from dataclasses import replace

from monitor.packets import FaceActions, FaceStatus
from monitor.pipeline.seconds import Cues, SecondAggregator
from monitor.store.schema import Sample

READING = FaceActions(mouth_open=0.25, eye_open=0.03, brow=0.33, covered=0.0, face_score=1.0)


def test_a_second_keeps_its_last_trusted_reading_and_the_state_words():
    seconds = SecondAggregator()
    cues = Cues(s=0.7, face_state="eyes squeezed, brow lowered, mouth open")
    seconds.add(0.2, FaceStatus.SCORED, 0.9, cues, READING)
    seconds.add(0.6, FaceStatus.SCORED, 0.9, cues, replace(READING, fit_problem="mesh face score 0.1"))
    (first,) = seconds.add(1.1, FaceStatus.SCORED, 0.9, cues)
    (second,) = seconds.flush()
    assert (first.mouth_open, first.eye_open, first.brow, first.mouth_covered) == (0.25, 0.03, 0.33, 0.0)
    assert first.face_state == "eyes squeezed, brow lowered, mouth open"
    assert second.mouth_open is None and second.face_state == cues.face_state


def test_the_sample_table_has_the_columns():
    columns = set(Sample.__table__.columns.keys())
    assert {"mouth_open", "eye_open", "brow", "mouth_covered", "face_state"} <= columns
