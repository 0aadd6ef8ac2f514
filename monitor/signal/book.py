"""The alarm book: every alarm signal of the session and what happens to it (ALARMS.md
"Signals"): acknowledge, silence, escalate, remind, latch, and whether it is audible now.

An engine part: its timers are each alarm's silence end, unattended escalation and reminder.
The parts that own a condition (pain, crying, technical) raise and end alarms here.
"""

from __future__ import annotations

import math

from monitor.config import AlarmSettings
from monitor.signal.alarm import AlarmSignal
from monitor.signal.clockwork import Bench, Part
from monitor.signal.modes import Modes
from monitor.signal.records import (HIGH, MEDIUM, PAIN, PATIENT_KINDS, RANK, SESSION_ENDED,
                                    SIGNAL_LOST, AlarmState, Tone, Transition)
from monitor.signal.timing import earliest, is_due

Key = tuple[str, int | None]  # kind, episode number (None for all but PAIN)


class AlarmBook(Part):
    """Alarm signals by (kind, episode); PAIN has one per episode, every other kind one."""

    def __init__(self, bench: Bench, modes: Modes) -> None:
        self.bench = bench
        self.modes = modes
        self.alarms: dict[Key, AlarmSignal] = {}
        self._suppressed = False  # patient audio suppressed at the last instant

    def get(self, kind: str, episode: int | None = None) -> AlarmSignal | None:
        return self.alarms.get((kind, episode))

    def add(self, kind: str, priority: str, t: float, episode: int | None = None) -> AlarmSignal:
        self.alarms[(kind, episode)] = alarm = AlarmSignal(kind, priority, t, episode)
        return alarm

    def remove(self, alarm: AlarmSignal) -> None:
        del self.alarms[(alarm.kind, alarm.episode)]

    # --- user actions -----------------------------------------------------------------------

    def acknowledge(self, user: str, kind: str | None) -> None:
        """Acknowledge one kind, or every active or latched alarm (kind None)."""
        bench = self.bench
        for alarm in list(self.alarms.values()):
            if kind is not None and alarm.kind != kind:
                continue
            bench.emit(alarm.kind, alarm.priority, Transition.ACKNOWLEDGED, user, alarm.episode)
            episode = bench.episodes.get(alarm.episode)
            if episode is not None and episode.ack_at is None:
                episode.ack_at, episode.ack_by = bench.now, user
                bench.changed.add(episode.number)
            if alarm.latched:
                self.remove(alarm)
                bench.emit(alarm.kind, alarm.priority, Transition.CLEARED, user, alarm.episode,
                           "latch acknowledged")
            else:
                alarm.unacked = False
                alarm.silenced_until = bench.now + bench.settings.ack_silence_s
                alarm.escalate_ref = bench.now

    def use(self, settings: AlarmSettings) -> None:
        """A shorter ack_silence shortens the silences running now."""
        bench = self.bench
        for alarm in self.alarms.values():
            if alarm.silenced_until is not None:
                alarm.silenced_until = min(alarm.silenced_until, bench.now + bench.settings.ack_silence_s)

    # --- what the condition parts do --------------------------------------------------------

    def escalate(self, alarm: AlarmSignal, priority: str, detail: str) -> None:
        """A new alarm signal at a higher priority: it sounds even if the lower one was acknowledged."""
        bench = self.bench
        alarm.escalate(priority)
        if alarm.episode is not None:
            bench.episodes[alarm.episode].max_priority = priority
            bench.changed.add(alarm.episode)
        bench.emit(alarm.kind, priority, Transition.ESCALATED, episode=alarm.episode, detail=detail)

    def end(self, alarm: AlarmSignal, reason: str, span: tuple[float, float]) -> None:
        """A patient alarm's condition is over: it latches (ALARMS.md) or clears."""
        bench = self.bench
        bench.emit(alarm.kind, alarm.priority, Transition.ENDED, episode=alarm.episode, detail=reason)
        alarm.active = False
        must_latch = reason == SIGNAL_LOST or alarm.unacked
        if must_latch and reason != SESSION_ENDED and not self.modes.in_procedure:
            alarm.latched = True
            alarm.latch_span = span
            alarm.next_reminder = bench.now + bench.settings.reminder_every_s
            bench.emit(alarm.kind, alarm.priority, Transition.LATCHED, episode=alarm.episode)
        else:
            self.remove(alarm)
            bench.emit(alarm.kind, alarm.priority, Transition.CLEARED, episode=alarm.episode)

    # --- the clockwork ----------------------------------------------------------------------

    def next_due(self) -> float | None:
        timers = []
        for alarm in self.alarms.values():
            timers += [alarm.silenced_until if alarm.active else None,
                       self._escalate_at(alarm), self._reminder_at(alarm)]
        return earliest(*timers)

    def fire(self) -> None:
        bench, now = self.bench, self.bench.now
        suppressed = self.modes.patient_audio_suppressed
        if self._suppressed and not suppressed:  # unattended time counts afresh from now
            for alarm in self.alarms.values():
                if alarm.kind in PATIENT_KINDS and alarm.active:
                    alarm.escalate_ref = now
        self._suppressed = suppressed
        for alarm in list(self.alarms.values()):
            if alarm.active and is_due(alarm.silenced_until, now):
                alarm.silenced_until = None
                bench.emit(alarm.kind, alarm.priority, Transition.SILENCE_ENDED, episode=alarm.episode)
            if is_due(self._escalate_at(alarm), now):
                self.escalate(alarm, HIGH, f"unacknowledged for {bench.settings.escalate_after_s:g} s")
            if is_due(self._reminder_at(alarm), now):
                alarm.next_reminder = now + bench.settings.reminder_every_s
                bench.reminder_due = True
                bench.emit(alarm.kind, alarm.priority, Transition.REMINDER, episode=alarm.episode)

    def _escalate_at(self, alarm: AlarmSignal) -> float | None:
        """Unattended patient alarms at medium go high; a face-only low one stays low."""
        if (alarm.kind not in PATIENT_KINDS or not alarm.active or alarm.priority != MEDIUM
                or self.modes.patient_audio_suppressed):
            return None
        return alarm.escalate_ref + self.bench.settings.escalate_after_s

    def _reminder_at(self, alarm: AlarmSignal) -> float | None:
        """A reminder silenced by audio pause sounds when the pause ends, not never."""
        if not alarm.latched or self.modes.patient_audio_suppressed:
            return None
        return max(alarm.next_reminder, self.modes.paused_until or -math.inf)

    # --- what the screen shows --------------------------------------------------------------

    def audible(self, alarm: AlarmSignal) -> bool:
        if not alarm.active or alarm.silenced_until is not None or self.modes.paused_until is not None:
            return False
        return not (alarm.kind in PATIENT_KINDS and self.modes.patient_audio_suppressed)

    def states(self) -> tuple[tuple[AlarmState, ...], Tone | None]:
        """Every alarm as the screen shows it, most urgent first, and the tone to sound."""
        alarms = sorted(self.alarms.values(), key=lambda a: (-RANK[a.priority], a.since, a.kind))
        states = tuple(AlarmState(a.kind, a.priority, a.active, a.latched, a.signal_lost,
                                  self.audible(a), a.silenced_until, a.since, a.episode, a.text())
                       for a in alarms)
        sounding = [a for a in states if a.audible]
        if not sounding:
            return states, None
        top = max(sounding, key=lambda a: (RANK[a.priority], a.kind in PATIENT_KINDS, a.kind == PAIN))
        return states, Tone(top.kind, top.priority, top.kind not in PATIENT_KINDS)
