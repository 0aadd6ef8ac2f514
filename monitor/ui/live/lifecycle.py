"""The live window's life as a state machine, and the two policies it applies; no Qt here.

`TRANSITIONS` is the one table of what may follow what. The window reports what happened as a
`Step`; `Lifecycle.step` moves to the next state or refuses a step the table does not list, so
the window can never be in two states at once (crashed and closing, stalled and ended). Beside
it, the crash-restart policy (`RestartPolicy`) and the window's own watchdog of the analysis loop
(`LoopWatch`): the view asks them, and only draws the state they lead to.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from monitor.config import AlarmSettings

STALL_MARGIN_S = 1.0  # beyond the pipeline's own watchdog, so that both agree when both work
CRASH_WINDOW_S = 600.0  # crashes counted over the last 10 minutes
EXIT_CRASHED = 1  # the window gives up after repeated crashes: the supervisor restarts the process


class State(StrEnum):
    STARTING = "starting"  # the first session loads the model and opens the source
    MONITORING = "monitoring"  # the session is ready and its analysis loop sends updates
    STALLED = "stalled"  # the session runs, but its loop has sent nothing for too long
    CRASHED = "crashed"  # the analysis thread died: a restart is due, or the window gives up
    RESTARTING = "restarting"  # the next session is on its way (after a crash, a new source or patient)
    ENDED = "ended"  # no session runs and none is coming (the source ended, or it could not start)
    CLOSING = "closing"  # the window closes: the pipeline stops and flushes, within a time limit
    CLOSED = "closed"  # the close is done: the window goes away


class Step(StrEnum):
    READY = "ready"  # the session started: model loaded, source open
    STALL = "stall"  # the window's watchdog: no update from the loop for too long
    RESUME = "resume"  # the loop sends updates again
    CRASH = "crash"  # the analysis thread died
    END = "end"  # the session ended and no other is coming (source over, could not start)
    RESTART = "restart"  # a new session is asked for: a crash's restart is due, a new source or patient
    CLOSE = "close"  # the window is to close (the user, a stop signal, repeated crashes)
    DONE = "done"  # the pipeline stopped, or the close stopped waiting for it


_LIVE = {Step.CRASH: State.CRASHED, Step.END: State.ENDED, Step.RESTART: State.RESTARTING,
         Step.CLOSE: State.CLOSING}  # what can happen to any running session

TRANSITIONS: dict[State, dict[Step, State]] = {
    State.STARTING: {Step.READY: State.MONITORING, Step.END: State.ENDED,
                     Step.RESTART: State.RESTARTING, Step.CLOSE: State.CLOSING},
    State.MONITORING: {Step.STALL: State.STALLED, **_LIVE},
    State.STALLED: {Step.RESUME: State.MONITORING, **_LIVE},
    State.CRASHED: {Step.RESTART: State.RESTARTING, Step.CLOSE: State.CLOSING},
    State.RESTARTING: {Step.READY: State.MONITORING, **_LIVE},
    State.ENDED: {Step.RESTART: State.RESTARTING, Step.CLOSE: State.CLOSING},
    State.CLOSING: {Step.DONE: State.CLOSED},
    State.CLOSED: {},
}


@dataclass(frozen=True)
class Crash:
    """What the screen and the next session's audit say about the latest crash."""

    reason: str
    session_id: int


class RefusedStep(RuntimeError):
    """A step the table does not allow from the current state: a bug in the window."""


class Lifecycle:
    """Where the window is in its life; every move goes through TRANSITIONS."""

    def __init__(self, state: State = State.STARTING) -> None:
        self.state = state

    def allows(self, step: Step) -> bool:
        return step in TRANSITIONS[self.state]

    def step(self, step: Step) -> State:
        """Move on by `step`; RefusedStep when the table does not list it from here."""
        following = TRANSITIONS[self.state].get(step)
        if following is None:
            raise RefusedStep(f"{step.value} is not allowed while {self.state.value}")
        self.state = following
        return following

    @property
    def watched(self) -> bool:
        """The loop should be sending updates (the window's watchdog looks)."""
        return self.state in (State.MONITORING, State.STALLED)

    @property
    def closing(self) -> bool:
        return self.state in (State.CLOSING, State.CLOSED)


class RestartPolicy:
    """A crashed analysis restarts after `delay_s`; the `limit`-th crash within CRASH_WINDOW_S
    gives up instead, so that the process exits EXIT_CRASHED and the supervisor starts it afresh."""

    def __init__(self, delay_s: float, limit: int, window_s: float = CRASH_WINDOW_S) -> None:
        self.delay_s, self.limit, self.window_s = delay_s, limit, window_s
        self._crashes: deque[float] = deque()

    def after_crash(self, now: float) -> float | None:
        """Record a crash at `now` (monotonic s): seconds until the restart, or None to give up."""
        self._crashes.append(now)
        while self._crashes[0] < now - self.window_s:
            self._crashes.popleft()
        return None if len(self._crashes) >= self.limit else self.delay_s

    @property
    def recent(self) -> int:
        return len(self._crashes)


def stall_limit(alarms: AlarmSettings) -> float:
    """Seconds without a loop update after which the window says MONITORING STOPPED itself."""
    return alarms.watchdog_after_s + STALL_MARGIN_S


class LoopWatch:
    """The window's own watchdog: when the analysis loop itself last sent an update."""

    def __init__(self) -> None:
        self.last: float | None = None

    def pulse(self, now: float) -> None:
        self.last = now

    def forget(self) -> None:
        self.last = None

    def silent_for(self, now: float) -> float:
        return 0.0 if self.last is None else now - self.last

    def overdue(self, now: float, limit_s: float) -> bool:
        return self.last is not None and now - self.last > limit_s
