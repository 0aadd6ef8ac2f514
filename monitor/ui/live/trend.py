"""The trend strip: S and the cry cue C over the last minutes with the thresholds, episode
shading and gaps where a cue was unknown (no face; no microphone), never drawn as zero. pyqtgraph draws it (made for fast live plots); it is redrawn on a timer, not per frame.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor

from monitor.config import AlarmSettings
from monitor.signal.records import EpisodeRecord
from monitor.ui.live import style

MIN_STEP_S = 0.2  # one point per 0.2 s at most: 15 minutes stay under 4500 points
# The thresholds are the face's (S), not the cry cue's: the labels say so.
LINE_LABEL = {"t_high": "S high priority {value:.2f}", "t_on": "S alarm starts {value:.2f}",
              "t_off": "S alarm ends {value:.2f}"}


class TrendStrip(pg.PlotWidget):
    """x: minutes before now (0 = now); y: S and C, both 0 to 1, on the one session clock."""

    def __init__(self, settings: AlarmSettings, minutes: float) -> None:
        super().__init__(background=style.PANEL)
        self.minutes = minutes
        self._points: deque[tuple[float, float, float]] = deque()  # t, S, C (NaN: unknown)
        self._episodes: dict[int, EpisodeRecord] = {}
        self._regions: dict[int, pg.LinearRegionItem] = {}
        self.now = 0.0
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        plot.setYRange(0.0, 1.0, padding=0.02)
        plot.setXRange(-minutes, 0.0, padding=0.03)  # room for the "now" label at the edge
        plot.showGrid(x=True, y=False, alpha=0.15)
        step = 5 if minutes > 5 else 1
        major = [(-m, f"{m:g} min ago") for m in range(step, int(minutes) + 1, step)] + [(0.0, "now")]
        plot.getAxis("bottom").setTicks([major, [(-m, "") for m in range(1, int(minutes) + 1)]])
        plot.setLabel("left", f"<span style='color:{style.TEXT.name()}'>S face</span>, "
                              f"<span style='color:{style.CRY_COLOUR.name()}'>C cry</span>")
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen(style.DIM_TEXT)
            plot.getAxis(axis).setPen(style.DIM_TEXT)
        self._curve = plot.plot([], [], pen=pg.mkPen(style.TEXT, width=2), connect="finite")
        self._cry = plot.plot([], [], pen=pg.mkPen(style.CRY_COLOUR, width=2), connect="finite")
        self._lines: dict[str, pg.InfiniteLine] = {}
        for name, colour, dash in (("t_high", style.PRIORITY_COLOUR["high"], Qt.PenStyle.DotLine),
                                   ("t_on", style.BAND_COLOUR[2], Qt.PenStyle.DashLine),
                                   ("t_off", style.BAND_COLOUR[0], Qt.PenStyle.DashLine)):
            line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(colour, width=1, style=dash),
                                   label=LINE_LABEL[name],  # pyqtgraph fills {value}
                                   labelOpts={"position": 0.02, "color": colour, "anchors": [(0, 1), (0, 1)]})
            plot.addItem(line)
            self._lines[name] = line
        self.set_settings(settings)

    def set_settings(self, settings: AlarmSettings) -> None:
        for name, line in self._lines.items():
            line.setValue(getattr(settings, name))

    def reset(self) -> None:
        """A new session starts its own clock at 0: its trend starts empty. (Not `clear`: pyqtgraph
        binds PlotItem.clear, which removes every item, onto each PlotWidget.)"""
        self._points.clear()
        self._episodes.clear()
        for region in self._regions.values():
            self.getPlotItem().removeItem(region)
        self._regions.clear()
        self.now = 0.0
        self._curve.setData([], [])
        self._cry.setData([], [])

    def add(self, t: float, s: float | None, c: float | None = None) -> None:
        """A new S and C (None = unknown: a gap). Points closer than MIN_STEP_S are thinned, but
        a change between known and unknown is always kept so a gap is never hidden."""
        value = (math.nan if s is None else s, math.nan if c is None else c)
        if self._points:
            last_t, *last = self._points[-1]
            same_gaps = all(math.isnan(a) == math.isnan(b) for a, b in zip(last, value))
            if t < last_t or (t - last_t < MIN_STEP_S and same_gaps):
                return
        self._points.append((t, *value))
        self.now = max(self.now, t)
        horizon = self.now - self.minutes * 60.0
        while len(self._points) > 2 and self._points[1][0] < horizon:
            self._points.popleft()

    def add_episodes(self, episodes: list[EpisodeRecord]) -> None:
        for episode in episodes:
            self._episodes[episode.number] = episode

    def redraw(self) -> None:
        if self._points:
            data = np.array(self._points)
            x = (data[:, 0] - self.now) / 60.0
            self._curve.setData(x, data[:, 1])
            self._cry.setData(x, data[:, 2])
        for number, episode in self._episodes.items():
            end = self.now if episode.end is None else episode.end
            span = ((episode.start - self.now) / 60.0, (end - self.now) / 60.0)
            region = self._regions.get(number)
            if region is None:
                colour = QColor(style.BAND_COLOUR[2])
                colour.setAlpha(60)
                region = pg.LinearRegionItem(span, movable=False, brush=pg.mkBrush(colour),
                                             pen=pg.mkPen(None))
                region.setZValue(-10)
                self.getPlotItem().addItem(region)
                self._regions[number] = region
            else:
                region.setRegion(span)

    def episode_spans(self) -> list[tuple[float, float | None]]:
        return [(e.start, e.end) for e in sorted(self._episodes.values(), key=lambda e: e.number)]

    def series(self) -> list[tuple[float, float]]:
        """(t, S) as drawn; NaN where S was unknown."""
        return [(t, s) for t, s, _ in self._points]

    def cry_series(self) -> list[tuple[float, float]]:
        """(t, C) as drawn; NaN where there was no microphone reading."""
        return [(t, c) for t, _, c in self._points]
