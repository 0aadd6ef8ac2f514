"""The cue panel beside the gauge: face, cry and movement, each with its state in words.

The alarm engine weighs three cues (ALARMS.md); the nurse must see which of them are available
and what each says, so an unknown cue (no microphone, camera moving) reads as unknown with its
reason, never as "quiet" or "still". The panel shows cues, not a pain score: no numbers are added
up here.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PyQt6.QtWidgets import QSizePolicy, QWidget

from monitor.capture.media import NARROW_BAND
from monitor.config import AudioSettings
from monitor.signal.records import Snapshot
from monitor.ui.live import style, words

TITLE = "CUES"
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
SMALLEST_PX = 9  # text is made no smaller than this to fit; below it, readable beats whole
FOOTNOTE = "each cue on its own: not a pain score"
CRY_WORD = {"no_microphone": "NO MICROPHONE", "quiet": "QUIET", "whimper": "WHIMPER",
            "crying": "CRYING", "nearby": "CRY NEARBY"}
CRY_COLOUR = {"no_microphone": style.UNKNOWN, "quiet": style.BAND_COLOUR[0],
              "whimper": style.BAND_COLOUR[1], "crying": style.BAND_COLOUR[2],
              "nearby": style.BAND_COLOUR[1]}
NEARBY_DETAIL = "another infant: this face is calm"
MOVEMENT_WORD = {"unknown": "UNKNOWN", "still": "STILL", "moving": "MOVING", "vigorous": "VIGOROUS"}
MOVEMENT_LEVEL = {"still": 1, "moving": 2, "vigorous": 3}  # lit segments of three
NOT_WATCHING = {"not_started": "starting", "ended": "monitoring has ended",
                "stopped": "monitoring stopped: not current"}
MOVEMENT_COLOUR = {"unknown": style.UNKNOWN, "still": style.BAND_COLOUR[0],
                   "moving": style.BAND_COLOUR[1], "vigorous": style.BAND_COLOUR[2]}


def cue_words(cues: str | None) -> str:
    """An episode's stored cues ("face+cry") as the screen says them ("face + cry", "face only")."""
    names = [c for c in (cues or "").split("+") if c]
    if not names:
        return ""
    return "face only" if names == ["face"] else " + ".join(names)


@dataclass(frozen=True)
class CueRow:
    """One cue as painted: its name, state word, detail, colour and indicator."""

    name: str
    word: str
    detail: str
    colour: QColor
    bar: float | None = None  # a 0-1 bar (C), None: no bar reading
    mark: float | None = None  # a tick on the bar (the cry threshold)
    segments: int | None = None  # lit segments of three (movement), None: no segments


def face_row(snapshot: Snapshot) -> CueRow:
    """The face cue as the gauge shows it (the gauge carries its detail)."""
    if snapshot.s is None:
        return CueRow("FACE", "UNKNOWN", words.unknown_reason(snapshot.s_reason), style.UNKNOWN)
    band = snapshot.s_band if snapshot.s_band is not None else 0
    detail = f"expression S {snapshot.s:.2f}"
    if snapshot.face_state is not None:  # the face mesh's words: "eyes closed, relaxed", ...
        detail = f"{detail}; {snapshot.face_state}"
    return CueRow("FACE", (snapshot.s_label or "").upper(), detail,
                  style.BAND_COLOUR[band], bar=snapshot.s)


def cry_row(snapshot: Snapshot, settings: AudioSettings, narrow_band: bool = False) -> CueRow:
    """The cry cue C: NO MICROPHONE with its reason whenever there is no reading. Narrow-band
    sound (a G.711 camera's 8 kHz) is said, since the cue hears less of a cry there."""
    state = snapshot.cry_state
    if state == "no_microphone" or snapshot.c is None:
        return CueRow("CRY", CRY_WORD["no_microphone"], snapshot.cry_reason or "no sound heard",
                      style.UNKNOWN, mark=settings.crying_from)
    detail = NEARBY_DETAIL if state == "nearby" else f"cry C {snapshot.c:.2f}"
    if narrow_band:
        detail = f"{detail}; {NARROW_BAND} sound"
    return CueRow("CRY", CRY_WORD.get(state, state.upper()), detail,
                  CRY_COLOUR.get(state, style.TEXT), bar=snapshot.c, mark=settings.crying_from)


def movement_row(snapshot: Snapshot) -> CueRow:
    """The movement cue M as a state; unknown says why (camera moving, picture changing...)."""
    state = snapshot.movement_state
    if state not in MOVEMENT_LEVEL:
        return CueRow("MOVEMENT", MOVEMENT_WORD["unknown"], snapshot.movement_reason or "not measured",
                      style.UNKNOWN, segments=0)
    return CueRow("MOVEMENT", MOVEMENT_WORD[state], "in the cot region", MOVEMENT_COLOUR[state],
                  segments=MOVEMENT_LEVEL[state])


def cue_rows(snapshot: Snapshot | None, settings: AudioSettings,
             not_watching: str | None = None, narrow_band: bool = False) -> tuple[CueRow, ...]:
    """The three rows; while the monitor is not watching (starting, stopped, ended) every cue is unknown
    with that reason, whatever the last snapshot said."""
    if snapshot is None or not_watching is not None:
        why = NOT_WATCHING.get(not_watching or "not_started", not_watching or "")
        return (CueRow("FACE", "UNKNOWN", why, style.UNKNOWN),
                CueRow("CRY", "UNKNOWN", why, style.UNKNOWN, mark=settings.crying_from),
                CueRow("MOVEMENT", "UNKNOWN", why, style.UNKNOWN, segments=0))
    return face_row(snapshot), cry_row(snapshot, settings, narrow_band), movement_row(snapshot)


