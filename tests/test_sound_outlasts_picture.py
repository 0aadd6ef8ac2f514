"""A file whose sound outlasts its picture (issue #24 item 4): the session clock, not the frames,
makes the per-second record, and the end of the picture is said as such, not as a lost camera.

The clip is built from the shared material: the crying infant photo filmed for 2 s with the demo
camera, over 30 s of real infant crying from ESC-10 (tests/cue_clips.py), so the record must show
crying for about 30 s, a sample for each of the 30 seconds, and the face unknown after 2 s.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from monitor.cli.monitoring import print_summary
from monitor.config import Settings, StoreSettings
from monitor.packets import FaceStatus
from monitor.pipeline.runner import OneSourcePipeline
from monitor.pipeline.seconds import EMPTY_SECONDS_FILLED, Cues, SecondAggregator
from tests import photo_clips
from tests.cue_clips import sound_track, write_clip

FPS = 10
PICTURE_S = 2.0
SOUND_S = 30.0
# the cry cue needs a window (0.975 s, 0.48 s hop) and cry_min_s of crying before it reads "crying"
ONSET_S = 0.975 + 0.48 + Settings().audio.cry_min_s


@pytest.fixture(scope="module")
def short_picture_run(shared_data: Path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("short_picture")
    frames = [f for _, f in photo_clips.frames(photo_clips.SAD, fps=FPS, seconds=PICTURE_S)]
    clip = write_clip(folder / "short.mp4", frames, FPS,
                      sound_track(shared_data, SOUND_S, (0.0, SOUND_S)))
    db = folder / "short.db"
    summary = OneSourcePipeline(Settings(store=StoreSettings(url=f"sqlite:///{db}")), str(clip)).run()
    return summary, db


def test_every_second_of_sound_is_a_sample_with_its_cry_score(short_picture_run):
    summary, db = short_picture_run
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT t, frames, s, c, cry_max FROM sample ORDER BY t").fetchall()
    seconds = [t for t, *_ in rows]
    assert seconds == [float(t) for t in range(int(SOUND_S))], "one row per second of the session"
    assert sum(frames for _, frames, *_ in rows) == FPS * PICTURE_S == summary.frames
    assert all(frames == 0 for t, frames, *_ in rows if t >= PICTURE_S), "no picture after 2 s"
    after = [row for row in rows if row[0] >= PICTURE_S]
    assert all(c is not None for _, _, _, c, _ in after), "the sound goes on: C is known"
    crying = [t for t, _, _, _, cry_max in after if cry_max is not None and cry_max >= 0.05]
    assert len(crying) >= 0.9 * len(after), rows
    stale = Settings().alarms.stale_after_s
    assert all(s is None for t, _, s, _, _ in rows if t >= PICTURE_S + stale), \
        "without a picture the face is unknown, not its last reading"


def test_the_summary_counts_crying_on_the_session_clock(short_picture_run, capsys):
    summary, _ = short_picture_run
    assert summary.crying_s == pytest.approx(SOUND_S - ONSET_S, abs=3.0)
    assert summary.duration_s == pytest.approx(SOUND_S, abs=0.3)
    assert summary.picture_ended_at == pytest.approx(PICTURE_S, abs=1.0 / FPS)
    print_summary(summary)
    out = capsys.readouterr().out
    assert f"frames {FPS * PICTURE_S:.0f} in {PICTURE_S:.1f} s of video" in out, out
    assert f"the picture ends at {PICTURE_S:.1f} s" in out, out


def test_the_end_of_the_picture_is_said_and_is_no_lost_camera(short_picture_run):
    summary, db = short_picture_run
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT t, kind, transition, detail FROM alarm_event "
                              "ORDER BY id").fetchall()
    assert not [e for e in events if e[1] in ("CAMERA_LOST", "NO_FACE", "POOR_SIGNAL")], events
    ended = [e for e in events if e[2] == "picture_ended"]
    assert len(ended) == 1 and ended[0][1] == "SESSION", events
    assert ended[0][0] == pytest.approx(PICTURE_S, abs=1.0 / FPS)
    assert "face unknown" in ended[0][3]
    crying = [e for e in events if e[1] == "CRYING" and e[2] == "raised"]
    assert crying and crying[0][0] < SOUND_S, events



def test_a_far_jump_of_the_clock_is_not_filled_second_by_second():
    """A damaged file's stamp far ahead (here a billion seconds) ends the second it left and
    starts the one it lands in; the empty seconds between are not made into rows one by one
    (beyond EMPTY_SECONDS_FILLED), while shorter gaps are (the clock's seconds, frames or not)."""
    aggregator = SecondAggregator()
    rows = aggregator.add(0.5, FaceStatus.NO_FACE, None, Cues())
    rows += aggregator.advance(3.2, Cues(c=0.5))  # C known from 3.2 s on
    assert [(r.t, r.frames, r.c) for r in rows] == [(0.0, 1, None), (1.0, 0, None), (2.0, 0, None)]
    rows = aggregator.add(1e9 + 0.5, FaceStatus.NO_FACE, None, Cues())
    assert [(r.t, r.frames, r.c) for r in rows] == [(3.0, 0, 0.5)]
    assert [(r.t, r.frames) for r in aggregator.flush()] == [(1e9, 1)]
    assert EMPTY_SECONDS_FILLED < 1e9


def test_played_in_real_time_the_end_of_the_picture_is_no_lost_camera(shared_data: Path,
                                                                       tmp_path: Path):
    """The same for a file paced like a camera (`--realtime`): ticks, not frames, move the clock
    after the picture, and they must not read its end as a camera lost (camera_lost_after_s 2 s)."""
    frames = [f for _, f in photo_clips.frames(photo_clips.SAD, fps=FPS, seconds=1.0)]
    clip = write_clip(tmp_path / "paced.mp4", frames, FPS, sound_track(shared_data, 5.0, None))
    db = tmp_path / "paced.db"
    summary = OneSourcePipeline(Settings(store=StoreSettings(url=f"sqlite:///{db}")), str(clip),
                                realtime=True).run()
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT t, kind, transition FROM alarm_event ORDER BY id").fetchall()
        seconds = [t for (t,) in conn.execute("SELECT t FROM sample ORDER BY t")]
    assert not [e for e in events if e[1] == "CAMERA_LOST"], events
    assert [e[2] for e in events if e[2] == "picture_ended"] == ["picture_ended"], events
    assert summary.picture_ended_at == pytest.approx(1.0, abs=1.0 / FPS)
    assert summary.duration_s >= 5.0 - 0.05, "paced to the sound's end"
    assert seconds == [float(t) for t in range(math.floor(summary.duration_s) + 1)], \
        "a row for every second of the session clock, the picture's or not"
