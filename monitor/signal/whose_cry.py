"""Whose cry (ALARMS.md "Whose cry", issue 22): is the cry that is heard this infant's?

In an open bay the next infant's cry reaches this cot's microphone 10-20 dB below this infant's
own, often above the loudness gate. When this infant's face is in view and has shown no crying
for the whole span the cry cue counts (every scored frame calm: p below the gauge's calm band,
and the mouth not open once the face stage tells the mouth), a cry that is heard is someone
else's: the cue says "cry nearby", which never raises CRYING and never corroborates PAIN.

The danger is a crying infant whose face is misread as calm (or a calm face in view that is not
this infant's): its cry would be taken for the neighbour's. So the rule asks for a face seen
within FACE_SEEN_WITHIN_S and calm for the whole span, and any frame that is not calm, an open
mouth, or a mouth the face stage cannot tell (covered by a pacifier, tube or mask) gives the
cry back to this infant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.config import AlarmSettings, AudioSettings
from monitor.packets import FaceStatus
from monitor.signal.clockwork import Bench, Part
from monitor.signal.cry import CryState
from monitor.signal.face_state import NO_READING, FaceState
from monitor.signal.records import EventKind, Transition

if TYPE_CHECKING:
    from monitor.signal.cues import CorroboratingCues

FACE_SEEN_WITHIN_S = 1.0  # the face must be in view now, not a minute ago
CALM_MOUTHS = (None, "closed")  # None: the face stage does not tell the mouth (expression only)


def mouth_of(face: FaceState) -> str | None:
    """The face stage's mouth state for the rule: None while it has no landmark reading at all
    (the stage is off: the expression alone decides), else open, closed, covered or unknown."""
    return None if face.reason == NO_READING else face.mouth.value


class WhoseCry(Part):
    """An engine part: feeds on the face's frames; says whether a cry heard now is another
    infant's. The cry cue (cues.py) asks it before it calls a cry this infant's; its timers are
    the instants that answer changes by time alone (the calm face has lasted the span, the face
    was last seen FACE_SEEN_WITHIN_S ago), so the cry run sees the change when it happens.

    With `audio.whose_cry` off (sessions stored before issue 22) it never answers nearby."""

    def __init__(self, bench: Bench, audio: AudioSettings) -> None:
        self.bench = bench
        self.enabled = audio.whose_cry
        self.calm_below = bench.settings.band_watch  # the gauge's "calm" band
        self.span_s = audio.span_s
        self._seen_at: float | None = None  # last scored frame
        self._calm_since: float | None = None  # start of the run of calm scored frames
        self._cues: CorroboratingCues | None = None
        self._heard_nearby = False  # what the CUE events last said

    def hear(self, cues: "CorroboratingCues") -> None:
        """The cry cue this part answers for (it asks nearby() before it calls a cry this
        infant's; this part logs when a cry heard turns another infant's and back)."""
        self._cues = cues
        cues.whose = self

    def fire(self) -> None:
        if self._cues is None:
            return
        now = self.bench.now
        heard = self._cues.cry_reading(now).state is CryState.NEARBY
        if heard != self._heard_nearby:
            self._heard_nearby = heard
            self.bench.emit(EventKind.CUE, None,
                            Transition.CRY_NEARBY if heard else Transition.CRY_NEARBY_ENDED,
                            detail="this infant's face is calm: the cry is another infant's"
                            if heard else "")

    def use(self, settings: AlarmSettings) -> None:
        self.calm_below = settings.band_watch

    def next_due(self) -> float | None:
        if not self.enabled or self._seen_at is None:
            return None
        times = [self._seen_at + FACE_SEEN_WITHIN_S]
        if self._calm_since is not None:
            times.append(self._calm_since + self.span_s)
        due = [t for t in times if t > self.bench.now]
        return min(due) if due else None

    def frame(self, t: float, status: FaceStatus, p: float | None, mouth: str | None = None) -> None:
        """One frame: scored (p, and the mouth state when the face stage has one) or not."""
        if status is not FaceStatus.SCORED or p is None:
            return  # no face (or a poor one): nothing is learnt about this infant's face
        self._seen_at = t
        if p < self.calm_below and mouth in CALM_MOUTHS:
            if self._calm_since is None:
                self._calm_since = t
        else:
            self._calm_since = None

    def forget(self) -> None:
        """The tracked face is someone else's now (subject change), or standby."""
        self._seen_at = self._calm_since = None

    def nearby(self, now: float) -> bool:
        """A cry heard now belongs to another infant: this one's face is in view and has been
        calm for at least the cry cue's span."""
        return (self.enabled and self._seen_at is not None
                and now - self._seen_at < FACE_SEEN_WITHIN_S
                and self._calm_since is not None and now - self._calm_since >= self.span_s)
