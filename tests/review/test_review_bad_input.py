"""Bad input to the reading commands, tried as an adversarial new user would (issue #18): one
`painmon: error:` line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store.database import open_database


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    """An existing, empty record."""
    url = f"sqlite:///{tmp_path / 'record.db'}"
    open_database(url).dispose()
    return url


@pytest.mark.parametrize("flag, value", [
    ("--to", "9999-12-31T23:59:59-12:00"), ("--from", "0001-01-01T00:00:00+12:00")])
def test_a_date_beyond_the_calendar_is_one_clear_line(empty_url: str, tmp_path: Path, capsys,
                                                      flag: str, value: str) -> None:
    out = tmp_path / "out"
    assert main(["export", "--db", empty_url, "--format", "csv", "--out", str(out), flag, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"painmon: error: {flag} {value!r} is outside the dates") and err.count("\n") == 1
    assert not out.exists()


def test_a_purge_age_beyond_the_calendar_is_one_clear_line(empty_url: str, capsys) -> None:
    assert main(["purge", "--db", empty_url, "--older-than", "99999999999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("painmon: error: --older-than 99999999999 days") and err.count("\n") == 1


READING_COMMANDS = {
    "export": ["export", "--format", "csv", "--out", "{tmp}/out"],
    "review": ["review"],
    "forward": ["forward", "--to", "sqlite:///{tmp}/central.db"],
    "purge": ["purge", "--older-than", "30"],
    "replay": ["replay", "--session", "1"],
    "evaluate-episodes": ["evaluate-episodes", "--truth", "{tmp}/truth.csv"],
    "export-truth": ["export-truth", "--out", "{tmp}/truth-out.csv"],
}


@pytest.mark.parametrize("command", sorted(READING_COMMANDS))
@pytest.mark.parametrize("typo", ["typo.db", "sqlite://"])
def test_reading_commands_refuse_a_database_that_does_not_exist(tmp_path: Path, capsys,
                                                                command: str, typo: str) -> None:
    """A mistyped --db once created an empty record and exported 0 sessions with exit 0."""
    (tmp_path / "truth.csv").write_text("session,start,end\n1,10,20\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / typo}" if typo.endswith(".db") else typo
    args = [a.format(tmp=tmp_path) for a in READING_COMMANDS[command]] + ["--db", url]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    if typo.endswith(".db"):
        assert err == f"painmon: error: no database at {tmp_path / typo}: check --db or store.url\n"
    else:
        assert err == "painmon: error: an in-memory database holds no record: check --db or store.url\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truth.csv"], "nothing created"
