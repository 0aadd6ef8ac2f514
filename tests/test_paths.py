"""`painmon paths` and the platform folders: settings are read from the user's settings file,
the log goes to a private file in the log folder, and the program says where each one is."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from monitor import paths
from monitor.cli import main
from monitor.config import load


@pytest.fixture()
def folders(tmp_path: Path, monkeypatch) -> Path:
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    monkeypatch.delenv("PAINMON_CONFIG", raising=False)
    return tmp_path


def test_paths_follow_the_platform_folders(folders: Path, capsys) -> None:
    assert main(["paths", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["settings"] == str(folders / "config" / "painmon" / "painmon.toml")
    assert shown["database"] == str(folders / "data" / "painmon" / "painmon.db")
    assert shown["logs"] == str(folders / "state" / "painmon" / "log" / "painmon.log")
    assert shown["cache"] == str(folders / "cache" / "painmon")
    assert Path(shown["models"], "emotion-mini-xception", "card.json").is_file()
    assert Path(shown["assets"], "demo", "demo.mp4").is_file()
    assert shown["settings_in_use"] is None


def test_the_user_settings_file_is_read_and_shown(folders: Path, capsys, monkeypatch) -> None:
    user_file = paths.settings_file()
    user_file.parent.mkdir(parents=True)
    user_file.write_text('bed_label = "NICU 4"\n[alarms]\nt_on = 0.7\n')
    assert load().bed_label == "NICU 4" and load().alarms.t_on == 0.7
    assert main(["paths"]) == 0
    assert f"settings in use: {user_file}" in capsys.readouterr().out

    other = folders / "other.toml"
    other.write_text('bed_label = "NICU 9"\n')
    assert load(other).bed_label == "NICU 9"  # --config replaces the user's file
    monkeypatch.setenv("PAINMON_CONFIG", str(other))
    assert load().bed_label == "NICU 9" and load().alarms.t_on != 0.7


def test_a_broken_user_settings_file_is_named_in_the_error(folders: Path, capsys) -> None:
    user_file = paths.settings_file()
    user_file.parent.mkdir(parents=True)
    user_file.write_text("[alarms]\nt_on = 7\n")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert str(user_file) in err and "alarms.t_on" in err


def test_the_log_file_is_private_and_records_a_refused_run(folders: Path, capsys) -> None:
    assert main(["run", "--source", str(folders / "missing.mp4"),
                 "--db", f"sqlite:///{folders / 'never.db'}"]) == 2
    log_file = paths.log_dir() / paths.LOG_FILENAME
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    assert "painmon run stopped on bad input" in log_file.read_text()
    assert "missing.mp4" in capsys.readouterr().err
