"""The episode table: one row per episode with what a clinician asks first (when, how long, how
strong, which cues carried it, who responded, what was done), sortable by the real values and
filterable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Callable

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from monitor.review import data
from monitor.review.collect import cue_words
from monitor.store.queries import Record

SORT_ROLE = Qt.ItemDataRole.UserRole
PRIORITY_RANK = {None: 0, "low": 1, "medium": 2, "high": 3}
FACE_BANDS = {0: "0 (<10%)", 1: "1 (10-39%)", 2: "2 (40-69%)", 3: "3 (70%+)"}


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "open"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Record, tzinfo], str]
    key: Callable[[Record], Any]


def _clock(e: Record, t: float | None, zone: tzinfo, fmt: str = "%H:%M:%S") -> str:
    at = data.wall_time(e, t)
    return "—" if at is None else f"{at.astimezone(zone):{fmt}}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


COLUMNS = (
    Column("Start", lambda e, z: _clock(e, e.start_at, z, "%d %b %H:%M:%S"),
           lambda e: e.start_at),
    Column("Duration", lambda e, z: duration_text(None if e.end_at is None
                                                  else e.end_at - e.start_at),
           lambda e: (e.end_at or float("inf")) - e.start_at),
    Column("Peak S", lambda e, z: _num(e.peak_s), lambda e: e.peak_s or 0.0),
    Column("Mean S", lambda e, z: _num(e.mean_s), lambda e: e.mean_s or 0.0),
    Column("F band", lambda e, z: FACE_BANDS.get(e.max_band, "—"), lambda e: e.max_band or 0),
    Column("Priority", lambda e, z: e.max_priority or "—",
           lambda e: PRIORITY_RANK.get(e.max_priority, 0)),
    Column("Cues", lambda e, z: cue_words(e.cues) or "—",
           lambda e: (len((e.cues or "").split("+")), e.cues or "")),
    Column("Ack. by", lambda e, z: e.ack_by or ("—" if e.ack_at is None else "?"),
           lambda e: e.ack_by or ""),
    Column("Ack. at", lambda e, z: _clock(e, e.ack_at, z) if e.ack_at is not None
           else "not acknowledged", lambda e: e.ack_at if e.ack_at is not None else float("inf")),
    Column("End reason", lambda e, z: (e.end_reason or "open").replace("_", " "),
           lambda e: e.end_reason or ""),
    Column("Notes", lambda e, z: str(e.annotations), lambda e: e.annotations),
)


class EpisodeModel(QAbstractTableModel):
    def __init__(self, zone: tzinfo) -> None:
        super().__init__()
        self._zone = zone
        self.episodes: list[Record] = []

    def set_episodes(self, episodes: list[Record]) -> None:
        self.beginResetModel()
        self.episodes = episodes
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.episodes)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        episode, column = self.episodes[index.row()], COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(episode, self._zone)
        if role == SORT_ROLE:
            return column.key(episode)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section].title
        return None


class EpisodeFilter(QSortFilterProxyModel):
    """Free text over every column, a lowest priority, and 'not acknowledged' / 'not
    annotated yet' switches."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self._text = ""
        self._min_priority = 0
        self._unacknowledged = False
        self._unannotated = False

    def set_filters(self, text: str | None = None, min_priority: int | None = None,
                    unacknowledged: bool | None = None, unannotated: bool | None = None) -> None:
        if text is not None:
            self._text = text.strip().lower()
        if min_priority is not None:
            self._min_priority = min_priority
        if unacknowledged is not None:
            self._unacknowledged = unacknowledged
        if unannotated is not None:
            self._unannotated = unannotated
        self.invalidate()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        model: EpisodeModel = self.sourceModel()
        episode = model.episodes[row]
        if PRIORITY_RANK.get(episode.max_priority, 0) < self._min_priority:
            return False
        if self._unacknowledged and episode.ack_at is not None:
            return False
        if self._unannotated and episode.annotations:
            return False
        if self._text:
            cells = " ".join(str(model.data(model.index(row, c))) for c in range(len(COLUMNS)))
            return self._text in cells.lower()
        return True
