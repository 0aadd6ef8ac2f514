"""The large S gauge: band colour and label readable from two metres, grey with a reason when unknown."""

from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from monitor.config import AlarmSettings
from monitor.ui.live import style, words

START_DEG, SPAN_DEG = 225.0, -270.0  # the arc runs clockwise from lower left to lower right


class Gauge(QWidget):
    """Paints S (0-1) on an arc with its band; F and its band below."""

    def __init__(self, settings: AlarmSettings) -> None:
        super().__init__()
        self.settings = settings
        self.s: float | None = None
        self.band: int | None = None
        self.label: str | None = None
        self.reason = words.unknown_reason("not_started")
        self.f: float | None = None
        self.f_band: int | None = None
        self.setMinimumSize(300, 360)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def greyed(self) -> bool:
        return self.s is None

    def set_state(self, s: float | None, band: int | None, label: str | None, reason: str | None,
                  f: float | None, f_band: int | None) -> None:
        """`reason` is the engine's code for an unknown S (or "ended")."""
        state = (s, band, label, f, f_band)
        new_reason = words.unknown_reason(reason) if s is None else ""
        if state != (self.s, self.band, self.label, self.f, self.f_band) or new_reason != self.reason:
            self.s, self.band, self.label, self.f, self.f_band = state
            self.reason = new_reason
            self.update()

    def value_text(self) -> str:
        return "--" if self.s is None else f"{self.s:.2f}"

    def label_text(self) -> str:
        return "UNKNOWN" if self.s is None else (self.label or "").upper()

    def share_text(self) -> str:
        window = f"{self.settings.window_s:g} s"
        if self.f is None:
            return f"Pain-face time (last {window}): unknown"
        return f"Pain-face time (last {window}): {self.f:.0%}   band {self.f_band} of 3"

    def colour(self) -> QColor:
        return style.UNKNOWN if self.band is None or self.s is None else style.BAND_COLOUR[self.band]

    # --- painting ----------------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), style.PANEL)
        p.setPen(style.DIM_TEXT)
        p.setFont(style.font(max(11, h // 34), bold=True))
        title_h = h * 0.08
        p.drawText(QRectF(0, 4, w, title_h), Qt.AlignmentFlag.AlignCenter, words.TITLE)

        side = min(w * 0.86, h * 0.62)
        arc = QRectF((w - side) / 2, title_h + 8, side, side)
        thick = side * 0.09
        inner = arc.adjusted(thick / 2, thick / 2, -thick / 2, -thick / 2)
        self._paint_arc(p, inner, thick)

        colour = self.colour()
        p.setPen(colour)
        p.setFont(style.font(int(side * 0.24), bold=True))
        p.drawText(QRectF(arc.left(), arc.top() + side * 0.22, side, side * 0.3),
                   Qt.AlignmentFlag.AlignCenter, self.value_text())
        p.setFont(style.font(int(side * 0.12), bold=True))
        p.drawText(QRectF(arc.left(), arc.top() + side * 0.52, side, side * 0.16),
                   Qt.AlignmentFlag.AlignCenter, self.label_text())
        if self.s is None:
            p.setPen(style.TEXT)
            p.setFont(style.font(max(12, int(side * 0.05))))
            p.drawText(QRectF(0, arc.bottom() - side * 0.16, w, side * 0.12),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.reason)

        y = arc.bottom() + 4
        rest = h - y
        p.setPen(style.TEXT if self.f is not None else style.DIM_TEXT)
        p.setFont(style.font(max(13, int(rest * 0.16)), bold=True))
        p.drawText(QRectF(0, y, w, rest * 0.45), Qt.AlignmentFlag.AlignCenter, self.share_text())
        p.setPen(style.DIM_TEXT)
        p.setFont(style.font(max(11, int(rest * 0.11))))
        p.drawText(QRectF(0, y + rest * 0.45, w, rest * 0.45),
                   Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, words.DISCLAIMER)
        p.end()

    def _paint_arc(self, p: QPainter, rect: QRectF, thick: float) -> None:
        cfg = self.settings
        edges = (0.0, cfg.band_watch, cfg.band_pain, 1.0)
        known = self.s is not None
        for band in range(3):  # the bands, dim, so the scale is readable before any value
            colour = QColor(style.BAND_COLOUR[band] if known else style.UNKNOWN)
            colour.setAlpha(70)
            _arc(p, rect, edges[band], edges[band + 1], colour, thick)
        if known:
            _arc(p, rect, 0.0, max(self.s, 0.01), self.colour(), thick)


def _angle(value: float) -> float:
    return START_DEG + SPAN_DEG * min(max(value, 0.0), 1.0)


def _arc(p: QPainter, rect: QRectF, a: float, b: float, colour: QColor, thick: float) -> None:
    pen = QPen(colour, thick)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    p.setPen(pen)
    start = _angle(a)
    p.drawArc(rect, int(start * 16), int((_angle(b) - start) * 16))
