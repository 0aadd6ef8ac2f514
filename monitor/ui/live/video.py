"""The newest processed frame with the tracked face box, its state and the cot region."""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRect, QRectF, Qt
from PyQt6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF
from PyQt6.QtWidgets import QSizePolicy, QWidget

from monitor.ui.live import style, words

BANNER_MIN_PT = 12


class VideoView(QWidget):
    """Paints only what it was last given; counts its paints (the UI frame rate)."""

    def __init__(self, cot_region: tuple[float, float, float, float]) -> None:
        super().__init__()
        self.cot_region = cot_region
        self.image: QImage | None = None
        self.box: tuple[float, float, float, float] | None = None
        self.outlines: tuple = ()  # eye and lip outlines (face.draw_outlines), image pixels
        self.face_status: str | None = None
        self.face_reason = ""
        self.banner = ""  # STANDBY / MONITORING ENDED / starting..., over the picture
        self.paints = 0
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_frame(self, image: QImage, face_status: str | None,
                  box: tuple[float, float, float, float] | None, reason: str,
                  outlines: tuple = ()) -> None:
        """`outlines`: the face mesh's, when it ran on this frame; the last ones stay drawn while
        the face is tracked (the mesh runs every face.every_s), none once it is lost."""
        self.image, self.face_status, self.box, self.face_reason = image, face_status, box, reason
        if outlines or box is None:
            self.outlines = outlines
        self.update()

    def set_banner(self, text: str) -> None:
        if text != self.banner:
            self.banner = text
            self.update()

    def face_text(self) -> str:
        if self.face_status is None:
            return ""
        text = words.FACE_STATE.get(self.face_status, self.face_status)
        return f"{text}: {self.face_reason}" if self.face_reason and self.face_status != "scored" else text

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.paints += 1
        p = QPainter(self)
        p.fillRect(self.rect(), style.PANEL)
        if self.image is None:
            self._banner(p, self.banner or "waiting for the first picture")
            p.end()
            return
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        target = QRectF((self.width() - iw * scale) / 2, (self.height() - ih * scale) / 2,
                        iw * scale, ih * scale)
        p.drawImage(target, self.image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)

        x0, y0, x1, y1 = self.cot_region
        if (x0, y0, x1, y1) != (0.0, 0.0, 1.0, 1.0):
            pen = QPen(style.COT_COLOUR, 2, Qt.PenStyle.DashLine)
            p.setPen(pen)
            cot = QRectF(target.left() + x0 * target.width(), target.top() + y0 * target.height(),
                         (x1 - x0) * target.width(), (y1 - y0) * target.height())
            p.drawRect(cot)
            p.setFont(style.font(13))
            p.drawText(cot.adjusted(6, 4, -6, -4), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                       "cot region")

        colour = style.FACE_COLOUR.get(self.face_status or "", style.UNKNOWN)
        if self.box is not None:
            bx0, by0, bx1, by1 = self.box
            line = Qt.PenStyle.SolidLine if self.face_status == "scored" else Qt.PenStyle.DashLine
            p.setPen(QPen(colour, 3, line))
            p.drawRect(QRectF(target.left() + bx0 * scale, target.top() + by0 * scale,
                              (bx1 - bx0) * scale, (by1 - by0) * scale))
        if self.outlines:
            p.setPen(QPen(style.TEXT, 1.5))
            for ring in self.outlines:
                p.drawPolygon(QPolygonF([QPointF(target.left() + x * scale, target.top() + y * scale)
                                         for x, y in ring]))
        text = self.face_text()
        if text:
            p.setFont(style.font(16, bold=True))
            metrics = p.fontMetrics()
            chip = QRectF(target.left() + 8, target.bottom() - 36,
                          metrics.horizontalAdvance(text) + 20, 28)
            p.fillRect(chip, style.BACKGROUND)
            p.setPen(colour)
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
        if self.banner:
            self._banner(p, self.banner)
        p.end()

    def _banner(self, p: QPainter, text: str) -> None:
        """A band across the middle, as tall as the wrapped text needs (a long reason, such as
        CANNOT MONITOR with a file's path, is shown whole: smaller type before it is cut)."""
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        size = max(18, self.height() // 12)
        while True:
            p.setFont(style.font(size, bold=True))
            needed = p.fontMetrics().boundingRect(QRect(0, 0, max(self.width() - 20, 1), 100_000),
                                                  int(flags.value), text).height()
            if needed <= self.height() * 0.6 or size <= BANNER_MIN_PT:
                break
            size -= 2
        height = min(max(self.height() * 0.2, needed + 16.0), float(self.height()))
        band = QRectF(0, (self.height() - height) / 2, self.width(), height)
        shade = QColor(style.BACKGROUND)
        shade.setAlpha(200)
        p.fillRect(band, shade)
        p.setPen(style.MODE_COLOUR)
        p.drawText(band.adjusted(10, 0, -10, 0), flags, text)
