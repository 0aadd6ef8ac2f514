"""A read-only database (an archive copy) can be exported and replayed (issue #24 item 17).

The record is a real one: tests/data/replay/demo.db, the demo clip's session recorded by the
pipeline. Its copy is made read-only in two ways that really refuse writes, because these tests
run as root and root ignores a file's mode bits:

- on a read-only filesystem: a tmpfs of its own, remounted read-only (needs root to mount;
  skipped, saying so, where that is refused), the copy's mode 0444 too;
- mode 0444 in a 0555 folder, read by an ordinary user: as root the command runs as `nobody`
  through setpriv (as a non-root tester it runs as that tester, for whom the modes hold).

Before the fix both failed: `cannot use the database ...: unable to open database file` (it was
opened for writing: WAL mode, the schema check, the export's audit row).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from monitor.store.database import open_database

REPO = Path(__file__).resolve().parents[2]
STORED = REPO / "tests" / "data" / "replay" / "demo.db"  # recorded at schema revision 0003
REPLAYED = REPO / "tests" / "data" / "replay" / "demo.stored.json"  # `replay --json`, stored settings
NOBODY = 65534


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> Path:
    """The demo record as this painmon writes it: a copy of the stored one, upgraded where it may
    be written (as a unit would before archiving it read-only)."""
    path = tmp_path_factory.mktemp("record") / "demo.db"
    shutil.copy(STORED, path)
    open_database(f"sqlite:///{path}", create=False).dispose()
    return path


@pytest.fixture
def read_only_mount(tmp_path: Path, record: Path):
    disk = tmp_path / "archive"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs",
                              str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here ({mounted.stderr.strip()}): needs root")
    try:
        shutil.copy(record, disk / "demo.db")
        (disk / "demo.db").chmod(0o444)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        with pytest.raises(OSError, match="Read-only file system"):
            (disk / "probe").touch()
        yield disk / "demo.db", []
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
def read_only_modes(record: Path):
    """A 0444 copy in a 0555 folder, outside pytest's private (0700) temporary folders so that
    the other user can reach it; and the prefix that runs a command as that user."""
    folder = Path(tempfile.mkdtemp(prefix="painmon-archive-"))
    try:
        shutil.copy(record, folder / "demo.db")
        (folder / "demo.db").chmod(0o444)
        folder.chmod(0o555)
        as_user = []
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv: the modes would not hold")
            as_user = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        yield folder / "demo.db", as_user
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@pytest.fixture(params=["read_only_mount", "read_only_modes"])
def archive(request) -> tuple[Path, list[str]]:
    return request.getfixturevalue(request.param)


def _painmon(as_user: list[str], home: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(REPO), "HOME": str(home),
                        "XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config"),
                        "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run([*as_user, sys.executable, "-m", "monitor.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture
def home():
    """A home the command's user may write (the export's folder, its log)."""
    folder = Path(tempfile.mkdtemp(prefix="painmon-home-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def test_a_read_only_archive_replays_as_the_record_was_made(archive, home: Path):
    db, as_user = archive
    done = _painmon(as_user, home, "replay", "--db", f"sqlite:///{db}", "--session", "1", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(REPLAYED.read_text())


def test_a_read_only_archive_exports_what_a_writable_copy_exports(archive, home: Path,
                                                                   tmp_path: Path, record: Path):
    db, as_user = archive
    done = _painmon(as_user, home, "export", "--db", f"sqlite:///{db}", "--format", "csv",
                    "--out", str(home / "from-archive"))
    assert done.returncode == 0, done.stderr
    assert "not recorded in its audit log" in done.stderr, "the missing audit entry is said"
    writable = tmp_path / "writable.db"
    shutil.copy(record, writable)
    again = _painmon([], tmp_path, "export", "--db", f"sqlite:///{writable}", "--format", "csv",
                     "--out", str(tmp_path / "from-copy"))
    assert again.returncode == 0, again.stderr
    names = sorted(p.name for p in (tmp_path / "from-copy").iterdir())
    assert names == sorted(p.name for p in (home / "from-archive").iterdir())
    for name in names:
        assert (home / "from-archive" / name).read_bytes() == (tmp_path / "from-copy" / name).read_bytes()
    assert db.stat().st_mode & 0o777 == 0o444 and not db.with_name("demo.db-wal").exists()


def test_a_read_only_archive_of_an_older_painmon_is_refused_in_one_line(home: Path):
    # the stored record is at revision 0003; a read-only copy cannot be upgraded where it lies
    folder = Path(tempfile.mkdtemp(prefix="painmon-old-archive-"))  # reachable by nobody
    shutil.copy(STORED, folder / "demo.db")
    (folder / "demo.db").chmod(0o444)
    folder.chmod(0o555)
    try:
        done = _painmon(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
                        if os.geteuid() == 0 else [], home, "replay", "--db",
                        f"sqlite:///{folder / 'demo.db'}", "--session", "1", "--json")
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "copy it to a writable folder first" in done.stderr
