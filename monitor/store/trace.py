"""Compact traces, so a stored session can be replayed through the alarm engine with other settings.

`frame_trace.data` holds one of these layouts (little-endian, no padding), told apart by byte 0:

    1  frames, n records of 9 bytes:  float32 dt | uint8 status | float32 p
    2  frames, n records of 13 bytes: float32 dt | uint8 status | float32 p | float32 m
    129 sound windows, n records of 20 bytes:
       float32 dt (the window's end) | float32 baby_cry | float32 sobbing | float32 whimper |
       float32 dbfs
    130 sound windows with the cry detector's score (issue 22), n records of 24 bytes: the
       same | float32 p (NaN: no detector score); written only when some window has one
    65 face mesh readings (issue 23), n records of 25 bytes: float32 dt | float32 mouth_open |
       float32 eye_open | float32 brow | float32 covered (NaN: not read) | float32 face_score |
       uint8 fit (0 trusted, 1 not); stored beside the frame row of the same t0 (its frames'
       times come back identical), only for a span in which the mesh read a face

dt = t - t0, seconds from the row's t0. status: 0 scored, 1 no_face, 2 poor_quality (FaceStatus);
p in [0, 1] when scored, NaN otherwise; m the movement reading (>= 0), UNKNOWN_M (-1) when it was
measured but could not be told (camera moving, ...), NaN when the frame was not measured (the
meter runs at most every `movement.every_s`). Times come back
as t0 + float32(dt): exact to about 4 microseconds over a 60 s span; t0 stays a float64 column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from monitor.packets import FaceActions, FaceStatus
from monitor.signal.cry import CryWindow

FRAMES_V1, FRAMES_V2, SOUND_V1, SOUND_V2, FACE_V1 = 1, 2, 129, 130, 65
UNKNOWN_M = -1.0  # a movement reading taken but unknown; None (stored NaN): not measured
RECORD_V1 = np.dtype([("dt", "<f4"), ("status", "u1"), ("p", "<f4")])  # packed: 9 bytes
RECORD_V2 = np.dtype([("dt", "<f4"), ("status", "u1"), ("p", "<f4"), ("m", "<f4")])
SOUND_RECORD = np.dtype([("dt", "<f4"), ("baby_cry", "<f4"), ("sobbing", "<f4"),
                         ("whimper", "<f4"), ("dbfs", "<f4")])
SOUND_RECORD_V2 = np.dtype(SOUND_RECORD.descr + [("p", "<f4")])
SOUND_RECORDS = {SOUND_V1: SOUND_RECORD, SOUND_V2: SOUND_RECORD_V2}
FRAME_RECORDS = {FRAMES_V1: RECORD_V1, FRAMES_V2: RECORD_V2}
FACE_VALUES = ("mouth_open", "eye_open", "brow", "covered")
FACE_RECORD = np.dtype([("dt", "<f4")] + [(name, "<f4") for name in FACE_VALUES]
                       + [("face_score", "<f4"), ("fit", "u1")])  # packed: 25 bytes
UNTRUSTED_FIT = "fit not trusted when recorded"  # the reason a stored untrusted reading replays with
STATUS_CODES = {FaceStatus.SCORED: 0, FaceStatus.NO_FACE: 1, FaceStatus.POOR_QUALITY: 2}
STATUS_OF_CODE = {code: status for status, code in STATUS_CODES.items()}


class TraceFrame(NamedTuple):
    t: float
    status: FaceStatus
    p: float | None
    m: float | None = None  # movement reading, UNKNOWN_M, or None: not measured (or format 1)


class TraceReading(NamedTuple):
    t: float
    actions: FaceActions  # without its outlines (drawing only) and with UNTRUSTED_FIT as reason


def status_code(status: FaceStatus | int) -> int:
    """The stored code of a FaceStatus; a code passes through once checked."""
    if isinstance(status, FaceStatus):
        return STATUS_CODES[status]
    if status not in STATUS_OF_CODE:
        raise ValueError(f"unknown frame status code {status!r}")
    return int(status)


def pack_trace(rows: Sequence[tuple], t0: float) -> bytes:
    """Pack (t, status or its code, p[, m]) frames; p is given for scored frames only."""
    records = np.empty(len(rows), dtype=RECORD_V2)
    for i, (t, status, p, *rest) in enumerate(rows):
        m = rest[0] if rest else None
        code = status_code(status)
        if (code == STATUS_CODES[FaceStatus.SCORED]) != (p is not None):
            raise ValueError(f"frame at t={t}: p must be given for scored frames only")
        if p is not None and not 0.0 <= p <= 1.0:
            raise ValueError(f"frame at t={t}: p={p} is outside 0..1")
        records[i] = (t - t0, code, math.nan if p is None else p, math.nan if m is None else m)
    return bytes([FRAMES_V2]) + records.tobytes()


def pack_sound(windows: Sequence[CryWindow], t0: float) -> bytes:
    """Format 129 when no window has a detector score (as before issue 22), else 130."""
    if all(w.p is None for w in windows):
        records = np.array([(w.t - t0, w.baby_cry, w.sobbing, w.whimper, w.dbfs) for w in windows],
                           dtype=SOUND_RECORD)
        return bytes([SOUND_V1]) + records.tobytes()
    records = np.array([(w.t - t0, w.baby_cry, w.sobbing, w.whimper, w.dbfs,
                         math.nan if w.p is None else w.p) for w in windows], dtype=SOUND_RECORD_V2)
    return bytes([SOUND_V2]) + records.tobytes()


def pack_face(readings: Sequence[tuple[float, FaceActions]], t0: float) -> bytes:
    """Pack (t, FaceActions) mesh readings; their fit problem is kept as trusted or not."""
    def value(x: float | None) -> float:
        return math.nan if x is None else x
    records = np.array([(t - t0, *(value(getattr(a, name)) for name in FACE_VALUES), a.face_score,
                         1 if a.fit_problem else 0) for t, a in readings], dtype=FACE_RECORD)
    return bytes([FACE_V1]) + records.tobytes()


def is_sound(data: bytes) -> bool:
    return bool(data) and data[0] in SOUND_RECORDS


def is_face(data: bytes) -> bool:
    return bool(data) and data[0] == FACE_V1


def _records(data: bytes, dtype: np.dtype, what: str) -> np.ndarray:
    if (len(data) - 1) % dtype.itemsize:
        raise ValueError(f"{what} trace of {len(data)} bytes is truncated")
    return np.frombuffer(data, dtype=dtype, offset=1)


def unpack_trace(t0: float, data: bytes) -> list[TraceFrame]:
    """Inverse of pack_trace: (t0 + dt, FaceStatus, p or None, m or None) per frame."""
    if not data or data[0] not in FRAME_RECORDS:
        raise ValueError(f"unknown frame trace format {data[:1]!r}")
    records = _records(data, FRAME_RECORDS[data[0]], "frame")
    frames = []
    try:
        for record in records.tolist():
            dt, code, p, *rest = record
            m = rest[0] if rest else math.nan
            frames.append(TraceFrame(t0 + dt, STATUS_OF_CODE[code], None if math.isnan(p) else p,
                                     None if math.isnan(m) else m))
    except KeyError as exc:
        raise ValueError(f"unknown frame status code {exc.args[0]} in a frame trace") from None
    return frames


def unpack_sound(t0: float, data: bytes) -> list[CryWindow]:
    if not is_sound(data):
        raise ValueError(f"not a sound trace (format {data[:1]!r})")
    return [CryWindow(t0 + dt, c20, c19, c21, dbfs, None if not rest or math.isnan(rest[0]) else rest[0])
            for dt, c20, c19, c21, dbfs, *rest in _records(data, SOUND_RECORDS[data[0]],
                                                            "sound").tolist()]


def unpack_face(t0: float, data: bytes) -> list[TraceReading]:
    """Inverse of pack_face: (t0 + dt, FaceActions) per reading."""
    if not is_face(data):
        raise ValueError(f"not a face reading trace (format {data[:1]!r})")
    readings = []
    for dt, *values, face_score, fit in _records(data, FACE_RECORD, "face reading").tolist():
        if fit not in (0, 1):
            raise ValueError(f"unknown fit code {fit} in a face reading trace")
        geometry = [None if math.isnan(v) else v for v in values]
        readings.append(TraceReading(t0 + dt, FaceActions(*geometry, face_score,
                                                          UNTRUSTED_FIT if fit else "")))
    return readings
