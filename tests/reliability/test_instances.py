"""Recovery by monitor instance, not host name (issue #14): a second `painmon` on the same computer
and database never closes the running one's session `crashed`; a killed one's still is. And the
commands' own guards: SIGHUP ends a run cleanly, an in-memory record and a missing display are
refused with one line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import DEMO_CLIP, main
from monitor.store import queries
from monitor.store.database import open_database
from tests.reliability.pipeline_helpers import wait_for

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _painmon(*args: str, home: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(home))


def _env(home: Path | None) -> dict[str, str]:
    """This environment, or one whose user folders (state, leases) are another user's."""
    env = os.environ | {"PYTHONPATH": str(REPO)}
    if home is not None:
        env |= {"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share")}
    return env


def _audit(db: Path, action: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT session_id FROM audit_event WHERE action = ?",
                            (action,)).fetchall()


def test_a_second_process_leaves_the_running_session_alone(crying_clip: Path, tmp_path: Path):
    db = tmp_path / "ward.db"
    url = f"sqlite:///{db}"
    engine = open_database(url)
    first = _painmon("run", "--source", str(crying_clip), "--realtime", "--db", url)
    try:
        running = wait_for(lambda: queries.latest_session(engine), 60, "the first session")
        assert main(["run", "--source", str(crying_clip), "--db", url]) == 0  # a second process's run
        assert _audit(db, "session_crashed") == []
        assert first.wait(60) == 0
    finally:
        first.kill()
    with sqlite3.connect(db) as conn:
        ends = dict(conn.execute("SELECT id, end_reason FROM monitoring_session").fetchall())
    assert ends[running.id] == "source_ended", ends
    assert _audit(db, "session_crashed") == []


def test_processes_with_other_state_folders_see_each_others_lease(crying_clip: Path,
                                                                  tmp_path: Path):
    """Issue #24 item 6: the leases lay in each user's state folder, so a `painmon` with another
    one (another OS user, a service beside the desktop's session: here another HOME and
    XDG_STATE_HOME) found no lease for the running session, closed it `crashed` with a false
    audit row, and the running one's clean end then overwrote that end. The leases lie beside
    the database now, where every process that uses it looks. The first process plays the 75 s
    demo clip in real time: the second's recovery (before its session row) runs while it runs."""
    db = tmp_path / "ward.db"
    url = f"sqlite:///{db}"
    engine = open_database(url)
    first = _painmon("run", "--source", str(DEMO_CLIP), "--realtime", "--db", url,
                     home=tmp_path / "nurse")
    try:
        running = wait_for(lambda: queries.latest_session(engine), 60, "the first session")
        second = subprocess.run([sys.executable, "-m", "monitor.cli", "run", "--source",
                                 str(crying_clip), "--db", url], cwd=REPO, capture_output=True,
                                text=True, timeout=120, env=_env(tmp_path / "service"))
        assert second.returncode == 0, second.stderr
        assert _audit(db, "session_crashed") == []
        first.send_signal(signal.SIGTERM)  # if it has not ended by itself meanwhile
        assert first.wait(60) == 0
    finally:
        first.kill()
    ended = queries.get_session(engine, running.id)
    later = queries.latest_session(engine)
    assert later.id != running.id
    assert later.started_at < ended.ended_at, "the second's recovery ran while the first ran"
    assert ended.end_reason in ("stopped_by_user", "source_ended")
    assert _audit(db, "session_crashed") == []


def test_an_ended_session_keeps_its_end(tmp_path: Path):
    """Whoever ended a session first (recovery's `crashed`, a clean end applied from a note),
    a later close of the same session does not overwrite that end."""
    import socket
    from datetime import datetime, timedelta, timezone

    from monitor.config import StoreSettings
    from monitor.store.writer import StoreWriter

    url = f"sqlite:///{tmp_path / 'ended.db'}"
    engine = open_database(url)
    writer = StoreWriter(engine, StoreSettings(url=url))
    started = datetime.now(timezone.utc)
    session_id = writer.open_session(
        bed_label="bed-1", encounter_id="e", source="file x", model_name="m", model_sha256="0",
        device="cpu", app_version="t", settings_json="{}", started_at=started,
        clock_origin_utc=started, monitor_id=socket.gethostname(), instance_id="0" * 32)
    writer.close_session(ended_at=started + timedelta(seconds=5), end_reason="crashed",
                         frames=5, frames_scored=5)
    wait_for(lambda: queries.get_session(engine, session_id).ended_at, 10, "the first end")
    writer.close_session(ended_at=started + timedelta(seconds=60), end_reason="source_ended",
                         frames=60, frames_scored=60)
    writer.stop()
    session = queries.get_session(engine, session_id)
    assert (session.end_reason, session.frames) == ("crashed", 5)
    assert session.ended_at.replace(tzinfo=timezone.utc) == started + timedelta(seconds=5)


