"""The review timeline: S and F over wall-clock time with the alarm thresholds, episodes shaded,
and the two kinds of gap drawn so that neither can be mistaken for calm; under it, on the same
time axis, the cry cue C and the movement state, each greyed where it was unknown. Events that
change how the trace reads (another face tracked, a procedure, settings changed) are marked
where they happened, named on the marker, with their detail as its tooltip.

Mouse wheel zooms and dragging pans the time axis (the value axes stay fixed).
"""

from __future__ import annotations

from datetime import tzinfo

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from monitor.review.collect import MOVEMENT_STATES, SessionData, event_name, event_text

S_COLOUR = "#1f4e9c"
F_COLOUR = "#d9822b"
C_COLOUR = "#7b3fb5"
M_COLOUR = "#2e7d6b"
EVENT_COLOUR = "#5b2c6f"
EPISODE_BRUSH = QColor(230, 90, 90, 70)
UNKNOWN_BRUSH = QColor(150, 150, 150, 110)
NOT_RUNNING = QColor(60, 60, 60, 200)
MIN_SPAN_S = 20.0
CUE_HEIGHT = 70  # pixels of each cue lane under the S trace
LEFT_AXIS_PX = 74
TIME_LABELS_PX = 26


def _legend_html() -> str:
    def swatch(colour: str, text: str, line: bool = False) -> str:
        shape = ("&#9472;&#9472;" if line else "&#9608;&#9608;")
        return f'<span style="color:{colour}">{shape}</span>&nbsp;{text}'

    return "&nbsp;&nbsp;&nbsp;".join([
        swatch(S_COLOUR, "S: smoothed pain expression", True),
        swatch(F_COLOUR, "F: pain-face share of last 30 s", True),
        swatch(C_COLOUR, "cry cue C (0-1)", True),
        swatch(M_COLOUR, "movement: still / moving / vigorous", True),
        swatch("#e8a0a0", "episode"),
        swatch("#b4b4b4", "unknown, not calm: face not seen / poor image; no sound; camera moving"),
        swatch("#3c3c3c", "monitor not running (hatched)"),
        f'<span style="color:{EVENT_COLOUR}">&#9550;</span>&nbsp;event (another face tracked, '
        "procedure, settings)",
    ])


