"""A running process's lease is seen by every process that uses the same database, on both kinds
of store (issue #24 item 6): beside a SQLite file, and inside a PostgreSQL server (a session
advisory lock). The writing process here is a real second process with another user's state
folder (other HOME and XDG_STATE_HOME): it opens a session through the store's writer and waits.
While it runs, recovery leaves its session open; once it is SIGKILLed, its session is closed
`crashed`. Before, the lease lay in each user's state folder, so the running session was closed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from monitor.store import queries
from monitor.store.lease import InstanceLease, is_alive_for
from monitor.store.recovery import close_crashed_sessions

REPO = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import socket, sys
    from datetime import datetime, timezone
    from monitor.config import StoreSettings
    from monitor.store.database import open_database
    from monitor.store.lease import InstanceLease
    from monitor.store.writer import StoreWriter

    engine = open_database(sys.argv[1])
    lease = InstanceLease()
    lease.hold_for(engine)
    writer = StoreWriter(engine, StoreSettings(url=sys.argv[1]))
    now = datetime.now(timezone.utc)
    session_id = writer.open_session(
        bed_label="bed-2", encounter_id="e", source="camera 0", model_name="m", model_sha256="0",
        device="cpu", app_version="t", settings_json="{}", started_at=now, clock_origin_utc=now,
        monitor_id=socket.gethostname(), instance_id=lease.instance_id)
    print(session_id, flush=True)
    sys.stdin.read()  # runs until killed
""")


def test_a_running_process_is_seen_whatever_its_state_folder(store_url: str, engine_for,
                                                            tmp_path: Path):
    home = tmp_path / "other-user"
    env = os.environ | {"PYTHONPATH": str(REPO), "HOME": str(home),
                        "XDG_STATE_HOME": str(home / "state")}
    child = subprocess.Popen([sys.executable, "-c", WRITER, store_url], cwd=REPO, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        session_id = int(child.stdout.readline())
        engine = engine_for(store_url)
        assert close_crashed_sessions(engine, socket.gethostname()) == []
        assert queries.get_session(engine, session_id).ended_at is None
        assert [a.action for a in queries.audit(engine)] == []
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        # the kernel drops a flock as the process dies; PostgreSQL drops the advisory lock once
        # its server process has seen the connection go, a moment later
        closed: list[int] = []
        deadline = time.monotonic() + 30
        while not closed and time.monotonic() < deadline:
            closed = close_crashed_sessions(engine, socket.gethostname())
            time.sleep(0.05)
        assert closed == [session_id]
        assert queries.get_session(engine, session_id).end_reason == "crashed"
    finally:
        child.kill()
        child.wait(30)


def test_a_lease_given_back_is_free_at_once(store_url: str, engine_for):
    """A clean stop gives its lease back (in PostgreSQL the lock's connection is closed, not
    returned to the pool still holding it)."""
    engine, another = engine_for(store_url), engine_for(store_url)  # another: another process's view
    lease = InstanceLease()
    lease.hold_for(engine)
    assert is_alive_for(lease.instance_id, another)
    lease.release()
    assert not is_alive_for(lease.instance_id, another)
