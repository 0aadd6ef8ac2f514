"""The rules between the cues (ALARMS.md "Cues beyond the face: fusion"): a face-only PAIN
episode that a cue now corroborates is upgraded; a completed cry onset raises CRYING when the
face does not carry it, and CRYING is handed to a PAIN alarm that the cry corroborates.

An engine part with no timers of its own: it acts at every instant, after the face run and the
cry run have moved (the order of the parts in engine.py), before the technical alarms.
"""

from __future__ import annotations

from monitor.signal.book import AlarmBook
from monitor.signal.clockwork import Bench, Part
from monitor.signal.crying import CryingAlarm
from monitor.signal.cues import CRY, FACE, cue_label
from monitor.signal.episode import Episode
from monitor.signal.modes import Modes
from monitor.signal.pain_alarm import PainAlarm
from monitor.signal.records import CRYING, MEDIUM, PAIN, RANK, Transition

CARRIED_BY_PAIN = "carried by PAIN"


class Fusion(Part):
    """Upgrade of face-only PAIN by a corroborating cue; CRYING raised or handed to PAIN."""

    def __init__(self, bench: Bench, book: AlarmBook, modes: Modes, pain: PainAlarm,
                 crying: CryingAlarm) -> None:
        self.bench, self._book, self._modes, self._pain, self._crying = bench, book, modes, pain, crying

    def fire(self) -> None:
        self._pain.note_cues()
        episode = self._pain.open
        if episode is not None:
            target = self._pain.priority(episode)
            if RANK.get(episode.max_priority, -1) < RANK[MEDIUM] <= RANK.get(target, -1):
                self._upgrade(episode, target)
            alarm = self._book.get(PAIN, episode.number)
            if alarm is not None:
                alarm.cues = cue_label(episode.cues)
        crying = self._crying.alarm
        crying_active = crying is not None and crying.active
        carried = self._pain_carries_cry()
        if crying_active and carried:
            self._book.remove(crying)
            self.bench.emit(CRYING, crying.priority, Transition.CLEARED, detail=CARRIED_BY_PAIN)
        elif (not crying_active and not carried and self._crying.onset_complete
              and not self._modes.in_standby and self._face_quiet()):
            self._crying.raise_alarm()

    def _upgrade(self, episode: Episode, priority: str) -> None:
        """A new alarm signal at medium (or high): it sounds even if the low one was acknowledged."""
        others = cue_label(episode.cues).removeprefix(FACE).removeprefix("+").replace("+", " + ")
        detail = f"corroborated by {others}" if others else "face_only_priority changed"
        alarm = self._book.get(PAIN, episode.number)
        episode.max_priority = priority
        self.bench.changed.add(episode.number)
        if alarm is None:
            self._pain.raise_alarm(episode, priority, self.bench.now, detail)
            return
        alarm.escalate_ref = self.bench.now
        self._book.escalate(alarm, priority, detail)

    def _pain_carries_cry(self) -> bool:
        episode = self._pain.open
        if episode is None or CRY not in episode.cues:
            return False
        alarm = self._book.get(PAIN, episode.number)
        return alarm is not None and alarm.active

    def _face_quiet(self) -> bool:
        """The face does not show pain: S unknown or below T_on."""
        s = self._pain.smoother.value
        return s is None or s < self.bench.settings.t_on