def test_a_killed_process_session_is_still_closed_crashed(crying_clip: Path, tmp_path: Path):
    db = tmp_path / "killed.db"
    url = f"sqlite:///{db}"
    engine = open_database(url)
    child = _painmon("run", "--source", str(crying_clip), "--realtime", "--db", url)
    killed = wait_for(lambda: queries.latest_session(engine), 60, "the session to kill")
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert main(["run", "--source", str(crying_clip), "--db", url]) == 0
    with sqlite3.connect(db) as conn:
        (end,) = conn.execute("SELECT end_reason FROM monitoring_session WHERE id = ?",
                              (killed.id,)).fetchone()
    assert end == "crashed"
    assert _audit(db, "session_crashed") == [(killed.id,)]


def test_sighup_ends_a_run_like_sigterm(crying_clip: Path, tmp_path: Path):
    """A closed terminal: the session ends stopped_by_user, flushed, not left for 'crashed'."""
    url = f"sqlite:///{tmp_path / 'hup.db'}"
    engine = open_database(url)
    child = _painmon("run", "--source", str(crying_clip), "--realtime", "--db", url)
    wait_for(lambda: queries.latest_session(engine), 60, "the session")
    child.send_signal(signal.SIGHUP)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert queries.latest_session(engine).end_reason == "stopped_by_user"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_record_is_refused(crying_clip: Path, capsys, url: str):
    assert main(["run", "--source", str(crying_clip), "--db", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "in memory" in err[0], err


@pytest.mark.parametrize("command", [["live", "--source", "camera:0"], ["review"]])
def test_no_display_is_one_line_and_a_retryable_exit(command, tmp_path: Path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    db = tmp_path / "any.db"
    open_database(f"sqlite:///{db}")
    done = subprocess.run([sys.executable, "-m", "monitor.cli", *command, "--db", f"sqlite:///{db}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=env | {"PYTHONPATH": str(REPO)})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 3, done.stderr
    assert lines[-1].startswith("painmon: error: no display") and "xvfb-run" in lines[-1]
    assert "Traceback" not in done.stderr and "Aborted" not in done.stderr


def test_a_clean_end_the_database_refused_is_applied_not_crashed(tmp_path: Path):
    """The writer could not store the end before exit (locked database): the note it leaves is
    applied by the next start's recovery, so review shows the real end, not 'crashed'."""
    import socket
    from datetime import datetime, timezone

    from monitor.config import StoreSettings
    from monitor.store.lease import note_unwritten_close
    from monitor.store.recovery import close_crashed_sessions
    from monitor.store.writer import StoreWriter

    url = f"sqlite:///{tmp_path / 'note.db'}"
    engine = open_database(url)
    writer = StoreWriter(engine, StoreSettings(url=url))
    now = datetime.now(timezone.utc)
    session_id = writer.open_session(
        bed_label="bed-1", encounter_id="e", source="file x", model_name="m", model_sha256="0",
        device="cpu", app_version="t", settings_json="{}", started_at=now, clock_origin_utc=now,
        monitor_id=socket.gethostname(), instance_id="0" * 32)
    writer.stop()
    note_unwritten_close(str(engine.url), session_id, {
        "ended_at": now, "end_reason": "stopped_by_user", "frames": 10, "frames_scored": 9})
    assert close_crashed_sessions(engine, socket.gethostname()) == []
    session = queries.get_session(engine, session_id)
    assert (session.end_reason, session.frames) == ("stopped_by_user", 10)
    assert [a.action for a in queries.audit(engine)] == ["session_end_applied"]


def test_each_session_gives_back_its_database_connections(crying_clip: Path, tmp_path: Path, scorer):
    """A new OneSourcePipeline per patient or source must not leave its SQLAlchemy engine's connections open
    (each held the SQLite file and its -wal open for the life of the process)."""
    from monitor.config import Settings, StoreSettings
    from monitor.pipeline.runner import OneSourcePipeline

    db = tmp_path / "leak.db"

    def open_files() -> int:
        fds = Path("/proc/self/fd")
        return sum(1 for fd in fds.iterdir()
                   if str(db) in (os.readlink(fd) if fd.is_symlink() else ""))

    for _ in range(3):
        monitor = OneSourcePipeline(Settings(store=StoreSettings(url=f"sqlite:///{db}")), str(crying_clip),
                                    scorer=scorer)
        monitor.stop()  # one round is enough: the loop ends at once
        monitor.run()
    assert open_files() == 0


def test_bench_refuses_no_sources(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["bench", "--source", "x.mp4", "--sources", "0"])
    assert ended.value.code == 2
    assert "must be 1..64" in capsys.readouterr().err
