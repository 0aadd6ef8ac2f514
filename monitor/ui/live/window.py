"""The live bedside window: glanceable from two metres, one key to acknowledge.

Layout, top to bottom: bed and controls; the alarm bar with Acknowledge and Audio pause; the
video beside the S gauge and the cue panel (face, cry, movement); the 15-minute trend strip of S
and the cry cue C; procedure / standby and the settings marker;
the status line. The window only lays out and paints: which session runs, how it starts,
restarts after a crash, is audited and closes is `control.SessionControl`, which moves through
`lifecycle`'s one table and says by signals what to redraw; the window forwards the user's
actions to it and draws its state.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QMainWindow, QMessageBox,
                             QPushButton, QVBoxLayout, QWidget)

from monitor.config import AlarmSettings, Settings
from monitor.signal import actions
from monitor.signal.records import PROCEDURE, STANDBY, AlarmEvent, EpisodeRecord, Snapshot, Tone
from monitor.text import text_problem
from monitor.ui.live import style, words
from monitor.ui.live.alarmbar import SELF_TEST, AlarmBar, Tile, bar_tiles, window_alarm
from monitor.ui.live.control import SessionControl
from monitor.capture.media import NARROW_BAND
from monitor.ui.live.cues import CuePanel
from monitor.ui.live.dialogs import ProcedureDialog, SettingsDialog, SourceDialog
from monitor.ui.live.gauge import Gauge
from monitor.ui.live.lifecycle import State, Step
from monitor.ui.live.options import WindowOptions
from monitor.ui.live.worker import StartedSession, Update
from monitor.ui.live.sound import AlarmSound
from monitor.ui.live.status import SelfTest, StatusLine
from monitor.ui.live.trend import TrendStrip
from monitor.ui.live.video import VideoView

log = logging.getLogger(__name__)

# Not patient-facing behaviour: a different bed or database is not a "changed setting".
NOT_MARKED = ("bed_label", "store.url")


class LiveWindow(QMainWindow):
    """One bed: one monitoring session at a time (a new source or patient starts the next)."""

    def __init__(self, settings: Settings, source: str, realtime: bool,
                 options: WindowOptions | None = None, encounter_id: str | None = None) -> None:
        super().__init__()
        self.options = options or WindowOptions()
        self.control = SessionControl(settings, source, realtime, self.options, encounter_id, self)
        self.snapshot: Snapshot | None = None
        self.last_update: Update | None = None
        self.episodes: dict[int, EpisodeRecord] = {}
        self.procedure_reason = ""
        self.clock: Callable[[float], str] = words.SessionTime(None)
        self.ticks = 0  # repaint timer ticks: the UI thread's pulse
        self._opened = time.monotonic()
        self.self_test = SelfTest(self.options.self_test_step_s)
        self.sound = AlarmSound(self.options)
        self._build()
        self._timers()
        self._keys()
        control = self.control
        for signal, slot in ((control.changed, self._on_changed), (control.starting, self._on_starting),
                             (control.ready, self._on_ready), (control.update, self._on_update),
                             (control.drained, self._on_drained), (control.closed, self._on_closed)):
            signal.connect(slot)
        control.start()

    @property
    def settings(self) -> Settings:
        """What the running (or next) session decides with: the gauge, trend and dialogs show it."""
        return self.control.settings

    @property
    def user(self) -> str:
        """The shift user: recorded with every action and audit entry."""
        return self.control.user

    @property
    def state(self) -> State:
        return self.control.state

    @property
    def ended(self) -> bool:
        """Nothing is monitored and nothing is coming (the session is over, or the window closes)."""
        return self.control.ended

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

        self.status_label = StatusLine()
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
        for interval_s, slot in ((1 / self.options.repaint_hz, self._on_repaint),
                                 (self.options.trend_refresh_s, self.trend.redraw),
                                 (1.0, self._refresh_status)):
            timer = QTimer(self)
            timer.setInterval(int(interval_s * 1000))
            timer.timeout.connect(slot)
            timer.start()

    def _keys(self) -> None:
        for key, slot in ((Qt.Key.Key_Space, self.acknowledge), (Qt.Key.Key_A, self.acknowledge),
                          (Qt.Key.Key_P, self.audio_pause), (Qt.Key.Key_F11, self.toggle_full_screen),
                          (Qt.Key.Key_Escape, self.leave_full_screen)):
            QShortcut(QKeySequence(key), self, activated=slot)

    # --- what the session control says ------------------------------------------------------

    def _on_changed(self) -> None:
        if self.control.closing:
            self.sound.follow(None)
        self._refresh_state()
        self._refresh_status()

    def _on_starting(self) -> None:
        """A new session: nothing the previous one showed is current."""
        self.snapshot, self.last_update = None, None
        self.episodes.clear()
        self.trend.reset()
        self.status_label.frames.clear()
        self._apply_settings()
        self._refresh_state()

    def _on_ready(self, started: StartedSession) -> None:
        self.clock = words.SessionTime(started.origin)
        self.source_label.setText(f"   {started.source}")
        self.cues.narrow_band = NARROW_BAND in (started.audio or "")

    def _on_update(self, update: Update) -> None:
        self.snapshot, self.last_update = update.snapshot, update
        if update.image is not None:
            self.video.set_frame(update.image, update.face_status, update.box, update.face_reason,
                                 update.outlines if self.settings.face.draw_outlines else ())
            self.status_label.frames.append(update.received)
        self.trend.add(update.snapshot.t, update.snapshot.s, update.snapshot.c)
        self._refresh_state()

    def _on_drained(self, events: list[AlarmEvent], episodes: list[EpisodeRecord]) -> None:
        for episode in episodes:
            self.episodes[episode.number] = episode
        self.trend.add_episodes(episodes)
        for event in events:
            due = event.transition in ("reminder", "standby_overdue") or (
                event.transition == "procedure_ended" and event.detail == "expired")
            if due and not self.control.closing:
                self.sound.play("reminder")
        shown = [e for e in events if e.kind != "SESSION"]
        if shown:
            last = shown[-1]
            self.last_event_label.setText(words.event_line(self.clock(last.t), last.kind,
                                                           last.transition, last.user))

    def _on_closed(self) -> None:
        open_s = max(time.monotonic() - self._opened, 1e-6)
        log.info("screen: %.1f repaint ticks/s, %.1f video frames painted/s over %.0f s",
                 self.ticks / open_s, self.video.paints / open_s, open_s)
        QTimer.singleShot(0, self.close)  # not from inside closeEvent, where Qt ignores a close

    def _own_alarm(self) -> Tile | None:
        silent_s = self.control.loop_watch.silent_for(time.monotonic())
        return window_alarm(self.state, self.control.crash, self.control.failure, self.snapshot, silent_s)

    def pending_alarms(self) -> list[str]:
        """Active or latched alarms, in words (what closing or stopping would leave unattended)."""
        if self.snapshot is None or not self.control.monitoring:
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
        self.control.audit("stop_with_alarm_confirmed" if ok else "stop_with_alarm_cancelled",
                           what=what, alarms=alarms)
        return ok

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
        if not self.control.command(action):
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
        self.control.set_user(name.strip()[:64] or "bedside")
        self._refresh_labels()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings.alarms, self, unit=self.control.configured.alarms)
        dialog.unlock_button.clicked.disconnect()
        dialog.unlock_button.clicked.connect(lambda: self.unlock_settings(dialog))
        if dialog.exec() and dialog.result_settings is not None:
            self.change_alarm_settings(dialog.result_settings)

    def unlock_settings(self, dialog: SettingsDialog) -> None:
        """The explicit unlock: a confirmation naming the shift user, then audited."""
        if self.confirm("Unlock alarm settings?",
                        "Thresholds and delays decide when the alarm sounds. Change them only as "
                        f"agreed for this ward. Changes are recorded under '{self.user}'."):
            self.control.audit("settings_unlocked")
            dialog.unlock()

    def change_alarm_settings(self, alarms: AlarmSettings) -> None:
        in_force = self.control.change_alarm_settings(alarms)
        if in_force is False:
            self.last_event_label.setText("alarm settings changed: they apply when monitoring starts")
        if in_force is not None:
            self._apply_settings()

    def choose_source(self) -> None:
        dialog = SourceDialog(self.control.source, self)
        if dialog.exec() and dialog.spec != self.control.source:
            self.change_source(dialog.spec)

    def change_source(self, spec: str) -> None:
        if self.control.allows(Step.RESTART) and self._confirm_stop("Changing the source"):
            self.control.change_source(spec)

    def new_patient(self) -> None:
        if self.confirm("New patient?", "Start a new patient in this bed? The current session "
                        "ends, a new encounter starts and the alarm settings return to this "
                        "unit's configured values."):
            self.start_new_patient()

    def start_new_patient(self) -> None:
        if self.control.allows(Step.RESTART) and self._confirm_stop("Starting a new patient"):
            self.control.new_patient()

    def toggle_full_screen(self) -> None:
        if self.isFullScreen() and not self.options.kiosk:
            self.showNormal()
        else:
            self.showFullScreen()

    def leave_full_screen(self) -> None:
        if self.isFullScreen() and not self.options.kiosk:
            self.showNormal()

    def stop_for_signal(self, name: str) -> None:
        """SIGTERM / SIGINT: no dialog; audited; the same bounded close."""
        self.control.close(name, "session_end_signal", signal=name, alarms=self.pending_alarms())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.state is State.CLOSED:
            event.accept()
            return
        event.ignore()
        if self.control.allows(Step.CLOSE) and self._confirm_stop("Closing"):
            self.control.close("closed by user", "window_closed")

    # --- painting ----------------------------------------------------------------------------

    def run_self_test(self) -> None:
        """Start-up self-test: the tone once and every alarm colour for a moment, then logged."""
        record = self.self_test.start(self.sound)
        log.info("self-test: tone %s; colours shown: %s", record["tone"], ", ".join(record["colours"]))
        self.control.self_tested(record)

    def _on_repaint(self) -> None:
        self.ticks += 1
        self.status_label.ticks.append(time.monotonic())
        test = self.self_test.tile(self.snapshot)
        if test is not None:
            self.alarm_bar.set_tiles([test])
        elif self.alarm_bar.tiles and self.alarm_bar.tiles[0].kind == SELF_TEST:
            self._refresh_state()
        if self.alarm_bar.flashing:
            self.alarm_bar.update()
        if not self.control.closing:
            self.sound.follow(self.tone())

    def tone(self) -> Tone | None:
        """What sounds now: the window's own alarm first, else the engine's while it monitors."""
        own = self._own_alarm()
        if own is not None:
            return Tone(own.kind, own.priority, True)
        return self.snapshot.tone if self.snapshot is not None and self.control.monitoring else None

    def _refresh_state(self) -> None:
        """Gauge, cues, alarm bar, mode line and banner: the lifecycle's state and the newest snapshot."""
        snap = self.snapshot
        not_watching = words.not_watching(self.state, snap is not None)
        if not_watching is None:
            self.gauge.set_state(snap.s, snap.s_band, snap.s_label, snap.s_reason, snap.f, snap.f_band)
        else:
            self.gauge.set_state(None, None, None, not_watching, None, None)
        self.cues.set_snapshot(snap, not_watching)
        if self.self_test.tile(snap) is None:
            self.alarm_bar.set_tiles(bar_tiles(self.state, self._own_alarm(), snap, self.episodes,
                                               self.clock))
        self._refresh_controls(snap)
        standby = snap is not None and snap.mode == STANDBY
        self.video.set_banner(words.banner(self.state, self.control.failure, standby))

    def _refresh_controls(self, snap: Snapshot | None) -> None:
        """Acknowledge stands out while something waits for it; both buttons show their countdown;
        the mode line says which mode runs and for how long."""
        live = snap is not None and not self.ended
        alarms = snap.alarms if live else ()
        waiting = any((a.active and a.silenced_until is None) or a.latched for a in alarms)
        silences = [a.silenced_until - snap.t for a in alarms if a.active and a.silenced_until is not None]
        paused = snap.audio_paused_until if live else None
        for button, text, loud in (
                (self.ack_button, words.acknowledge_button(max(silences) if silences else None), waiting),
                (self.pause_button, words.pause_button(None if paused is None else paused - snap.t), False)):
            if button.text() != text:
                button.setText(text)
            sheet = "border: 3px solid #ffd400; font-weight: 700;" if loud else ""
            if button.styleSheet() != sheet:
                button.setStyleSheet(sheet)
        left_s = (snap.mode_until or snap.t) - snap.t if live else 0.0
        mode, procedure, standby = words.mode_line(snap.mode if live else None, left_s,
                                                   self.procedure_reason)
        self.mode_label.setText(mode)
        self.procedure_button.setText(procedure)
        self.standby_button.setText(standby)

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
        self.source_label.setText(f"   {self.control.source}")
        self.user_button.setText(f"Shift user: {self.user}")
        marker, details = words.changed_marker(self.changed_settings())
        self.marker_label.setText(marker)
        self.marker_label.setToolTip(details)

    def _refresh_status(self) -> None:
        heading = "not monitoring" if self.ended else self.state.value
        self.status_label.show_state(heading, self.control.started, self.last_update, self.sound,
                                     self.ended)
