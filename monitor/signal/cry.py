"""The cry cue: per-window cry scores -> a smoothed cue C(t) and a state, on the session clock.

Pure (no I/O, no model): the cry model scores 0.975 s windows of sound; this module turns them
into what the screen, the store and the alarm fusion use. Time conventions:

- A window is dated by its END (`CryWindow.t`), the moment its score can be known, so the cue is
  causal and a replay feeds windows in the same order as live capture did. A sound is therefore
  dated up to one window (0.975 s) after it began.
- C is an exponential moving average weighted by the real time between windows (time constant
  `audio.tau_s`), so a 0.48 s or a 0.24 s hop gives the same C, as S does for frames.
- Windows quieter than `audio.min_cry_dbfs` enter C and the whimper average as 0: a faint cry
  from the next cot is heard by the model but is not this infant's cry. Their raw scores are
  still reported.
- No sound is a state, never a zero: before the first window, after `lost_after_s` without one,
  or when the source says there is none, the state is NO_MICROPHONE and every value is None.
- Two rules for C (`audio.cry_rule`, recorded with each session). `yamnet_ema`, the rule of
  sessions stored before issue 22: C is the EMA above, crying from `cry_on` held `cry_min_s`
  until C < `cry_off`. `detector_span`: a window is cry-like when it is loud enough and its cry
  detector score (YAMNet's cry score where a window has none) reaches `detector_on`; C is the
  share of the last `span_s` covered by cry-like windows (each stands for the time since the
  previous window, at most MAX_WINDOW_SPAN_S); crying from `span_on` until C < `span_off`, so
  a breath between cries does not end it and one squeal does not start it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from monitor.config import AudioSettings
from monitor.signal.timing import EPS

SILENCE_DBFS = -120.0  # what digital silence (and anything quieter) reads as: finite, so storable
MAX_WINDOW_SPAN_S = 1.0  # detector_span: a window stands for at most this much time before it
SPAN_RULE = "detector_span"


def loudness_dbfs(samples: np.ndarray) -> float:
    """RMS level of float samples in -1..1, in dB relative to full scale (a full-scale square
    wave is 0 dBFS, a full-scale sine -3 dBFS); never below SILENCE_DBFS."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(x * x)))
    if rms <= 0.0 or not math.isfinite(rms):
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms))


class CryState(StrEnum):
    """What the cue says. NO_MICROPHONE carries no values: unknown, neither cry nor quiet."""

    NO_MICROPHONE = "no_microphone"
    QUIET = "quiet"  # silent, or sounds that are not crying (or too faint to be this infant's)
    WHIMPER = "whimper"  # some cry or whimper sound, not (yet) a sustained cry
    CRYING = "crying"  # C reached cry_on, stayed there cry_min_s, and has not fallen below cry_off
    NEARBY = "nearby"  # crying is heard, but this infant's face is calm: another infant's cry


@dataclass(frozen=True)
class CryWindow:
    """One scored window: YAMNet's three crying classes and the window's loudness."""

    t: float  # session time of the window's END
    baby_cry: float  # class 20 "Baby cry, infant cry", 0..1
    sobbing: float  # class 19 "Crying, sobbing", 0..1
    whimper: float  # class 21 "Whimper", 0..1
    dbfs: float  # loudness_dbfs of the window's samples
    p: float | None = None  # the cry detector's probability of crying, 0..1 (None: no detector)

    @property
    def c(self) -> float:
        """The window's raw cry score: class 19 often outscores class 20 on infant cries."""
        return max(self.baby_cry, self.sobbing)


@dataclass(frozen=True)
class CryReading:
    """The cue at time t. Values are None exactly when state is NO_MICROPHONE."""

    t: float
    state: CryState
    c: float | None = None  # raw cry score of the latest window (ungated)
    whimper: float | None = None  # raw whimper score of the latest window (ungated)
    c_smooth: float | None = None  # C(t): smoothed, loudness-gated cry score
    whimper_smooth: float | None = None  # the same for the whimper score
    dbfs: float | None = None  # loudness of the latest window
    loud: bool | None = None  # latest window at or above the loudness gate
    p: float | None = None  # the cry detector's score of the latest window (ungated)
    reason: str = ""  # why there is no microphone reading


