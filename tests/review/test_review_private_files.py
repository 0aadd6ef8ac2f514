"""Exports carry the same patient data as the database (0600): they are written private too,
whatever the user's umask, and a file they overwrite is made private first (issue #14)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.review.export_csv import FILES
from monitor.store.database import open_database
from review_helpers import write_night


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def url(tmp_path: Path):
    engine = open_database(f"sqlite:///{tmp_path / 'record.db'}")
    write_night(engine)
    engine.dispose()
    previous = os.umask(0o022)  # the usual default: new files 0644
    yield str(engine.url)
    os.umask(previous)


@pytest.mark.parametrize("fmt, out", [("csv", "exports/csv"), ("pdf", "exports/r.pdf"),
                                      ("fhir", "exports/b.json")])
def test_exports_are_private(url: str, tmp_path: Path, fmt: str, out: str) -> None:
    target = tmp_path / out
    assert main(["export", "--db", url, "--format", fmt, "--out", str(target)]) == 0
    files = sorted(target.iterdir()) if fmt == "csv" else [target]
    assert len(files) == (len(FILES) if fmt == "csv" else 1)
    assert {_mode(f) for f in files} == {0o600}
    assert _mode(tmp_path / "exports") == 0o700, "a folder the export creates is private"


def test_an_overwritten_export_is_made_private(url: str, tmp_path: Path) -> None:
    target = tmp_path / "r.pdf"
    target.write_bytes(b"old")
    target.chmod(0o644)
    assert main(["export", "--db", url, "--format", "pdf", "--out", str(target)]) == 0
    assert _mode(target) == 0o600 and target.read_bytes()[:5] == b"%PDF-"


def test_exported_truth_is_private(url: str, tmp_path: Path) -> None:
    target = tmp_path / "truth.csv"
    assert main(["export-truth", "--db", url, "--out", str(target)]) == 0
    assert _mode(target) == 0o600
