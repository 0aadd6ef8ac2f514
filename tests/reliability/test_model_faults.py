"""A model that fails at run time (issue #24 item 1, issue #21 item 3): the fault is injected at the
edge, into the real networks' passes on the device, as a GPU fault surfaces (torch raises
RuntimeError there).

The cry stage's fault is MODEL_ERROR with the reason, the face keeps being monitored and the cry
cue reads unknown with that reason; a fault the loop cannot contain ends the run with exit 1 (the
supervisor restarts it), never 2 (bad input, never restarted)."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

import pytest

from monitor.cli import DEMO_CLIP, main
from monitor.config import Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline
from monitor.scoring.yamnet_net import LogMelFrontEnd
from monitor.signal.cry import CryState
from monitor.signal.engine import AlarmEngine
from monitor.vision.finder import FaceFinder
from monitor.supervise import should_restart
from tests.reliability.conftest import CRYING_FROM_S, CRYING_TO_S
from tests.ui.clips import demo_frames, demo_sound, write_clip

pytestmark = pytest.mark.slow

GPU_FAULT = "CUDA error: an illegal memory access was encountered"


def fail_on_call(monkeypatch, cls, method: str, calls: range) -> list[int]:
    """Make the real `cls.method` raise GPU_FAULT on the calls numbered in `calls` (1-based)."""
    real = getattr(cls, method)
    count = [0]

    def wrapped(self, *args, **kwargs):
        count[0] += 1
        if count[0] in calls:
            raise RuntimeError(GPU_FAULT)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, wrapped)
    return count


def stored(db: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_a_cry_model_fault_during_run_is_a_model_error_and_monitoring_goes_on(
        tmp_path: Path, monkeypatch, capsys):
    """`painmon run` on the demo clip, the cry network failing on its 3rd pass only (in its
    front end, the first step of each pass on the device)."""
    calls = fail_on_call(monkeypatch, LogMelFrontEnd, "forward", range(3, 4))
    db = tmp_path / "fault.db"
    code = main(["run", "--source", str(DEMO_CLIP), "--db", f"sqlite:///{db}"])
    assert calls[0] > 3, "the cry model was not used after its fault"
    assert code == 0, capsys.readouterr().err
    [(end_reason, frames, scored)] = stored(
        db, "SELECT end_reason, frames, frames_scored FROM monitoring_session")
    assert end_reason == "source_ended"
    assert scored == frames > 1000  # the face was monitored through the fault
    events = stored(db, "SELECT transition, detail FROM alarm_event WHERE kind = 'MODEL_ERROR' "
                    "ORDER BY id")
    assert [transition for transition, _ in events] == ["raised", "cleared"]
    assert "cry model" in events[0][1] and GPU_FAULT in events[0][1]
    # the cry cue came back: the demo's one episode is still carried by face + cry (demo.toml)
    expected = tomllib.loads((DEMO_CLIP.parent / "demo.toml").read_text())["expected"]
    episodes = stored(db, "SELECT max_priority, cues FROM episode")
    assert len(episodes) == expected["episodes"] == 1
    assert episodes[0] == ("medium", "face+cry")


@pytest.fixture(scope="module")
def crying_with_sound(tmp_path_factory) -> Path:
    """The demo's crying stretch, picture (every 3rd frame) and its own sound track."""
    path = tmp_path_factory.mktemp("clips") / "crying_sound.mp4"
    return write_clip(path, demo_frames(CRYING_FROM_S, CRYING_TO_S),
                      demo_sound(CRYING_FROM_S, CRYING_TO_S))


def test_a_lasting_cry_model_fault_leaves_the_cry_cue_unknown_with_its_reason(
        crying_with_sound: Path, tmp_path: Path, scorer, monkeypatch):
    """From the 3rd call on (a GPU that stays broken): the face is scored on every frame, the
    cry cue reads unknown and says why, and the crying never counts as a cue."""
    fail_on_call(monkeypatch, LogMelFrontEnd, "forward", range(3, 10**9))
    snapshots = []
    settings = Settings(store=StoreSettings(url=f"sqlite:///{tmp_path / 'lasting.db'}"))
    summary = OneSourcePipeline(settings, str(crying_with_sound), scorer=scorer,
                                on_frame=lambda r: snapshots.append(r.snapshot)).run()
    assert summary.end_reason == "source_ended" and summary.audio is not None
    assert summary.frames_scored == summary.frames > 80
    late = snapshots[len(snapshots) // 2:]  # well after the fault
    assert all(s.cry_state == CryState.NO_MICROPHONE.value and s.c is None for s in late)
    assert all("cry model failed" in s.cry_reason and GPU_FAULT in s.cry_reason for s in late)
    assert all(any(a.kind == "MODEL_ERROR" and a.active for a in s.alarms) for s in late)
    assert all("cry" not in e.cues for e in summary.episodes.values())
    assert summary.crying_s == 0.0  # the clip cries throughout: not heard, so never counted


def test_a_face_detector_fault_is_a_model_error_for_the_frames_it_failed(
        crying_clip: Path, tmp_path: Path, scorer, monkeypatch):
    """MTCNN failing on frames 3 to 5 (its device): those frames' faces are unread, MODEL_ERROR
    says why while it lasts, and the next frames are found and scored again."""
    fail_on_call(monkeypatch, FaceFinder, "observe", range(3, 6))
    events = []
    settings = Settings(store=StoreSettings(url=f"sqlite:///{tmp_path / 'detector.db'}"))
    summary = OneSourcePipeline(settings, str(crying_clip), scorer=scorer,
                                on_drain=lambda ev, _ep: events.extend(ev)).run()
    assert summary.end_reason == "source_ended"
    assert summary.frames_poor_quality == 3 and summary.frames_scored == summary.frames - 3
    errors = [e for e in events if e.kind == "MODEL_ERROR"]
    assert [e.transition for e in errors] == ["raised", "cleared"]
    assert "face detector failed" in errors[0].detail and GPU_FAULT in errors[0].detail


def test_a_fault_the_loop_cannot_contain_exits_1_for_the_supervisor(
        tmp_path: Path, monkeypatch, capsys):
    """The alarm engine failing on its 3rd frame: nothing can stand in for it, so every channel
    is closed `crashed` and the run exits 1, which the supervisor restarts."""
    fail_on_call(monkeypatch, AlarmEngine, "frame", range(3, 4))
    db = tmp_path / "crash.db"
    code = main(["run", "--source", str(DEMO_CLIP), "--db", f"sqlite:///{db}"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert should_restart(code)
    assert "painmon: fault: the analysis loop crashed" in err and GPU_FAULT in err
    assert stored(db, "SELECT end_reason FROM monitoring_session") == [("crashed",)]
