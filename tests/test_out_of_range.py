"""Numbers no session can have are a one-line error, exit 2 (issue #24 item 14): a trace time of
1e18 s (where adding D_on to a time gives the same time, so the engine's timer loop never moved
on) and a session id beyond the 64-bit row ids (an OverflowError traceback from the driver)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import AlarmSettings
from monitor.signal.engine import AlarmEngine
from monitor.signal.timing import MAX_SESSION_S

REPO = Path(__file__).resolve().parent.parent
STORED = REPO / "tests" / "data" / "replay" / "demo.db"  # a real stored session (id 1)
GUARD_S = 120  # the command answers at once; this only stops a test of the old spin


def painmon(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=GUARD_S)


@pytest.mark.parametrize("time", ["1e18", "-1e18", f"{MAX_SESSION_S * 1.5:g}"])
def test_replay_trace_refuses_a_time_out_of_range_in_one_line(tmp_path, time):
    trace = tmp_path / "far.csv"
    trace.write_text(f"t,kind,value,user\n0,s,0.1,\n{time},s,0.7,\n", encoding="utf-8")
    done = painmon("replay-trace", str(trace))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"painmon: error: {trace}, line 3: time {time} is out of range "
        f"(at most {MAX_SESSION_S:g} s, about 31 years, from the session's start)"]
    assert done.stdout == ""


def test_a_trace_within_range_still_replays(tmp_path):
    trace = tmp_path / "near.csv"
    far = MAX_SESSION_S - 100.0  # a month-long session's times are far inside this
    trace.write_text(f"t,kind,value,user\n{far},s,0.7,\n{far + 20},s,0.7,\n", encoding="utf-8")
    done = painmon("replay-trace", str(trace))
    assert done.returncode == 0, done.stderr
    assert f'"alarm_at": {far + 10:.1f}' in done.stdout, "D_on still counts 10 s out there"


def test_the_engine_refuses_a_time_out_of_range():
    eng = AlarmEngine(AlarmSettings())
    eng.feed_s(0.0, 0.7)
    with pytest.raises(ValueError, match=r"session time must be within \+-1e\+09 s \(got 1e\+18\)"):
        eng.tick(1e18)
    with pytest.raises(ValueError, match=r"session time must be within \+-1e\+09 s"):
        AlarmEngine(AlarmSettings(), start_t=-2e9)
    eng.tick(20.0)  # the engine goes on
    events, _ = eng.drain()
    assert [e.transition for e in events if e.kind == "PAIN"] == ["raised"]


@pytest.mark.parametrize("command", ["replay", "export-truth"])
@pytest.mark.parametrize("session", ["9223372036854775808", "99999999999999999999999"])
def test_a_session_id_beyond_64_bits_is_no_session(tmp_path, capsys, command, session):
    db = shutil.copy(STORED, tmp_path / "log.db")
    assert main([command, "--db", f"sqlite:///{db}", "--session", session]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"painmon: error: no session {session} in this database"]
    assert out == ""
