"""The engine's scheduler: parts that each say when they next need time, fired in time order.

Every part of the alarm engine (pain alarm, crying alarm, technical alarms, modes, the alarm
book) is a `Part`. At an input the engine lets time run up to its instant: whenever the earliest
`next_due` of any part falls before it, time is integrated up to that deadline and every part
acts there (`fire`, in the order the parts are listed, so same-instant events read naturally);
then the input is applied and the parts act once more at its instant (`settle`), and tidy up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.config import AlarmSettings
from monitor.signal.records import (AlarmEvent, AlarmKind, EpisodeRecord, EventKind, Priority,
                                    Transition)
from monitor.signal.timing import MAX_SESSION_S, earliest


@dataclass
class Bench:
    """What every part shares: the session clock's now, the alarm settings, the event log and the
    pain episodes (number -> monitor.signal.episode.Episode) whose records changed since a drain."""

    now: float
    settings: AlarmSettings
    events: list[AlarmEvent] = field(default_factory=list)
    episodes: dict = field(default_factory=dict)
    changed: set[int] = field(default_factory=set)
    reminder_due: bool = False  # a reminder sounded at the latest instant

    def drain(self, record: Callable[[int], EpisodeRecord]) -> tuple[list[AlarmEvent], list[EpisodeRecord]]:
        """The events since the last drain, and the record of every episode that changed."""
        events, self.events = self.events, []
        records = [record(n) for n in sorted(self.changed)]
        self.changed = set()
        return events, records

    def emit(self, kind: AlarmKind | EventKind, priority: Priority | None, transition: Transition,
             user: str | None = None, episode: int | None = None, detail: str = "") -> None:
        self.events.append(AlarmEvent(self.now, kind, priority, transition, user, episode, detail))


class Part:
    """One piece of the engine. `integrate` lets time pass with the inputs unchanged; `next_due`
    is when the part next acts by itself (None: only at an input); `fire` acts on what is due
    now and on what the parts before it in the list have just done."""

    def integrate(self, t: float) -> None:
        pass

    def next_due(self) -> float | None:
        return None

    def fire(self) -> None:
        pass

    def tidy(self) -> None:
        """An input has been applied in full: drop what no longer counts (snapshot() only reads)."""

    def use(self, settings: AlarmSettings) -> None:
        """New alarm settings from now on (bench.settings is already the new one)."""

    def finish(self) -> None:
        """The session ends now: a condition in progress ends with reason session_ended."""

    def corroborating(self, now: float) -> frozenset[str]:
        """The cues beside the face that this part says corroborate a face run at `now`."""
        return frozenset()


class Clockwork:
    """Runs the parts on the session clock: inputs are never before `bench.now`."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.parts: list[Part] = []  # in the order they act at one instant

    def corroborating(self, now: float) -> frozenset[str]:
        """Every part's corroborating cues at `now`."""
        return frozenset().union(*(part.corroborating(now) for part in self.parts))

    def enter(self, t: float) -> float:
        """Fire every timer due before t, each at its own instant, then move time to t."""
        t = max(session_time(t), self.bench.now)
        self.bench.reminder_due = False
        self._run_until(t)
        self._integrate(t)
        return t

    def settle(self) -> None:
        """Act at the current instant after an input (and on whatever that makes due now)."""
        self._fire()
        self._run_until(self.bench.now)
        for part in self.parts:
            part.tidy()

    def change(self, settings: AlarmSettings, user: str) -> None:
        """An audited change: one SETTINGS event naming each changed key, then every part uses it."""
        old, new = self.bench.settings.model_dump(), settings.model_dump()
        changed = [f"{key}: {old[key]!r} -> {new[key]!r}" for key in new if new[key] != old[key]]
        if changed:
            self.bench.emit(EventKind.SETTINGS, None, Transition.SETTINGS_CHANGED, user,
                            detail="; ".join(changed))
            self.use(settings)

    def use(self, settings: AlarmSettings) -> None:
        self.bench.settings = settings
        for part in self.parts:
            part.use(settings)

    def finish(self) -> None:
        for part in self.parts:
            part.finish()

    def _run_until(self, t: float) -> None:
        while (due := earliest(*(part.next_due() for part in self.parts))) is not None and due <= t:
            self._integrate(max(due, self.bench.now))
            self._fire()

    def _integrate(self, t: float) -> None:
        for part in self.parts:
            part.integrate(t)
        self.bench.now = t

    def _fire(self) -> None:
        for part in self.parts:
            part.fire()


def session_time(t: float) -> float:
    t = float(t)
    if not math.isfinite(t):
        raise ValueError(f"session time must be a finite number of seconds (got {t})")
    if abs(t) > MAX_SESSION_S:
        raise ValueError(f"session time must be within +-{MAX_SESSION_S:g} s (got {t:g})")
    return t
