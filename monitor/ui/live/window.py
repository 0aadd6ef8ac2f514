"""The live bedside window: glanceable from two metres, one key to acknowledge.

Layout, top to bottom: bed and controls; the alarm bar with Acknowledge and Audio pause; the
video beside the S gauge and the cue panel (face, cry, movement); the 15-minute trend strip of S
and the cry cue C; procedure / standby and the settings marker;
the status line. The window only paints: results arrive from `PipelineSession` by signals, and
where it is in its life (starting, monitoring, stalled, crashed, restarting, ended, closing) is
`lifecycle.Lifecycle`, whose one table says what may follow what; the view draws that state.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from typing import Callable

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QMainWindow, QMessageBox,
                             QPushButton, QVBoxLayout, QWidget)

from monitor.config import AlarmSettings, Settings
from monitor.signal import actions
from monitor.signal.records import (HIGH, LOW, MEDIUM, PIPELINE_STALLED, PROCEDURE, STANDBY,
                                    AlarmEvent, EpisodeRecord, Snapshot, Tone)
from monitor.text import text_problem
from monitor.ui.live import style, words
from monitor.ui.live.alarmbar import SELF_TEST, STATUS, AlarmBar, Tile, alarm_tiles
from monitor.ui.live.cues import CuePanel
from monitor.ui.live.dialogs import ProcedureDialog, SettingsDialog, SourceDialog
from monitor.ui.live.gauge import Gauge
from monitor.ui.live.lifecycle import (EXIT_CRASHED, Crash, Lifecycle, LoopWatch, RestartPolicy,
                                       State, Step, stall_limit)
from monitor.ui.live.options import WindowOptions
from monitor.ui.live.session import PipelineSession, SessionInfo, Update, audit_outside_session
from monitor.ui.live.sound import AlarmSound
from monitor.ui.live.trend import TrendStrip
from monitor.ui.live.video import VideoView

log = logging.getLogger(__name__)

# Not patient-facing behaviour: a different bed or database is not a "changed setting".
NOT_MARKED = ("bed_label", "store.url")
SELF_TEST_STEPS = ((HIGH, False), (MEDIUM, False), (LOW, True), (MEDIUM, True))
RATE_WINDOW_S = 3.0
WATCH_EVERY_MS = 500
AUDIT_JOIN_S = 2.0  # the longest a close waits for an audit entry written outside a session
CANNOT_MONITOR = "CANNOT_MONITOR"  # the window's own technical alarm: no session could start
OVER = (State.ENDED, State.CLOSING, State.CLOSED)


class LiveWindow(QMainWindow):
    """One bed: one monitoring session at a time (a new source or patient starts the next)."""

    def __init__(self, settings: Settings, source: str, realtime: bool,
                 options: WindowOptions | None = None, encounter_id: str | None = None) -> None:
        super().__init__()
        self.configured = settings  # the unit's layered settings: what a new patient starts with
        self.settings = settings
        self.source = source
        self.realtime = realtime
        self.options = options or WindowOptions()
        self.user = self.options.user
        self.encounter_id = encounter_id or uuid.uuid4().hex[:12]
        self.session: PipelineSession | None = None
        self.info: SessionInfo | None = None
        self.snapshot: Snapshot | None = None
        self.last_update: Update | None = None
        self.episodes: dict[int, EpisodeRecord] = {}
        self.procedure_reason = ""
        self.clock: Callable[[float], str] = words.SessionTime(None)
        self.lifecycle = Lifecycle()
        self.restarts = RestartPolicy(self.options.restart_after_crash_s,
                                      self.options.crashes_before_exit)
        self.loop_watch = LoopWatch()
        self.failure = ""  # why the latest session could not start, shown while ENDED
        self._failure_code = 0  # its exit status once the window closes (2: bad input)
        self.crash: Crash | None = None  # the latest crash, shown until a restarted session is ready
        self._next: tuple[str, str, Settings] | None = None  # RESTARTING: source, encounter, settings
        self.exit_code = 0
        self._stop_cause = ""
        self._audits: list[threading.Thread] = []  # entries written while no session ran
        self._frames: deque[float] = deque()
        self._ticks: deque[float] = deque()
        self.ticks = 0  # repaint timer ticks: the UI thread's pulse
        self._opened = time.monotonic()
        self._self_test_started: float | None = None
        self._self_test_record: dict | None = None
        self._self_test_audited = False
        self.sound = AlarmSound(self.options)
        self._build()
        self._timers()
        self._keys()
        self.start_session()

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.setWindowTitle(f"painmon - {self.settings.bed_label} - facial expression estimate")
        self.setStyleSheet(style.STYLESHEET)
        root = QWidget()
        column = QVBoxLayout(root)
        column.setContentsMargins(10, 8, 10, 6)
        column.setSpacing(8)

        header = QHBoxLayout()
        self.bed_label = QLabel()
        self.bed_label.setObjectName("header")
        self.source_label = QLabel()
        self.source_label.setObjectName("status")
        self.user_button = self._button("", self.set_user)
        self.source_button = self._button("Source...", self.choose_source)
        self.patient_button = self._button("New patient...", self.new_patient)
        self.settings_button = self._button("Alarm settings...", self.open_settings)
        self.sound_label = QLabel("" if self.sound.available else "NO SOUND: alarms are visual only")
        self.sound_label.setObjectName("marker")
        self.sound_label.setToolTip(self.sound.why)
        header.addWidget(self.bed_label)
        header.addWidget(self.source_label, 1)
        header.addWidget(self.sound_label)
        for button in (self.user_button, self.source_button, self.patient_button, self.settings_button):
            header.addWidget(button)
        column.addLayout(header)

        alarms = QHBoxLayout()
        self.alarm_bar = AlarmBar()
        alarms.addWidget(self.alarm_bar, 1)
        controls = QVBoxLayout()
        self.ack_button = self._button("Acknowledge  [Space]", self.acknowledge)
        self.pause_button = self._button("Audio pause  [P]", self.audio_pause)
        for button in (self.ack_button, self.pause_button):
            button.setMinimumWidth(230)
            controls.addWidget(button)
        alarms.addLayout(controls)
        column.addLayout(alarms)

        middle = QHBoxLayout()
        self.video = VideoView(self.settings.vision.cot_region)
        self.gauge = Gauge(self.settings.alarms)
        self.cues = CuePanel(self.settings.audio)
        middle.addWidget(self.video, 5)
        middle.addWidget(self.gauge, 3)
        middle.addWidget(self.cues, 2)
        column.addLayout(middle, 1)

        self.trend = TrendStrip(self.settings.alarms, self.options.trend_minutes)
        self.trend.setFixedHeight(170)
        column.addWidget(self.trend)

        modes = QHBoxLayout()
        self.procedure_button = self._button("Procedure / care...", self.toggle_procedure)
        self.standby_button = self._button("Standby", self.toggle_standby)
        self.mode_label = QLabel()
        self.mode_label.setObjectName("mode")
        self.marker_label = QLabel()
        self.marker_label.setObjectName("marker")
        self.last_event_label = QLabel()
        self.last_event_label.setObjectName("status")
        modes.addWidget(self.procedure_button)
        modes.addWidget(self.standby_button)
        modes.addWidget(self.mode_label, 2)
        modes.addWidget(self.marker_label, 2)
        modes.addWidget(self.last_event_label, 1)
        column.addLayout(modes)

        self.status_label = QLabel()
        self.status_label.setObjectName("status")
        column.addWidget(self.status_label)
        for label in (self.source_label, self.mode_label, self.marker_label, self.last_event_label,
                      self.status_label):  # long texts wrap; they never widen the window past the screen
            label.setWordWrap(True)
            label.setMinimumWidth(40)
        self.setCentralWidget(root)
        self.resize(1280, 800)
        self._refresh_labels()

    def _button(self, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must reach Acknowledge, not a button
        button.clicked.connect(slot)
        return button

    def _timers(self) -> None:
        self.repaint_timer = QTimer(self)
        self.repaint_timer.setInterval(int(1000 / self.options.repaint_hz))
        self.repaint_timer.timeout.connect(self._on_repaint)
        self.repaint_timer.start()
        self.trend_timer = QTimer(self)
        self.trend_timer.setInterval(int(self.options.trend_refresh_s * 1000))
        self.trend_timer.timeout.connect(self.trend.redraw)
        self.trend_timer.start()
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(1000)
        self.status_timer.timeout.connect(self._refresh_status)
        self.status_timer.start()
        self.watch_timer = QTimer(self)  # the window's own watchdog, on the Qt thread
        self.watch_timer.setInterval(WATCH_EVERY_MS)
        self.watch_timer.timeout.connect(self._watch_pipeline)
        self.watch_timer.start()

    def _keys(self) -> None:
        for key, slot in ((Qt.Key.Key_Space, self.acknowledge), (Qt.Key.Key_A, self.acknowledge),
                          (Qt.Key.Key_P, self.audio_pause), (Qt.Key.Key_F11, self.toggle_full_screen),
                          (Qt.Key.Key_Escape, self.leave_full_screen)):
            QShortcut(QKeySequence(key), self, activated=slot)

    # --- session -----------------------------------------------------------------------------

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

    def _step(self, step: Step) -> None:
        """One move of the lifecycle (refused when its table does not allow it), then redraw."""
        before = self.state
        self.lifecycle.step(step)
        log.info("window: %s -> %s (%s)", before.value, self.state.value, step.value)
        self._refresh_state()
        self._refresh_status()

    def start_session(self) -> None:
        """Start monitoring `self.source` with `self.settings` on a worker thread."""
        self.info, self.snapshot, self.last_update = None, None, None
        self.failure, self._failure_code = "", 0
        self.loop_watch.forget()
        self.episodes.clear()
        self.trend.reset()
        self._frames.clear()
        session = PipelineSession(self.settings, self.source, self.realtime, self.encounter_id)
        session.ready.connect(self._on_ready)
        session.update.connect(self._on_update)
        session.drained.connect(self._on_drained)
        session.failed.connect(self._on_failed)
        session.crashed.connect(self._on_crashed)
        session.ended.connect(self._on_ended)
        self.session = session
        self._refresh_labels()
        self._refresh_state()
        session.start()

    def _on_ready(self, info: SessionInfo) -> None:
        if self.sender() is not self.session or self._next is not None or self.lifecycle.closing:
            return  # a session being stopped (for the next one, or the close) does not start watching
        self.info = info
        self.clock = words.SessionTime(info.origin)
        self.loop_watch.pulse(time.monotonic())
        self.source_label.setText(f"   {info.source}")
        log.info("session %d: %s on %s, model %s, log %s", info.session_id, info.source, info.device,
                 info.model, info.database)
        self._step(Step.READY)
        if self.crash is not None:
            self.audit("restarted_after_crash", crash=self.crash.reason,
                       previous_session=self.crash.session_id)
            self.crash = None
        self._audit_self_test()

    def _on_update(self, update: Update) -> None:
        if self.sender() is not self.session:
            return
        self.snapshot, self.last_update = update.snapshot, update
        if update.from_loop:
            self.loop_watch.pulse(time.monotonic())
            if self.state is State.STALLED:
                log.info("window: the analysis loop moves again")
                self._step(Step.RESUME)
        if update.image is not None:
            self.video.set_frame(update.image, update.face_status, update.box, update.face_reason)
            self._frames.append(update.received)
        self.trend.add(update.snapshot.t, update.snapshot.s, update.snapshot.c)
        self._refresh_state()

    def _on_drained(self, events: list[AlarmEvent], episodes: list[EpisodeRecord]) -> None:
        if self.sender() is not self.session:
            return
        for episode in episodes:
            self.episodes[episode.number] = episode
        self.trend.add_episodes(episodes)
        for event in events:
            due = event.transition in ("reminder", "standby_overdue") or (
                event.transition == "procedure_ended" and event.detail == "expired")
            if due and not self.lifecycle.closing:
                self.sound.play("reminder")
        shown = [e for e in events if e.kind != "SESSION"]
        if shown:
            self.last_event_label.setText(self._event_text(shown[-1]))

    def _on_failed(self, message: str, exit_code: int) -> None:
        if self.sender() is not self.session:
            return
        self.failure, self._failure_code = message, exit_code
        log.error("monitoring: %s", message)

    def _on_crashed(self, message: str, session_id: int) -> None:
        """The analysis thread died (its session is closed `crashed`): an alarm at once, then
        RestartPolicy decides between a fresh session and exiting for the supervisor."""
        if self.sender() is not self.session or self.lifecycle.closing:
            return  # a crash while closing: its `ended` finishes the close
        log.error("session %d: the analysis crashed (%s)", session_id, message)
        self.crash = Crash(message, session_id)  # audited in the next session: this one's writer is gone
        self._step(Step.CRASH)
        wait_s = self.restarts.after_crash(time.monotonic())
        if wait_s is None:
            log.critical("%d crashes within %.0f min: exiting for the supervisor to restart",
                         self.restarts.recent, self.restarts.window_s / 60)
            self.exit_code = EXIT_CRASHED
            self._stop_cause = "repeated crashes"
            self._begin_close()
            return
        QTimer.singleShot(int(wait_s * 1000), self._restart_after_crash)

    def _restart_after_crash(self) -> None:
        if self.state is not State.CRASHED:
            return  # closed, or restarted by the user, meanwhile
        self._step(Step.RESTART)
        if self._next is None:
            self.start_session()
        else:
            self._start_next()

    def _on_ended(self, summary) -> None:
        if self.sender() is not self.session:
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

    def _own_alarm(self) -> Tile | None:
        """The window's own technical alarm (crash, stalled loop, cannot monitor), for what the
        engine cannot say."""
        state = self.state
        if state in (State.CRASHED, State.RESTARTING) and self.crash is not None:
            return Tile(PIPELINE_STALLED, HIGH, True, f"{words.symbol(HIGH)} MONITORING STOPPED",
                        f"the analysis crashed ({self.crash.reason}); restarting")
        engine_says = self.snapshot is not None and any(
            a.kind == PIPELINE_STALLED and a.active for a in self.snapshot.alarms)
        if state is State.STALLED and not engine_says:
            age = self.loop_watch.silent_for(time.monotonic())
            return Tile(PIPELINE_STALLED, MEDIUM, True, f"{words.symbol(MEDIUM)} MONITORING STOPPED",
                        f"no analysis for {age:.0f} s: the screen is not current", flashing=True)
        if state is State.ENDED and self.failure:
            return Tile(CANNOT_MONITOR, MEDIUM, True, f"{words.symbol(MEDIUM)} CANNOT MONITOR",
                        f"{self.failure}; choose Source... to monitor this bed")
        return None

    def own_tone(self) -> Tone | None:
        tile = self._own_alarm()
        return None if tile is None else Tone(tile.kind, tile.priority, True)

    def _now(self) -> float | None:
        return None if self.snapshot is None else self.snapshot.t

    def audit(self, action: str, **detail) -> None:
        """Into the running session's record; with none running, into the audit log on its own."""
        if self.session is None or not self.session.audit(action, self.user, self._now(), **detail):
            self._audits.append(audit_outside_session(self.settings.store.url, action, self.user,
                                                      **detail))

    def pending_alarms(self) -> list[str]:
        """Active or latched alarms, in words (what closing or stopping would leave unattended)."""
        if self.snapshot is None or not self.monitoring:
            return []
        return [f"{words.symbol(a.priority)} {words.KIND.get(a.kind, a.kind)}{' (latched)' if a.latched else ''}"
                for a in self.snapshot.alarms if a.active or a.latched]

    def confirm(self, title: str, text: str) -> bool:
        """A yes/no question (tests replace this method)."""
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _confirm_stop(self, what: str) -> bool:
        """Stopping with an alarm active or latched needs a yes; both answers are audited."""
        alarms = self.pending_alarms()
        if not alarms:
            return True
        ok = self.confirm(f"{what} with an alarm?",
                          f"{', '.join(alarms)}.\n\n{what} stops monitoring this bed: no alarm will "
                          "sound until monitoring starts again. Continue?")
        self.audit("stop_with_alarm_confirmed" if ok else "stop_with_alarm_cancelled",
                   what=what, alarms=alarms)
        return ok

    def _restart(self, source: str, encounter_id: str, settings: Settings) -> None:
        """RESTARTING: the running session stops, then the next one starts (from `_on_ended`)."""
        self._next = (source, encounter_id, settings)
        self._step(Step.RESTART)
        if self.session is not None and self.session.running:
            self.session.stop()
        else:
            self._start_next()

    def _start_next(self) -> None:
        self.source, self.encounter_id, self.settings = self._next
        self._next = None
        self._apply_settings()
        self.start_session()

    # --- user actions ------------------------------------------------------------------------

    def acknowledge(self) -> None:
        self._command(actions.Acknowledge(self.user))

    def audio_pause(self) -> None:
        self._command(actions.PauseAudio(self.user))

    def toggle_procedure(self) -> None:
        if self.snapshot is not None and self.snapshot.mode == PROCEDURE:
            self._command(actions.EndProcedure(self.user))
            return
        dialog = ProcedureDialog(self.settings.alarms, self)
        if dialog.exec():
            self.start_procedure(dialog.reason.currentText(), float(dialog.minutes.value()))

    def start_procedure(self, reason: str, minutes: float) -> None:
        problem = text_problem(reason)
        if problem is not None:
            self.last_event_label.setText(f"the procedure reason must not contain {problem}")
            return
        self.procedure_reason = reason
        self._command(actions.StartProcedure(minutes, reason, self.user))

    def toggle_standby(self) -> None:
        if self.snapshot is not None and self.snapshot.mode == STANDBY:
            self._command(actions.EndStandby(self.user))
        else:
            self._command(actions.StartStandby(self.user))

    def _command(self, action: actions.UserAction) -> None:
        if self.session is None or not self.session.command(action):
            self.last_event_label.setText("not monitoring: nothing to act on")

    def set_user(self) -> None:
        name, ok = QInputDialog.getText(self, "Shift user", "Name or badge for this shift "
                                        "(recorded with acknowledgements):", text=self.user)
        if ok:
            self.set_shift_user(name)

    def set_shift_user(self, name: str) -> None:
        problem = text_problem(name)
        if problem is not None:  # the user is recorded with every acknowledgement
            self.last_event_label.setText(f"the shift user must not contain {problem}")
            return
        name = name.strip()[:64] or "bedside"
        self.audit("shift_user_set", previous=self.user, user=name)
        self.user = name
        self._refresh_labels()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings.alarms, self, unit=self.configured.alarms)
        dialog.unlock_button.clicked.disconnect()
        dialog.unlock_button.clicked.connect(lambda: self.unlock_settings(dialog))
        if dialog.exec() and dialog.result_settings is not None:
            self.change_alarm_settings(dialog.result_settings)

    def unlock_settings(self, dialog: SettingsDialog) -> None:
        """The explicit unlock: a confirmation naming the shift user, then audited."""
        if self.confirm("Unlock alarm settings?",
                        "Thresholds and delays decide when the alarm sounds. Change them only as "
                        f"agreed for this ward. Changes are recorded under '{self.user}'."):
            self.audit("settings_unlocked")
            dialog.unlock()

    def change_alarm_settings(self, alarms: AlarmSettings) -> None:
        """Audited; the engine takes them from its next step (and logs each changed key)."""
        old, new = self.settings.alarms.model_dump(), alarms.model_dump()
        changed = {key: [old[key], new[key]] for key in new if new[key] != old[key]}
        if not changed:
            return
        self.audit("settings_changed", changed=changed)
        change = actions.ChangeAlarmSettings(alarms, self.user)
        if self.session is None or not self.session.command(change, before_start=True):
            self.last_event_label.setText("alarm settings changed: they apply when monitoring starts")
        self.settings = self.settings.model_copy(update={"alarms": alarms})
        if self._next is not None:  # RESTARTING: the next session starts with them too
            source, encounter, settings = self._next
            self._next = (source, encounter, settings.model_copy(update={"alarms": alarms}))
        self._apply_settings()

    def choose_source(self) -> None:
        dialog = SourceDialog(self.source, self)
        if dialog.exec() and dialog.spec != self.source:
            self.change_source(dialog.spec)

    def change_source(self, spec: str) -> None:
        if not self.lifecycle.allows(Step.RESTART) or not self._confirm_stop("Changing the source"):
            return
        self.audit("source_changed", previous=self.source, source=spec)
        self._restart(spec, self.encounter_id, self.settings)

    def new_patient(self) -> None:
        if not self.confirm("New patient?", "Start a new patient in this bed? The current session "
                            "ends, a new encounter starts and the alarm settings return to this "
                            "unit's configured values."):
            return
        self.start_new_patient()

    def start_new_patient(self) -> None:
        """A new encounter, with the alarm settings this unit configured (its file and PAINMON_*
        layers, as the window started), not the code's defaults."""
        if not self.lifecycle.allows(Step.RESTART) or not self._confirm_stop("Starting a new patient"):
            return
        encounter = uuid.uuid4().hex[:12]
        self.audit("new_patient", previous_encounter=self.encounter_id, encounter=encounter)
        alarms = self.configured.alarms
        self._restart(self.source, encounter, self.settings.model_copy(update={"alarms": alarms}))

    def toggle_full_screen(self) -> None:
        if self.isFullScreen() and not self.options.kiosk:
            self.showNormal()
        else:
            self.showFullScreen()

    def leave_full_screen(self) -> None:
        if self.isFullScreen() and not self.options.kiosk:
            self.showNormal()

    # --- closing -----------------------------------------------------------------------------

    def stop_for_signal(self, name: str) -> None:
        """SIGTERM / SIGINT: no dialog; audited; the same bounded close."""
        if not self.lifecycle.allows(Step.CLOSE):
            return
        self.audit("session_end_signal", signal=name, alarms=self.pending_alarms())
        self._stop_cause = name
        self._begin_close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.state is State.CLOSED:
            event.accept()
            return
        event.ignore()
        if not self.lifecycle.allows(Step.CLOSE) or not self._confirm_stop("Closing"):
            return
        self.audit("window_closed")
        self._stop_cause = "closed by user"
        self._begin_close()

    def _begin_close(self) -> None:
        """Stop the pipeline and wait for it by signal, never blocking; give up after the timeout."""
        self._next = None
        self._step(Step.CLOSE)
        self.sound.follow(None)
        if self.session is None or not self.session.running:
            self._finish_close()
            return
        self.session.stop()
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
        self._step(Step.DONE)
        if self.exit_code == 0 and self.failure:
            self.exit_code = self._failure_code  # 2: bad input, no restart mends it; 1: a fault
        for thread in self._audits:
            thread.join(AUDIT_JOIN_S)
        open_s = max(time.monotonic() - self._opened, 1e-6)
        log.info("screen: %.1f repaint ticks/s, %.1f video frames painted/s over %.0f s",
                 self.ticks / open_s, self.video.paints / open_s, open_s)
        log.info("window closed (%s)", self._stop_cause or "session over")
        QTimer.singleShot(0, self.close)  # not from inside closeEvent, where Qt ignores a close

    # --- painting ----------------------------------------------------------------------------

    def run_self_test(self) -> None:
        """Start-up self-test: the tone once and every alarm colour for a moment, then logged."""
        self._self_test_started = time.monotonic()
        self.sound.play("medium")
        colours = [f"{'technical' if technical else 'patient'} {priority}"
                   for priority, technical in SELF_TEST_STEPS]
        sound = "played" if self.sound.available else f"unavailable: {self.sound.why}"
        self._self_test_record = {"tone": sound, "colours": colours}
        log.info("self-test: tone %s; colours shown: %s", sound, ", ".join(colours))
        self._audit_self_test()

    def _audit_self_test(self) -> None:
        if self._self_test_record is not None and self.info is not None and not self._self_test_audited:
            self._self_test_audited = True
            self.audit("self_test", **self._self_test_record)

    def self_test_tile(self) -> Tile | None:
        if self._self_test_started is None:
            return None
        step = int((time.monotonic() - self._self_test_started) / self.options.self_test_step_s)
        real_alarm = self.snapshot is not None and self.snapshot.alarms
        if step >= len(SELF_TEST_STEPS) or real_alarm:
            self._self_test_started = None
            return None
        priority, technical = SELF_TEST_STEPS[step]
        return Tile(SELF_TEST, priority, technical, f"{words.symbol(priority)} SELF-TEST",
                    "checking alarm colours and sound", flashing=False)

    def _on_repaint(self) -> None:
        self.ticks += 1
        self._ticks.append(time.monotonic())
        test = self.self_test_tile()
        if test is not None:
            self.alarm_bar.set_tiles([test])
        elif self.alarm_bar.tiles and self.alarm_bar.tiles[0].kind == SELF_TEST:
            self._refresh_state()
        if self.alarm_bar.flashing:
            self.alarm_bar.update()
        if not self.lifecycle.closing:
            self.sound.follow(self.tone())

    def tone(self) -> Tone | None:
        """What sounds now: the window's own alarm first, else the engine's while it monitors."""
        own = self.own_tone()
        if own is not None or self.snapshot is None or not self.monitoring:
            return own
        return self.snapshot.tone

    def _not_watching(self) -> str | None:
        """Why the gauge and the cues show no values whatever the last snapshot said; None: they
        show the snapshot."""
        if self.state in (State.STALLED, State.CRASHED):
            return "stopped"
        if self.ended:
            return "ended"
        if self.state is not State.MONITORING or self.snapshot is None:
            return "not_started"
        return None

    def _refresh_state(self) -> None:
        """Gauge, cues, alarm bar, mode line and banner: the lifecycle's state and the newest snapshot."""
        snap = self.snapshot
        not_watching = self._not_watching()
        if not_watching is None:
            self.gauge.set_state(snap.s, snap.s_band, snap.s_label, snap.s_reason, snap.f, snap.f_band)
        else:
            self.gauge.set_state(None, None, None, not_watching, None, None)
        self.cues.set_snapshot(snap, not_watching)
        if self.self_test_tile() is None:
            if snap is None:
                detail = words.BAR_WITHOUT_SNAPSHOT.get(self.state, "")
                tiles = [Tile(STATUS, None, False, "NOT WATCHING", detail)]
            else:
                tiles = alarm_tiles(snap, self.episodes, self.clock, ended=self.ended)
            own = self._own_alarm()
            if own is not None:
                tiles = [own] + [t for t in tiles if t.kind != STATUS]
            self.alarm_bar.set_tiles(tiles)
        self._refresh_mode(snap)
        self._refresh_controls(snap)
        self.video.set_banner(self._banner(snap))

    def _banner(self, snap: Snapshot | None) -> str:
        if self.state is State.ENDED and self.failure:
            return f"CANNOT MONITOR: {self.failure}"
        if self.state is State.MONITORING:
            return "STANDBY: monitoring paused" if snap is not None and snap.mode == STANDBY else ""
        return words.BANNER[self.state]

    def _refresh_controls(self, snap: Snapshot | None) -> None:
        """Acknowledge stands out while something waits for it; both buttons show their countdown."""
        live = snap is not None and not self.ended
        alarms = snap.alarms if live else ()
        waiting = any((a.active and a.silenced_until is None) or a.latched for a in alarms)
        silences = [a.silenced_until - snap.t for a in alarms if a.active and a.silenced_until is not None]
        ack = "Acknowledge  [Space]"
        if silences:
            ack += f"\nsilent {words.countdown(max(silences))}"
        paused = snap.audio_paused_until if live else None
        pause = ("Audio pause  [P]" if paused is None
                 else f"AUDIO PAUSED\n{words.countdown(paused - snap.t)} left")
        for button, text, loud in ((self.ack_button, ack, waiting), (self.pause_button, pause, False)):
            if button.text() != text:
                button.setText(text)
            sheet = "border: 3px solid #ffd400; font-weight: 700;" if loud else ""
            if button.styleSheet() != sheet:
                button.setStyleSheet(sheet)

    def _refresh_mode(self, snap: Snapshot | None) -> None:
        if snap is None or self.ended:
            self.mode_label.setText("")
            self.procedure_button.setText("Procedure / care...")
            self.standby_button.setText("Standby")
        elif snap.mode == PROCEDURE:
            left = words.countdown((snap.mode_until or snap.t) - snap.t)
            what = f": {self.procedure_reason}" if self.procedure_reason else ""
            self.mode_label.setText(f"PROCEDURE / CARE{what}, pain alarm sound off, {left} left")
            self.procedure_button.setText("End procedure")
            self.standby_button.setText("Standby")
        elif snap.mode == STANDBY:
            due = words.countdown((snap.mode_until or snap.t) - snap.t)
            self.mode_label.setText(f"STANDBY: not watching; reminder in {due}")
            self.procedure_button.setText("Procedure / care...")
            self.standby_button.setText("End standby")
        else:
            self.mode_label.setText("")
            self.procedure_button.setText("Procedure / care...")
            self.standby_button.setText("Standby")

    def _apply_settings(self) -> None:
        self.gauge.settings = self.settings.alarms
        self.gauge.update()
        self.cues.settings = self.settings.audio  # its threshold mark; redrawn with the next state
        self.trend.set_settings(self.settings.alarms)
        self.video.cot_region = self.settings.vision.cot_region
        self._refresh_labels()

    def changed_settings(self) -> dict:
        return {k: v for k, v in self.settings.non_defaults().items() if k not in NOT_MARKED}

    def _refresh_labels(self) -> None:
        self.bed_label.setText(f"BED {self.settings.bed_label}")
        self.source_label.setText(f"   {self.source}")
        self.user_button.setText(f"Shift user: {self.user}")
        changed = self.changed_settings()
        if changed:
            items = ", ".join(f"{words.setting(k)} {v:g}" if isinstance(v, float)
                              else f"{words.setting(k)} {v}" for k, v in sorted(changed.items()))
            self.marker_label.setText(f"* CHANGED FROM DEFAULT: {items}")
            self.marker_label.setToolTip("\n".join(f"{k} = {v}" for k, v in sorted(changed.items())))
        else:
            self.marker_label.setText("")

    def _event_text(self, event: AlarmEvent) -> str:
        who = f" by {event.user}" if event.user else ""
        what = event.transition.replace("_", " ")
        if event.kind in words.KIND:  # an alarm; MODE / AUDIO / SETTINGS transitions name themselves
            what = f"{words.KIND[event.kind]} {what}"
        return f"{self.clock(event.t)}  {what}{who}"

    # --- status line -------------------------------------------------------------------------

    def pipeline_fps(self) -> float:
        return _rate(self._frames)

    def screen_fps(self) -> float:
        return _rate(self._ticks)

    def _refresh_status(self) -> None:
        parts = []
        update = self.last_update
        if self.info is None:
            parts.append("not monitoring" if self.ended else self.state.value)
        else:
            parts.append(f"{self.pipeline_fps():.1f} fps analysed")
            if update is not None and update.latency_s is not None:
                parts.append(f"latency {update.latency_s * 1000:.0f} ms")
            parts.append(self.info.device)
            parts.append(f"model {self.info.model}")
            parts.append(f"camera: {self._camera_text(update)}")
            parts.append(f"database: {self._store_text(update)}")
        parts.append("sound: on" if self.sound.available else f"SOUND UNAVAILABLE ({self.sound.why})")
        parts.append(f"screen {self.screen_fps():.0f} Hz")
        self.status_label.setText("   |   ".join(parts))

    def _camera_text(self, update: Update | None) -> str:
        if self.ended:
            return "closed"
        if update is None:
            return "waiting"
        camera = update.camera
        if not self.info.live:
            return "file (analysis)"
        if not camera.connected:
            return f"LOST, reconnecting (try {camera.reconnects})"
        if camera.frozen:
            return "FROZEN image"
        return f"connected, {camera.dropped} frames skipped"

    def _store_text(self, update: Update | None) -> str:
        if update is None:
            return "open"
        store = update.store
        if store.failing_since is not None:
            return f"FAILING, {store.buffered} rows waiting ({store.last_error})"
        return f"ok, {store.written} rows written"


def _rate(stamps: deque[float]) -> float:
    """Events per second over the last RATE_WINDOW_S."""
    now = time.monotonic()
    while stamps and stamps[0] < now - RATE_WINDOW_S:
        stamps.popleft()
    if len(stamps) < 2:
        return 0.0
    return (len(stamps) - 1) / max(now - stamps[0], 1e-6)
