"""The alarm engine gives the same results as before its refactor into parts (issue #21).

Two stored sessions recorded by the real pipeline (tests/data/replay, built by build.py there):
the embedded demo clip (face + cry) and a clip with every cue (face, movement, cry, a cry the
face does not carry) with a nurse's actions. `painmon replay --json` of each, with the stored
settings and with two other sets, must print byte for byte what it printed before; and every
event, episode record and snapshot the engine handed out must be the same, in the same order.
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "data" / "replay"


def _build():
    spec = importlib.util.spec_from_file_location("replay_build", HERE / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _build()


@pytest.fixture(autouse=True)
def frozen_inputs(tmp_path, monkeypatch):
    """The replays read copies: the stored sessions stay exactly as they were built."""
    for name in build.SESSIONS:
        shutil.copy(HERE / f"{name}.db", tmp_path / f"{name}.db")
    monkeypatch.setattr(build, "HERE", tmp_path)


@pytest.mark.parametrize("settings", list(build.SETTINGS))
@pytest.mark.parametrize("session", build.SESSIONS)
def test_painmon_replay_prints_what_it_printed_before(session, settings):
    before = (HERE / f"{session}.{settings}.json").read_text(encoding="utf-8")
    assert build.replay_json(session, settings) == before


@pytest.mark.parametrize("session", build.SESSIONS)
def test_every_event_record_and_snapshot_is_what_it_was(session):
    before = gzip.decompress((HERE / f"{session}.engine.txt.gz").read_bytes()).decode().splitlines()
    after = build.engine_lines(session, snapshots=True)
    assert len(after) == len(before)
    for n, (a, b) in enumerate(zip(after, before, strict=True)):
        assert a == b, f"line {n + 1} differs"


@pytest.mark.parametrize("session", build.SESSIONS)
def test_taking_snapshots_changes_nothing(session):
    """snapshot() only reads: the same replay without any snapshot hands out the same events
    and records, at the same times."""
    with_snapshots = [line for line in build.engine_lines(session, snapshots=True)
                      if not line.startswith('{"snapshot"')]
    assert build.engine_lines(session, snapshots=False) == with_snapshots
