"""The database locked by another program, made read-only, or full, while the real pipeline runs:
STORAGE_FAILING is raised, every sample and event is buffered and written once the database
accepts writes again, and nothing is dropped."""

from __future__ import annotations

import pytest

from monitor.store import queries
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
