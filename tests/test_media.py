"""File reading with PyAV on clips made by ffmpeg from the shared material: each frame at its own
presentation time (variable frame rate, B-frames), the sound track in contiguous 16 kHz blocks on
the same clock, and truncated or damaged files ended as failed after what came before them."""

from __future__ import annotations

import csv
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from monitor.capture.sources import FileSource, SourceEnded, SourceFailed, open_source
from monitor.config import CaptureSettings
from monitor.packets import AudioBlock, FramePacket
from tests.test_capture import wait_until

SETTINGS = CaptureSettings()
FPS = 24
STRIP = 24  # the top rows of each frame carry its index in 8 black/white blocks


def ffmpeg(*args: str, stdin: bytes | None = None) -> bytes:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is missing: tests make their clips with it (tools/install-system-deps.sh)")
    done = subprocess.run(["ffmpeg", "-v", "error", "-y", *args], input=stdin, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def indexed_frames(shared_data: Path) -> np.ndarray:
    """The 240 shared Tears of Steel frames, each with its index drawn into its top rows."""
    raw = ffmpeg("-i", str(shared_data / "video/tears_of_steel.mp4"), "-f", "rawvideo",
                 "-pix_fmt", "bgr24", "-")
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 360, 640, 3).copy()
    for n, frame in enumerate(frames):
        frame[:STRIP] = 0
        for bit in range(8):
            if n >> bit & 1:
                frame[:STRIP, bit * 40:(bit + 1) * 40] = 255
    return frames


def index_of(image: np.ndarray) -> int:
    blocks = [image[4:STRIP - 4, bit * 40 + 8:(bit + 1) * 40 - 8] for bit in range(8)]
    return sum(1 << bit for bit, block in enumerate(blocks) if block.mean() > 128)


def encode(frames: np.ndarray, out: Path, *options: str) -> Path:
    ffmpeg("-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "640x360", "-r", str(FPS), "-i", "-",
           *options, "-c:v", "libx264", "-bf", "2", "-g", "24", "-pix_fmt", "yuv420p", str(out),
           stdin=frames.tobytes())
    return out


# Variable frame rate: the gaps between frames cycle through 20, 40, 100, 30 and 250 ms.
GAPS_MS = (20, 40, 100, 30, 250)
VFR_PTS = f"{sum(GAPS_MS)}*floor(N/5)" + "".join(
    f"+{gap}*gte(mod(N\\,5)\\,{k + 1})" for k, gap in enumerate(GAPS_MS[:-1]))