class CuePanel(QWidget):
    """Three cue rows, greyed with a reason where a cue is unknown."""

    def __init__(self, settings: AudioSettings) -> None:
        super().__init__()
        self.settings = settings
        self.narrow_band = False  # the session's sound is narrow band (set when it starts)
        self.rows = cue_rows(None, settings)
        self.setMinimumSize(230, 300)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_snapshot(self, snapshot: Snapshot | None, not_watching: str | None = None) -> None:
        """`not_watching`: "not_started", "stopped" or "ended" when the window knows the monitor
        is not watching, whatever the last snapshot said."""
        rows = cue_rows(snapshot, self.settings, not_watching, self.narrow_band)
        if rows != self.rows:
            self.rows = rows
            self.update()

    def row(self, name: str) -> CueRow:
        return next(r for r in self.rows if r.name == name)

    def text(self, name: str) -> str:
        """A cue in words, as a nurse would read it aloud."""
        r = self.row(name)
        return f"{r.name}: {r.word} ({r.detail})"

    # --- painting ----------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), style.PANEL)
        head = max(22.0, h * 0.08)
        p.setPen(style.DIM_TEXT)
        p.setFont(style.font(max(11, int(h / 34)), bold=True))
        p.drawText(QRectF(0, 4, w, head), Qt.AlignmentFlag.AlignCenter, TITLE)
        foot = max(18.0, h * 0.06)
        p.setFont(style.font(max(10, int(h / 44))))
        p.drawText(QRectF(4, h - foot, w - 8, foot), Qt.AlignmentFlag.AlignCenter, FOOTNOTE)
        row_h = (h - head - foot - 8) / len(self.rows)
        for i, row in enumerate(self.rows):
            self._paint_row(p, QRectF(10, head + 4 + i * row_h, w - 20, row_h - 6), row)
        p.end()

    def _paint_row(self, p: QPainter, rect: QRectF, row: CueRow) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(style.BACKGROUND)
        p.drawRoundedRect(rect, 6, 6)
        inner = rect.adjusted(10, 4, -10, -6)
        line = inner.height() / 4
        p.setPen(style.DIM_TEXT)
        p.setFont(style.font(max(11, int(line * 0.55)), bold=True))
        p.drawText(QRectF(inner.left(), inner.top(), inner.width(), line),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, row.name)
        p.setPen(row.colour)
        word = QRectF(inner.left(), inner.top() + line, inner.width(), line * 1.2)
        p.setFont(_fitting(row.word, max(14, int(line * 0.95)), word, bold=True))
        p.drawText(word, LEFT, row.word)
        p.setPen(style.TEXT if row.colour != style.UNKNOWN else style.DIM_TEXT)
        detail = QRectF(inner.left(), inner.top() + line * 2.2, inner.width(), line)  # up to the bar
        font = _fitting(row.detail, max(11, int(line * 0.5)), detail, wrap=True)
        p.setFont(font)
        p.drawText(detail, LEFT | Qt.TextFlag.TextWordWrap, _shown(row.detail, font, detail))
        gauge = QRectF(inner.left(), inner.top() + line * 3.2, inner.width(), max(6.0, line * 0.55))
        if row.segments is not None:
            self._paint_segments(p, gauge, row)
        else:
            self._paint_bar(p, gauge, row)

    def _paint_bar(self, p: QPainter, rect: QRectF, row: CueRow) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#2a2f38"))
        p.drawRoundedRect(rect, 3, 3)
        if row.bar is not None:
            p.setBrush(row.colour)
            p.drawRoundedRect(QRectF(rect.left(), rect.top(), rect.width() * min(max(row.bar, 0.0), 1.0),
                                     rect.height()), 3, 3)
        if row.mark is not None:
            x = rect.left() + rect.width() * row.mark
            p.setPen(style.TEXT)
            p.drawLine(int(x), int(rect.top() - 3), int(x), int(rect.bottom() + 3))

    def _paint_segments(self, p: QPainter, rect: QRectF, row: CueRow) -> None:
        gap = 6.0
        width = (rect.width() - 2 * gap) / 3
        p.setPen(Qt.PenStyle.NoPen)
        for i in range(3):
            p.setBrush(row.colour if i < (row.segments or 0) else QColor("#2a2f38"))
            p.drawRoundedRect(QRectF(rect.left() + i * (width + gap), rect.top(), width, rect.height()),
                              3, 3)


def _fitting(text: str, pixels: int, rect: QRectF, bold: bool = False, wrap: bool = False) -> QFont:
    """The font, from `pixels` down to SMALLEST_PX, in which `text` fits `rect` on one line, or
    (`wrap`) word-wrapped, so a long detail ("eyes squeezed, brow lowered, mouth open", a model
    fault's reason) is shown whole instead of cut at the panel's edge."""
    flags = LEFT | (Qt.TextFlag.TextWordWrap if wrap else 0)
    font = style.font(pixels, bold=bold)
    while pixels > SMALLEST_PX and not _fits(font, text, rect, flags):
        pixels -= 1
        font = style.font(pixels, bold=bold)
    return font


def _shown(text: str, font: QFont, rect: QRectF) -> str:
    """`text`, or where even the smallest font cannot hold it, as much as the lines that fit
    hold, ending in an ellipsis (never drawn over the bar below)."""
    if _fits(font, text, rect, LEFT | Qt.TextFlag.TextWordWrap):
        return text
    metrics = QFontMetricsF(font)
    lines = max(1, int(rect.height() // metrics.lineSpacing()))
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() * lines * 0.9)


def _fits(font: QFont, text: str, rect: QRectF, flags) -> bool:
    used = QFontMetricsF(font).boundingRect(QRectF(0, 0, rect.width(), 1e4), flags, text)
    return used.width() <= rect.width() and used.height() <= rect.height()
