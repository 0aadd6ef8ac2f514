"""The cry cue: loudness, the gate between this cot and the next, smoothing, states, staleness.

Loudness always comes from real recordings (the shared ESC-10 clips); the cry scores are either
constructed (to test the cue's own rules whatever the model says) or the real cry model's.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from monitor.config import AudioSettings, ScoringSettings, build
from monitor.errors import MonitorError
from monitor.scoring.cry import CryScorer, split_windows
from monitor.signal.cry import (
    SILENCE_DBFS,
    CryCue,
    CryReading,
    CryState,
    CryWindow,
    loudness_dbfs,
)
from tests.audio_material import at_16k, decode, esc10_clips

WINDOW_S = 0.975
HOP_S = 0.48
AUDIO = AudioSettings(cry_rule="yamnet_ema")  # the rule before issue 22 (EMA of YAMNet)
AT_THE_COT_DBFS = -20.0  # loudest window of a cry recorded at the cot (the "loud copy")
NEXT_COT_DB = -30.0  # the same cry from the next cot (the "quiet copy")


def windows_16k(path: Path) -> tuple[np.ndarray, np.ndarray]:
    return split_windows(at_16k(*decode(path)))


def at_the_cot(windows: np.ndarray) -> np.ndarray:
    """The recording scaled so that its loudest window is at AT_THE_COT_DBFS."""
    loudest = max(loudness_dbfs(w) for w in windows)
    return windows * np.float32(10 ** ((AT_THE_COT_DBFS - loudest) / 20))


def feed(cue: CryCue, starts: np.ndarray, scores, windows: np.ndarray) -> list[CryReading]:
    """Windows dated by their end; scores are (baby cry, sobbing, whimper) rows."""
    return [cue.window(CryWindow(float(t) + WINDOW_S, *map(float, s), loudness_dbfs(w)))
            for t, s, w in zip(starts, scores, windows)]


@pytest.fixture(scope="module")
def cries(shared_data) -> list[tuple[str, np.ndarray, np.ndarray]]:
    return [(p.name, *windows_16k(p)) for p in esc10_clips(shared_data, infant_cry=True)]


@pytest.fixture(scope="module")
def scorer() -> CryScorer:
    return CryScorer(ScoringSettings(device="cpu"))


# --- loudness -------------------------------------------------------------------------------

def test_loudness_is_rms_relative_to_full_scale(cries):
    t = np.arange(16000) / 16000
    assert loudness_dbfs(np.sign(np.sin(2 * np.pi * 100 * t + 0.1))) == pytest.approx(0.0, abs=1e-9)
    assert loudness_dbfs(np.sin(2 * np.pi * 100 * t)) == pytest.approx(-10 * math.log10(2), abs=1e-6)
    assert loudness_dbfs(np.zeros(15600, np.float32)) == SILENCE_DBFS
    assert loudness_dbfs(np.zeros(0, np.float32)) == SILENCE_DBFS
    _, _, windows = cries[0]
    loud = windows[len(windows) // 2]
    assert loudness_dbfs(loud * np.float32(10 ** (NEXT_COT_DB / 20))) == pytest.approx(
        loudness_dbfs(loud) + NEXT_COT_DB, abs=1e-3)


# --- the loudness gate ------------------------------------------------------------------------

def test_the_gate_tells_a_cry_at_the_cot_from_the_same_cry_at_the_next_cot(cries):
    """Same scores, only the loudness differs: the cot's copy cries, the next cot's never does."""
    crying = 0
    for name, starts, windows in cries:
        loud = at_the_cot(windows)
        quiet = loud * np.float32(10 ** (NEXT_COT_DB / 20))
        scores = [(0.9, 0.95, 0.2)] * len(starts)  # the model hears a clear cry in both
        near = feed(CryCue(AUDIO), starts, scores, loud)
        far = feed(CryCue(AUDIO), starts, scores, quiet)
        assert all(r.state is CryState.QUIET and r.c_smooth == 0.0 and r.c == 0.95 for r in far), name
        assert all(r.loud is False for r in far), name
        crying += near[-1].state is CryState.CRYING
    assert crying == len(cries)


def test_the_gate_through_the_real_cry_model(cries, scorer):
    """The model still hears most quiet copies as crying; the gate keeps every one of them quiet,
    while the copies at the cot cry."""
    heard_far = crying_near = 0
    for name, starts, windows in cries:
        loud = at_the_cot(windows)
        quiet = (loud * np.float32(10 ** (NEXT_COT_DB / 20))).astype(np.float32)
        near = feed(CryCue(AUDIO), starts, scorer.cry_scores(loud), loud)
        far = feed(CryCue(AUDIO), starts, scorer.cry_scores(quiet), quiet)
        assert all(r.state is CryState.QUIET for r in far), name
        heard_far += max(r.c for r in far) >= AUDIO.cry_on
        crying_near += any(r.state is CryState.CRYING for r in near)
    assert heard_far >= len(cries) / 2  # the gate, not the model, silenced them
    assert crying_near >= 0.75 * len(cries)  # 5 s clips: crying needs cry_min_s of C >= cry_on


# --- thresholds on the shared recordings, through the real model -----------------------------

def test_other_sounds_and_speech_stay_quiet_and_every_cry_is_heard(shared_data, cries, scorer):
    others = [windows_16k(p) for p in esc10_clips(shared_data, infant_cry=False)]
    others.append(windows_16k(shared_data / "audio" / "speech.wav"))
    for starts, windows in others:
        readings = feed(CryCue(AUDIO), starts, scorer.cry_scores(windows), windows)
        assert all(r.state is CryState.QUIET for r in readings)
    reached = {state: 0 for state in CryState}
    for name, starts, windows in cries:
        readings = feed(CryCue(AUDIO), starts, scorer.cry_scores(windows), windows)
        states = {r.state for r in readings}
        assert states & {CryState.WHIMPER, CryState.CRYING}, name
        reached[CryState.CRYING] += CryState.CRYING in states
    assert reached[CryState.CRYING] >= 0.75 * len(cries)


# --- states and timing (constructed scores, loud windows) --------------------------------------

LOUD = -20.0


def cry_at(t: float, c: float, whimper: float = 0.0, dbfs: float = LOUD) -> CryWindow:
    return CryWindow(t=t, baby_cry=c, sobbing=0.0, whimper=whimper, dbfs=dbfs)


def run(cue: CryCue, profile, until: float, hop: float = HOP_S, start: float = WINDOW_S):
    return [cue.window(cry_at(t, *profile(t))) for t in np.arange(start, until, hop)]


def test_crying_starts_only_after_cry_min_s_and_holds_between_the_thresholds():
    s = AUDIO
    cue = CryCue(s)
    readings = run(cue, lambda t: (0.9,), until=10.0)
    first = next(r.t for r in readings if r.c_smooth >= s.cry_on)
    onset = next(r.t for r in readings if r.state is CryState.CRYING)
    assert first + s.cry_min_s - 1e-9 <= onset <= first + s.cry_min_s + HOP_S
    assert all(r.state is CryState.WHIMPER for r in readings if r.t < onset)
    # C settles between cry_off and cry_on: still crying (hysteresis)
    middle = (s.cry_on + s.cry_off) / 2
    held = run(cue, lambda t: (middle,), until=30.0, start=10.0)
    assert all(r.state is CryState.CRYING for r in held)
    assert held[-1].c_smooth == pytest.approx(middle, abs=1e-3)
    # then silence: crying ends when C falls below cry_off
    after = run(cue, lambda t: (0.0,), until=40.0, start=30.0)
    end = next(r for r in after if r.state is not CryState.CRYING)
    assert end.c_smooth < s.cry_off
    assert after[-1].state is CryState.QUIET


def test_one_cry_like_window_is_not_crying():
    """A squeal or a sneeze the model takes for a cry lifts C above cry_on for less than cry_min_s."""
    cue = CryCue(AUDIO)
    readings = run(cue, lambda t: (0.95,) if 5.0 <= t < 5.0 + HOP_S else (0.0,), until=20.0)
    assert CryState.CRYING not in {r.state for r in readings}
    assert CryState.WHIMPER in {r.state for r in readings}


def test_whimpering_is_its_own_state():
    readings = run(CryCue(AUDIO), lambda t: (0.0, 0.4), until=10.0)
    assert readings[-1].state is CryState.WHIMPER
    assert readings[-1].whimper_smooth == pytest.approx(0.4, abs=1e-3)
    assert readings[-1].c_smooth == pytest.approx(0.0, abs=1e-9)


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=12), st.floats(0.5, 3.0),
       st.floats(0.25, 5.0))
def test_c_does_not_depend_on_the_hop(knots, spacing, tau):
    """One score profile (piecewise linear, knots `spacing` s apart) at a 0.48 s and a 0.24 s hop.

    Each hop h holds a window's score over the h before it; for a profile of slope at most L this
    puts C within L*h/2 * (h/tau)/(1 - exp(-h/tau)) of the continuous average, so the two hops
    differ by at most the sum of both bounds."""
    settings = AudioSettings(tau_s=tau)
    times = WINDOW_S + spacing * np.arange(len(knots))
    slope = max(abs(b - a) for a, b in itertools.pairwise(knots)) / spacing

    def profile(t: float) -> tuple[float]:
        return (float(np.interp(t, times, knots)),)

    coarse = run(CryCue(settings), profile, until=times[-1] + 5, hop=HOP_S)
    fine = {round(r.t, 6): r for r in run(CryCue(settings), profile, until=times[-1] + 5, hop=HOP_S / 2)}

    def bound(h: float) -> float:
        return slope * h / 2 * (h / tau) / (1 - math.exp(-h / tau))

    for r in coarse:
        assert abs(r.c_smooth - fine[round(r.t, 6)].c_smooth) <= bound(HOP_S) + bound(HOP_S / 2) + 1e-9


# --- no sound is a state, never a zero ----------------------------------------------------------

def test_no_sound_is_no_microphone_with_a_reason_never_zero():
    s = AUDIO
    cue = CryCue(s)
    before = cue.at(0.5)
    assert before.state is CryState.NO_MICROPHONE and before.reason == "no sound yet"
    readings = run(cue, lambda t: (0.9,), until=6.0)
    last = readings[-1]
    assert cue.at(last.t + s.lost_after_s / 2).state is CryState.CRYING
    assert cue.stale_at() == pytest.approx(last.t + s.lost_after_s)
    stale = cue.at(last.t + s.lost_after_s)
    assert stale.state is CryState.NO_MICROPHONE and "no sound for" in stale.reason
    for r in (before, stale):
        assert (r.c, r.c_smooth, r.whimper, r.whimper_smooth, r.dbfs, r.loud) == (None,) * 6
    # sound again: C restarts from the new window, it does not carry the old cry over the gap
    again = cue.window(cry_at(last.t + 10.0, 0.0))
    assert again.state is CryState.QUIET and again.c_smooth == 0.0


def test_a_source_without_sound_says_so_until_sound_comes():
    cue = CryCue(AUDIO, reason="the recording has no sound track")
    assert cue.at(100.0).reason == "the recording has no sound track"
    run(cue, lambda t: (0.9,), until=5.0)
    cue.lost("microphone lost: the sound stream stopped")
    lost = cue.at(5.1)
    assert lost.state is CryState.NO_MICROPHONE and lost.c_smooth is None
    assert lost.reason == "microphone lost: the sound stream stopped"


def test_windows_must_come_in_order_with_scores_in_range():
    cue = CryCue(AUDIO)
    cue.window(cry_at(2.0, 0.5))
    with pytest.raises(ValueError, match="not after"):
        cue.window(cry_at(2.0, 0.5))
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="within 0..1"):
            cue.window(cry_at(3.0, bad))


# --- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("audio,problem", [
    ({"cry_off": 0.3, "cry_on": 0.2}, "cry_off must be below cry_on"),
    ({"whimper_on": 0.3}, "whimper_on must be below cry_on"),
    ({"min_cry_dbfs": 0.0}, "less than or equal to -10"),
    ({"input": "USB mic\x1b[2J"}, "control character"),
    ({"input": "   "}, "must not be blank"),
    ({"lost_after_s": 0.1}, "greater than or equal to 1"),
])
def test_unsafe_audio_settings_are_refused(audio, problem):
    with pytest.raises(MonitorError, match=problem):
        build([("file painmon.toml", {"audio": audio})])


# --- the span rule (audio.cry_rule detector_span, issue 22) -----------------------------------

SPAN = AudioSettings(cry_rule="detector_span")


def detector_at(t: float, p: float, dbfs: float = LOUD) -> CryWindow:
    return CryWindow(t=t, baby_cry=0.0, sobbing=0.0, whimper=0.0, dbfs=dbfs, p=p)


def breathing_cry(t: float, cry_s: float = 2.5, breath_s: float = 1.5, start: float = 10.0) -> float:
    """A real cry's rhythm: cry-like windows for cry_s, then a breath of breath_s, from `start`."""
    return 0.9 if t >= start and (t - start) % (cry_s + breath_s) < cry_s else 0.05


