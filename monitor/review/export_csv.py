"""CSV export: a folder with episodes.csv, samples.csv, annotations.csv and events.csv (columns:
docs/REVIEW.md).

Times are ISO 8601 with the zone's offset; numbers are written in full precision so that they
parse back to the stored values; an empty cell is an unknown value, never zero. Every cell goes
through monitor.csv_safe: text that a spreadsheet would run as a formula is quoted.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any, Iterable

from monitor.csv_safe import SafeWriter
from monitor.review.collect import Progress, SessionData, event_name, iso, no_progress
from monitor.store.files import make_private_dirs, open_private

EPISODE_COLUMNS = (
    "bed", "encounter", "session_uid", "episode", "start", "alarm", "end", "duration_s", "peak_s",
    "mean_s", "max_share", "max_band", "max_priority", "acknowledged_at", "acknowledged_by",
    "end_reason", "mode", "annotations", "cues", "peak_c", "audio",
)
SAMPLE_COLUMNS = (
    "bed", "session_uid", "time", "t_s", "s", "f", "frames", "frames_scored", "frames_no_face",
    "frames_poor_quality", "p_mean", "p_max", "c", "cry_max", "m",
    "mouth_open", "eye_open", "brow", "mouth_covered", "face_state",
)
ANNOTATION_COLUMNS = (
    "bed", "session_uid", "episode", "written_at", "author", "intervention", "nips", "comment",
)
EVENT_COLUMNS = (
    "bed", "session_uid", "time", "t_s", "kind", "event", "what", "episode", "user", "detail",
)
FILES = ("episodes.csv", "samples.csv", "annotations.csv", "events.csv")


def write_csv(sessions: list[SessionData], out: Path, zone: tzinfo,
              progress: Progress = no_progress) -> list[Path]:
    """Write the four files into folder `out` (created); returns their paths."""
    make_private_dirs(out)
    paths = [out / name for name in FILES]
    _write(paths[0], EPISODE_COLUMNS, (row for d in sessions for row in _episodes(d, zone)))
    total = sum(len(d.samples) for d in sessions)
    done = 0

    def sample_rows() -> Iterable[list[Any]]:
        nonlocal done
        for d in sessions:
            for s in d.samples:
                yield [d.session.bed_label, d.session.uid, iso(d.wall(s.t), zone), s.t, s.s, s.f,
                       s.frames, s.frames_scored, s.frames_no_face, s.frames_poor_quality,
                       s.p_mean, s.p_max, s.c, s.cry_max, s.m,
                       s.mouth_open, s.eye_open, s.brow, s.mouth_covered, s.face_state]
                done += 1
                if done % 10_000 == 0:
                    progress(done, total, "writing samples")

    _write(paths[1], SAMPLE_COLUMNS, sample_rows())
    _write(paths[2], ANNOTATION_COLUMNS, (
        [d.session.bed_label, d.session.uid, a.episode_number, iso(d.wall(a.t), zone),
         a.author, a.intervention, a.nips, a.comment]
        for d in sessions for a in d.annotations))
    _write(paths[3], EVENT_COLUMNS, (
        [d.session.bed_label, d.session.uid, iso(d.wall(e.t), zone), e.t, e.kind, e.transition,
         event_name(e), e.episode, e.user, e.detail]
        for d in sessions for e in d.events))
    progress(total, total, "samples written")
    return paths


def _episodes(d: SessionData, zone: tzinfo) -> Iterable[list[Any]]:
    for e in d.episodes:
        duration = None if e.end_at is None else e.end_at - e.start_at
        yield [d.session.bed_label, d.session.encounter_id, d.session.uid, e.number,
               iso(d.wall(e.start_at), zone), iso(d.wall(e.alarm_at), zone),
               iso(d.wall(e.end_at), zone), duration, e.peak_s, e.mean_s, e.max_share,
               e.max_band, e.max_priority, iso(d.wall(e.ack_at), zone), e.ack_by, e.end_reason,
               e.mode, len(d.annotations_of(e)), e.cues, d.peak_c(e), d.heard]


def _write(path: Path, header: tuple[str, ...], rows: Iterable[list[Any]]) -> None:
    with open_private(path, "w", newline="", encoding="utf-8") as fh:
        writer = SafeWriter(fh)
        writer.writerow(header)
        writer.writerows(rows)