class CryCue:
    """Feeds scored windows in time order; answers the cue's state at any later time."""

    def __init__(self, settings: AudioSettings, reason: str = "no sound yet") -> None:
        self.settings = settings
        self._span_rule = settings.cry_rule == SPAN_RULE
        self._reason = reason
        self._latest: CryReading | None = None
        self._last_t: float | None = None
        self._crying = False
        self._above_since: float | None = None
        self._cry_like: deque[tuple[float, float]] = deque()  # detector_span: covered intervals

    def window(self, w: CryWindow) -> CryReading:
        """Take one window (its end time after the previous one's) and return the cue at w.t."""
        for name in ("baby_cry", "sobbing", "whimper", "p"):
            value = getattr(w, name)
            if value is None and name == "p":
                continue
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} score must be within 0..1, got {value!r}")
        if not math.isfinite(w.dbfs):
            raise ValueError(f"dbfs must be finite, got {w.dbfs!r}")
        if self._last_t is not None and w.t <= self._last_t:
            raise ValueError(f"window at {w.t} s is not after the previous one at {self._last_t} s")
        s = self.settings
        loud = w.dbfs >= s.min_cry_dbfs
        c_in = w.c if loud else 0.0
        w_in = w.whimper if loud else 0.0
        fresh = self._latest is None or self._last_t is None or w.t - self._last_t >= s.lost_after_s - EPS
        if fresh:
            self._crying, self._above_since = False, None
            self._cry_like.clear()
            c_smooth, w_smooth = c_in, w_in
        else:
            weight = 1.0 - math.exp(-(w.t - self._last_t) / s.tau_s)
            c_smooth = self._latest.c_smooth + weight * (c_in - self._latest.c_smooth)
            w_smooth = self._latest.whimper_smooth + weight * (w_in - self._latest.whimper_smooth)
        if self._span_rule:
            c_smooth = self._share(w, loud, None if fresh else self._last_t)
            state = self._span_state(c_smooth, w_smooth)
        else:
            state = self._state(w.t, c_smooth, w_smooth)
        self._last_t = w.t
        self._latest = CryReading(t=w.t, state=state, c=w.c, whimper=w.whimper,
                                  c_smooth=c_smooth, whimper_smooth=w_smooth, dbfs=w.dbfs,
                                  loud=loud, p=w.p)
        return self._latest

    def _state(self, t: float, c_smooth: float, w_smooth: float) -> CryState:
        s = self.settings
        if self._crying and c_smooth < s.cry_off:
            self._crying = False
        if not self._crying:
            if c_smooth >= s.cry_on:
                self._above_since = t if self._above_since is None else self._above_since
                self._crying = t - self._above_since >= s.cry_min_s - EPS
            else:
                self._above_since = None
        if self._crying:
            return CryState.CRYING
        return CryState.WHIMPER if max(c_smooth, w_smooth) >= s.whimper_on else CryState.QUIET

    def _share(self, w: CryWindow, loud: bool, previous: float | None) -> float:
        """detector_span: the share of (w.t - span_s, w.t] covered by cry-like windows."""
        s = self.settings
        score = w.c if w.p is None else w.p
        if loud and score >= s.detector_on:
            start = w.t - MAX_WINDOW_SPAN_S if previous is None else max(previous, w.t - MAX_WINDOW_SPAN_S)
            self._cry_like.append((start, w.t))
        begin = w.t - s.span_s
        while self._cry_like and self._cry_like[0][1] <= begin:
            self._cry_like.popleft()
        covered = sum(end - max(start, begin) for start, end in self._cry_like)
        return min(1.0, covered / s.span_s)

    def _span_state(self, share: float, w_smooth: float) -> CryState:
        s = self.settings
        if self._crying and share < s.span_off - EPS:
            self._crying = False
        if not self._crying and share >= s.span_on - EPS:
            self._crying = True
        if self._crying:
            return CryState.CRYING
        return CryState.WHIMPER if max(share, w_smooth) >= s.whimper_on else CryState.QUIET

    def stale_at(self) -> float | None:
        """When the cue turns NO_MICROPHONE unless another window comes (a timer for the engine)."""
        return None if self._latest is None else self._last_t + self.settings.lost_after_s

    def at(self, now: float) -> CryReading:
        """The cue at `now` (not before the last window): the latest window's reading, or
        NO_MICROPHONE when there is none or it is lost_after_s old."""
        deadline = self.stale_at()
        if deadline is not None and deadline <= now + EPS:
            self.lost(f"no sound for {self.settings.lost_after_s:g} s")
        if self._latest is None:
            return CryReading(t=now, state=CryState.NO_MICROPHONE, reason=self._reason)
        return replace(self._latest, t=now)

    def lost(self, reason: str) -> None:
        """The source says there is no sound (device lost, no sound track, standby): forget C,
        which restarts from the next window."""
        self._reason = reason
        self._latest = None
        self._last_t = None
        self._crying, self._above_since = False, None
        self._cry_like.clear()
