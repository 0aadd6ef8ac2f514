"""Replay a recorded trace (CSV `t,kind,value,user`) through the alarm engine, deterministically.

Used by `painmon replay-trace` and the tests: the same trace with other settings shows what those
settings would have done. Every problem in the file is a MonitorError naming its line.

Beside the face (`p`, `s`, `no_face`, `poor_quality`) a trace carries the other cues:
`cry` rows are scored sound windows, dated by their end, whose value is the window's cry score
c = max(baby_cry, sobbing) after the loudness gate (a window the gate refused is written as 0);
`movement` rows are one frame's m (empty: unknown); `sound` rows say whether a sound source
exists (1) or not (0). Without `cry` rows the cry cue stays unknown ("no microphone").
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from monitor.config import AlarmSettings, AudioSettings, MovementSettings
from monitor.errors import MonitorError
from monitor.signal.cry import CryWindow
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import CAMERA_LOST, AlarmEvent, EpisodeRecord
from monitor.signal.timing import MAX_SESSION_S

HEADER = ["t", "kind", "value", "user"]
VALUE_REQUIRED = {"p", "cry", "sound"}
# s, movement: empty = unknown; procedure_start: empty = the default duration
VALUE_OPTIONAL = {"s", "movement", "procedure_start"}
UNIT_KINDS = ("p", "s", "cry", "sound")  # values within 0..1
GATED_LOUDNESS_DBFS = 0.0  # a cry row's score is already gated: it enters the cue as loud
USER_KINDS = {"ack", "audio_pause", "procedure_start", "procedure_end", "standby_start", "standby_end"}
KINDS = VALUE_REQUIRED | VALUE_OPTIONAL | USER_KINDS | {
    "no_face", "poor_quality", "tick", "camera_lost", "camera_ok", "end"}
TIME_DECIMALS = 6  # the engine's timers are exact to about a microsecond


def replay_trace(path: Path, settings: AlarmSettings, audio: AudioSettings | None = None,
                 movement: MovementSettings | None = None) -> dict:
    """Episodes and events of the trace as JSON-ready dicts, times in session seconds."""
    rows = _read(Path(path))
    engine = AlarmEngine(settings, start_t=rows[0][1], audio=audio, movement=movement)
    events: list[AlarmEvent] = []
    episodes: dict[int, EpisodeRecord] = {}
    ended = False
    for line, t, kind, value, user in rows:
        if ended:
            raise MonitorError(f"{path}, line {line}: row after the 'end' row")
        try:
            apply_row(engine, t, kind, value, user)
        except MonitorError as exc:
            raise MonitorError(f"{path}, line {line}: {exc}") from None
        ended = kind == "end"
        collect_output(engine, events, episodes)
    if not ended:
        engine.end_session(rows[-1][1], "source_ended")
        collect_output(engine, events, episodes)
    return {
        "episodes": [_episode_json(episodes[n]) for n in sorted(episodes)],
        "events": [{"t": _time(e.t), "kind": e.kind, "priority": e.priority,
                    "transition": e.transition, "user": e.user, "detail": e.detail} for e in events],
    }


def apply_row(engine: AlarmEngine, t: float, kind: str, value: float | None, user: str) -> None:
    """One trace row into the engine; shared with the replay of stored sessions (monitor.tuning)."""
    if kind == "p":
        engine.frame(t, "scored", value)
    elif kind in ("no_face", "poor_quality"):
        engine.frame(t, kind)
    elif kind == "s":
        engine.feed_s(t, value)
    elif kind == "cry":
        engine.cry_window(CryWindow(t, value, 0.0, 0.0, dbfs=GATED_LOUDNESS_DBFS))
    elif kind == "movement":
        engine.movement(t, value)
    elif kind == "sound":
        engine.sound(t, value == 1.0, "" if value == 1.0 else "no sound source in the trace")
    elif kind == "tick":
        engine.tick(t)
    elif kind in ("camera_lost", "camera_ok"):
        engine.technical(t, CAMERA_LOST, kind == "camera_lost", "trace")
    elif kind == "ack":
        engine.acknowledge(t, user)
    elif kind == "audio_pause":
        engine.audio_pause(t, user)
    elif kind == "procedure_start":
        engine.procedure_start(t, value, user=user)
    elif kind == "procedure_end":
        engine.procedure_end(t, user)
    elif kind == "standby_start":
        engine.standby_start(t, user)
    elif kind == "standby_end":
        engine.standby_end(t, user)
    else:  # "end"
        engine.end_session(t, "source_ended")


def _read(path: Path) -> list[tuple[int, float, str, float | None, str]]:
    try:
        # utf-8-sig: a spreadsheet's byte-order mark is not part of the header
        with open(path, newline="", encoding="utf-8-sig") as fh:
            lines = list(csv.reader(fh))
    except FileNotFoundError:
        raise MonitorError(f"trace file not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MonitorError(f"cannot read trace file {path}: {exc}") from None
    if not lines or [cell.strip() for cell in lines[0]] != HEADER:
        raise MonitorError(f"{path}, line 1: the header must be {','.join(HEADER)}")
    rows = []
    last_t = -math.inf
    for line, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = _parse(path, line, [cell.strip() for cell in cells])
        if row[1] < last_t:
            raise MonitorError(f"{path}, line {line}: time goes backwards ({row[1]:g} after {last_t:g})")
        last_t = row[1]
        rows.append(row)
    if not rows:
        raise MonitorError(f"{path}: the trace has no rows after its header")
    return rows


def _parse(path: Path, line: int, cells: list[str]) -> tuple[int, float, str, float | None, str]:
    where = f"{path}, line {line}"
    if len(cells) != len(HEADER):
        raise MonitorError(f"{where}: expected {len(HEADER)} columns ({','.join(HEADER)}), got {len(cells)}")
    t_text, kind, value_text, user = cells
    t = _number(where, "time", t_text)
    if abs(t) > MAX_SESSION_S:
        raise MonitorError(f"{where}: time {t_text} is out of range (at most {MAX_SESSION_S:g} s, "
                           f"about 31 years, from the session's start)")
    if kind not in KINDS:
        raise MonitorError(f"{where}: unknown kind {kind!r} (expected one of {', '.join(sorted(KINDS))})")
    if kind in VALUE_REQUIRED and not value_text:
        raise MonitorError(f"{where}: kind {kind!r} needs a value")
    if value_text and kind not in VALUE_REQUIRED | VALUE_OPTIONAL:
        raise MonitorError(f"{where}: kind {kind!r} takes no value (got {value_text!r})")
    if user and kind not in USER_KINDS:
        raise MonitorError(f"{where}: kind {kind!r} takes no user (got {user!r})")
    value = _number(where, "value", value_text) if value_text else None
    if kind in UNIT_KINDS and value is not None and not 0.0 <= value <= 1.0:
        raise MonitorError(f"{where}: {kind} must be within 0..1 (got {value_text})")
    if kind == "sound" and value not in (0.0, 1.0):
        raise MonitorError(f"{where}: sound must be 1 (a source) or 0 (none) (got {value_text})")
    if kind == "movement" and value is not None and value < 0.0:
        raise MonitorError(f"{where}: movement must be >= 0 (got {value_text})")
    return line, t, kind, value, user or "bedside"


def _number(where: str, what: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise MonitorError(f"{where}: bad {what} {text!r} (expected a number)") from None
    if not math.isfinite(number):
        raise MonitorError(f"{where}: bad {what} {text!r} (expected a finite number)")
    return number


def collect_output(engine: AlarmEngine, events: list[AlarmEvent],
                   episodes: dict[int, EpisodeRecord]) -> None:
    """Drain the engine into running lists: the latest record of each episode wins."""
    new_events, records = engine.drain()
    events.extend(new_events)
    episodes.update((record.number, record) for record in records)


def _episode_json(record: EpisodeRecord) -> dict[str, Any]:
    return {
        "start": _time(record.start), "alarm_at": _time(record.alarm_at), "end": _time(record.end),
        "end_reason": record.end_reason, "max_priority": record.max_priority,
        "ack_at": _time(record.ack_at), "ack_by": record.ack_by, "mode": record.mode,
        "cues": record.cues,
    }


def _time(t: float | None) -> float | None:
    return None if t is None else round(t, TIME_DECIMALS)
