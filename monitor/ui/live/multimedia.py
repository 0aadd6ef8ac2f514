"""QtMultimedia, imported with its FFmpeg / VA-API / PipeWire probing messages filtered out.

Loading the library logs a dozen "couldn't load library" lines on machines without those optional
back ends; they say nothing a nurse or an admin can act on. QT_LOGGING_RULES, when set, wins.
"""

from __future__ import annotations

import os

from PyQt6.QtCore import QLoggingCategory

if "QT_LOGGING_RULES" not in os.environ:
    QLoggingCategory.setFilterRules("qt.multimedia.*.info=false\nqt.multimedia.*.warning=false")

from PyQt6.QtMultimedia import QMediaDevices, QSoundEffect  # noqa: E402

__all__ = ["QMediaDevices", "QSoundEffect"]
