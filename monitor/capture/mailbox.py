"""Mailboxes for live sources: a new frame replaces the waiting one, so latency never builds up;
sound blocks queue, since every one of them is needed."""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Holds at most one item. `put` replaces (and counts the replaced item as dropped)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def take(self, timeout: float) -> T | None:
        """The newest item, or None when nothing arrived within `timeout` seconds (or closed)."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def empty(self) -> bool:
        return self._item is None

    def peek(self) -> T | None:
        return self._item


class FrameAndSound:
    """The newest frame in one slot (replaced, counted as dropped) and every sound block in a queue
    (never dropped: the cry cue needs the whole track). `take` hands out the earlier of the two."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: LatestSlot = LatestSlot()
        self._sound: deque = deque()
        self._closed = False

    @property
    def dropped(self) -> int:
        return self._frame.dropped

    def put_frame(self, frame) -> None:
        with self._cond:
            self._frame.put(frame)
            self._cond.notify()

    def put_sound(self, block) -> None:
        with self._cond:
            self._sound.append(block)
            self._cond.notify()

    def take(self, timeout: float):
        """The earliest waiting item (frame or sound), or None after `timeout` (or once closed)."""
        with self._cond:
            if not self._sound and self._frame.empty and not self._closed:
                self._cond.wait(timeout)
            frame = self._frame.peek()
            if self._sound and (frame is None or self._sound[0].t <= frame.t):
                return self._sound.popleft()
            return self._frame.take(0.0)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._frame.close()
            self._cond.notify_all()
