"""Start the Qt application around one LiveWindow; SIGTERM / SIGINT close it cleanly."""

from __future__ import annotations

import logging
import signal
import socket
import sys

from PyQt6.QtCore import QSocketNotifier, Qt
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import QApplication

from monitor import logs
from monitor.config import Settings
from monitor.errors import EXIT_BAD_INPUT, MonitorError
from monitor.paths import ICON
from monitor.ui.live.options import WindowOptions
from monitor.ui.live.window import LiveWindow

log = logging.getLogger(__name__)

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # HUP: the terminal closed


class SignalBridge:
    """Turns SIGTERM / SIGINT / SIGHUP into a call on the Qt thread.

    Python runs signal handlers only when the interpreter gets control, which Qt's event loop may
    not give for a long time; the wakeup fd is written at once and a socket notifier wakes Qt.
    """

    def __init__(self, window: LiveWindow) -> None:
        self._window = window
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno())
        self._previous = {sig: signal.signal(sig, lambda *_: None) for sig in HANDLED}
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._on_signal)

    def _on_signal(self) -> None:
        try:
            received = self._read.recv(64)
        except BlockingIOError:
            return
        for number in received:
            if number in HANDLED:
                self._window.stop_for_signal(signal.Signals(number).name)

    def close(self) -> None:
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._read.close()
        self._write.close()


def _log_unhandled(kind, value, traceback) -> None:
    """PyQt aborts the process on an exception in a slot; a bedside window logs it and goes on."""
    log.critical("unhandled error in the window", exc_info=(kind, value, traceback))


def application() -> QApplication:
    """The one QApplication, with the app icon."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("painmon")
    if ICON.exists():
        app.setWindowIcon(QIcon(str(ICON)))
    return app


def show(window: LiveWindow, kiosk: bool) -> None:
    if kiosk:
        window.setWindowFlags(window.windowFlags() | Qt.WindowType.FramelessWindowHint
                              | Qt.WindowType.WindowStaysOnTopHint)
        window.showFullScreen()
    else:
        window.show()
    window.raise_()
    window.activateWindow()  # keys (Space: acknowledge) must reach it without a click first
    window.run_self_test()


def run_window(settings: Settings, source: str, realtime: bool, options: WindowOptions,
               encounter_id: str | None = None) -> int:
    """Open the window and run until it closes; returns the process exit code.

    A source, model or database that cannot be used keeps the window open with CANNOT MONITOR
    (a bedside screen that silently vanished would look like one that watches); once it is
    closed in that state, the reason is raised as the MonitorError it was (one line, exit 2)."""
    logs.show_info_on_console()
    app = application()
    previous_hook, sys.excepthook = sys.excepthook, _log_unhandled
    window = LiveWindow(settings, source, realtime, options, encounter_id)
    bridge = SignalBridge(window)
    try:
        show(window, options.kiosk)
        app.exec()
    finally:
        bridge.close()
        sys.excepthook = previous_hook
    if window.control.exit_code == EXIT_BAD_INPUT:
        raise MonitorError(window.control.failure)
    return window.control.exit_code  # 1 after repeated crashes or a fault: the supervisor restarts
