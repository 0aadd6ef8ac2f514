"""Ground truth of pain intervals: a CSV per session or per video, or the review's annotations.

CSV columns: `session` (a stored session id) or `video` (a file name), `start`, `end` in seconds on
the session clock (a video's own time), optional `label`. A row with empty start and end says that
the recording had no pain, so its alarms all count as false.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from monitor.csv_safe import SafeWriter
from monitor.errors import MonitorError
from monitor.review import data
from monitor.store import queries

KEYS = ("session", "video")


@dataclass(frozen=True)
class Interval:
    start: float
    end: float
    label: str = ""


def read_truth(path: Path) -> tuple[str, dict[str, list[Interval]]]:
    """(key column, {session or video: intervals}); every problem names its line."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:  # a spreadsheet's byte-order mark
            reader = csv.DictReader(fh)
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            rows = list(reader)
    except FileNotFoundError:
        raise MonitorError(f"truth file not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MonitorError(f"cannot read truth file {path}: {exc}") from None
    keys = [k for k in KEYS if k in header]
    if len(keys) != 1 or not {"start", "end"} <= set(header):
        raise MonitorError(f"{path}, line 1: the header needs start, end and one of session or video")
    key = keys[0]
    truth: dict[str, list[Interval]] = {}
    for line, row in enumerate(rows, start=2):
        name = (row[key] or "").strip()
        if not name:
            raise MonitorError(f"{path}, line {line}: the {key} is empty")
        intervals = truth.setdefault(name, [])
        start, end = (row["start"] or "").strip(), (row["end"] or "").strip()
        if start or end:
            intervals.append(_interval(f"{path}, line {line}", start, end, (row.get("label") or "").strip()))
    return key, truth


def _interval(where: str, start: str, end: str, label: str) -> Interval:
    try:
        a, b = float(start), float(end)
    except ValueError:
        raise MonitorError(f"{where}: start and end must be numbers of seconds (got {start!r}, {end!r})") from None
    if not (math.isfinite(a) and math.isfinite(b) and 0 <= a < b):
        raise MonitorError(f"{where}: need 0 <= start < end (got {start}, {end})")
    return Interval(a, b, label)


def truth_from_annotations(engine: Engine, session_ids: list[int], min_nips: int | None = None) -> str:
    """Annotated episodes as truth CSV: clinicians' judgement of what the monitor found.

    Such truth cannot show misses (only detected episodes get annotated); use it for false alarms.
    With `min_nips`, only episodes whose latest NIPS score reaches it count as pain.
    """
    episodes = data.episodes(engine, session_ids)
    latest = {a.episode_id: a for a in data.annotations(engine, [e.id for e in episodes])}
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["session", "start", "end", "label"])
    for e in episodes:
        note = latest.get(e.id)
        if note is None or (min_nips is not None and (note.nips is None or note.nips < min_nips)):
            continue
        end = e.end_at if e.end_at is not None else queries.trace(engine, e.session_id)[-1].t
        label = "; ".join(x for x in (f"NIPS {note.nips}" if note.nips is not None else "",
                                      note.intervention or "", note.comment or "") if x)
        writer.writerow([e.session_id, round(e.start_at, 3), round(end, 3), label])
    return out.getvalue()
