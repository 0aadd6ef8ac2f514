"""The technical alarms (ALARMS.md "Technical alarms"): raised while the watch says their
condition holds, cleared when it ends (they never latch); NO_FACE and POOR_SIGNAL go to medium
after blind_escalate_s.

An engine part: its timers are the watch's (a condition that starts to hold by itself) and the
blind alarms' escalation.
"""

from __future__ import annotations

from monitor.config import AlarmSettings
from monitor.signal.book import AlarmBook
from monitor.signal.clockwork import Bench, Part
from monitor.signal.modes import Modes
from monitor.signal.records import LOW, MEDIUM, NO_FACE, POOR_SIGNAL, RANK, TECHNICAL_KINDS, Transition
from monitor.signal.technical import TechnicalWatch
from monitor.signal.timing import earliest, is_due

BLIND_KINDS = (NO_FACE, POOR_SIGNAL)


class TechnicalAlarms(Part):
    """Technical alarms follow the watch's conditions: raised, escalated, cleared."""

    def __init__(self, bench: Bench, book: AlarmBook, modes: Modes, watch: TechnicalWatch) -> None:
        self.bench, self._book, self._modes, self.watch = bench, book, modes, watch

    def use(self, settings: AlarmSettings) -> None:
        self.watch.settings = settings

    def next_due(self) -> float | None:
        cfg = self.bench.settings
        blind = [alarm.since + cfg.blind_escalate_s for alarm in self._book.alarms.values()
                 if alarm.kind in BLIND_KINDS and alarm.priority == LOW]
        return earliest(self.watch.next_due(self.bench.now, not self._modes.in_standby), *blind)

    def fire(self) -> None:
        bench, book = self.bench, self._book
        held = self.watch.conditions(bench.now, not self._modes.in_standby)
        for kind in TECHNICAL_KINDS:
            alarm = book.get(kind)
            if kind not in held:
                if alarm is not None:
                    book.remove(alarm)
                    bench.emit(kind, alarm.priority, Transition.CLEARED)
                continue
            priority = held[kind]
            if alarm is None:
                book.add(kind, priority, bench.now)
                bench.emit(kind, priority, Transition.RAISED, detail=self.watch.detail(kind))
            else:
                if kind in BLIND_KINDS and is_due(alarm.since + bench.settings.blind_escalate_s, bench.now):
                    priority = MEDIUM
                if RANK[priority] > RANK[alarm.priority]:
                    book.escalate(alarm, priority, self.watch.detail(kind))