def span_run(profile, until: float, hop: float = HOP_S, settings: AudioSettings = SPAN,
             dbfs: float = LOUD) -> list[CryReading]:
    cue = CryCue(settings)
    return [cue.window(detector_at(t, profile(t), dbfs)) for t in np.arange(WINDOW_S, until, hop)]


@pytest.mark.parametrize("breath_s", [1.0, 2.0, 3.0])
def test_sustained_crying_counts_within_5_s_and_a_breath_does_not_end_it(breath_s):
    readings = span_run(lambda t: breathing_cry(t, breath_s=breath_s), until=60.0)
    onset = next(r.t for r in readings if r.state is CryState.CRYING)
    assert 10.0 < onset <= 10.0 + 5.0
    assert all(r.state is CryState.CRYING for r in readings if r.t >= onset)


def test_one_squeal_is_not_crying_and_crying_ends_after_the_span():
    s = SPAN
    squeal = span_run(lambda t: 0.95 if 5.0 <= t < 6.0 else 0.0, until=20.0)
    assert CryState.CRYING not in {r.state for r in squeal}
    readings = span_run(lambda t: 0.9 if t < 20.0 else 0.0, until=40.0)
    end = next(r.t for r in readings if r.t > 20.0 and r.state is not CryState.CRYING)
    # the share falls below span_off once less than span_off * span_s of cry-like time remains
    assert 20.0 + s.span_s * (1 - s.span_off) - HOP_S <= end <= 20.0 + s.span_s * (1 - s.span_off) + HOP_S


