"""`painmon cry` on the clip's own time line, as `painmon run` hears it (issue #24 items 11, 13).

Clips are built with PyAV from the shared ESC-10 infant cries laid on a quiet room: a sound track
that starts 4 s into the video (AAC in mp4, as phones write), one with a 10 s hole (PCM in
Matroska, which keeps each packet's time, as a network camera that lost its sound writes), 5.1
sound near full scale, and stereo whose channels are in opposite phase. Where the cry is follows
from how each clip was built; `run`'s stored per-second cry scores are the reference for "the
same times"."""

from __future__ import annotations

import contextlib
import io
import json
import math
import sqlite3
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from monitor.cli import main
from monitor.config import Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline
from tests.cue_clips import cries, room

RATE = 16_000
FPS = 5
WINDOW_S = 15_600 / RATE
HOP_S = 0.48
CRY_FROM = 0.05  # a window of an ESC-10 infant cry scores at least this (tests/test_cry_command.py)
QUIET_BELOW = 0.02  # a quiet room (and digital silence) scores below this


def write_clip(path: Path, seconds: float, pieces: list[tuple[float, np.ndarray]],
               codec: str = "pcm_s16le", layout: str = "mono", video: bool = True) -> Path:
    """A clip of `seconds` of grey 160x120 video at FPS and a sound track made of `pieces`
    ((start_s, samples (channels, n) or (n,)) each, placed at its own presentation time; what lies
    between pieces is a hole in the track), picture and sound interleaved in time order as a
    camera writes them."""
    items: list[tuple[float, str, object]] = []  # (time, stream, frame)
    grey = np.full((120, 160, 3), 90, np.uint8)
    for i in range(int(seconds * FPS) if video else 0):
        frame = av.VideoFrame.from_ndarray(grey, format="bgr24")
        frame.pts = i
        items.append((i / FPS, "video", frame))
    for start, samples in pieces:
        samples = np.atleast_2d(samples).astype(np.float32)
        first = int(round(start * RATE))
        for k in range(0, samples.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, k:k + 1024]),
                                               format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = RATE, first + k, Fraction(1, RATE)
            items.append(((first + k) / RATE, "audio", frame))
    with av.open(str(path), "w") as out:
        streams = {}
        if video:
            picture = streams["video"] = out.add_stream("libx264", rate=FPS)
            picture.width, picture.height, picture.pix_fmt = 160, 120, "yuv420p"
            picture.time_base = Fraction(1, FPS)
        sound = streams["audio"] = out.add_stream(codec, rate=RATE, layout=layout)
        sound.time_base = Fraction(1, RATE)
        for _, kind, frame in sorted(items, key=lambda item: (item[0], item[1])):
            for packet in streams[kind].encode(frame):
                if kind == "audio" and codec.startswith("pcm"):  # PCM packets are the frames:
                    packet.pts = packet.dts = frame.pts  # keep their times (and the hole)
                out.mux(packet)
        for stream in streams.values():
            out.mux(stream.encode())
    return path


def cry_json(*files: Path) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["cry", "--json", "--device", "cpu", *map(str, files)])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def crying_starts(entry: dict) -> list[float]:
    return [start for start, score in entry["windows"] if score >= CRY_FROM]


@pytest.fixture(scope="module")
def clips(shared_data: Path, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cry-times")
    cry = cries(shared_data, 5.0)
    late = np.concatenate([cry, room(3.0)])  # sound from 4 s: crying 4-9 s, quiet 9-12 s
    return {
        "late": write_clip(folder / "late.mp4", 12.0, [(4.0, late)], codec="aac"),
        # quiet 0-5 s, no sound 5-15 s, crying 15-20 s, quiet 20-30 s
        "hole": write_clip(folder / "hole.mkv", 30.0,
                           [(0.0, room(5.0, seed=1)), (15.0, np.concatenate([cry, room(10.0)]))]),
    }


@pytest.fixture(scope="module")
def reports(clips) -> dict[str, dict]:
    entries = cry_json(*clips.values())
    return {name: entry for name, entry in zip(clips, entries, strict=True)}


def test_a_sound_track_that_starts_at_4_s_is_scored_from_4_s(reports):
    entry = reports["late"]
    first = entry["windows"][0][0]
    assert first == pytest.approx(4.0, abs=0.1), "the first window starts where the sound does"
    cry = crying_starts(entry)
    assert cry and min(cry) >= 4.0 - 0.1 and max(cry) <= 9.0, cry
    assert entry["duration_s"] == pytest.approx(12.0, abs=0.1), "the clip's length, not the sound's"


def test_a_hole_in_the_sound_track_does_not_shift_later_windows(reports):
    entry = reports["hole"]
    cry = crying_starts(entry)
    assert cry, entry["windows"]
    assert min(cry) >= 15.0 - WINDOW_S and max(cry) <= 20.0, cry
    hole = [score for start, score in entry["windows"] if 5.0 <= start and start + WINDOW_S <= 15.0]
    assert len(hole) >= 15 and max(hole) < QUIET_BELOW, "the hole is heard as silence"
    assert entry["duration_s"] == pytest.approx(30.0, abs=0.1)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["late", "hole"])