def vfr_time(n: int) -> float:
    """Frame n's presentation time as the setpts expression above sets it (in ms, time base 1/1000)."""
    return (sum(GAPS_MS) * (n // 5) + sum(GAPS_MS[:n % 5])) / 1000


def read_all(source) -> tuple[list[FramePacket | AudioBlock], BaseException]:
    items = []
    while True:
        try:
            items.append(source.read(1.0))
        except (SourceEnded, SourceFailed) as end:
            source.close()
            return items, end


@pytest.fixture(scope="module")
def clips(tmp_path_factory, shared_data: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    frames = indexed_frames(shared_data)
    made = {
        "cfr": encode(frames, folder / "cfr.mp4", "-movflags", "+faststart"),
        "vfr": encode(frames, folder / "vfr.mp4", "-vf", f"settb=1/1000,setpts='{VFR_PTS}'",
                      "-fps_mode", "passthrough", "-enc_time_base:v", "1:1000",
                      "-video_track_timescale", "1000"),
    }
    for name in ("vfr", "cfr"):
        made[f"{name}_mkv"] = folder / f"{name}.mkv"
        ffmpeg("-i", str(made[name]), "-c", "copy", str(made[f"{name}_mkv"]))
    return made


@pytest.mark.parametrize("clip", ["vfr", "vfr_mkv"])
def test_variable_frame_rate_with_b_frames_keeps_each_frames_time(clips: dict[str, Path], clip: str):
    source = FileSource(clips[clip], SETTINGS)
    items, end = read_all(source)
    assert isinstance(end, SourceEnded)
    indices = [index_of(p.image) for p in items]
    assert indices == list(range(240))  # every frame once, in presentation order
    times = np.array([p.t for p in items])
    expected = np.array([vfr_time(n) for n in indices])
    assert np.abs(times - expected).max() <= 0.001
    assert np.all(np.diff(times) > 0)
    per_second = np.bincount(times.astype(int))
    assert per_second.tolist() == np.bincount(expected.astype(int)).tolist()
    assert per_second.min() < per_second.max()  # the rate does vary


def packet_ends(path: Path) -> list[int]:
    """Where each video packet of `path` ends in the file (bytes), in decoding order."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                          "packet=pos,size", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return [int(pos) + int(size) for size, pos in (line.split(",")[:2] for line in out.split())]


@pytest.mark.parametrize("container", ["mp4", "mkv"])
@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_damaged_file_delivers_what_comes_before_then_fails(clips: dict[str, Path], tmp_path: Path,
                                                            damage: str, container: str):
    """Half the file cut off, or a fifth of it overwritten in the middle (Matroska skips such a
    stretch without a decode error: the hole in the frames' times gives it away)."""
    good = clips["cfr"] if container == "mp4" else clips["cfr_mkv"]
    data = bytearray(good.read_bytes())
    start = len(data) // 2 if damage == "truncated" else len(data) * 4 // 10
    if damage == "truncated":
        data = data[:start]
    else:
        end = len(data) * 6 // 10
        data[start:end] = np.random.default_rng(0).integers(0, 256, end - start, np.uint8).tobytes()
    path = tmp_path / f"{damage}.{container}"
    path.write_bytes(bytes(data))
    intact = sum(end <= start for end in packet_ends(good))  # packets wholly before the damage

    items, end = read_all(FileSource(path, SETTINGS))

    assert isinstance(end, SourceFailed)
    assert f"{path.name} is damaged or truncated" in str(end)
    indices = [index_of(p.image) for p in items]
    before = intact - 3  # B-frames whose later reference is lost may go with the damage
    assert before > 80
    assert indices[:before] == list(range(before))
    assert np.allclose([p.t for p in items[:before]], np.arange(before) / FPS, atol=1e-3)


@pytest.mark.parametrize("clip", ["cfr", "cfr_mkv"])
def test_the_undamaged_clip_ends_normally(clips: dict[str, Path], clip: str):
    items, end = read_all(FileSource(clips[clip], SETTINGS))
    assert isinstance(end, SourceEnded) and len(items) == 240


def first_cry(shared_data: Path) -> Path:
    folder = shared_data / "audio/esc10"
    with open(folder / "clips.csv", newline="") as fh:
        return folder / next(r["filename"] for r in csv.DictReader(fh) if r["is_infant_cry"] == "1")


def onset(samples: np.ndarray, rate: int) -> float:
    """Seconds to the first 10 ms whose loudness reaches a tenth of the loudest 10 ms."""
    hop = rate // 100
    rms = np.sqrt(np.mean(samples[: len(samples) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    return float(np.argmax(rms >= 0.1 * rms.max()) * hop / rate)


@pytest.mark.parametrize("how", ["adelay", "itsoffset"])
def test_sound_track_comes_in_contiguous_blocks_on_the_frames_clock(shared_data: Path, tmp_path: Path,
                                                                    how: str):
    cry = first_cry(shared_data)
    reference = np.frombuffer(ffmpeg("-i", str(cry), "-ac", "1", "-ar", "16000", "-f", "f32le", "-"),
                              np.float32)
    video = str(shared_data / "video/tears_of_steel.mp4")
    path = tmp_path / f"{how}.mp4"
    if how == "adelay":  # 3 s of silence, then the cry: the track starts with the video
        ffmpeg("-i", video, "-i", str(cry), "-filter_complex", "[1:a]adelay=3000:all=1[a]",
               "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "aac", str(path))
    else:  # the track itself starts 3 s after the video
        ffmpeg("-i", video, "-itsoffset", "3", "-i", str(cry), "-map", "0:v", "-map", "1:a",
               "-c:v", "copy", "-c:a", "aac", str(path))

    source = open_source(str(path), SETTINGS, lambda: 0.0, 3.0, audio=True)
    assert source.has_audio
    items, end = read_all(source)

    assert isinstance(end, SourceEnded)
    times = [item.t for item in items]
    assert times == sorted(times)  # frames and sound merged in time order
    frames = [i for i in items if isinstance(i, FramePacket)]
    blocks = [i for i in items if isinstance(i, AudioBlock)]
    assert len(frames) == 240
    assert all(b.rate == 16000 and b.samples.dtype == np.float32 and b.samples.ndim == 1 for b in blocks)
    assert all(0.16 <= b.duration <= 0.5 for b in blocks[:-1])
    assert all(abs(b.t - (a.t + a.duration)) < 1e-6 for a, b in zip(blocks, blocks[1:]))
    sound = np.concatenate([b.samples for b in blocks])
    track_end = 3.0 + len(reference) / 16000
    assert blocks[-1].t + blocks[-1].duration == pytest.approx(track_end, abs=0.05)
    assert blocks[0].t + onset(sound, 16000) == pytest.approx(3.0 + onset(reference, 16000), abs=0.05)


def test_video_without_sound_has_no_audio(clips: dict[str, Path]):
    source = open_source(str(clips["cfr"]), SETTINGS, lambda: 0.0, 3.0, audio=True)
    assert not source.has_audio
    items, end = read_all(source)
    assert isinstance(end, SourceEnded)
    assert len(items) == 240 and all(isinstance(i, FramePacket) for i in items)


def test_sound_can_be_left_out(shared_data: Path, tmp_path: Path):
    path = tmp_path / "with_sound.mp4"
    ffmpeg("-i", str(shared_data / "video/tears_of_steel.mp4"), "-i", str(first_cry(shared_data)),
           "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(path))
    source = open_source(str(path), SETTINGS, lambda: 0.0, 3.0, audio=False)
    assert not source.has_audio
    items, _ = read_all(source)
    assert len(items) == 240 and all(isinstance(i, FramePacket) for i in items)


def test_realtime_file_paces_on_the_session_clock_and_keeps_all_sound(shared_data: Path, tmp_path: Path):
    """Opened 2 s after the session clock's t=0 and first read only once the frames due by then
    have replaced each other in the mailbox (a consumer still loading its model): what was due
    meanwhile is released at once, frames replacing each other like a camera's, every sound block
    kept; the rest comes when the session clock reaches it."""
    path = tmp_path / "paced.mp4"
    ffmpeg("-i", str(shared_data / "video/tears_of_steel.mp4"), "-i", str(first_cry(shared_data)),
           "-map", "0:v", "-map", "1:a", "-t", "4", "-c:v", "libx264", "-c:a", "aac", str(path))
    origin = time.monotonic() - 2.0
    clock = lambda: time.monotonic() - origin  # noqa: E731
    source = open_source(str(path), SETTINGS, clock, 3.0, realtime=True, audio=True)
    assert source.live and source.has_audio
    wait_until(lambda: source.status().dropped >= 2.0 * FPS, 10.0,
               "the 2 s of frames already due to replace each other")
    items, end = read_all(source)
    assert isinstance(end, SourceEnded)
    assert clock() >= 4.0 - 0.05  # the last items were released when the clock reached them
    frames = [i for i in items if isinstance(i, FramePacket)]
    blocks = [i for i in items if isinstance(i, AudioBlock)]
    assert frames[0].t >= 2.0  # the frames due before the first read were replaced ...
    assert frames[-1].t == pytest.approx(4.0 - 1 / FPS, abs=1e-3)
    assert blocks[0].t == pytest.approx(0.0, abs=0.03)  # ... but no sound was lost
    assert all(abs(b.t - (a.t + a.duration)) < 1e-6 for a, b in zip(blocks, blocks[1:]))
    assert blocks[-1].t + blocks[-1].duration == pytest.approx(4.0, abs=0.05)