def test_the_span_does_not_depend_on_the_hop():
    coarse = span_run(breathing_cry, until=40.0, hop=HOP_S)
    fine = span_run(breathing_cry, until=40.0, hop=HOP_S / 2)
    onset = [next(r.t for r in rs if r.state is CryState.CRYING) for rs in (coarse, fine)]
    assert abs(onset[0] - onset[1]) <= HOP_S


def test_the_span_rule_keeps_the_loudness_gate():
    far = span_run(breathing_cry, until=40.0, dbfs=SPAN.min_cry_dbfs - 1)
    assert {r.state for r in far} == {CryState.QUIET}


def test_a_window_without_a_detector_score_reads_yamnets():
    cue = CryCue(SPAN)
    readings = [cue.window(cry_at(t, 0.9 if t > 3 else 0.0)) for t in np.arange(WINDOW_S, 15, HOP_S)]
    assert readings[-1].state is CryState.CRYING and readings[-1].p is None


def test_the_old_rule_ignores_the_detector():
    """yamnet_ema (sessions stored before issue 22) reads only YAMNet's classes."""
    cue = CryCue(AUDIO.model_copy(update={"cry_rule": "yamnet_ema"}))
    readings = [cue.window(detector_at(t, 0.99)) for t in np.arange(WINDOW_S, 15, HOP_S)]
    assert {r.state for r in readings} == {CryState.QUIET}
