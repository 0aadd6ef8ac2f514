"""The database locked by another program, made read-only, or full, while the real pipeline runs:
STORAGE_FAILING is raised, every sample and event is buffered and written once the database
accepts writes again, and nothing is dropped."""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store import queries
from monitor.store.database import open_database
from tests.reliability.pipeline_helpers import Plug, camera_monitor, wait_for
from tests.test_store import disk_full, locked, read_only

pytestmark = pytest.mark.slow
OUTAGE_S = 3.0  # how long the database refuses, after STORAGE_FAILING is raised


# A full disk (SQLite's max_page_count at the current size) refuses only once a write needs a new
# page: a per-frame trace row every second (trace_span_s 1) gets there within about half a minute.
@pytest.mark.parametrize("failure", [locked, read_only, disk_full], ids=lambda f: f.__name__)
def test_failing_database_during_monitoring_loses_nothing(crying_clip, scorer, tmp_path, capsys,
                                                          failure):
    db = tmp_path / "store.db"
    run = camera_monitor(crying_clip, db, scorer, Plug(), store={"trace_span_s": 1.0},
                         storage_failing_after_s=1.0)
    monitor = run.monitor
    try:
        wait_for(lambda: monitor.writer.health().written > 0, 30, "the first rows written")
        with failure(monitor.database, db):
            fault_at = monitor.clock()
            raised = wait_for(lambda: run.event("STORAGE_FAILING", "raised"), 90, "STORAGE_FAILING")
            wait_for(lambda: monitor.clock() > raised.t + OUTAGE_S, 10, "the outage to go on")
            held = monitor.writer.health().buffered
        back_at = monitor.clock()
        wait_for(lambda: run.event("STORAGE_FAILING", "cleared"), 30, "STORAGE_FAILING cleared")
        wait_for(lambda: monitor.writer.health().buffered == 0, 30, "the buffer written")
        recovered_s = monitor.clock() - back_at
    finally:
        summary = run.stop()
    health = monitor.writer.health()
    with capsys.disabled():
        print(f"\n{failure.__name__}: STORAGE_FAILING after {raised.t - fault_at:.2f} s "
              f"(storage_failing_after_s 1.0), {held} rows buffered, written {recovered_s:.2f} s "
              f"after the database came back; dropped {health.dropped}, rejected {health.rejected}")
    assert held > 0
    assert health.dropped == 0 and health.rejected == 0 and health.buffered == 0
    samples = queries.samples(monitor.database, summary.session_id)
    seconds = [int(s.t) for s in samples]
    assert seconds == list(range(seconds[0], seconds[-1] + 1)), "a second is missing"
    assert sum(s.frames for s in samples) == summary.frames
    assert len(queries.events(monitor.database, summary.session_id)) == len(run.events)


# --- a disk that fills up for real (issue #24 item 3) -----------------------------------------

SMALL_DISK = "4m"  # the tmpfs the record lives on, filled up during the run


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real filesystem of its own for the record: a 4 MB tmpfs, so a filler file makes the
    kernel refuse the database's writes with ENOSPC (SQLite: "database or disk is full").
    Mounting needs root; where it is refused the test is skipped, saying so."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK},mode=0700",
                              "tmpfs", str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here ({mounted.stderr.strip()}): needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> int:
    """Write zeros into the disk until the kernel says it is full; the bytes written."""
    fd = os.open(disk / "filler", os.O_CREAT | os.O_WRONLY, 0o600)
    written, block = 0, b"\0" * 65536
    try:
        while True:
            written += os.write(fd, block)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return written


def stored_count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def test_a_disk_that_fills_up_mid_run_exits_1_and_keeps_the_rows_for_the_next_start(
        small_disk: Path, crying_clip: Path, capsys, monkeypatch):
    # A locked database gets a minute to pass here; a full disk does not pass: STORAGE_FAILING
    # must not wait for that minute (the clip is over well before it).
    monkeypatch.setenv("PAINMON_ALARMS__STORAGE_FAILING_AFTER_S", "60")
    db = small_disk / "ward.db"
    url = f"sqlite:///{db}"
    filled: list[int] = []

    def fill_once_started() -> None:  # mid-run: once three seconds of samples are stored
        wait_for(lambda: stored_count(db, "SELECT count(*) FROM sample") >= 3, 60,
                 "the first seconds stored")
        filled.append(fill(small_disk))

    filler = threading.Thread(target=fill_once_started, daemon=True)
    filler.start()
    code = main(["run", "--source", str(crying_clip), "--realtime", "--db", url])
    filler.join(10)
    out, err = capsys.readouterr()
    assert filled, "the disk was not filled during the run"
    assert code == 1, err
    frames = int(re.search(r"frames (\d+) in", out).group(1))
    lost = re.search(r"record: (\d+) rows not written \((.*)\); kept in (\S+) for the next start",
                     out)
    assert lost, out
    assert "full" in lost.group(2)
    assert int(lost.group(1)) > 0 and Path(lost.group(3)).exists()
    assert Path(lost.group(3)).stat().st_mode & 0o777 == 0o600  # patient data: private
    assert "painmon: fault:" in err and "not written" in err

    # space comes back: the next start on this record writes what the last one kept
    (small_disk / "filler").unlink()
    assert main(["run", "--source", str(crying_clip), "--db", url]) == 0
    engine = open_database(url)
    try:
        first = queries.get_session(engine, 1)
        assert first.end_reason == "source_ended" and first.frames == frames
        samples = queries.samples(engine, 1)
        seconds = [int(s.t) for s in samples]
        assert seconds == list(range(seconds[-1] + 1)), "a second is missing"
        assert sum(s.frames for s in samples) == frames
        assert len(queries.episodes(engine, 1)) == 1  # the clip cries throughout: one episode
        storage = [e.transition for e in queries.events(engine, 1) if e.kind == "STORAGE_FAILING"]
        assert storage[:1] == ["raised"], "a full disk is an alarm at once"
    finally:
        engine.dispose()
    assert not Path(lost.group(3)).exists(), "kept rows are removed once written"
    with capsys.disabled():
        print(f"\ndisk full mid-run: exit {code}, {lost.group(1)} rows kept ({lost.group(2)}), "
              f"all {len(samples)} seconds stored by the next start")
