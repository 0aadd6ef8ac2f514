"""The one session clock (ARCHITECTURE.md "The monitor watches itself").

t = 0 is one instant with a monotonic and a wall-clock reading taken together, before the camera,
the models or the database are opened, so that the live window, the stored rows and review all
place an event at the same wall time. Session times are monotonic seconds since that instant (a
wall-clock change during a night shift cannot reorder them); wall time is `origin_utc + t`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


@dataclass(frozen=True)
class SessionClock:
    origin_monotonic: float
    origin_utc: datetime

    @classmethod
    def start(cls) -> "SessionClock":
        """Both origins read back to back: they differ by microseconds, not by start-up time."""
        return cls(time.monotonic(), datetime.now(timezone.utc))

    def now(self) -> float:
        """Seconds since t = 0."""
        return time.monotonic() - self.origin_monotonic

    def __call__(self) -> float:  # sources take the clock as a plain callable
        return self.now()

    def utc(self, t: float) -> datetime:
        """The wall time of session time t."""
        return self.origin_utc + timedelta(seconds=t)
