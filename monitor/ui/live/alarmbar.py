"""The alarm bar: one tile per alarm, in priority colour with its symbol.

Patient alarms (pain expression, crying) are solid tiles; technical alarms are outlined tiles
marked TECHNICAL, so a nurse never reads "the camera is lost" as "the infant is in pain", or the
reverse. A PAIN tile names the cues that carry it ("face + cry", "face only"). With no alarm the
bar says whether the monitor is watching, so silence never hides "not watching".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from monitor.signal.records import (CRYING, HIGH, MEDIUM, PAIN, PIPELINE_STALLED, EpisodeRecord,
                                    Snapshot)
from monitor.ui.live import style, words
from monitor.ui.live.cues import cue_words
from monitor.ui.live.lifecycle import Crash, State


@dataclass(frozen=True)
class Tile:
    kind: str  # an alarm kind, or STATUS / AUDIO / SELF_TEST
    priority: str | None
    technical: bool
    title: str
    detail: str
    flashing: bool = False


STATUS, AUDIO, SELF_TEST = "STATUS", "AUDIO", "SELF_TEST"
CANNOT_MONITOR = "CANNOT_MONITOR"  # the window's own technical alarm: no session could start
PATIENT = (PAIN, CRYING)  # alarms about the infant; every other kind is technical
LOST = {PAIN: "face not visible", CRYING: "no sound heard"}


def alarm_tiles(snapshot: Snapshot, episodes: dict[int, EpisodeRecord],
                clock: Callable[[float], str], ended: bool = False) -> list[Tile]:
    """What the bar shows for one snapshot (patient alarms first, then technical, by priority)."""
    now = snapshot.t
    if ended:  # the last snapshot's alarms no longer sound: say so, and what was left unacknowledged
        missed = [episodes[a.episode] for a in snapshot.alarms
                  if a.kind == PAIN and a.latched and a.episode in episodes]
        detail = "not watching: no alarms will sound"
        for episode in missed:
            end = "" if episode.end is None else f" to {clock(episode.end)}"
            detail += f"  |  pain episode {clock(episode.start)}{end} was not acknowledged"
        return [Tile(STATUS, None, False, "MONITORING ENDED", detail)]
    tiles: list[Tile] = []
    for alarm in sorted(snapshot.alarms, key=lambda a: a.kind not in PATIENT):
        technical = alarm.kind not in PATIENT
        title = f"{words.symbol(alarm.priority)} {words.KIND.get(alarm.kind, alarm.kind)}"
        details: list[str] = []
        carried = episodes.get(alarm.episode) if alarm.kind == PAIN and alarm.episode is not None else None
        if carried is not None and cue_words(carried.cues):
            details.append(f"cues: {cue_words(carried.cues)}")
        if alarm.latched and not alarm.active:
            title += " - LATCHED"
            episode = episodes.get(alarm.episode) if alarm.episode is not None else None
            span = (f"{clock(episode.start)} to {clock(episode.end)}"
                    if episode is not None and episode.end is not None else "earlier")
            details.append(f"episode {span} not acknowledged: press Acknowledge")
        else:
            details.append(f"{alarm.priority} priority, since {clock(alarm.since)}")
            details.append(words.ADVICE.get(alarm.kind, ""))
        if alarm.signal_lost:
            details.append(f"SIGNAL LOST: {LOST.get(alarm.kind, 'no signal')}, alarm held")
        if alarm.silenced_until is not None and alarm.active:
            details.append(f"acknowledged, silent {words.countdown(alarm.silenced_until - now)}")
        elif alarm.active and not alarm.audible and not technical and snapshot.mode != "monitoring":
            details.append(f"sound off during {snapshot.mode}")
        flashing = alarm.active and alarm.silenced_until is None
        tiles.append(Tile(alarm.kind, alarm.priority, technical, title,
                          "  |  ".join(d for d in details if d), flashing))
    if not tiles:
        if snapshot.s is None:
            tiles.append(Tile(STATUS, None, False, "NOT WATCHING", words.unknown_reason(snapshot.s_reason)))
        else:
            tiles.append(Tile(STATUS, None, False, "No alarm", "watching the face"))
    if snapshot.audio_paused_until is not None:
        tiles.append(Tile(AUDIO, None, False, "AUDIO PAUSED",
                          f"all sound off for {words.countdown(snapshot.audio_paused_until - now)}"))
    return tiles


class AlarmBar(QWidget):
    """Paints the tiles; high and medium flash (IEC rates) between full and dimmed colour."""

    def __init__(self) -> None:
        super().__init__()
        self.tiles: list[Tile] = []
        self.setMinimumHeight(96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_tiles(self, tiles: list[Tile]) -> None:
        if tiles != self.tiles:
            self.tiles = tiles
            self.update()

    @property
    def flashing(self) -> bool:
        return any(tile.flashing for tile in self.tiles)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), style.BACKGROUND)
        if not self.tiles:
            p.end()
            return
        weights = [3 if tile.kind in (*PATIENT, STATUS, SELF_TEST) else 2 for tile in self.tiles]
        x, gap, total = 0.0, 8.0, float(sum(weights))
        usable = self.width() - gap * (len(self.tiles) - 1)
        for tile, weight in zip(self.tiles, weights):
            width = usable * weight / total
            self._paint_tile(p, QRectF(x, 0, width, self.height()), tile)
            x += width + gap
        p.end()

    def _paint_tile(self, p: QPainter, rect: QRectF, tile: Tile) -> None:
        if tile.priority is None:
            fill = QColor("#1f3a2a") if tile.title == "No alarm" else QColor("#2a2f38")
            ink = style.TEXT
            border = None
        else:
            colour = QColor(style.PRIORITY_COLOUR[tile.priority])
            if tile.flashing and not _lit(style.FLASH_HZ[tile.priority]):
                colour = colour.darker(135)  # a pulse that stays the same colour and readable
            fill, ink, border = ((style.BACKGROUND, colour, colour) if tile.technical
                                 else (colour, style.PRIORITY_TEXT[tile.priority], None))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 8, 8)
        if border is not None:
            pen = QPen(border, 5)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(4, 4, -4, -4), 8, 8)
        inner = rect.adjusted(16, 8, -12, -8)
        if tile.technical:
            p.setPen(ink)
            p.setFont(style.font(13, bold=True))
            p.drawText(inner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, "TECHNICAL")
        p.setPen(ink)
        p.setFont(style.font(30 if tile.kind in (*PATIENT, SELF_TEST) else 24, bold=True))
        p.drawText(QRectF(inner.left(), inner.top(), inner.width(), inner.height() * 0.58),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, tile.title)
        p.setFont(style.font(15, bold=tile.kind in PATIENT))
        p.drawText(QRectF(inner.left(), inner.top() + inner.height() * 0.58, inner.width(),
                          inner.height() * 0.42),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap,
                   tile.detail)


def _lit(hz: float) -> bool:
    """Flash phase: on for the first half of each period."""
    return hz <= 0 or math.fmod(time.monotonic() * hz, 1.0) < 0.5


def window_alarm(state: State, crash: Crash | None, failure: str, snapshot: Snapshot | None,
                 silent_s: float) -> Tile | None:
    """The window's own technical alarm, for what the engine cannot say: a crash, a loop silent
    for `silent_s` (unless the engine's watchdog already says so), nothing could start."""
    if state in (State.CRASHED, State.RESTARTING) and crash is not None:
        return Tile(PIPELINE_STALLED, HIGH, True, f"{words.symbol(HIGH)} MONITORING STOPPED",
                    f"the analysis crashed ({crash.reason}); restarting")
    engine_says = snapshot is not None and any(
        a.kind == PIPELINE_STALLED and a.active for a in snapshot.alarms)
    if state is State.STALLED and not engine_says:
        return Tile(PIPELINE_STALLED, MEDIUM, True, f"{words.symbol(MEDIUM)} MONITORING STOPPED",
                    f"no analysis for {silent_s:.0f} s: the screen is not current", flashing=True)
    if state is State.ENDED and failure:
        return Tile(CANNOT_MONITOR, MEDIUM, True, f"{words.symbol(MEDIUM)} CANNOT MONITOR",
                    f"{failure}; choose Source... to monitor this bed")
    return None


def bar_tiles(state: State, own: Tile | None, snapshot: Snapshot | None,
              episodes: dict[int, EpisodeRecord], clock: Callable[[float], str]) -> list[Tile]:
    """The bar in the window's `state`: its own alarm first, then the snapshot's alarms (or NOT
    WATCHING before the first snapshot)."""
    if snapshot is None:
        tiles = [Tile(STATUS, None, False, "NOT WATCHING", words.BAR_WITHOUT_SNAPSHOT.get(state, ""))]
    else:
        tiles = alarm_tiles(snapshot, episodes, clock,
                            ended=state in (State.ENDED, State.CLOSING, State.CLOSED))
    return tiles if own is None else [own] + [t for t in tiles if t.kind != STATUS]
