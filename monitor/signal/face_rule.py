"""The face-state rule (ALARMS.md "Face state: eyes closed, relaxed"): while the face is relaxed,
a face-only PAIN episode is not raised at any priority; when the relaxed state ends while the
episode lasts, PAIN is raised then at `face_only_priority`.

An engine part before Fusion (which raises a corroborated episode at medium whatever the face
does, and so still does while the face is relaxed): its one timer is the instant the last mesh reading stops standing (`face.hold_s`), when a
held-back episode must be raised although no input arrives. PainAlarm asks `relaxed(now)`.
"""

from __future__ import annotations

from monitor.config import FaceSettings
from monitor.packets import FaceActions
from monitor.signal.book import AlarmBook
from monitor.signal.clockwork import Bench, Part
from monitor.signal.face_state import FaceState, FaceStateTracker
from monitor.signal.pain_alarm import PainAlarm
from monitor.signal.records import NO_SIGNAL, PAIN

NO_LONGER_RELAXED = "face no longer relaxed"


class FaceStateRule(Part):
    """The face state from the mesh's readings; holds back a face-only PAIN while relaxed."""

    def __init__(self, bench: Bench, book: AlarmBook, pain: PainAlarm,
                 settings: FaceSettings | None = None) -> None:
        self.bench, self._book, self._pain = bench, book, pain
        self.tracker = FaceStateTracker(settings)
        self._held: int | None = None  # the episode whose raise the relaxed face holds back
        pain.face_relaxed = self.relaxed

    def reading(self, actions: FaceActions) -> None:
        self.tracker.add(self.bench.now, actions)

    def forget(self) -> None:
        """Another person's face, or standby: the state restarts from the next reading."""
        self.tracker.clear()

    def state(self, now: float) -> FaceState:
        return self.tracker.state(now)

    def view(self, now: float) -> dict:
        """The snapshot's face-state fields; all None before the first reading. Only reads."""
        if not self.tracker.ever_read:
            return dict(face_state=None, eyes_state=None, mouth_state=None)
        state = self.tracker.state(now)
        return dict(face_state=state.label, eyes_state=state.eyes.value, mouth_state=state.mouth.value)

    def relaxed(self, now: float) -> bool:
        return self.tracker.state(now).relaxed

    def next_due(self) -> float | None:
        until = self.tracker.stands_until()
        return until if self._held is not None and until is not None and until > self.bench.now else None

    def fire(self) -> None:
        self._pain.note_cues()
        episode = self._pain.open
        if episode is None or self._book.get(PAIN, episode.number) is not None \
                or episode.max_priority != NO_SIGNAL:
            self._held = None
            return
        now = self.bench.now
        if self.relaxed(now):
            self._held = episode.number
            return
        if self._held != episode.number:
            return  # not held back by the face (face_only_priority none): fusion's to raise
        priority = self._pain.priority(episode)
        self._held = None
        if priority != NO_SIGNAL:
            episode.max_priority = priority
            self.bench.changed.add(episode.number)
            self._pain.raise_alarm(episode, priority, now, NO_LONGER_RELAXED)
