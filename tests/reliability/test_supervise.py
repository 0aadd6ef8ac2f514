"""The bedside supervisor: a killed monitor comes back by itself and opens a new session, and the
session it left open is closed `crashed`; a clean stop or bad input ends supervision. The
systemd unit shipped for the same job states the same policy."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import paths
from monitor.paths import DEMO_CLIP
from monitor.store import queries
from monitor.store.database import open_database
from monitor.supervise import RESTART_DELAY_S, should_restart
from tests.reliability.pipeline_helpers import wait_for

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "packaging" / "linux" / "painmon.service"

pytestmark = pytest.mark.slow


def _supervise(tmp_path: Path, *command: str, delay_s: float = 0.5) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "supervise", "--restart-delay", str(delay_s),
         "--", *command],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"PYTHONPATH": str(REPO)})


def _log() -> str:
    path = paths.log_dir() / paths.LOG_FILENAME
    return path.read_text() if path.exists() else ""


def _child_pids() -> list[int]:
    return [int(pid) for pid in re.findall(r"supervisor: monitor started \(pid (\d+)", _log())]


def test_a_killed_monitor_is_restarted_and_its_session_closed_crashed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ward.db'}"
    engine = open_database(url)
    supervisor = _supervise(tmp_path, "run", "--source", str(DEMO_CLIP), "--realtime", "--db", url)
    try:
        first = wait_for(lambda: queries.latest_session(engine), 60, "the first session")
        [pid] = _child_pids()
        os.kill(pid, signal.SIGKILL)

        second = wait_for(lambda: (s := queries.latest_session(engine)) and s.id != first.id and s,
                           60, "a new session after the kill")
        assert supervisor.poll() is None, "the supervisor itself must outlive its monitor"
        assert len(_child_pids()) == 2 and _child_pids()[1] != pid
        dead = queries.get_session(engine, first.id)
        assert dead.end_reason == "crashed" and dead.ended_at is not None
        assert "monitor killed by SIGKILL; restarting" in _log()

        # A stop request reaches the monitor, which closes its session cleanly: no restart.
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(60) == 0
        assert queries.get_session(engine, second.id).end_reason == "stopped_by_user"
        assert len(_child_pids()) == 2
    finally:
        supervisor.kill()
        supervisor.wait(10)
        for pid in _child_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        engine.dispose()


def test_bad_input_is_not_restarted(tmp_path: Path) -> None:
    """Exit 2 (a wrong setting, a missing file) would fail the same way every time."""
    supervisor = _supervise(tmp_path, "run", "--source", str(tmp_path / "missing.mp4"))
    assert supervisor.wait(60) == 2
    assert len(_child_pids()) == 1
    assert "missing.mp4" in supervisor.stderr.read()


def test_the_policy_matches_the_systemd_unit() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str
    unit.read(UNIT)
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert float(service["RestartSec"]) == RESTART_DELAY_S
    assert service["RestartPreventExitStatus"] == "2"
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"  # never gives up, as supervise does not
    assert service["ExecStart"].endswith("/painmon live")
    # systemd's on-failure: restarts on a crash exit or a crash signal, not on a clean stop
    assert should_restart(1) and should_restart(-signal.SIGKILL) and should_restart(-signal.SIGSEGV)
    assert not should_restart(0) and not should_restart(2)
    assert not should_restart(-signal.SIGTERM) and not should_restart(-signal.SIGINT)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze missing (tools/install-system-deps.sh installs it)")
def test_systemd_accepts_the_installed_unit(tmp_path: Path) -> None:
    """The unit as install.sh writes it, with a real painmon at ExecStart: no warning at all."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    launcher = bindir / "painmon"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} -m monitor.cli \"$@\"\n")
    launcher.chmod(0o755)
    unit = tmp_path / "painmon.service"
    unit.write_text(UNIT.read_text().replace("@BINDIR@", str(bindir)))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    result = subprocess.run(["systemd-analyze", "verify", "--user", str(unit)], capture_output=True,
                            text=True, env=os.environ | {"XDG_RUNTIME_DIR": str(runtime)})
    assert result.returncode == 0 and (result.stdout + result.stderr).strip() == "", result.stderr
