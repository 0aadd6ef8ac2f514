"""CSV export: a folder with episodes.csv, samples.csv and annotations.csv (columns: docs/REVIEW.md).

Times are ISO 8601 with the zone's offset; numbers are written in full precision so that they
parse back to the stored values; an empty cell is an unknown value, never zero.
"""

from __future__ import annotations

import csv
from datetime import tzinfo
from pathlib import Path
from typing import Any, Iterable

from monitor.review.collect import Progress, SessionData, iso, no_progress

EPISODE_COLUMNS = (
    "bed", "encounter", "session_uid", "episode", "start", "alarm", "end", "duration_s", "peak_s",
    "mean_s", "max_share", "max_band", "max_priority", "acknowledged_at", "acknowledged_by",
    "end_reason", "mode", "annotations",
)
SAMPLE_COLUMNS = (
    "bed", "session_uid", "time", "t_s", "s", "f", "frames", "frames_scored", "frames_no_face",
    "frames_poor_quality", "p_mean", "p_max",
)
ANNOTATION_COLUMNS = (
    "bed", "session_uid", "episode", "written_at", "author", "intervention", "nips", "comment",
)
FILES = ("episodes.csv", "samples.csv", "annotations.csv")


def cell(value: Any) -> str:
    """repr() of a float round-trips exactly; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(sessions: list[SessionData], out: Path, zone: tzinfo,
              progress: Progress = no_progress) -> list[Path]:
    """Write the three files into folder `out` (created); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in FILES]
    _write(paths[0], EPISODE_COLUMNS, (row for d in sessions for row in _episodes(d, zone)))
    total = sum(len(d.samples) for d in sessions)
    done = 0

    def sample_rows() -> Iterable[list[str]]:
        nonlocal done
        for d in sessions:
            for s in d.samples:
                yield [d.session.bed_label, d.session.uid, iso(d.wall(s.t), zone), cell(s.t),
                       cell(s.s), cell(s.f), cell(s.frames), cell(s.frames_scored),
                       cell(s.frames_no_face), cell(s.frames_poor_quality), cell(s.p_mean),
                       cell(s.p_max)]
                done += 1
                if done % 10_000 == 0:
                    progress(done, total, "writing samples")

    _write(paths[1], SAMPLE_COLUMNS, sample_rows())
    _write(paths[2], ANNOTATION_COLUMNS, (
        [d.session.bed_label, d.session.uid, cell(a.episode_number), iso(d.wall(a.t), zone),
         a.author, cell(a.intervention), cell(a.nips), cell(a.comment)]
        for d in sessions for a in d.annotations))
    progress(total, total, "samples written")
    return paths


def _episodes(d: SessionData, zone: tzinfo) -> Iterable[list[str]]:
    for e in d.episodes:
        duration = None if e.end_at is None else e.end_at - e.start_at
        yield [d.session.bed_label, cell(d.session.encounter_id), d.session.uid, cell(e.number),
               iso(d.wall(e.start_at), zone), iso(d.wall(e.alarm_at), zone),
               iso(d.wall(e.end_at), zone), cell(duration), cell(e.peak_s), cell(e.mean_s),
               cell(e.max_share), cell(e.max_band), cell(e.max_priority),
               iso(d.wall(e.ack_at), zone), cell(e.ack_by), cell(e.end_reason), cell(e.mode),
               cell(len(d.annotations_of(e)))]


def _write(path: Path, header: tuple[str, ...], rows: Iterable[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
