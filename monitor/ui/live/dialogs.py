"""Dialogs of the live window: alarm settings (behind an unlock), source, procedure / care."""

from __future__ import annotations

import html
from typing import get_args

from pydantic import ValidationError
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                             QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                             QRadioButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from monitor.capture.sources import STREAM_SCHEMES
from monitor.config import AlarmSettings, describe
from monitor.ui.live import example
from monitor.ui.live.multimedia import QMediaDevices

# (field, words, unit, decimals): the thresholds and delays a ward may tune, in the order a
# nurse reads the worked example. Ranges come from AlarmSettings itself.
FIELDS = (
    ("t_on", "Onset threshold T_on: a run starts when S reaches", "", 2),
    ("d_on_s", "D_on: time at or above T_on before the alarm", "s", 0),
    ("t_off", "End threshold T_off: S at or below this ends the episode", "", 2),
    ("d_off_s", "D_off: time at or below T_off before the alarm clears", "s", 0),
    ("t_high", "High threshold T_high", "", 2),
    ("d_high_s", "D_high: time at or above T_high before high priority", "s", 0),
    ("dip_tolerance_s", "Dip below T_on tolerated without restarting the run", "s", 0),
    ("merge_within_s", "A new onset this soon after an end re-opens the episode", "s", 0),
    ("escalate_after_s", "Unacknowledged this long: becomes high priority", "s", 0),
    ("ack_silence_s", "Acknowledge silences the alarm for", "s", 0),
    ("audio_pause_max_s", "Audio pause lasts", "s", 0),
    ("reminder_every_s", "Reminder tone of a latched alarm every", "s", 0),
    ("resume_within_s", "Face must return within this to continue an episode", "s", 0),
    ("tau_s", "Smoothing time constant of S (tau)", "s", 1),
    ("stale_after_s", "S becomes unknown after this without a scored face", "s", 0),
    ("no_face_after_s", "No face this long raises NO FACE", "s", 0),
    ("poor_signal_after_s", "Unclear face this long raises FACE NOT CLEAR", "s", 0),
    ("band_watch", "Gauge: 'watch' from", "", 2),
    ("band_pain", "Gauge: 'pain' from", "", 2),
)

FACE_ONLY_TEXT = "A pain face that no crying or movement corroborates raises an alarm at"
FACE_ONLY_CHOICES = get_args(AlarmSettings.model_fields["face_only_priority"].annotation)


def safe_range(name: str) -> tuple[float, float]:
    """The hard range of an AlarmSettings field (its ge / le constraints)."""
    low, high = 0.0, 1e9
    for rule in AlarmSettings.model_fields[name].metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return float(low), float(high)


def worked_example(cfg: AlarmSettings) -> str:
    """What the alarm engine does with these values on a face-only trace, as an HTML table."""
    ran = example.compute(cfg)
    body = "".join(f"<tr><td>{row.t:g}</td><td>{'' if row.s is None else f'{row.s:.2f}'}</td>"
                   f"<td>{html.escape(row.what)}</td></tr>" for row in ran.rows)
    return (
        "<b>Worked example with these values</b>, run by the alarm engine (S is the smoothed facial "
        "expression estimate, 0-1, here given directly)"
        "<table cellspacing='0' cellpadding='3' border='1'><tr><th>t (s)</th><th>S</th>"
        f"<th>what happens</th></tr>{body}</table>{html.escape(example.summary(ran, cfg))}"
    )


