"""`painmon review`: the clinician's look back at a bed.

Choose a bed and a time range; pick a session (the opening is audited: protected health data);
its timeline shows S and F with thresholds, episodes and gaps, and under them the cry and
movement cues and what was heard; the episode table (with the cues of each episode) sorts and
filters; selecting an episode centres the timeline on it and shows its annotations, where a new
one (intervention, nurse's NIPS, comment) can be added. Annotations are never edited: a
correction is another annotation, each with its own audit entry.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from html import escape

from PyQt6.QtCore import QDateTime, QItemSelectionModel, Qt, QTimeZone
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from monitor.config import ReviewSettings
from monitor.errors import MonitorError
from monitor.review import data
from monitor.review.collect import COLUMN_NOTE, LISTED_EVENTS, SessionData, Thresholds
from monitor.signal.records import EventKind
from monitor.store.queries import Record
from monitor.ui.review.episodes import EpisodeFilter, EpisodeModel, duration_text
from monitor.ui.review.timeline import Timeline

ALL_BEDS = "all beds"
NO_INTERVENTION = "— none —"
NOT_SCORED = "not scored"
PRIORITIES = (("any priority", 0), ("low and above", 1), ("medium and above", 2), ("high", 3))
NOT_A_DEVICE = ("Not a certified medical device: an estimate of facial pain expression that "
                "supports, never replaces, clinical pain assessment.")
SESSION_ENDS = {"completed": "completed", "stopped_by_user": "stopped by user",
                "source_ended": "video/camera ended",
                "source_failed": "video/camera failed", "crashed": "crashed"}


class ReviewWindow(QMainWindow):
    def __init__(self, engine: Engine, settings: ReviewSettings, user: str,
                 bed: str | None = None, now: datetime | None = None) -> None:
        super().__init__()
        self.engine, self.settings = engine, settings
        self.zone = data.display_zone(settings)
        self.session: SessionData | None = None
        self.sessions: list[Record] = []
        self.setWindowTitle("painmon review — pain-expression episodes")
        now = now or datetime.now(timezone.utc)

        self.bed = QComboBox()
        self.start = self._time_edit(now - timedelta(hours=24))
        self.end = self._time_edit(now + timedelta(minutes=1))
        self.reviewer = QLineEdit(user)
        self.reviewer.setToolTip("Your name: recorded with every annotation and in the audit log")
        show = QPushButton("Show sessions")
        show.clicked.connect(self.refresh_sessions)
        bar = QHBoxLayout()
        for label, widget in (("Bed", self.bed), ("From", self.start), ("To", self.end),
                              ("Reviewer", self.reviewer)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(show)
        bar.addStretch(1)

        self.session_table = QTableWidget(0, 4)
        self.session_table.setHorizontalHeaderLabels(["Bed", "Started", "Last record", "Episodes"])
        self.session_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.session_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.session_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.session_table.verticalHeader().setVisible(False)
        self.session_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.session_table.horizontalHeader().setStretchLastSection(True)
        self.session_table.itemSelectionChanged.connect(self._session_chosen)
        sessions_box = QGroupBox("Sessions")
        QVBoxLayout(sessions_box).addWidget(self.session_table)

        self.heading = QLabel("Choose a session")
        self.heading.setWordWrap(True)
        self.timeline = Timeline(self.zone)
        zoom_bar = QHBoxLayout()
        for text, action in (("Zoom in", lambda: self.timeline.zoom(0.5)),
                             ("Zoom out", lambda: self.timeline.zoom(2.0)),
                             ("Whole session", self.timeline.show_all)):
            button = QPushButton(text)
            button.clicked.connect(action)
            zoom_bar.addWidget(button)
        zoom_bar.addWidget(QLabel("Mouse wheel zooms, drag pans."))
        zoom_bar.addStretch(1)
        timeline_box = QWidget()
        timeline_layout = QVBoxLayout(timeline_box)
        timeline_layout.setContentsMargins(0, 0, 0, 0)
        timeline_layout.addWidget(self.heading)
        timeline_layout.addWidget(self.timeline, 1)
        timeline_layout.addLayout(zoom_bar)

        self.model = EpisodeModel(self.zone)
        self.filter = EpisodeFilter()
        self.filter.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.filter)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(self._episode_chosen)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter: any text (e.g. a nurse, 'resolved', a time)")
        self.search.textChanged.connect(lambda text: self.filter.set_filters(text=text))
        self.priority = QComboBox()
        for label, rank in PRIORITIES:
            self.priority.addItem(label, rank)
        self.priority.currentIndexChanged.connect(
            lambda _: self.filter.set_filters(min_priority=self.priority.currentData()))
        self.unacknowledged = QCheckBox("not acknowledged")
        self.unacknowledged.toggled.connect(
            lambda on: self.filter.set_filters(unacknowledged=on))
        self.unannotated = QCheckBox("no annotation yet")
        self.unannotated.toggled.connect(lambda on: self.filter.set_filters(unannotated=on))
        filter_bar = QHBoxLayout()
        for widget in (self.search, self.priority, self.unacknowledged, self.unannotated):
            filter_bar.addWidget(widget)
        episodes_box = QGroupBox("Episodes of sustained pain expression")
        episodes_layout = QVBoxLayout(episodes_box)
        episodes_layout.addLayout(filter_bar)
        episodes_layout.addWidget(self.table)
        note = QLabel(COLUMN_NOTE)
        note.setWordWrap(True)
        episodes_layout.addWidget(note)

        annotation_box = self._annotation_panel()
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(episodes_box)
        lower.addWidget(annotation_box)
        lower.setSizes([960, 440])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(timeline_box)
        right.addWidget(lower)
        right.setSizes([380, 300])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(sessions_box)
        main.addWidget(right)
        main.setSizes([330, 1400])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(bar)
        layout.addWidget(main, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(NOT_A_DEVICE)
        self.resize(1760, 960)

        self.bed.addItem(ALL_BEDS)
        self.bed.addItems(data.beds(engine))
        if bed is not None:
            self.bed.setCurrentText(bed)
        self.bed.currentIndexChanged.connect(self.refresh_sessions)
        self.refresh_sessions()

    # -- building blocks -----------------------------------------------------------------

    def _time_edit(self, at: datetime) -> QDateTimeEdit:
        edit = QDateTimeEdit(self._qt_time(at))
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        edit.setCalendarPopup(True)
        return edit

    def _qt_time(self, at: datetime) -> QDateTime:
        local = at.astimezone(self.zone)
        return QDateTime.fromSecsSinceEpoch(int(local.timestamp()),
                                            QTimeZone(int(local.utcoffset().total_seconds())))

    def _annotation_panel(self) -> QGroupBox:
        box = QGroupBox("Annotations of the selected episode")
        self.notes = QTableWidget(0, 5)
        self.notes.setHorizontalHeaderLabels(["Written", "By", "Intervention", "NIPS", "Comment"])
        self.notes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.notes.verticalHeader().setVisible(False)
        self.notes.setWordWrap(True)
        self.notes.horizontalHeader().setStretchLastSection(True)
        self.intervention = QComboBox()
        self.intervention.addItem(NO_INTERVENTION)
        self.intervention.addItems(self.settings.interventions)
        self.nips = QSpinBox()
        self.nips.setRange(-1, 7)
        self.nips.setSpecialValueText(NOT_SCORED)
        self.nips.setValue(-1)
        self.nips.setToolTip("Your own Neonatal Infant Pain Scale score, 0-7")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("What you saw or did")
        self.add_button = QPushButton("Add annotation")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self._add_clicked)
        form = QFormLayout()
        form.addRow("Intervention", self.intervention)
        form.addRow("Nurse's NIPS (0-7)", self.nips)
        form.addRow("Comment", self.comment)
        layout = QVBoxLayout(box)
        layout.addWidget(self.notes, 1)
        layout.addLayout(form)
        layout.addWidget(self.add_button)
        hint = QLabel("Annotations cannot be changed: add another one to correct.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        return box

    # -- sessions --------------------------------------------------------------------------

    def _range(self) -> tuple[datetime, datetime]:
        def utc(edit: QDateTimeEdit) -> datetime:
            return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), timezone.utc)

        return utc(self.start), utc(self.end)

    def refresh_sessions(self) -> None:
        bed = None if self.bed.currentText() == ALL_BEDS else self.bed.currentText()
        start, end = self._range()
        self.sessions = data.find_sessions(self.engine, bed, start, end)
        self.session_table.setRowCount(len(self.sessions))
        for row, s in enumerate(self.sessions):
            last = data.wall_time(s, None if s.last_sample_t is None else s.last_sample_t + 1)
            ended = "—" if last is None else f"{last.astimezone(self.zone):%H:%M}"
            if s.ended_at is not None:
                why = SESSION_ENDS.get(s.end_reason, s.end_reason)
            else:
                why = "stopped unexpectedly" if data.crashed(s) else "still running"
                ended += " (running)" if why == "still running" else " (stopped unexpectedly)"
            for column, text in enumerate((s.bed_label,
                                           f"{s.started_at.astimezone(self.zone):%d %b %H:%M}",
                                           ended, str(s.episodes))):
                item = QTableWidgetItem(text)
                item.setToolTip(f"session {s.uid}: {why}")
                self.session_table.setItem(row, column, item)
        self.statusBar().showMessage(f"{len(self.sessions)} session(s). {NOT_A_DEVICE}")

    def _session_chosen(self) -> None:
        rows = self.session_table.selectionModel().selectedRows()
        if rows:
            try:
                self.open_session(self.sessions[rows[0].row()])
            except MonitorError as exc:  # e.g. a reviewer name the audit log refuses
                QMessageBox.warning(self, "Session not opened", str(exc))

    def open_session(self, session: Record) -> None:
        """Load a session's record, show it, and audit that this reviewer opened it."""
        user = self.reviewer.text().strip() or data.current_user()
        data.audit_opened(self.engine, session, user, "review window")
        self._load(session)

    def _load(self, session: Record) -> None:
        samples = data.samples(self.engine, session.id)
        found = data.gaps(session, samples, self.settings)
        episodes = data.episodes(self.engine, [session.id])
        self.session = SessionData(
            session=session, episodes=episodes,
            annotations=data.annotations(self.engine, [e.id for e in episodes]),
            samples=samples, gaps=found, thresholds=Thresholds.of(session),
            end_t=data.record_end(samples, found),
            events=data.events(self.engine, session.id, LISTED_EVENTS))
        changes = sum(e.kind == EventKind.SUBJECT for e in self.session.events)
        start = session.started_at.astimezone(self.zone)
        self.heading.setText(
            f"<b>Bed {session.bed_label}</b> — encounter (pseudonym) {session.encounter_id or '—'}"
            f" — session from {start:%Y-%m-%d %H:%M:%S} ({start:%Z}), "
            f"{duration_text(self.session.end_t)} recorded, {len(episodes)} episode(s)"
            f" — sound: {escape(self.session.heard)}"
            + (f" — <b>tracked face changed {changes}×</b> (marked on the timeline)" if changes else ""))
        self.timeline.show_session(self.session)
        self.model.set_episodes(episodes)
        self._show_notes(None)

    # -- episodes and annotations ----------------------------------------------------------

    def selected_episode(self) -> Record | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.episodes[self.filter.mapToSource(rows[0]).row()]

    def select_episode(self, number: int) -> None:
        """Select an episode by its number (as a click would)."""
        for row in range(self.filter.rowCount()):
            index = self.filter.index(row, 0)
            if self.model.episodes[self.filter.mapToSource(index).row()].number == number:
                self.table.selectionModel().select(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
                return
        raise KeyError(f"episode {number} is not shown")

    def _episode_chosen(self) -> None:
        episode = self.selected_episode()
        self.add_button.setEnabled(episode is not None)
        if episode is None:
            self._show_notes(None)
            return
        end = episode.end_at if episode.end_at is not None else self.session.end_t
        self.timeline.centre_on(episode.start_at, end)
        self._show_notes(episode)

    def _show_notes(self, episode: Record | None) -> None:
        notes = [] if episode is None else data.annotations(self.engine, [episode.id])
        self.notes.setRowCount(len(notes))
        for row, a in enumerate(notes):
            written = data.wall_time(self.session.session, a.t).astimezone(self.zone)
            for column, text in enumerate((f"{written:%d %b %H:%M}", a.author,
                                           a.intervention or "—",
                                           "—" if a.nips is None else f"{a.nips}/7",
                                           a.comment or "")):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.notes.setItem(row, column, item)
        for column in range(4):
            self.notes.resizeColumnToContents(column)
        self.notes.resizeRowsToContents()

    def add_annotation(self) -> int:
        """Store the form's annotation on the selected episode; returns its id."""
        episode = self.selected_episode()
        if episode is None:
            raise MonitorError("select an episode first")
        intervention = self.intervention.currentText()
        annotation_id = data.add_annotation(
            self.engine, self.settings, episode, self.reviewer.text(),
            None if intervention == NO_INTERVENTION else intervention,
            None if self.nips.value() < 0 else self.nips.value(), self.comment.text())
        number = episode.number
        self._load(self.session.session)
        self.select_episode(number)
        self.intervention.setCurrentIndex(0)
        self.nips.setValue(-1)
        self.comment.clear()
        return annotation_id

    def _add_clicked(self) -> None:
        try:
            self.add_annotation()
        except MonitorError as exc:
            QMessageBox.warning(self, "Annotation not saved", str(exc))


def run_review(engine: Engine, settings: ReviewSettings, user: str, bed: str | None) -> int:
    """Open the window and run Qt until it is closed."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = ReviewWindow(engine, settings, user, bed)
    window.show()
    return app.exec()
