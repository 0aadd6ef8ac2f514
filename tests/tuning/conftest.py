"""The demo clip analysed once by the real pipeline; a synthetic session with known truth."""

from __future__ import annotations

import tomllib

import pytest

from monitor.cli import DEMO_CLIP
from monitor.config import Settings, StoreSettings
from monitor.packets import FaceStatus
from monitor.pipeline.runner import OneSourcePipeline
from monitor.store.trace import TraceFrame
from monitor.tuning.replay import StoredSession
from monitor.tuning.truth import Interval

FPS = 10


def demo_expected() -> dict:
    """The demo clip's own description (assets/demo/demo.toml): its segments and the windows in
    which its one episode must start, alarm, end and clear with default settings."""
    with open(DEMO_CLIP.with_name("demo.toml"), "rb") as fh:
        clip = tomllib.load(fh)
    return {**clip["expected"], "segments": clip["segments"]}


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real pipeline over the demo clip, once per test run (about 30 s here)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tuning') / 'demo.db'}"
    summary = OneSourcePipeline(Settings(store=StoreSettings(url=url)), str(DEMO_CLIP)).run()
    assert summary.end_reason == "source_ended" and len(summary.episodes) == 1
    return url


def synthetic(actions: list | None = None) -> StoredSession:
    """600 s at 10 frames/s: p 0.95 over 100-160 s (pain), 300-305 s (too short to alarm) and
    450-520 s (no pain in the truth: a false alarm); no face over 200-260 s; else p 0.05."""
    frames = []
    for i in range(600 * FPS):
        t = i / FPS
        if 200 <= t < 260:
            frames.append(TraceFrame(t, FaceStatus.NO_FACE, None))
        else:
            high = 100 <= t < 160 or 300 <= t < 305 or 450 <= t < 520
            frames.append(TraceFrame(t, FaceStatus.SCORED, 0.95 if high else 0.05))
    return StoredSession(id=0, settings=Settings(), frames=frames, windows=[], heard=False,
                         subject_changes=[], actions=actions or [], end_t=600.0, not_replayed=[],
                         episodes=[])


SYNTHETIC_TRUTH = [Interval(100.0, 160.0, "pain"), Interval(300.0, 305.0, "brief grimace")]