class SettingsDialog(QDialog):
    """Thresholds and delays: read-only until unlocked; Apply validates against the safe ranges."""

    unlocked = pyqtSignal()

    def __init__(self, settings: AlarmSettings, parent: QWidget | None = None,
                 unit: AlarmSettings | None = None) -> None:
        """`unit`: the values this unit configured (defaults, its settings file, PAINMON_*), which
        Reset returns to; the code's defaults when not given."""
        super().__init__(parent)
        self.setWindowTitle("Alarm settings")
        self.original = settings
        self.unit = unit or AlarmSettings()
        self.result_settings: AlarmSettings | None = None
        self.is_unlocked = False
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("These values decide when the alarm sounds. They are locked; every "
                                "change is recorded in the audit log with the shift user, and a "
                                "changed value is marked on the main screen until reset."))
        table = QWidget()
        grid = QGridLayout(table)
        for col, head in enumerate(("setting", "value", "unit's value", "safe range")):
            grid.addWidget(QLabel(f"<b>{head}</b>"), 0, col)
        self.spins: dict[str, QDoubleSpinBox] = {}
        for row, (name, text, unit, decimals) in enumerate(FIELDS, start=1):
            low, high = safe_range(name)
            spin = QDoubleSpinBox()
            spin.setDecimals(decimals)
            spin.setRange(low, high)
            spin.setSingleStep(0.05 if decimals == 2 else 1.0)
            spin.setSuffix(f" {unit}" if unit else "")
            spin.setValue(getattr(settings, name))
            spin.setEnabled(False)
            spin.valueChanged.connect(self._changed)
            self.spins[name] = spin
            grid.addWidget(QLabel(text), row, 0)
            grid.addWidget(spin, row, 1)
            grid.addWidget(QLabel(f"{getattr(self.unit, name):g}"), row, 2)
            grid.addWidget(QLabel(f"{low:g} - {high:g} {unit}"), row, 3)
        row = len(FIELDS) + 1
        self.face_only = QComboBox()
        self.face_only.addItems(FACE_ONLY_CHOICES)
        self.face_only.setCurrentText(settings.face_only_priority)
        self.face_only.setEnabled(False)
        self.face_only.currentTextChanged.connect(self._changed)
        grid.addWidget(QLabel(FACE_ONLY_TEXT), row, 0)
        grid.addWidget(self.face_only, row, 1)
        grid.addWidget(QLabel(self.unit.face_only_priority), row, 2)
        grid.addWidget(QLabel(" / ".join(FACE_ONLY_CHOICES)), row, 3)
        scroll = QScrollArea()  # fits a 1280x800 bedside screen with the example below
        scroll.setWidget(table)
        scroll.setWidgetResizable(True)
        layout.addWidget(scroll, 1)
        self.example = QLabel()
        self.example.setWordWrap(True)
        layout.addWidget(self.example)
        self.error = QLabel()
        self.error.setStyleSheet("color: #ff6b6b; font-weight: 600;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.unlock_button = QPushButton("Unlock to change...")
        self.unlock_button.clicked.connect(self.unlock)
        self.reset_button = QPushButton("Reset to the unit's values")
        self.reset_button.clicked.connect(self.reset_to_unit)
        self.reset_button.setEnabled(False)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)
        self.apply_button.setEnabled(False)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        for button in (self.unlock_button, self.reset_button, self.apply_button, close):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.resize(980, 740)
        self._changed()

    def unlock(self) -> None:
        """The explicit unlock (the window asks for confirmation before calling this)."""
        self.is_unlocked = True
        for spin in self.spins.values():
            spin.setEnabled(True)
        self.face_only.setEnabled(True)
        self.unlock_button.setEnabled(False)
        self.reset_button.setEnabled(True)
        self.unlocked.emit()
        self._changed()

    def reset_to_unit(self) -> None:
        """Back to what this unit configured, not to the code's defaults (issue #24 item 10)."""
        for name, spin in self.spins.items():
            spin.setValue(getattr(self.unit, name))
        self.face_only.setCurrentText(self.unit.face_only_priority)

    def candidate(self) -> AlarmSettings:
        """The edited values checked by AlarmSettings itself (ranges and t_off < t_on < t_high)."""
        values = {name: spin.value() for name, spin in self.spins.items()}
        values["face_only_priority"] = self.face_only.currentText()
        return AlarmSettings.model_validate(self.original.model_dump() | values)

    def _changed(self) -> None:
        try:
            candidate = self.candidate()
        except ValidationError as exc:
            self.error.setText(f"Not allowed: {describe(exc)}")
            self.apply_button.setEnabled(False)
            return
        self.error.setText("")
        self.example.setText(worked_example(candidate))
        self.apply_button.setEnabled(self.is_unlocked and candidate != self.original)

    def apply(self) -> None:
        if not self.is_unlocked:
            return
        try:
            self.result_settings = self.candidate()
        except ValidationError as exc:
            self.error.setText(f"Not allowed: {describe(exc)}")
            return
        self.accept()


