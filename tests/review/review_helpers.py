"""Helpers shared by the review tests (pytest puts this folder on sys.path)."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine

from monitor.config import StoreSettings
from monitor.store.rows import EpisodeRow, EventRow, SampleRow
from monitor.store.writer import StoreWriter

REPO = Path(__file__).resolve().parents[2]
PG_SCRIPT = REPO / "tools" / "start-postgres.sh"
DEMO_BED = "NICU-3"
DEMO_ENCOUNTER = "enc-7f3a"
NIGHT_BED = "NICU-5"


def copy_sqlite(source: Path, target: Path) -> Path:
    """A consistent copy (SQLite's backup API: the WAL is included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def write_night(engine: Engine, bed: str = NIGHT_BED, hours_ago: float = 3.0) -> int:
    """A 10-minute session through the real writer: three episodes (high and acknowledged, low
    and not, medium and acknowledged), S unknown for 30 s, and a minute with the monitor
    stalled (no samples). Returns its id."""
    origin = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
    writer = StoreWriter(engine, StoreSettings(flush_interval_s=0.1))
    session_id = writer.open_session(
        bed_label=bed, encounter_id="enc-night", source="camera:0", model_name="mini",
        model_sha256="ab" * 32, device="cpu", app_version="0.1.0", settings_json="{}",
        started_at=origin, clock_origin_utc=origin, monitor_id="ward2-pc7")
    episodes = {1: (50.0, 90.0, "high", 60.0, "RN Lee"), 2: (200.0, 260.0, "low", None, None),
                3: (400.0, 470.0, "medium", 430.0, "RN Diaz")}
    for t in range(600):
        if 300 <= t < 360:
            continue  # stalled: no sample
        inside = any(start <= t < end for start, end, *_ in episodes.values())
        unknown = 100 <= t < 130
        writer.add_sample(SampleRow(
            t=float(t), s=None if unknown else (0.9 if inside else 0.1),
            f=None if unknown else (0.5 if inside else 0.0), frames=15,
            frames_scored=0 if unknown else 15, frames_no_face=15 if unknown else 0,
            frames_poor_quality=0, p_mean=None if unknown else 0.5,
            p_max=None if unknown else 0.6))
    for number, (start, end, priority, ack_at, ack_by) in episodes.items():
        writer.save_episode(EpisodeRow(
            number=number, start_at=start, alarm_at=start + 10, end_at=end,
            end_reason="resolved", peak_s=0.9, mean_s=0.8 + number / 100, max_share=0.5,
            max_band=2, max_priority=priority, ack_at=ack_at, ack_by=ack_by, mode="monitoring"))
        writer.add_event(EventRow(t=start + 10, kind="PAIN", priority=priority,
                                  transition="raised", detail=None, episode=number))
    writer.close_session(origin + timedelta(seconds=600), "completed", 9000, 8000)
    writer.stop()
    return session_id


def pg_server(action: str) -> None:
    """Stop or start the test server (tools/start-postgres.sh)."""
    subprocess.run([str(PG_SCRIPT), action], check=True, timeout=120, capture_output=True)
