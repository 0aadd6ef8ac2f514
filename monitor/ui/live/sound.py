"""Alarm tones with QtMultimedia: the engine decides what should sound, this plays and repeats it.

A machine without an audio output still runs: `available` is False, `why` says so on screen,
and the visual alarms carry on alone.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path

from PyQt6.QtCore import QObject, QUrl

from monitor.paths import SOUNDS_DIR
from monitor.signal.records import HIGH, LOW, MEDIUM, Tone
from monitor.ui.live.multimedia import QMediaDevices, QSoundEffect
from monitor.ui.live.options import WindowOptions

log = logging.getLogger(__name__)

NAMES = ("high", "medium", "technical", "low", "reminder")


def tone_name(tone: Tone) -> str:
    """Which WAV a tone uses: patient alarms by priority, technical ones by their own pattern."""
    if tone.priority == LOW:
        return "low"
    if tone.technical:
        return "technical"
    return "high" if tone.priority == HIGH else "medium"


class AlarmSound(QObject):
    """Plays the current tone at once when it changes, then repeats it at its priority's rate."""

    def __init__(self, options: WindowOptions, folder: Path = SOUNDS_DIR) -> None:
        super().__init__()
        self._repeat = {HIGH: options.repeat_high_s, MEDIUM: options.repeat_medium_s,
                        LOW: options.repeat_low_s}
        self.history: deque[tuple[float, str]] = deque(maxlen=200)  # (monotonic, name) of tones started
        self._current: Tone | None = None
        self._last_start = 0.0
        self._effects: dict[str, QSoundEffect] = {}
        missing = [name for name in NAMES if not (folder / f"{name}.wav").exists()]
        outputs = QMediaDevices.audioOutputs()
        if missing:
            self.why = f"sound files missing ({', '.join(missing)}): run tools/make_sounds.py"
        elif not outputs:
            self.why = "no audio output on this machine"
        else:
            self.why = ""
            for name in NAMES:
                effect = QSoundEffect(self)
                effect.setSource(QUrl.fromLocalFile(str(folder / f"{name}.wav")))
                effect.setVolume(1.0)
                self._effects[name] = effect
        self.device = outputs[0].description() if outputs else ""
        if self.why:
            log.warning("sound unavailable: %s; alarms are visual only", self.why)

    @property
    def available(self) -> bool:
        return not self.why

    def play(self, name: str) -> None:
        """Start one tone (it is recorded even when no audio output exists)."""
        self.history.append((time.monotonic(), name))
        effect = self._effects.get(name)
        if effect is not None:
            for other in self._effects.values():
                if other is not effect and other.isPlaying():
                    other.stop()
            effect.play()

    def follow(self, tone: Tone | None) -> None:
        """The engine's current tone: a new alarm signal sounds at once, silence stops at once."""
        now = time.monotonic()
        if tone is None:
            if self._current is not None:
                self._current = None
                for effect in self._effects.values():
                    effect.stop()
            return
        if tone != self._current or now - self._last_start >= self._repeat[tone.priority]:
            self._current, self._last_start = tone, now
            self.play(tone_name(tone))

    def names_played(self) -> list[str]:
        return [name for _, name in self.history]
