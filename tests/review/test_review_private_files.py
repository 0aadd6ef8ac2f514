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


# `--out` names where a new private file goes, never something to change (issue #24 item 15): a
# link is refused (its target keeps its mode and bytes), and so is a device node; made here, in
# the test's folder, as a copy of /dev/null's (same major and minor), so the real one is never at
# risk.
@pytest.mark.parametrize("fmt", ["pdf", "fhir", "csv"])
def test_an_export_through_a_symlink_is_refused(url: str, tmp_path: Path, capsys, fmt: str) -> None:
    victim = tmp_path / "someone-elses-file"
    victim.write_bytes(b"keep me")
    victim.chmod(0o644)
    link = tmp_path / "r.out"
    link.symlink_to(victim)
    out = tmp_path / "folder" if fmt == "csv" else link
    if fmt == "csv":  # the folder's own file names as links
        out.mkdir()
        (out / FILES[0]).symlink_to(victim)
    assert main(["export", "--db", url, "--format", fmt, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "symlink" in err[0], err
    assert _mode(victim) == 0o644 and victim.read_bytes() == b"keep me"


def test_an_export_onto_a_device_is_refused(url: str, tmp_path: Path, capsys) -> None:
    null = tmp_path / "null"
    real = os.stat("/dev/null")
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, real.st_rdev)
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    null.chmod(0o666)
    assert main(["export", "--db", url, "--format", "pdf", "--out", str(null)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a regular file" in err[0], err
    assert _mode(null) == 0o666 and stat.S_ISCHR(os.lstat(null).st_mode)
    assert os.stat("/dev/null").st_mode == real.st_mode


def test_an_export_into_a_named_pipe_is_refused(url: str, tmp_path: Path, capsys) -> None:
    """Refused before it is opened (opening a FIFO for writing waits for a reader for ever)."""
    fifo = tmp_path / "r.json"
    os.mkfifo(fifo, 0o644)
    assert main(["export", "--db", url, "--format", "fhir", "--out", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and _mode(fifo) == 0o644


def test_an_export_replaces_the_file_whole(url: str, tmp_path: Path) -> None:
    """Written as a new file renamed over the old one: a hard link to the old file (another
    name of the same bytes) keeps the old bytes and mode, and nothing is left beside it."""
    target = tmp_path / "r.pdf"
    target.write_bytes(b"old")
    target.chmod(0o644)
    other_name = tmp_path / "other-name"
    os.link(target, other_name)
    assert main(["export", "--db", url, "--format", "pdf", "--out", str(target)]) == 0
    assert target.read_bytes()[:5] == b"%PDF-" and _mode(target) == 0o600
    assert other_name.read_bytes() == b"old" and _mode(other_name) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("record.db")) == \
           ["other-name", "r.pdf"]
