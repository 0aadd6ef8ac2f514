"""The alarm-settings dialog's worked example, computed by the real AlarmEngine (no Qt here).

Whatever the values being edited, the example is what the engine does with them on a small
synthetic face-only trace (S given directly, as in ALARMS.md's worked example): calm, then S held
between T_on and T_high and left unacknowledged past `escalate_after`, then calm again, the latch
acknowledged afterwards. A second trace holds S at T_high to show what T_high does. Nothing in
the description is written by hand: each row is an input of the trace or an event of the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import AlarmSettings
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import PAIN, SYMBOL, AlarmEvent, EpisodeRecord, Transition

CALM_S = 0.10
RISE_AT_S = 20.0  # the pain face appears
MARGIN_S = 10.0  # each phase runs this long past the last timer it could start
NURSE = "nurse"


@dataclass(frozen=True)
class Row:
    t: float
    s: float | None  # the S of the trace from this time (None: unchanged)
    what: str


@dataclass(frozen=True)
class Run:
    """One synthetic trace through the engine: its PAIN events and its one episode."""

    events: list[AlarmEvent]
    episode: EpisodeRecord | None

    def first(self, transition: Transition) -> AlarmEvent | None:
        return next((e for e in self.events if e.transition == transition), None)


@dataclass(frozen=True)
class Example:
    level: float  # S held during the episode
    rows: list[Row]
    raised: AlarmEvent | None
    escalated: AlarmEvent | None
    unacknowledged_s: float  # how long the alarm was left unacknowledged while S stayed up
    episode: EpisodeRecord | None
    high_level: float
    high: Run  # S held at or above T_high instead


def _run(cfg: AlarmSettings, level: float, hold_until: float, ack_at: float | None) -> Run:
    """S calm, then `level` from RISE_AT_S until `hold_until`, then calm; acknowledged at `ack_at`."""
    engine = AlarmEngine(cfg)
    engine.feed_s(0.0, CALM_S)
    engine.feed_s(RISE_AT_S, level)
    engine.feed_s(hold_until, CALM_S)
    end = hold_until + cfg.d_off_s + MARGIN_S
    if ack_at is not None:
        engine.acknowledge(ack_at, NURSE, PAIN)
        end = max(end, ack_at + MARGIN_S)
    engine.tick(end)
    events, episodes = engine.drain()
    return Run([e for e in events if e.kind == PAIN], episodes[-1] if episodes else None)


def priority_words(priority: str) -> str:
    return f"{priority} priority ({SYMBOL[priority]})"


def compute(cfg: AlarmSettings) -> Example:
    """The example for these settings, as the engine runs it."""
    level = round((cfg.t_on + cfg.t_high) / 2, 2)  # above T_on, below T_high
    probe = _run(cfg, level, RISE_AT_S + cfg.d_on_s + MARGIN_S, None)
    raised_at = probe.first(Transition.RAISED)
    hold_until = (raised_at.t if raised_at else RISE_AT_S + cfg.d_on_s) + cfg.escalate_after_s + MARGIN_S
    main = _run(cfg, level, hold_until, None)
    ended = main.first(Transition.ENDED)
    ack_at = (ended.t if ended else hold_until + cfg.d_off_s) + MARGIN_S
    main = _run(cfg, level, hold_until, ack_at)
    raised, escalated = main.first(Transition.RAISED), main.first(Transition.ESCALATED)

    rows = [Row(0.0, CALM_S, "calm")]
    start = main.episode.start if main.episode else RISE_AT_S
    rows.append(Row(start, level, f"S rises to {level:.2f}, at or above T_on {cfg.t_on:.2f}: "
                                  "the episode counts from here"))
    if raised is None and main.episode is not None:
        rows.append(Row(main.episode.alarm_at, None, f"{cfg.d_on_s:g} s at or above T_on: the episode "
                        "is recorded, no alarm sounds (face-only priority none)"))
    for event in main.events:
        rows.append(Row(event.t, None, _event_words(event, cfg)))
    rows.append(Row(hold_until, CALM_S, f"S falls to {CALM_S:.2f}, at or below T_off {cfg.t_off:.2f}"))
    rows.sort(key=lambda r: r.t)
    unacknowledged = hold_until - raised.t if raised else 0.0

    high_level = min(round(cfg.t_high + 0.05, 2), 0.99)
    high = _run(cfg, high_level, RISE_AT_S + cfg.d_on_s + cfg.d_high_s + MARGIN_S, None)
    return Example(level, rows, raised, escalated, unacknowledged, main.episode, high_level, high)


def _event_words(event: AlarmEvent, cfg: AlarmSettings) -> str:
    priority = priority_words(event.priority) if event.priority in SYMBOL else ""
    if event.transition == Transition.RAISED:
        return f"alarm raised at {priority}, tone on"
    if event.transition == Transition.ESCALATED:
        return f"escalated to {priority}: {event.detail}"
    if event.transition == Transition.ENDED:
        return f"{cfg.d_off_s:g} s at or below T_off: the episode is over"
    if event.transition == Transition.LATCHED:
        return "never acknowledged: the alarm stays on screen as LATCHED"
    if event.transition == Transition.ACKNOWLEDGED:
        return "the nurse acknowledges"
    if event.transition == Transition.CLEARED:
        return f"the alarm clears ({event.detail})" if event.detail else "the alarm clears"
    return f"{event.transition.replace('_', ' ')} {event.detail}".strip()


def summary(example: Example, cfg: AlarmSettings) -> str:
    """What it did, in one paragraph: when raised, at what priority, whether and why it escalated."""
    parts = []
    raised, escalated = example.raised, example.escalated
    if raised is None:
        parts.append("A pain face alone raises no alarm with these values; the episode is recorded.")
    else:
        parts.append(f"A pain face alone (no crying, no movement) raises the alarm "
                     f"{raised.t - RISE_AT_S:g} s after S reaches T_on, at {priority_words(raised.priority)}.")
        if escalated is None:
            parts.append(f"Left unacknowledged for {example.unacknowledged_s:g} s it stays at "
                         f"{priority_words(raised.priority)}: it does not escalate.")
        else:
            parts.append(f"Unacknowledged, it escalates {escalated.t - raised.t:g} s later to "
                         f"{priority_words(escalated.priority)} ({escalated.detail}).")
    high_raised, high_escalated = example.high.first(Transition.RAISED), example.high.first(Transition.ESCALATED)
    if high_raised is not None:
        if high_escalated is None:
            parts.append(f"With S at {example.high_level:.2f} (at or above T_high {cfg.t_high:.2f}) "
                         f"for {cfg.d_high_s:g} s it still stays at {priority_words(high_raised.priority)}.")
        else:
            parts.append(f"With S at {example.high_level:.2f} (at or above T_high {cfg.t_high:.2f}) it "
                         f"becomes {priority_words(high_escalated.priority)} {high_escalated.t - high_raised.t:g} s "
                         f"after the raise ({high_escalated.detail}).")
    if example.episode is not None and example.episode.end is not None:
        parts.append(f"Episode recorded {example.episode.start:g} s to {example.episode.end:g} s, "
                     f"highest priority {example.episode.max_priority}.")
    return " ".join(parts)
