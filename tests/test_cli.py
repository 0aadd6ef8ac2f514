"""The command line as a user types it: real processes, exit codes and one-line errors."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def painmon(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=env)


def test_version_and_help():
    assert painmon("--version").stdout.startswith("painmon ")
    out = painmon("--help").stdout
    assert "Not a certified medical device" in out
    for command in ("run", "demo", "config", "replay-trace"):
        assert command in out


def test_config_check_accepts_a_good_file_and_lists_changes(tmp_path: Path):
    f = tmp_path / "ward.toml"
    f.write_text('bed_label = "NICU-3"\n[alarms]\nt_on = 0.7\n')
    done = painmon("config", "check", str(f))
    assert done.returncode == 0
    assert "valid" in done.stdout and "alarms.t_on = 0.7" in done.stdout


def test_config_check_refuses_a_bad_file_in_one_line(tmp_path: Path):
    f = tmp_path / "ward.toml"
    f.write_text("[alarms]\nt_on = 0.7\nt_high = 0.65\n")
    done = painmon("config", "check", str(f))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "t_off < t_on < t_high" in done.stderr and "Traceback" not in done.stderr


def test_config_show_prints_effective_settings_as_toml(tmp_path: Path):
    import os
    import tomllib

    env = dict(os.environ, PAINMON_ALARMS__D_ON_S="12")
    done = painmon("config", "show", env=env)
    assert done.returncode == 0
    shown = tomllib.loads(done.stdout)
    assert shown["alarms"]["d_on_s"] == 12.0 and shown["alarms"]["t_on"] == 0.6


@pytest.mark.parametrize("content, words", [
    ("t,kind,value,user\n0,p,0.1,\n1,wobble,0.1,\n", "line 3"),
    ("t,kind,value,user\n0,p,abc,\n", "line 2"),
])
def test_replay_trace_refuses_bad_rows_with_the_line_number(tmp_path: Path, content: str, words: str):
    f = tmp_path / "trace.csv"
    f.write_text(content)
    done = painmon("replay-trace", str(f), "--json")
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