class SourceDialog(QDialog):
    """Cameras Qt finds, a video file, or a network stream; `spec` is what `--source` takes."""

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose the video source")
        layout = QVBoxLayout(self)
        self.group = QButtonGroup(self)
        self.camera = QRadioButton("Camera")
        self.file = QRadioButton("Video file")
        self.stream = QRadioButton("Network stream (rtsp://, http://, https://)")
        self.cameras = QComboBox()
        for index, device in enumerate(QMediaDevices.videoInputs()):
            self.cameras.addItem(f"{device.description()} (camera:{index})", f"camera:{index}")
        if self.cameras.count() == 0:
            for index in range(4):  # Qt found none; OpenCV may still open one by number
                self.cameras.addItem(f"camera:{index} (not detected)", f"camera:{index}")
        self.path = QLineEdit()
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        self.url = QLineEdit()
        self.url.setPlaceholderText("rtsp://camera.local/stream")
        for button in (self.camera, self.file, self.stream):
            self.group.addButton(button)
        layout.addWidget(self.camera)
        layout.addWidget(self.cameras)
        layout.addWidget(self.file)
        row = QHBoxLayout()
        row.addWidget(self.path)
        row.addWidget(browse)
        layout.addLayout(row)
        layout.addWidget(self.stream)
        layout.addWidget(self.url)
        self.error = QLabel()
        self.error.setStyleSheet("color: #ff6b6b;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if current.startswith("camera:"):
            self.camera.setChecked(True)
        elif "://" in current:
            self.stream.setChecked(True)
            self.url.setText(current)
        else:
            self.file.setChecked(True)
            self.path.setText(current)
        self.spec = current

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Video file", self.path.text(),
                                              "Video (*.mp4 *.avi *.mkv *.mov *.m4v *.webm);;All files (*)")
        if path:
            self.path.setText(path)
            self.file.setChecked(True)

    def chosen(self) -> str:
        if self.camera.isChecked():
            return self.cameras.currentData()
        if self.stream.isChecked():
            return self.url.text().strip()
        return self.path.text().strip()

    def _accept(self) -> None:
        spec = self.chosen()
        if not spec:
            self.error.setText("Choose a camera, a file or a stream address.")
            return
        if self.stream.isChecked() and not spec.lower().startswith(STREAM_SCHEMES):
            self.error.setText("A stream address starts with rtsp://, http:// or https://.")
            return
        self.spec = spec
        self.accept()


class ProcedureDialog(QDialog):
    """Procedure / care: a reason and a duration within the safe maximum."""

    REASONS = ("heel lance", "blood sampling", "feeding", "kangaroo care", "nursing care", "other")

    def __init__(self, settings: AlarmSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Procedure / care")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("During a procedure the pain alarm makes no sound; it is still shown "
                                "and recorded. Technical alarms stay on. It ends by itself with a tone."))
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(self.REASONS)
        layout.addWidget(QLabel("Reason"))
        layout.addWidget(self.reason)
        self.minutes = QSpinBox()
        self.minutes.setRange(1, int(settings.procedure_max_min))
        self.minutes.setValue(int(settings.procedure_default_min))
        self.minutes.setSuffix(" min")
        layout.addWidget(QLabel(f"Duration (at most {settings.procedure_max_min:g} min)"))
        layout.addWidget(self.minutes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
