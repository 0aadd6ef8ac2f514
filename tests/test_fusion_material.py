"""Fusion on real sound: the shared ESC-10 recordings scored by the real cry model, through the
alarm engine (issue 17: a crying infant turned away raises CRYING; loud sounds that are not
crying never corroborate a pain face)."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.config import AlarmSettings, ScoringSettings
from monitor.scoring.cry import CryScorer, split_windows
from monitor.signal.cry import CryWindow, loudness_dbfs
from monitor.signal.engine import AlarmEngine
from tests.audio_material import at_16k, decode, esc10_clips

WINDOW_S = 0.975
AT_THE_COT_DBFS = -20.0  # each recording's loudest window, as if made at the cot
ALARM_WITHIN_S = 30.0  # issue 17: crying raises its alarm within 30 s


def stream(paths) -> tuple[np.ndarray, np.ndarray]:
    """The recordings one after another, each scaled to the cot's loudness (short of clipping, for
    a clock's ticks): window starts, windows."""
    parts = []
    for path in paths:
        samples = at_16k(*decode(path))
        loudest = max(loudness_dbfs(w) for w in split_windows(samples)[1])
        gain = min(10 ** ((AT_THE_COT_DBFS - loudest) / 20), 1.0 / float(np.max(np.abs(samples))))
        parts.append(samples * np.float32(gain))
    return split_windows(np.concatenate(parts).astype(np.float32))


def scored(scorer: CryScorer, starts: np.ndarray, windows: np.ndarray) -> list[CryWindow]:
    """Windows as the cry stage scores them: YAMNet's classes and the cry detector's p."""
    scores, detected = scorer.score_cry(windows)
    return [CryWindow(float(t) + WINDOW_S, *map(float, s), loudness_dbfs(w), float(p))
            for t, s, w, p in zip(starts, scores, windows, detected)]


@pytest.fixture(scope="module")
def scorer() -> CryScorer:
    return CryScorer(ScoringSettings(device="cpu"))


@pytest.fixture(scope="module")
def crying(shared_data, scorer) -> list[CryWindow]:
    return scored(scorer, *stream(esc10_clips(shared_data, infant_cry=True)))


@pytest.fixture(scope="module")
def other_sounds(shared_data, scorer) -> list[CryWindow]:
    return scored(scorer, *stream([*esc10_clips(shared_data, infant_cry=False),
                                   shared_data / "audio" / "speech.wav"]))


def replay(windows: list[CryWindow], s: float | None) -> tuple[list, list]:
    """S held at s (None: the face is not seen) while the sound plays; default settings."""
    eng = AlarmEngine(AlarmSettings())
    eng.sound(0.0, True)
    eng.feed_s(0.0, s)
    for w in windows:
        eng.cry_window(w)
    eng.end_session(windows[-1].t)
    return eng.drain()


def test_real_crying_with_the_face_turned_away_raises_crying(crying):
    events, episodes = replay(crying, None)
    raised = [e.t for e in events if e.kind == "CRYING" and e.transition == "raised"]
    assert raised and raised[0] <= ALARM_WITHIN_S
    assert episodes == [] and not any(e.kind == "PAIN" for e in events)


def test_real_crying_corroborates_a_pain_face_into_one_medium_alarm(crying):
    events, (episode,) = replay(crying, 0.7)
    medium = [e.t for e in events if e.kind == "PAIN" and e.priority == "medium"]
    assert medium and medium[0] <= ALARM_WITHIN_S, "raised at medium, or upgraded by the cry"
    assert (episode.max_priority, episode.cues) == ("medium", "face+cry")
    assert not any(e.kind == "CRYING" for e in events), "the cry is part of the PAIN alarm"


def test_loud_sounds_that_are_not_crying_never_corroborate(other_sounds):
    events, (episode,) = replay(other_sounds, 0.7)
    assert (episode.max_priority, episode.cues) == ("low", "face")
    assert {e.priority for e in events if e.kind == "PAIN"} == {"low"}
    assert not any(e.kind == "CRYING" for e in events)