def test_cry_times_agree_with_what_run_stores(name, clips, reports, tmp_path):
    db = tmp_path / "run.db"
    OneSourcePipeline(Settings(store=StoreSettings(url=f"sqlite:///{db}")), str(clips[name])).run()
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT t, cry_max FROM sample WHERE cry_max IS NOT NULL"))
    by_second: dict[int, float] = {}
    for start, score in reports[name]["windows"]:  # run dates a window by its end
        second = math.floor(start + WINDOW_S)
        by_second[second] = max(score, by_second.get(second, 0.0))
    common = set(stored) & set(by_second)
    crying = {second for second, score in by_second.items() if score >= CRY_FROM}
    assert crying and crying <= set(stored), (sorted(crying), sorted(stored))
    assert len(common) >= 0.8 * len(by_second), (sorted(stored), sorted(by_second))
    for second in sorted(common):
        assert stored[second] == pytest.approx(by_second[second], abs=2e-3), second
    assert {s for s in common if stored[s] >= CRY_FROM} == \
           {s for s in common if by_second[s] >= CRY_FROM}


def test_memory_does_not_grow_with_the_recording(shared_data: Path, tmp_path: Path):
    """A long recording is streamed: three minutes hold no more than thirty seconds do (the
    whole sound held at once would add 150 s x 64 kB/s = 9.6 MB)."""
    quiet = room(180.0, seed=3)
    short = write_clip(tmp_path / "short.flac", 30.0, [(0.0, quiet[:30 * RATE])], codec="flac",
                       video=False)
    long = write_clip(tmp_path / "long.flac", 180.0, [(0.0, quiet)], codec="flac", video=False)
    peaks = []
    for path, seconds in ((short, 30.0), (long, 180.0)):
        tracemalloc.start()
        entry, = cry_json(path)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert entry["duration_s"] == pytest.approx(seconds, abs=0.1)
    print("tracemalloc peaks (bytes)", peaks)
    assert peaks[1] - peaks[0] < 2_000_000, peaks


def test_five_point_one_sound_is_scored_like_the_same_cry_in_mono(shared_data: Path,
                                                                 tmp_path: Path):
    """5.1 near full scale in every channel (FFmpeg's own downmix would reach 3x full scale):
    mixed to the channels' mean it is the mono cry itself, so the scores are the mono file's."""
    cry = cries(shared_data, 5.0)
    cry = cry * (0.9 / np.abs(cry).max())
    mono = write_clip(tmp_path / "mono.wav", 5.0, [(0.0, cry)], video=False)
    surround = write_clip(tmp_path / "surround.wav", 5.0, [(0.0, np.tile(cry, (6, 1)))],
                          layout="5.1", video=False)
    one, six = cry_json(mono, surround)
    assert six["audio"] is True and six["notes"] == []
    assert max(s for _, s in one["windows"]) >= CRY_FROM
    np.testing.assert_allclose(np.array(six["windows"]), np.array(one["windows"]), atol=2e-3)


def test_stereo_in_opposite_phase_is_named_not_silently_silence(shared_data: Path, tmp_path: Path):
    cry = cries(shared_data, 5.0)
    opposite = write_clip(tmp_path / "opposite.wav", 5.0, [(0.0, np.stack([cry, -cry]))],
                          layout="stereo", video=False)
    same = write_clip(tmp_path / "same.wav", 5.0, [(0.0, np.stack([cry, cry]))],
                      layout="stereo", video=False)
    cancelled, fine = cry_json(opposite, same)
    assert fine["notes"] == [] and max(s for _, s in fine["windows"]) >= CRY_FROM
    assert len(cancelled["notes"]) == 1
    assert "opposite phase" in cancelled["notes"][0] and "dB" in cancelled["notes"][0]
