"""Compact per-frame trace, so a stored session can be replayed through the alarm engine.

Layout of `frame_trace.data` (little-endian, no padding):

    byte 0          format version (1)
    then n records of 9 bytes each:
        float32     dt = t - t0, seconds from the row's t0
        uint8       status: 0 scored, 1 no_face, 2 poor_quality (FaceStatus)
        float32     p in [0, 1] when scored, NaN otherwise

Frame times come back as t0 + float32(dt): exact to float32 precision of the offset (about
4 microseconds over a 60 s span), while t0 itself stays a float64 column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from monitor.packets import FaceStatus

FORMAT_VERSION = 1
RECORD = np.dtype([("dt", "<f4"), ("status", "u1"), ("p", "<f4")])  # packed: 9 bytes
STATUS_CODES = {FaceStatus.SCORED: 0, FaceStatus.NO_FACE: 1, FaceStatus.POOR_QUALITY: 2}
STATUS_OF_CODE = {code: status for status, code in STATUS_CODES.items()}


class TraceFrame(NamedTuple):
    t: float
    status: FaceStatus
    p: float | None


def status_code(status: FaceStatus | int) -> int:
    """The stored code of a FaceStatus; a code passes through once checked."""
    if isinstance(status, FaceStatus):
        return STATUS_CODES[status]
    if status not in STATUS_OF_CODE:
        raise ValueError(f"unknown frame status code {status!r}")
    return int(status)


def pack_trace(rows: Sequence[tuple[float, FaceStatus | int, float | None]], t0: float) -> bytes:
    """Pack (t, status or its code, p) frames; p is given for scored frames only."""
    records = np.empty(len(rows), dtype=RECORD)
    for i, (t, status, p) in enumerate(rows):
        code = status_code(status)
        if (code == STATUS_CODES[FaceStatus.SCORED]) != (p is not None):
            raise ValueError(f"frame at t={t}: p must be given for scored frames only")
        if p is not None and not 0.0 <= p <= 1.0:
            raise ValueError(f"frame at t={t}: p={p} is outside 0..1")
        records[i] = (t - t0, code, math.nan if p is None else p)
    return bytes([FORMAT_VERSION]) + records.tobytes()


def unpack_trace(t0: float, data: bytes) -> list[TraceFrame]:
    """Inverse of pack_trace: (t0 + dt, FaceStatus, p or None) per frame, in stored order."""
    if not data or data[0] != FORMAT_VERSION:
        raise ValueError(f"unknown frame trace format {data[:1]!r}")
    if (len(data) - 1) % RECORD.itemsize:
        raise ValueError(f"frame trace of {len(data)} bytes is truncated")
    records = np.frombuffer(data, dtype=RECORD, offset=1)
    try:
        return [
            TraceFrame(t0 + dt, STATUS_OF_CODE[code], None if math.isnan(p) else p)
            for dt, code, p in records.tolist()
        ]
    except KeyError as exc:
        raise ValueError(f"unknown frame status code {exc.args[0]} in a frame trace") from None
