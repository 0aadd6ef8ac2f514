"""Bad input to the reading commands, tried as an adversarial new user would (issue #18): one
`painmon: error:` line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ReviewSettings
from monitor.errors import MonitorError
from monitor.review import data
from monitor.store.database import open_database
from review_helpers import write_night


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


@pytest.mark.parametrize("author, comment, field", [
    ("RN \u202eAB", "settled", "the author"), ("RN Lee", "sucrose\x00 given", "the comment"),
    ("RN\u2067 Lee", None, "the author")])
def test_annotations_refuse_control_and_direction_characters(tmp_path: Path, author: str,
                                                             comment: str | None, field: str) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'record.db'}")
    write_night(engine)
    episode = data.episodes(engine, [1])[0]
    with pytest.raises(MonitorError, match=rf"^{field} must not contain a (control|text-direction) character"):
        data.add_annotation(engine, ReviewSettings(), episode, author, None, 3, comment)
    assert data.annotations(engine, [episode.id]) == []
    engine.dispose()


def test_a_user_name_with_a_direction_override_is_refused(empty_url: str, tmp_path: Path, capsys) -> None:
    """--user goes into the audit log, which must show who acted as they are."""
    out = tmp_path / "out"
    assert main(["export", "--db", empty_url, "--format", "csv", "--out", str(out),
                 "--user", "admin\u202enimda"]) == 2
    assert capsys.readouterr().err.startswith("painmon: error: the user name must not contain a "
                                              "text-direction character (U+202E, position 6)")
    assert not out.exists()


def test_the_review_window_refuses_a_reviewer_name_with_a_direction_override(
        qtbot, tmp_path: Path, monkeypatch) -> None:
    from monitor.store import queries
    from monitor.ui.review import window as review_window

    engine = open_database(f"sqlite:///{tmp_path / 'record.db'}")
    write_night(engine)
    warnings: list[str] = []
    monkeypatch.setattr(review_window.QMessageBox, "warning",
                        lambda parent, title, text: warnings.append(text))
    window = review_window.ReviewWindow(engine, ReviewSettings(), "RN Okafor")
    qtbot.addWidget(window)
    window.reviewer.setText("RN \u202erafokO")
    window.session_table.selectRow(0)  # opening a record is audited with the reviewer's name
    assert len(warnings) == 1 and warnings[0].startswith(
        "the user name must not contain a text-direction character (U+202E")
    assert [a.action for a in queries.audit(engine) if a.action == "session_opened"] == []
    engine.dispose()