class Timeline(QWidget):
    """One session's record; x is UTC epoch seconds, labelled in the display zone."""

    def __init__(self, zone: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zone = zone
        self._axes = [pg.DateAxisItem(orientation="bottom") for _ in range(3)]
        self.plot = pg.PlotWidget(axisItems={"bottom": self._axes[0]}, background="w")
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setYRange(0.0, 1.05, padding=0)
        self.plot.setLabel("left", "S, F (0-1)")
        self.plot.showGrid(x=True, y=False, alpha=0.15)
        self.cry = self._lane("cry C", (-0.1, 1.15), self._axes[1])  # room between the labels
        self.movement = self._lane("movement", (-0.3, 2.3), self._axes[2])
        self.movement.setFixedHeight(CUE_HEIGHT + TIME_LABELS_PX)
        self.cry.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        self.movement.getAxis("left").setTicks([[(i, name) for i, name in enumerate(MOVEMENT_STATES)]])
        for plot in (self.plot, self.cry):  # the time labels go under the lowest lane
            plot.getAxis("bottom").setStyle(showValues=False)
        for plot in (self.plot, self.cry, self.movement):  # one width: the time axes line up
            plot.getAxis("left").setWidth(LEFT_AXIS_PX)
        legend = QLabel(_legend_html())
        legend.setTextFormat(Qt.TextFormat.RichText)
        legend.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.cry)
        layout.addWidget(self.movement)
        layout.addWidget(legend)
        self._origin = 0.0
        self._end = 1.0
        self.markers: list[pg.InfiniteLine] = []  # the events shown, in time order

    def _lane(self, name: str, y_range: tuple[float, float], axis: pg.DateAxisItem) -> pg.PlotWidget:
        """A short plot under the S trace that follows its time axis."""
        lane = pg.PlotWidget(axisItems={"bottom": axis}, background="w")
        lane.setFixedHeight(CUE_HEIGHT)
        lane.setMouseEnabled(x=True, y=False)
        lane.setYRange(*y_range, padding=0)
        lane.setLabel("left", name)
        lane.showGrid(x=True, y=False, alpha=0.15)
        lane.setXLink(self.plot)
        return lane

    def show_session(self, d: SessionData) -> None:
        """Draw the session and show all of it."""
        self.plot.clear()
        self.cry.clear()
        self.movement.clear()
        origin_utc = d.session.clock_origin_utc
        offset = origin_utc.astimezone(self._zone).utcoffset()
        for axis in self._axes:
            axis.utcOffset = -int(offset.total_seconds()) if offset is not None else None
        self._origin = origin_utc.timestamp()
        self._end = max(d.end_t, 1.0)
        for e in d.episodes:
            end = e.end_at if e.end_at is not None else self._end
            self._band(e.start_at, end, QBrush(EPISODE_BRUSH))
            label = pg.TextItem(f"episode {e.number}", color="#8b1a1a", anchor=(0, 0))
            label.setPos(self._origin + e.start_at, 1.05)
            self.plot.addItem(label)
        for t0, t1 in d.gaps.unknown:
            self._band(t0, t1, QBrush(UNKNOWN_BRUSH))
        for t0, t1 in d.gaps.not_running:
            self._band(t0, t1, QBrush(NOT_RUNNING, Qt.BrushStyle.BDiagPattern))
        for value, name, colour, style in (
                (d.thresholds.t_high, "S high", "#8b1a1a", Qt.PenStyle.DotLine),
                (d.thresholds.t_on, "S alarm on", "#c0392b", Qt.PenStyle.DashLine),
                (d.thresholds.t_off, "S episode ends", "#2e7d32", Qt.PenStyle.DashLine)):
            line = pg.InfiniteLine(pos=value, angle=0, movable=False,
                                   pen=pg.mkPen(colour, width=1, style=style),
                                   label=f"{name} {value:.2f}",
                                   labelOpts={"position": 0.02, "color": colour,
                                              "anchors": [(0, 1), (0, 1)]})
            self.plot.addItem(line)
        t = np.array([row.t + 1.0 for row in d.samples], dtype=float) + self._origin
        for column, colour in (("s", S_COLOUR), ("f", F_COLOUR)):
            values = np.array([np.nan if row[column] is None else row[column]
                               for row in d.samples], dtype=float)
            self.plot.plot(t, values, pen=pg.mkPen(colour, width=2), connect="finite")
        self._show_cues(d, t)
        self._show_events(d)
        self.plot.setLimits(xMin=self._origin - 5, xMax=self._origin + self._end + 5,
                            minXRange=5)
        self.show_all()

    def _show_cues(self, d: SessionData, t: np.ndarray) -> None:
        """C as a line against the session's cry threshold, movement as a step between its
        states; grey where a cue was unknown, and a session without sound says so."""
        for e in d.episodes:
            end = e.end_at if e.end_at is not None else self._end
            for lane in (self.cry, self.movement):
                self._band(e.start_at, end, QBrush(EPISODE_BRUSH), lane)
        c = np.array([np.nan if row.c is None else row.c for row in d.samples], dtype=float)
        if d.session.audio:
            for t0, t1 in _unknown(d.samples, "c"):
                self._band(t0, t1, QBrush(UNKNOWN_BRUSH), self.cry)
            self.cry.plot(t, c, pen=pg.mkPen(C_COLOUR, width=2), connect="finite")
        else:
            note = pg.TextItem("no microphone: nothing heard", color="#555555", anchor=(0.5, 0.5))
            note.setPos(self._origin + self._end / 2, 0.5)
            self.cry.addItem(note)
        self.cry.addItem(pg.InfiniteLine(pos=d.thresholds.cry_on, angle=0, movable=False,
                                         pen=pg.mkPen(C_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                                         label=f"crying from {d.thresholds.cry_on:.2f}",
                                         labelOpts={"position": 0.02, "color": C_COLOUR,
                                                    "anchors": [(0, 1), (0, 1)]}))
        xs: list[float] = []
        ys: list[float] = []
        for t0, t1, state in d.movement_runs():
            if state is None:
                self._band(t0, t1, QBrush(UNKNOWN_BRUSH), self.movement)
                xs.append(self._origin + t0)
                ys.append(np.nan)
                continue
            level = float(MOVEMENT_STATES.index(state))
            xs += [self._origin + t0, self._origin + t1]
            ys += [level, level]
        self.movement.plot(np.array(xs), np.array(ys, dtype=float), pen=pg.mkPen(M_COLOUR, width=2),
                           connect="finite")

    def _show_events(self, d: SessionData) -> None:
        """A dashed vertical line per event, its name at the top and the detail as the tooltip."""
        self.markers = []
        for e in d.events:
            line = pg.InfiniteLine(pos=self._origin + e.t, angle=90, movable=False,
                                   pen=pg.mkPen(EVENT_COLOUR, width=1.5, style=Qt.PenStyle.DashLine),
                                   label=event_name(e),
                                   labelOpts={"position": 0.9, "color": EVENT_COLOUR,
                                              "fill": (255, 255, 255, 200),
                                              "anchors": [(0, 0.5), (0, 0.5)]})
            line.setToolTip(event_text(e))
            self.plot.addItem(line)
            self.markers.append(line)

    def cue_items(self) -> dict[str, list]:
        """What each cue lane draws (curves, bands, notes), for tests and screenshots."""
        return {"cry": list(self.cry.getPlotItem().items),
                "movement": list(self.movement.getPlotItem().items)}

    def _band(self, t0: float, t1: float, brush: QBrush, plot: pg.PlotWidget | None = None) -> None:
        region = pg.LinearRegionItem((self._origin + t0, self._origin + t1), movable=False,
                                     brush=brush, pen=pg.mkPen(None))
        region.setZValue(-10)
        (plot or self.plot).addItem(region)

    def show_all(self) -> None:
        self.plot.setXRange(self._origin, self._origin + self._end, padding=0.01)

    def visible_range(self) -> tuple[float, float]:
        """Session-clock seconds at the left and right edge."""
        (x0, x1), _ = self.plot.viewRange()
        return x0 - self._origin, x1 - self._origin

    def centre_on(self, t0: float, t1: float) -> None:
        """Centre [t0, t1] (session clock), keeping the zoom unless the episode would not fit."""
        left, right = self.visible_range()
        span = max(right - left, (t1 - t0) * 1.5, MIN_SPAN_S)
        middle = self._origin + (t0 + t1) / 2
        self.plot.setXRange(middle - span / 2, middle + span / 2, padding=0)

    def zoom(self, factor: float) -> None:
        """factor < 1 zooms in around the centre."""
        left, right = self.visible_range()
        middle, span = (left + right) / 2, max((right - left) * factor, MIN_SPAN_S / 4)
        self.plot.setXRange(self._origin + middle - span / 2, self._origin + middle + span / 2,
                            padding=0)


def _unknown(samples: list, column: str) -> list[tuple[float, float]]:
    """Runs of consecutive seconds where `column` was unknown (null), [start, end)."""
    runs: list[tuple[float, float]] = []
    for row in samples:
        if row[column] is not None:
            continue
        if runs and np.isclose(runs[-1][1], row.t):
            runs[-1] = (runs[-1][0], row.t + 1.0)
        else:
            runs.append((row.t, row.t + 1.0))
    return runs
