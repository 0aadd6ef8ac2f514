"""The log: warnings on the console, and everything from INFO up in a private rotating file in the
platform's log folder, so a bedside PC started by its service or menu still keeps a record of
why it stopped. Patient data stays out of it: sessions are referred to by number."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from monitor.paths import LOG_FILENAME, log_dir
from monitor.store.files import make_private_dirs, private_umask

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_BYTES = 2_000_000
BACKUPS = 5


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test's capture, a redirected stream)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Every file it opens, the rotated ones included, is 0600."""

    def _open(self):
        with private_umask():
            return super()._open()


_console: _Stderr | None = None
_file: _PrivateRotatingFile | None = None


def configure() -> Path | None:
    """Warnings to the console, INFO and up to the file; the log file's path, or None if the
    folder cannot be written (said on the console: monitoring goes on without the file)."""
    global _console, _file
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if _console is None:
        _console = _Stderr()
        _console.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(_console)
    _console.setLevel(logging.WARNING)
    path = log_dir() / LOG_FILENAME
    if _file is not None and Path(_file.baseFilename) == path:
        return path
    if _file is not None:
        root.removeHandler(_file)
        _file.close()
        _file = None
    try:
        make_private_dirs(path.parent)
        _file = _PrivateRotatingFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file (%s): logging to the console only", exc)
        return None
    _file.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(_file)
    return path


def show_info_on_console() -> None:
    """The bedside window's console (a terminal, the service's journal) gets INFO too."""
    if _console is not None:
        _console.setLevel(logging.INFO)
