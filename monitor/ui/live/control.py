"""Which session the live window runs, and how it starts, restarts, closes and is audited.

`SessionControl` owns what the window only draws: the running `PipelineWorker`, the lifecycle
(every move through `lifecycle.TRANSITIONS`), the crash-restart policy, the window's own watchdog
timer, the audit log and the close protocol. It has no widgets: the window forwards the user's
actions to it and redraws when it says so (`changed`, `starting`, `ready`, `update`, `drained`,
`closed`); the dialogs that ask the user first stay in the window.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from monitor.config import AlarmSettings, Settings
from monitor.signal.actions import ChangeAlarmSettings, UserAction
from monitor.ui.live.lifecycle import (EXIT_CRASHED, Crash, Lifecycle, LoopWatch, RestartPolicy,
                                       State, Step, stall_limit)
from monitor.ui.live.options import WindowOptions
from monitor.ui.live.worker import PipelineWorker, StartedSession, Update, audit_outside_session

log = logging.getLogger(__name__)

WATCH_EVERY_MS = 500
AUDIT_JOIN_S = 2.0  # the longest a close waits for an audit entry written outside a session
OVER = (State.ENDED, State.CLOSING, State.CLOSED)


class SessionControl(QObject):
    """One bed's sessions, one at a time: a new source or patient, or a crash, starts the next."""

    changed = pyqtSignal()  # the lifecycle moved
    starting = pyqtSignal()  # a session starts: nothing of the previous one is current
    ready = pyqtSignal(object)  # StartedSession: the session started
    update = pyqtSignal(object)  # Update from the running session
    drained = pyqtSignal(object, object)  # list[AlarmEvent], list[EpisodeRecord]
    closed = pyqtSignal()  # CLOSED: the window may go away

    def __init__(self, settings: Settings, source: str, realtime: bool, options: WindowOptions,
                 encounter_id: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.configured = settings  # the unit's layered settings: what a new patient starts with
        self.settings = settings
        self.source = source
        self.realtime = realtime
        self.options = options
        self.user = options.user
        self.encounter_id = encounter_id or uuid.uuid4().hex[:12]
        self.worker: PipelineWorker | None = None
        self.started: StartedSession | None = None
        self.now: float | None = None  # the running session's latest time, for its audit entries
        self.lifecycle = Lifecycle()
        self.restarts = RestartPolicy(options.restart_after_crash_s, options.crashes_before_exit)
        self.loop_watch = LoopWatch()
        self.failure = ""  # why the latest session could not start, shown while ENDED
        self._failure_code = 0  # its exit status once the window closes (2: bad input)
        self.crash: Crash | None = None  # the latest crash, shown until a restarted session is ready
        self._next: tuple[str, str, Settings] | None = None  # RESTARTING: source, encounter, settings
        self.exit_code = 0
        self.stop_cause = ""
        self._audits: list[threading.Thread] = []  # entries written while no session ran
        self._self_test: dict | None = None  # the start-up self-test, audited once a session runs
        self._watch_timer = QTimer(self)  # the window's own watchdog, on the Qt thread
        self._watch_timer.setInterval(WATCH_EVERY_MS)
        self._watch_timer.timeout.connect(self._watch_pipeline)
        self._watch_timer.start()

    @property
    def state(self) -> State:
        return self.lifecycle.state

    @property
    def monitoring(self) -> bool:
        """A session runs and its loop is expected to send updates."""
        return self.lifecycle.watched

    @property
    def ended(self) -> bool:
        """Nothing is monitored and nothing is coming: the session is over, or the window closes."""
        return self.state in OVER

    @property
    def closing(self) -> bool:
        return self.lifecycle.closing

    def allows(self, step: Step) -> bool:
        return self.lifecycle.allows(step)

    def _step(self, step: Step) -> None:
        """One move of the lifecycle (refused when its table does not allow it), then redraw."""
        before = self.state
        self.lifecycle.step(step)
        log.info("window: %s -> %s (%s)", before.value, self.state.value, step.value)
        self.changed.emit()

    # --- a session's life --------------------------------------------------------------------

    def start(self) -> None:
        """Start monitoring `self.source` with `self.settings` on a worker thread."""
        self.started, self.now = None, None
        self.failure, self._failure_code = "", 0
        self.loop_watch.forget()
        worker = PipelineWorker(self.settings, self.source, self.realtime, self.encounter_id)
        worker.ready.connect(self._on_ready)
        worker.update.connect(self._on_update)
        worker.drained.connect(self._on_drained)
        worker.failed.connect(self._on_failed)
        worker.crashed.connect(self._on_crashed)
        worker.ended.connect(self._on_ended)
        self.worker = worker
        self.starting.emit()
        worker.start()

    def _on_ready(self, started: StartedSession) -> None:
        if self.sender() is not self.worker or self._next is not None or self.lifecycle.closing:
            return  # a session being stopped (for the next one, or the close) does not start watching
        self.started = started
        self.loop_watch.pulse(time.monotonic())
        log.info("session %d: %s on %s, model %s, log %s", started.session_id, started.source,
                 started.device, started.model, started.database)
        self.ready.emit(started)
        self._step(Step.READY)
        if self.crash is not None:
            self.audit("restarted_after_crash", crash=self.crash.reason,
                       previous_session=self.crash.session_id)
            self.crash = None
        self._audit_self_test()

    def _on_update(self, update: Update) -> None:
        if self.sender() is not self.worker:
            return
        self.now = update.snapshot.t
        if update.from_loop:
            self.loop_watch.pulse(time.monotonic())
            if self.state is State.STALLED:
                log.info("window: the analysis loop moves again")
                self._step(Step.RESUME)
        self.update.emit(update)

    def _on_drained(self, events: list, episodes: list) -> None:
        if self.sender() is self.worker:
            self.drained.emit(events, episodes)

    def _on_failed(self, message: str, exit_code: int) -> None:
        if self.sender() is not self.worker:
            return
        self.failure, self._failure_code = message, exit_code
        log.error("monitoring: %s", message)

    def _on_crashed(self, message: str, session_id: int) -> None:
        """The analysis thread died (its session is closed `crashed`): an alarm at once, then
        RestartPolicy decides between a fresh session and exiting for the supervisor."""
        if self.sender() is not self.worker or self.lifecycle.closing:
            return  # a crash while closing: its `ended` finishes the close
        log.error("session %d: the analysis crashed (%s)", session_id, message)
        self.crash = Crash(message, session_id)  # audited in the next session: this one's writer is gone
        self._step(Step.CRASH)
        wait_s = self.restarts.after_crash(time.monotonic())
        if wait_s is None:
            log.critical("%d crashes within %.0f min: exiting for the supervisor to restart",
                         self.restarts.recent, self.restarts.window_s / 60)
            self.exit_code = EXIT_CRASHED
            self._begin_close("repeated crashes")
            return
        QTimer.singleShot(int(wait_s * 1000), self._restart_after_crash)

    def _restart_after_crash(self) -> None:
        if self.state is not State.CRASHED:
            return  # closed, or restarted by the user, meanwhile
        self._step(Step.RESTART)
        if self._next is None:
            self.start()
        else:
            self._start_next()

    def _on_ended(self, summary) -> None:
        if self.sender() is not self.worker:
            return
        if summary is not None:
            log.info("session %d ended: %s", summary.session_id, summary.end_reason)
        if self.lifecycle.closing:
            self._finish_close()  # nothing more once closed (a late end after the close's time limit)
        elif self.state is State.CRASHED:
            pass  # a crashed session's end: its restart is already due
        elif self._next is not None:
            self._start_next()  # the session stopped for the next source or patient
        else:
            self.crash = None  # a restart that could not start: its failure is what shows now
            self._step(Step.END)

    def _watch_pipeline(self) -> None:
        """Whatever the pipeline threads do, a loop that stops sending updates is an alarm here."""
        if self.state is not State.MONITORING:
            return  # STALLED resumes with the loop's next update
        limit_s = stall_limit(self.settings.alarms)
        if self.loop_watch.overdue(time.monotonic(), limit_s):
            log.error("window: no update from the analysis loop for %.0f s", limit_s)
            self._step(Step.STALL)

    # --- what the user asks for --------------------------------------------------------------

    def command(self, action: UserAction, before_start: bool = False) -> bool:
        """Hand a user action to the running session's loop; False when none runs."""
        return self.worker is not None and self.worker.command(action, before_start)

    def audit(self, action: str, **detail) -> None:
        """Into the running session's record; with none running, into the audit log on its own."""
        if self.worker is None or not self.worker.audit(action, self.user, self.now, **detail):
            self._audits.append(audit_outside_session(self.settings.store.url, action, self.user,
                                                      **detail))

    def self_tested(self, record: dict) -> None:
        """The start-up self-test ran: audited once, in the first session that starts."""
        self._self_test = record
        self._audit_self_test()

    def _audit_self_test(self) -> None:
        if self._self_test is not None and self.started is not None:
            self.audit("self_test", **self._self_test)
            self._self_test = None

    def set_user(self, name: str) -> None:
        self.audit("shift_user_set", previous=self.user, user=name)
        self.user = name

    def change_alarm_settings(self, alarms: AlarmSettings) -> bool | None:
        """Audited; the engine takes them from its next step (and logs each changed key). True:
        in force now; False: from the next session on; None: nothing changed."""
        old, new = self.settings.alarms.model_dump(), alarms.model_dump()
        changed = {key: [old[key], new[key]] for key in new if new[key] != old[key]}
        if not changed:
            return None
        self.audit("settings_changed", changed=changed)
        in_force = self.command(ChangeAlarmSettings(alarms, self.user), before_start=True)
        self.settings = self.settings.model_copy(update={"alarms": alarms})
        if self._next is not None:  # RESTARTING: the next session starts with them too
            source, encounter, settings = self._next
            self._next = (source, encounter, settings.model_copy(update={"alarms": alarms}))
        return in_force

    def change_source(self, spec: str) -> None:
        self.audit("source_changed", previous=self.source, source=spec)
        self._restart(spec, self.encounter_id, self.settings)

    def new_patient(self) -> None:
        """A new encounter, with the alarm settings this unit configured (its file and PAINMON_*
        layers, as the window started), not the code's defaults."""
        encounter = uuid.uuid4().hex[:12]
        self.audit("new_patient", previous_encounter=self.encounter_id, encounter=encounter)
        alarms = self.configured.alarms
        self._restart(self.source, encounter, self.settings.model_copy(update={"alarms": alarms}))

    def _restart(self, source: str, encounter_id: str, settings: Settings) -> None:
        """RESTARTING: the running session stops, then the next one starts (from `_on_ended`)."""
        self._next = (source, encounter_id, settings)
        self._step(Step.RESTART)
        if self.worker is not None and self.worker.running:
            self.worker.stop()
        else:
            self._start_next()

    def _start_next(self) -> None:
        self.source, self.encounter_id, self.settings = self._next
        self._next = None
        self.start()

    # --- the close ---------------------------------------------------------------------------

    def close(self, cause: str, action: str, **detail) -> None:
        """Audit why (`action`), then stop the pipeline and wait for it by signal, never blocking;
        the close gives up waiting after `close_timeout_s`."""
        if self.allows(Step.CLOSE):
            self.audit(action, **detail)
            self._begin_close(cause)

    def _begin_close(self, cause: str) -> None:
        self._next, self.stop_cause = None, cause
        self._step(Step.CLOSE)
        if self.worker is None or not self.worker.running:
            self._finish_close()
            return
        self.worker.stop()
        QTimer.singleShot(int(self.options.close_timeout_s * 1000), self._close_timed_out)

    def _close_timed_out(self) -> None:
        if self.state is State.CLOSING:
            log.error("the pipeline did not stop within %.0f s; closing anyway (the log may miss "
                      "its last rows)", self.options.close_timeout_s)
            self._finish_close()

    def _finish_close(self) -> None:
        """CLOSED; the exit status says why nothing was monitored, if that is how it ends."""
        if self.state is not State.CLOSING:
            return
        self._watch_timer.stop()
        self._step(Step.DONE)
        if self.exit_code == 0 and self.failure:
            self.exit_code = self._failure_code  # 2: bad input, no restart mends it; 1: a fault
        for thread in self._audits:
            thread.join(AUDIT_JOIN_S)
        log.info("window closed (%s)", self.stop_cause or "session over")
        self.closed.emit()
