"""What every source shares: the interface the analysis loop reads, its status, and how it ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from monitor.errors import MonitorError
from monitor.packets import AudioBlock, FramePacket


class SourceEnded(Exception):
    """A finite source (a file) has delivered all it holds: a normal end."""


class SourceFailed(MonitorError):
    """A file ended early or was partly undecodable: what came before was delivered and analysed,
    but the session must end as failed (non-zero exit), never as a normal end.

    A MonitorError, so the message is one line a user can act on (and exit 2 if uncaught)."""


@dataclass
class SourceStatus:
    """What the watchdog and the status line need from capture. `status()` returns a copy."""

    connected: bool = True
    frozen: bool = False
    reconnects: int = 0
    dropped: int = 0
    detail: str = ""


class Source(Protocol):
    live: bool
    description: str
    has_audio: bool  # AudioBlocks will come (a sound track, later a microphone)
    picture_ended_at: float | None  # a file whose sound goes on after its picture: where it ends

    def read(self, timeout: float) -> FramePacket | AudioBlock | None:
        """The next frame or sound block, or None when none came within `timeout` (time still
        passes). Raises SourceEnded at a normal end, SourceFailed at a damaged file's end."""

    def status(self) -> SourceStatus: ...

    def close(self) -> None: ...
