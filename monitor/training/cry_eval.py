"""`painmon evaluate-cry`: the cry cue on the validation installations over a synthesised NICU bed.

Every figure compares the old cue (audio.cry_rule `yamnet_ema`, YAMNet's cry score) with the new
one (`detector_span`, the trained detector), on the same sound, for each band (full band and G.711
mu-law at 8 kHz by default) and SNR:

- **windows**: 0.975 s windows of the cry track (at least half cry sound) against windows of the
  bed without a cry: ROC AUC of the window score, sensitivity and specificity at the rule's
  threshold (old: cry_on on YAMNet's score, new: detector_on);
- **10 s segments**: each segment's windows through a fresh cue; a segment is detected when the
  cue reaches `crying` in it. A segment of the cry track is a crying segment when at least
  CRYING_SEGMENT_SOUND_S of it is cry sound (these recordings pause a lot: some 10 s stretches
  hold a single sob); sensitivity is also given over every segment of the cry track;
  specificity on the bed's segments;
- **time to CRYING**: faceless clips (a bed, then sustained crying) through the alarm engine with
  the default [alarms]: seconds from the first cry sound to CRYING, or missed;
- **false CRYING per hour**: hours of a bed without this infant's cry (alarm melodies, beeps,
  the app's tones, speech, coughs, doors, other sounds, the next cot's cry NEXT_COT_DB down),
  through the engine.

The loudness gate is set as a unit would install it, between this cot's cries and the next
cot's (soundscape.INSTALLED_GATE_DBFS). Seeded: the same arguments give the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from monitor.config import AlarmSettings, AudioSettings
from monitor.packets import AudioBlock
from monitor.pipeline.hearing import Hearing
from monitor.scoring.cry import CryScorer, split_windows
from monitor.signal.cry import CryCue, CryState, CryWindow
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import CRYING, Transition
from monitor.training import soundscape as nicu

SEGMENT_S = 10.0
CRYING_SEGMENT_SOUND_S = 2.5
CHUNK_S = 600.0  # long beds are made and scored in chunks of this length
LEAD_IN_S = 30.0  # bed before the crying of a time-to-CRYING clip
CRY_S = 60.0
RULES = ("yamnet_ema", "detector_span")
NO_CRY_KINDS = tuple(k for k in nicu.EVENT_KINDS if k != "next_cot_cry")


def audio_settings(rule: str) -> AudioSettings:
    return AudioSettings(cry_rule=rule, min_cry_dbfs=nicu.INSTALLED_GATE_DBFS)


def window_score(w: CryWindow, rule: str) -> float:
    return w.c if rule == "yamnet_ema" or w.p is None else w.p


def threshold(settings: AudioSettings) -> float:
    return settings.cry_on if settings.cry_rule == "yamnet_ema" else settings.detector_on


def score(scorer: CryScorer, samples: np.ndarray, t0: float = 0.0) -> list[CryWindow]:
    """The windows the cry stage would give for this sound (one block, so no gap)."""
    return Hearing(scorer).hear(AudioBlock(t0, samples.astype(np.float32), nicu.RATE))


def _reached_crying(windows: Sequence[CryWindow], settings: AudioSettings) -> bool:
    cue = CryCue(settings)
    return any(cue.window(w).state is CryState.CRYING for w in windows)


def _segments(windows: Sequence[CryWindow], seconds: float, window_s: float) -> list[list[CryWindow]]:
    """The windows lying wholly inside each 10 s segment of a track starting at 0 s."""
    out: list[list[CryWindow]] = [[] for _ in range(int(seconds // SEGMENT_S))]
    for w in windows:
        k = int((w.t - window_s) // SEGMENT_S)
        if k < len(out) and w.t <= (k + 1) * SEGMENT_S + 1e-9:
            out[k].append(w)
    return out


@dataclass(frozen=True)
class Condition:
    band: str
    snr_db: float


def crying_alarms(windows: Sequence[CryWindow], settings: AudioSettings, end_t: float
                  ) -> list[float]:
    """Times CRYING is raised when only these windows reach the engine (no face in view)."""
    engine = AlarmEngine(AlarmSettings(), audio=settings)
    engine.sound(0.0, True)
    raised = []
    for w in windows:
        engine.cry_window(w)
        raised += [e.t for e in engine.drain()[0]
                   if e.kind == CRYING and e.transition == Transition.RAISED]
    engine.tick(end_t)
    raised += [e.t for e in engine.drain()[0]
               if e.kind == CRYING and e.transition == Transition.RAISED]
    return raised


def evaluate_condition(scorer: CryScorer, validation: Sequence[np.ndarray],
                       sounds: nicu.BedSounds, condition: Condition, rng: np.random.Generator,
                       track_s: float, clips: int) -> dict:
    """Windows, 10 s segments and time to CRYING for one band and SNR, old and new rule."""
    cry, active = nicu.cry_track(rng, validation, track_s)
    bed = nicu.bed(rng, track_s + 1, sounds, kinds=NO_CRY_KINDS).samples
    gain = 10 ** ((nicu.active_level(cry) - condition.snr_db - nicu.rms_dbfs(bed)) / 20)
    crying = nicu.band_limited(nicu.mixed(cry, bed, condition.snr_db), condition.band)
    quiet_bed = nicu.bed(rng, track_s, sounds, kinds=NO_CRY_KINDS).samples
    quiet = nicu.band_limited(quiet_bed * (gain * 10 ** ((nicu.rms_dbfs(bed) - nicu.rms_dbfs(quiet_bed)) / 20)),
                              condition.band)
    cry_windows, bed_windows = score(scorer, crying), score(scorer, quiet)
    _, shares = split_windows(active.astype(np.float32))
    shares = shares.mean(axis=1)[:len(cry_windows)]
    positives = [w for w, s in zip(cry_windows, shares) if s >= 0.5]
    per_segment = int(SEGMENT_S * nicu.RATE)
    sound_s = [float(active[k * per_segment:(k + 1) * per_segment].sum()) / nicu.RATE
               for k in range(int(track_s // SEGMENT_S))]
    result: dict = {"band": condition.band, "snr_db": condition.snr_db,
                    "crying_windows": len(positives), "bed_windows": len(bed_windows)}
    times = _time_to_crying(scorer, validation, sounds, condition, rng, clips)
    for rule in RULES:
        settings = audio_settings(rule)
        scores_pos = np.array([window_score(w, rule) for w in positives])
        scores_neg = np.array([window_score(w, rule) for w in bed_windows])
        labels = np.r_[np.ones(len(scores_pos)), np.zeros(len(scores_neg))]
        cut = threshold(settings)
        cry_segments = _segments(cry_windows, track_s, scorer.card.input.window_s)
        bed_segments = _segments(bed_windows, track_s, scorer.card.input.window_s)
        every = [_reached_crying(s, settings) for s in cry_segments]
        found = [hit for k, hit in enumerate(every) if sound_s[k] >= CRYING_SEGMENT_SOUND_S]
        false = [_reached_crying(s, settings) for s in bed_segments]
        result[rule] = {
            "window_auc": float(roc_auc_score(labels, np.r_[scores_pos, scores_neg])),
            "window_sensitivity": float(np.mean(scores_pos >= cut)),
            "window_specificity": float(np.mean(scores_neg < cut)),
            "segments_crying": len(found), "segment_sensitivity": float(np.mean(found)),
            "segments_all": len(every), "segment_sensitivity_all": float(np.mean(every)),
            "segments_bed": len(false), "segment_specificity": 1.0 - float(np.mean(false)),
            "time_to_crying_s": times[rule],
        }
    return result


def _time_to_crying(scorer: CryScorer, validation: Sequence[np.ndarray], sounds: nicu.BedSounds,
                    condition: Condition, rng: np.random.Generator, clips: int) -> dict[str, list]:
    """Per faceless clip: seconds from the start of sustained crying to CRYING (None: missed)."""
    out: dict[str, list] = {rule: [] for rule in RULES}
    for _ in range(clips):
        cry, active = nicu.cry_track(rng, validation, CRY_S)
        onset = LEAD_IN_S + int(np.argmax(active)) / nicu.RATE
        total = LEAD_IN_S + CRY_S + 20
        bed = nicu.bed(rng, total, sounds, kinds=NO_CRY_KINDS).samples
        start = int(LEAD_IN_S * nicu.RATE)
        padded = np.zeros_like(bed)
        padded[start:start + cry.size] = cry
        gain = 10 ** ((nicu.active_level(cry) - condition.snr_db - nicu.rms_dbfs(bed)) / 20)
        sound = nicu.band_limited((padded + bed * gain).astype(np.float32), condition.band)
        windows = score(scorer, np.clip(sound, -1, 1))
        for rule in RULES:
            raised = [t for t in crying_alarms(windows, audio_settings(rule), total)
                      if t >= onset]
            out[rule].append(None if not raised else round(raised[0] - onset, 2))
    return out


def false_alarms(scorer: CryScorer, sounds: nicu.BedSounds, band: str, hours: float,
                 rng: np.random.Generator) -> dict:
    """CRYING raised per hour of a bed without this infant's cry (next cot's cry included)."""
    windows: list[CryWindow] = []
    seconds = hours * 3600
    kinds_seen: dict[str, int] = {}
    hearing = Hearing(scorer)
    t = 0.0
    while t < seconds - 1e-9:
        length = min(CHUNK_S, seconds - t)
        scene = nicu.bed(rng, length, sounds)
        for e in scene.events:
            kinds_seen[e.kind] = kinds_seen.get(e.kind, 0) + 1
        sound = np.clip(nicu.band_limited(scene.samples, band), -1, 1)
        windows += hearing.hear(AudioBlock(t, sound, nicu.RATE))
        t += length
    out = {"band": band, "hours": hours, "events": kinds_seen}
    for rule in RULES:
        raised = crying_alarms(windows, audio_settings(rule), seconds)
        out[rule] = {"crying_alarms": len(raised), "per_hour": len(raised) / hours,
                     "per_8_hours": len(raised) / hours * 8, "at_s": raised[:20]}
    return out


def esc10_auc(scorer: CryScorer, cries: Sequence[np.ndarray], others: Sequence[np.ndarray]) -> dict:
    """Clip-level ROC AUC (max window score) of ESC-10 cries against the other ESC-10 sounds."""
    def clip_max(samples: np.ndarray, rule: str) -> float:
        return max(window_score(w, rule) for w in score(scorer, samples))

    labels = np.r_[np.ones(len(cries)), np.zeros(len(others))]
    return {rule: float(roc_auc_score(labels, [clip_max(x, rule) for x in [*cries, *others]]))
            for rule in RULES} | {"cries": len(cries), "others": len(others)}


def summary(times: Sequence[float | None]) -> dict:
    found = sorted(t for t in times if t is not None)
    return {"clips": len(times), "raised": len(found),
            "median_s": None if not found else float(np.median(found)),
            "max_s": None if not found else found[-1],
            "within_15_s": sum(t <= 15.0 for t in found)}

