"""Privacy and security of a real run: private files, no images stored, no listening socket, an
append-only audit log."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from monitor.config import Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline

pytestmark = pytest.mark.slow


def _listening_inodes() -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"):
        if os.path.exists(table):
            for line in open(table).readlines()[1:]:
                fields = line.split()
                if fields[3] in ("0A", "07"):  # TCP LISTEN, UDP bound
                    inodes.add(fields[9])
    return inodes


def _own_sockets() -> set[str]:
    links = (os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
             if os.path.exists(f"/proc/self/fd/{fd}"))
    return {link[8:-1] for link in links if link.startswith("socket:[")}


def test_a_run_keeps_its_files_private_stores_no_images_and_listens_nowhere(tmp_path: Path, scorer):
    folder = tmp_path / "data" / "painmon"
    settings = Settings(store=StoreSettings(url=f"sqlite:///{folder}/p.db"))
    listening: list[set[str]] = []
    monitor = OneSourcePipeline(settings, str(Path(__file__).parents[2] / "assets/demo/demo.mp4"),
                                scorer=scorer, on_frame=lambda r: listening.append(
                          _own_sockets() & _listening_inodes()) if r.packet.index < 30
                                else monitor.stop())
    monitor.run()
    assert listening and not any(listening)
    for path in [folder, *folder.iterdir()]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name} is readable by others: {oct(mode)}"
    with monitor.database.connect() as conn:
        blobs = conn.execute(text("SELECT max(length(data)) FROM frame_trace")).scalar()
        assert blobs < 100_000  # packed (t, status, p) only, never an image
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
        assert not {"frame", "face_crop", "media"} & tables
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError), monitor.database.begin() as conn:
            conn.execute(text("INSERT INTO audit_event (at, action) VALUES ('2025-01-01', 'a')"))
            conn.execute(text(statement))
