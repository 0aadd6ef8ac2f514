"""Every CSV the program writes is safe to open in a spreadsheet (issue #18): text that begins
like a formula comes back with a leading quote; numbers stay numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ReviewSettings
from monitor.csv_safe import cell
from monitor.review import data
from monitor.review.export import export
from monitor.store.database import open_database
from review_helpers import write_night

FORMULA_BED = '=HYPERLINK("http://x.invalid","bed 2")'


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def record(tmp_path: Path):
    engine = open_database(f"sqlite:///{tmp_path / 'record.db'}")
    write_night(engine, bed=FORMULA_BED)
    episode = data.episodes(engine, [1])[0]
    data.add_annotation(engine, ReviewSettings(), episode, "@SUM(A1:A9)", None, None, "-2+3 cmd|' /C calc'!A0")
    yield engine
    engine.dispose()


def test_review_export_neutralises_formulas_and_keeps_numbers(record, tmp_path: Path) -> None:
    export(record, ReviewSettings(), "csv", tmp_path / "out", "+nurse")
    episodes = _read(tmp_path / "out" / "episodes.csv")
    samples = _read(tmp_path / "out" / "samples.csv")
    (note,) = _read(tmp_path / "out" / "annotations.csv")
    assert {row["bed"] for row in episodes + samples} == {"'" + FORMULA_BED}
    assert note["bed"] == "'" + FORMULA_BED
    assert note["author"] == "'@SUM(A1:A9)" and note["comment"] == "'-2+3 cmd|' /C calc'!A0"
    stored = {e.number: e for e in data.episodes(record, [1])}
    for row in episodes:  # numbers are written as numbers, never quoted
        assert float(row["peak_s"]) == stored[int(row["episode"])].peak_s
        assert float(row["duration_s"]) > 0
    assert all(float(s["t_s"]) >= 0 for s in samples)


def test_truth_export_neutralises_the_label(record, tmp_path: Path) -> None:
    out = tmp_path / "truth.csv"
    assert main(["export-truth", "--db", str(record.url), "--out", str(out)]) == 0
    (row,) = _read(out)
    assert row["label"] == "'-2+3 cmd|' /C calc'!A0"
    assert (float(row["start"]), row["session"]) == (50.0, "1")


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("bed 3", "bed 3"), ("", ""), (None, ""), (-0.5, "-0.5"), (-3, "-3"),
    (0.1 + 0.2, repr(0.1 + 0.2))])
def test_cell_rule(value, written) -> None:
    """Text is neutralised; a number the program writes (negative too) stays a number."""
    assert cell(value) == written
