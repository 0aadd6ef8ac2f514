#!/usr/bin/env python3
"""Generate the embedded demo clip ``assets/demo/demo.mp4`` and its timeline ``assets/demo/demo.toml``.

Storyline (75 s, 640x480, 15 fps): a calm, laughing infant; a short crossfade to a crying infant;
about 20 s of crying; a short crossfade back to calm until the end. Made from two photos in
``../shared/data/images`` (Pexels, CC0 / Pexels License; see ``assets/ATTRIBUTION.md``).

Sound (mono AAC): a quiet room throughout (seeded pink noise at ROOM_DBFS, like a cot microphone's
floor), and while the infant cries on screen (CRY_START_S-CRY_END_S) one real infant crying: five
consecutive 5 s ESC-10 excerpts of one Freesound recording (``../shared/data/audio/esc10``, CC BY
3.0 dataset, credits in ``assets/ATTRIBUTION.md`` and NOTICE), joined by short equal-power
crossfades, each brought to CRY_DBFS (about 40 dB above the room, as a cry close to the microphone
is), with short fades at both ends.

So that face detection and tracking do real work, every frame is a rendered view of a photo through
a slowly drifting, zooming, slightly rolling "camera" with a little seeded jitter, followed by a
slow brightness variation and seeded sensor noise. Both photos are aligned on their MTCNN face box
(same centre, same box height in the frame), so the crossfades never make the face jump. The
crying-infant photo is cut off by its own edges (its MTCNN box runs past the top and bottom of the
image), so it is shown scaled down on a plain padded background with feathered edges, without its
left 300 px (wall and hood fur, where MTCNN found a spurious tiny second face), and the whole face
box lies inside the frame.

The clip is reproducible: all randomness comes from ``SEED``. With the same OpenCV/FFmpeg/PyAV build,
running the script again writes a byte-identical file (checked); should another build encode the same
frames differently, tests/test_demo_clip.py accepts decoded frames within a small tolerance. OpenCV
writes the frames; PyAV copies them unchanged into the final file beside the encoded sound.

Usage (from the repository root)::

    .venv/bin/python tools/make_demo_clip.py                 # writes assets/demo/demo.mp4 + demo.toml
    .venv/bin/python tools/make_demo_clip.py --out DIR       # writes DIR/demo.mp4 + DIR/demo.toml
    .venv/bin/python tools/make_demo_clip.py --sounds DIR    # ESC-10 folder (default shared/data)
    .venv/bin/python tools/make_demo_clip.py --verify [--every N]   # MTCNN check of the clip
"""

from __future__ import annotations

import argparse
import fractions
import hashlib
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "assets" / "demo"
CLIP_NAME = "demo.mp4"
TOML_NAME = "demo.toml"

WIDTH, HEIGHT = 640, 480
FPS = 15
DURATION_S = 75
N_FRAMES = DURATION_S * FPS
SEED = 20250611
FOURCC = "mp4v"

HAPPY = "happy-baby.jpeg"
SAD = "sad-baby.jpeg"

# Source photos: the first 12 hex digits of their sha256 (from shared/data/README.md), the part of the
# photo that is shown ([x1, y1, x2, y2], photo pixels) and the face box, in photo pixels, that
# facenet-pytorch 2.5.3 MTCNN (defaults, keep_all=True) finds on the photo as it is shown in the clip.
# Happy: the full photo (p 0.98). Sad: on the full photo the box is [358.6, -73.3, 1234.5, 1082.1],
# extrapolated far past the image. The clip shows the sad photo without its left 300 px (plain wall
# and the fur edge of the hood, where MTCNN found a spurious ~20 px "face" in about 1 frame in 14),
# scaled by about 0.3 and padded with PAD_BGR; there MTCNN's box is tighter (p 1.00; the mean over
# scales 0.25-0.35 is given), and that is the box the two faces are aligned on.
# The boxes are fixed here so that generating the clip needs neither torch nor a detector.
PHOTOS = {
    HAPPY: {
        "sha256_12": "de7a02f86de2",
        "crop": (0, 0, 1280, 853),
        "face_box": (494.89, 138.24, 742.04, 452.77),
    },
    SAD: {
        "sha256_12": "5a6a66428c51",
        "crop": (300, 0, 1280, 853),
        "face_box": (412.0, -15.0, 1165.0, 945.0),
    },
}


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    kind: str  # "calm" | "crying" | "crossfade"
    photo_from: str
    photo_to: str  # same as photo_from unless kind == "crossfade"


SEGMENTS = (
    Segment(0.0, 25.0, "calm", HAPPY, HAPPY),
    Segment(25.0, 27.0, "crossfade", HAPPY, SAD),
    Segment(27.0, 47.0, "crying", SAD, SAD),
    Segment(47.0, 49.0, "crossfade", SAD, HAPPY),
    Segment(49.0, 75.0, "calm", HAPPY, HAPPY),
)

# Expected "sustained pain expression" episodes with default settings (tau 3 s, T_on 0.6 for
# D_on 10 s, T_off 0.4 for D_off 15 s), derived from the storyline: the expression changes during
# the crossfade 25-27 s, so the smoothed score S reaches 0.6 about 3 s (tau * ln 2.5 = 2.75 s) after
# the per-frame score flips: the episode starts in [25, 31]; the alarm is raised 10 s later; crying
# stops during the crossfade 47-49 s and S falls to 0.4 about 3 s after the flip: the episode ends
# in [47, 53] and the condition clears 15 s later, well before the clip ends at 75 s.
EXPECTED = {
    "episodes": 1,
    "start_window": (25.0, 31.0),
    "alarm_window": (35.0, 41.0),
    "end_window": (47.0, 53.0),
    "clear_window": (62.0, 68.0),
}

# Camera and sensor model.
FACE_H_PX = 290.0  # face box height in the frame at the mean zoom
FACE_CX, FACE_CY = 320.0, 236.0  # face box centre in the frame at rest
NOISE_SIGMA = 3.0  # sensor noise, grey levels (per channel, Gaussian)
PAD_BGR = (38, 44, 52)  # background where the crying photo does not cover the frame (dim, bluish)
FEATHER_FRAC = 0.06  # feathered border of each photo, as a fraction of its shorter side

# Sound. Levels are RMS in dBFS (full scale 1.0). A cry close to a cot microphone is about 40 dB
# above a quiet room's floor; the monitor's loudness gate (audio.min_cry_dbfs, -45) lies between.
AUDIO_RATE = 44100  # the ESC-10 clips' rate: they are mixed without resampling
AUDIO_CODEC = "aac"
AUDIO_BITRATE = 64000
AUDIO_FRAME = 1024  # samples per AAC frame
ROOM_DBFS = -60.0  # pink noise, nothing below ROOM_LOW_HZ (no rumble)
ROOM_LOW_HZ = 40.0
CRY_DBFS = -20.0  # each cry excerpt's RMS
CRY_START_S, CRY_END_S = 27.0, 47.0  # the crying segment: sound and picture agree
CRY_CROSSFADE_S = 0.5  # equal-power crossfade between consecutive excerpts
CRY_FADE_S = 0.3  # fade in and out at the ends of the cry
MAX_PEAK = 0.99  # the mix must not clip
# Five consecutive 5 s ESC-10 excerpts (A-E) of one recording, Freesound 152007 ("babys
# crying.mp3" by winsx87, CC0): one infant crying for the whole segment, in this order (the
# steadiest crying first; the breathing pauses of C near the end, cut at CRY_END_S).
ESC10_CRY_CLIPS = ("3-152007-B-20.flac", "3-152007-E-20.flac", "3-152007-D-20.flac",
                   "3-152007-A-20.flac", "3-152007-C-20.flac")


def segment_at(t: float) -> Segment:
    for seg in SEGMENTS:
        if seg.start_s <= t < seg.end_s:
            return seg
    return SEGMENTS[-1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_photo(name: str, images_dir: Path) -> np.ndarray:
    path = images_dir / name
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    digest = sha256(path)
    if not digest.startswith(PHOTOS[name]["sha256_12"]):
        raise SystemExit(f"{path}: sha256 {digest[:12]} differs from {PHOTOS[name]['sha256_12']}")
    return img


@dataclass
class PreparedPhoto:
    image: np.ndarray  # uint8 BGR, pre-scaled, already composited over PAD_BGR with a feathered border
    face_cx: float  # face box centre and height in the pre-scaled image
    face_cy: float
    face_h: float


def prepare(img: np.ndarray, face_box: tuple[float, float, float, float]) -> PreparedPhoto:
    """Pre-scale the photo (area filter) close to its on-screen scale so the per-frame warp does not alias,
    and feather its border into the pad colour (the warp is linear, so compositing before it is exact)."""
    x1, y1, x2, y2 = face_box
    s0 = min(1.0, 1.15 * FACE_H_PX / (y2 - y1))
    h, w = img.shape[:2]
    nw, nh = round(w * s0), round(h * s0)
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA).astype(np.float32)
    fx, fy = nw / w, nh / h
    feather = max(2.0, FEATHER_FRAC * min(nw, nh))
    yy = np.arange(nh, dtype=np.float32)[:, None]
    xx = np.arange(nw, dtype=np.float32)[None, :]
    d = np.minimum(np.minimum(xx + 0.5, nw - 0.5 - xx), np.minimum(yy + 0.5, nh - 0.5 - yy))
    ramp = np.clip(d / feather, 0.0, 1.0)
    mask = (ramp * ramp * (3.0 - 2.0 * ramp))[:, :, None]  # smoothstep
    pad = np.array(PAD_BGR, dtype=np.float32)
    comp = small * mask + pad * (1.0 - mask)
    return PreparedPhoto(
        image=np.clip(np.rint(comp), 0, 255).astype(np.uint8),
        face_cx=(x1 + x2) / 2 * fx,
        face_cy=(y1 + y2) / 2 * fy,
        face_h=(y2 - y1) * fy,
    )


def smooth_jitter(rng: np.random.Generator, n: int, sigma: float, alpha: float = 0.25) -> np.ndarray:
    """Low-passed Gaussian jitter (small hand-held shake), zero mean, roughly `sigma` px."""
    raw = rng.normal(0.0, 1.0, n)
    out = np.empty(n)
    acc = 0.0
    for i, v in enumerate(raw):
        acc += alpha * (v - acc)
        out[i] = acc
    return out * (sigma / max(out.std(), 1e-9))


def camera_path(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-frame face centre (px), face height (px), roll (rad) and brightness gain."""
    t = np.arange(N_FRAMES) / FPS
    tau = 2.0 * math.pi
    cx = FACE_CX + 24.0 * np.sin(tau * t / 23.0) + 7.0 * np.sin(tau * t / 7.3 + 1.0)
    cy = FACE_CY + 14.0 * np.sin(tau * t / 19.0 + 0.5) + 5.0 * np.sin(tau * t / 5.9 + 2.0)
    cx += smooth_jitter(rng, N_FRAMES, 1.2)
    cy += smooth_jitter(rng, N_FRAMES, 1.2)
    face_h = FACE_H_PX * (1.0 + 0.07 * np.sin(tau * t / 31.0 + 0.3) + 0.02 * np.sin(tau * t / 8.9))
    roll = np.deg2rad(2.0 * np.sin(tau * t / 27.0 + 1.3) + 0.15 * smooth_jitter(rng, N_FRAMES, 1.0))
    gain = 1.0 + 0.06 * np.sin(tau * t / 17.0) + 0.025 * np.sin(tau * t / 4.7 + 0.7)
    gain += 0.004 * rng.normal(0.0, 1.0, N_FRAMES)  # slight per-frame flicker
    return {"cx": cx, "cy": cy, "face_h": face_h, "roll": roll, "gain": gain}


def render_photo(p: PreparedPhoto, cx: float, cy: float, face_h: float, roll: float) -> np.ndarray:
    """View of the photo with its face box centred at (cx, cy), face_h px high, rolled by `roll` rad."""
    s = face_h / p.face_h
    c, sn = s * math.cos(roll), s * math.sin(roll)
    m = np.array(
        [[c, -sn, cx - (c * p.face_cx - sn * p.face_cy)], [sn, c, cy - (sn * p.face_cx + c * p.face_cy)]],
        dtype=np.float64,
    )
    return cv2.warpAffine(
        p.image,
        m,
        (WIDTH, HEIGHT),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=PAD_BGR,
    )


NOISE_POOL = 6  # noise fields, each larger than a frame; every frame takes a random window of one


def frames(images_dir: Path):
    """Yield the clip's frames (uint8 BGR, HEIGHTxWIDTH) in order."""
    prepared = {}
    for name, info in PHOTOS.items():
        cx1, cy1, cx2, cy2 = info["crop"]
        bx1, by1, bx2, by2 = info["face_box"]
        img = load_photo(name, images_dir)[cy1:cy2, cx1:cx2]
        prepared[name] = prepare(img, (bx1 - cx1, by1 - cy1, bx2 - cx1, by2 - cy1))
    rng = np.random.default_rng(SEED)
    path = camera_path(rng)
    noise_rng = np.random.default_rng([SEED, 1])
    margin = 64
    pool = np.rint(
        noise_rng.standard_normal((NOISE_POOL, HEIGHT + margin, WIDTH + margin, 3), dtype=np.float32)
        * NOISE_SIGMA
    ).astype(np.int16)
    picks = noise_rng.integers(0, [NOISE_POOL, margin + 1, margin + 1], size=(N_FRAMES, 3))
    for i in range(N_FRAMES):
        t = i / FPS
        seg = segment_at(t)
        pose = (path["cx"][i], path["cy"][i], path["face_h"][i], path["roll"][i])
        frame = render_photo(prepared[seg.photo_from], *pose)
        if seg.kind == "crossfade":
            u = (t - seg.start_s) / (seg.end_s - seg.start_s)
            a = u * u * (3.0 - 2.0 * u)  # smoothstep
            frame = cv2.addWeighted(frame, 1.0 - a, render_photo(prepared[seg.photo_to], *pose), a, 0.0)
        frame = cv2.convertScaleAbs(frame, alpha=float(path["gain"][i]))  # brightness (saturating, >= 0)
        k, dy, dx = picks[i]
        noise = pool[k, dy : dy + HEIGHT, dx : dx + WIDTH]
        yield cv2.add(frame, noise, dtype=cv2.CV_8U)  # sensor noise, saturating


def dbfs_gain(dbfs: float) -> float:
    return 10.0 ** (dbfs / 20.0)


def read_esc10(path: Path) -> np.ndarray:
    """A shared ESC-10 clip (44.1 kHz mono FLAC) as float64 samples in -1..1."""
    if not path.is_file():
        raise SystemExit(f"cannot read {path} (the shared ESC-10 clips: --sounds)")
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.rate != AUDIO_RATE or stream.channels != 1:
            raise SystemExit(f"{path}: {stream.rate} Hz, {stream.channels} channel(s); expected "
                             f"{AUDIO_RATE} Hz mono")
        to_float = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        chunks = [out.to_ndarray().reshape(-1) for frame in container.decode(stream)
                  for out in to_float.resample(frame)]
        chunks += [out.to_ndarray().reshape(-1) for out in to_float.resample(None)]
    return np.concatenate(chunks).astype(np.float64)


def room_tone(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pink noise (power falling 3 dB an octave, as room noise does) at ROOM_DBFS RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / AUDIO_RATE)
    spectrum[freqs < ROOM_LOW_HZ] = 0.0
    spectrum[freqs >= ROOM_LOW_HZ] /= np.sqrt(freqs[freqs >= ROOM_LOW_HZ])
    noise = np.fft.irfft(spectrum, n)
    return noise * (dbfs_gain(ROOM_DBFS) / np.sqrt(np.mean(noise**2)))


def cry_track(sounds_dir: Path) -> np.ndarray:
    """The cry excerpts at CRY_DBFS, crossfaded, cut to the crying segment, faded at both ends."""
    n_fade = round(CRY_CROSSFADE_S * AUDIO_RATE)
    rise = np.sin(np.linspace(0.0, np.pi / 2, n_fade)) ** 2
    track = np.zeros(0)
    for name in ESC10_CRY_CLIPS:
        clip = read_esc10(sounds_dir / name)
        clip *= dbfs_gain(CRY_DBFS) / np.sqrt(np.mean(clip**2))
        if track.size == 0:
            track = clip
            continue
        overlap = track[-n_fade:] * np.sqrt(1.0 - rise) + clip[:n_fade] * np.sqrt(rise)
        track = np.concatenate([track[:-n_fade], overlap, clip[n_fade:]])
    n = round((CRY_END_S - CRY_START_S) * AUDIO_RATE)
    if track.size < n:
        raise SystemExit(f"the cry excerpts last {track.size / AUDIO_RATE:.1f} s, less than the "
                         f"crying segment's {n / AUDIO_RATE:.1f} s")
    track = track[:n]
    ends = np.linspace(0.0, 1.0, round(CRY_FADE_S * AUDIO_RATE))
    track[: ends.size] *= ends
    track[-ends.size :] *= ends[::-1]
    return track


def sound_track(sounds_dir: Path) -> np.ndarray:
    """The whole clip's sound: float32 mono at AUDIO_RATE, DURATION_S long."""
    sound = room_tone(np.random.default_rng([SEED, 2]), DURATION_S * AUDIO_RATE)
    start = round(CRY_START_S * AUDIO_RATE)
    cry = cry_track(sounds_dir)
    sound[start : start + cry.size] += cry
    peak = float(np.abs(sound).max())
    if peak > MAX_PEAK:
        raise SystemExit(f"the sound track peaks at {peak:.3f} (clips above {MAX_PEAK})")
    return sound.astype(np.float32)


def mux(video: Path, sound: np.ndarray, out: Path) -> None:
    """Copy the video stream's packets unchanged and add the sound, AAC-encoded, in one mp4.
    bitexact: no encoder version strings, so builds of the same FFmpeg write the same bytes."""
    with av.open(str(video)) as src, av.open(
        str(out), "w", format="mp4", container_options={"fflags": "+bitexact"}
    ) as dst:
        v_in = src.streams.video[0]
        v_out = dst.add_stream_from_template(v_in)
        a_out = dst.add_stream(AUDIO_CODEC, rate=AUDIO_RATE, layout="mono")
        a_out.bit_rate = AUDIO_BITRATE
        a_out.codec_context.flags |= av.codec.context.Flags.bitexact
        for packet in src.demux(v_in):
            if packet.dts is None:  # the demuxer's empty flush packet
                continue
            packet.stream = v_out
            dst.mux(packet)
        for start in range(0, sound.size, AUDIO_FRAME):
            chunk = sound[start : start + AUDIO_FRAME]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            frame.sample_rate = AUDIO_RATE
            frame.pts = start
            frame.time_base = fractions.Fraction(1, AUDIO_RATE)
            dst.mux(a_out.encode(frame))
        dst.mux(a_out.encode(None))


def toml_text(clip_sha256: str, clip_bytes: int) -> str:
    lines = [
        "# Embedded demo clip: timeline and expected alarm episodes.",
        "# Generated by tools/make_demo_clip.py (do not edit by hand; rerun the script).",
        "# Times are seconds from the first frame; frame i is shown at t = i / fps (decoder timestamps,",
        "# CAP_PROP_POS_MSEC). Segments are half-open [start_s, end_s). Sources: see assets/ATTRIBUTION.md.",
        "",
        "[clip]",
        f'file = "{CLIP_NAME}"',
        f"width = {WIDTH}",
        f"height = {HEIGHT}",
        f"fps = {FPS}",
        f"frame_count = {N_FRAMES}",
        f"duration_s = {float(DURATION_S)}",
        f'fourcc = "{FOURCC}"',
        f"seed = {SEED}",
        "# sha256 and bytes are those of the committed file; another OpenCV/FFmpeg build may encode",
        "# the same frames into other bytes.",
        f'sha256 = "{clip_sha256}"',
        f"bytes = {clip_bytes}",
        "",
    ]
    for seg in SEGMENTS:
        lines += [
            "[[segments]]",
            f"start_s = {seg.start_s}",
            f"end_s = {seg.end_s}",
            f'kind = "{seg.kind}"',
        ]
        if seg.kind == "crossfade":
            lines += [f'photo_from = "{seg.photo_from}"', f'photo_to = "{seg.photo_to}"']
        else:
            lines.append(f'photo = "{seg.photo_from}"')
        lines.append("")
    lines += [
        "# The sound track: a quiet room throughout, one infant crying while the picture cries.",
        "[audio]",
        f'codec = "{AUDIO_CODEC}"',
        f"sample_rate_hz = {AUDIO_RATE}",
        "channels = 1",
        f"room_dbfs = {ROOM_DBFS}  # pink noise, RMS",
        "",
        "# Real infant cries (ESC-10 clips, see assets/ATTRIBUTION.md), each at level_dbfs RMS,",
        "# crossfaded, faded in and out over the first and last fade_s. Half-open [start_s, end_s).",
        "[cry]",
        f"start_s = {CRY_START_S}",
        f"end_s = {CRY_END_S}",
        f"level_dbfs = {CRY_DBFS}",
        f"fade_s = {CRY_FADE_S}",
        f"crossfade_s = {CRY_CROSSFADE_S}",
        "clips = [" + ", ".join(f'"{name}"' for name in ESC10_CRY_CLIPS) + "]",
        "",
    ]
    e = EXPECTED
    lines += [
        '# Expected episodes of the "sustained pain expression" alarm with default settings (tau 3 s;',
        "# onset S >= 0.6 for 10 s; end S <= 0.4 for 15 s). Windows are derived from the storyline and",
        "# are deliberately loose: crying fades in over 25-27 s and out over 47-49 s.",
        "# Cross-check when the clip was made (not the product pipeline): MTCNN on every 2nd frame,",
        "# a throwaway PyTorch port of emotion_model.hdf5 (matches the reference outputs to 6e-7),",
        "# p = P(angry) + P(disgust) + P(fear) + P(sad): p <= 0.02 in the calm segments, >= 0.93",
        "# while crying; a simplified alarm over S gave start 28.5 s, raised 38.4 s, end 50.9 s,",
        "# clear 66.0 s.",
        "[expected]",
        f"episodes = {e['episodes']}",
        f"start_window = [{e['start_window'][0]}, {e['start_window'][1]}]  # episode start (S first >= 0.6)",
        f"alarm_window = [{e['alarm_window'][0]}, {e['alarm_window'][1]}]  # alarm raised (start + 10 s)",
        f"end_window = [{e['end_window'][0]}, {e['end_window'][1]}]  # episode end (S first <= 0.4)",
        f"clear_window = [{e['clear_window'][0]}, {e['clear_window'][1]}]  # condition clears (end + 15 s)",
        "",
    ]
    return "\n".join(lines)


def write_clip(out_dir: Path, images_dir: Path, sounds_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    clip = out_dir / CLIP_NAME
    sound = sound_track(sounds_dir)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        silent = Path(tmp) / "silent.mp4"
        writer = cv2.VideoWriter(str(silent), cv2.VideoWriter_fourcc(*FOURCC), float(FPS), (WIDTH, HEIGHT))
        if not writer.isOpened():
            raise SystemExit("cv2.VideoWriter could not open an mp4v writer")
        for frame in frames(images_dir):
            writer.write(frame)
        writer.release()
        tmp_clip = Path(tmp) / CLIP_NAME
        mux(silent, sound, tmp_clip)
        check_clip(tmp_clip)
        check_sound(tmp_clip)
        tmp_clip.replace(clip)
    data = clip.read_bytes()
    (out_dir / TOML_NAME).write_text(toml_text(hashlib.sha256(data).hexdigest(), len(data)), encoding="utf-8")
    return clip


def check_clip(clip: Path) -> None:
    """Decode the whole clip: frame count, fps, size and decoder timestamps must be as intended."""
    cap = cv2.VideoCapture(str(clip))
    if not cap.isOpened():
        raise SystemExit(f"{clip}: cv2.VideoCapture cannot open it")
    fps = cap.get(cv2.CAP_PROP_FPS)
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        ms = cap.get(cv2.CAP_PROP_POS_MSEC)
        if abs(ms - n * 1000.0 / FPS) > 1.0:
            raise SystemExit(f"{clip}: frame {n} has timestamp {ms} ms, expected {n * 1000.0 / FPS:.1f}")
        if frame.shape != (HEIGHT, WIDTH, 3):
            raise SystemExit(f"{clip}: frame {n} has shape {frame.shape}")
        n += 1
    cap.release()
    if abs(fps - FPS) > 1e-6 or count != N_FRAMES or n != N_FRAMES:
        raise SystemExit(
            f"{clip}: fps {fps}, frame count {count}, decoded {n}; expected {FPS} fps, {N_FRAMES}"
        )


def check_sound(clip: Path) -> None:
    """Decode the sound track: mono at AUDIO_RATE, as long as the picture."""
    with av.open(str(clip)) as container:
        if len(container.streams.audio) != 1:
            raise SystemExit(f"{clip}: {len(container.streams.audio)} sound tracks, expected 1")
        stream = container.streams.audio[0]
        n = sum(frame.samples for frame in container.decode(stream))
        if stream.rate != AUDIO_RATE or stream.channels != 1:
            raise SystemExit(f"{clip}: sound at {stream.rate} Hz, {stream.channels} channel(s)")
    if abs(n / AUDIO_RATE - DURATION_S) > AUDIO_FRAME / AUDIO_RATE:
        raise SystemExit(f"{clip}: {n / AUDIO_RATE:.3f} s of sound, expected {DURATION_S} s")


def verify(clip: Path, every: int) -> int:
    """Run the real MTCNN on every `every`-th frame; report detection rate and box geometry per segment."""
    from facenet_pytorch import MTCNN

    mtcnn = MTCNN(keep_all=True, device="cpu")
    cap = cv2.VideoCapture(str(clip))
    per_seg: dict[int, dict[str, list]] = {
        k: {"counts": [], "boxes": [], "p": []} for k in range(len(SEGMENTS))
    }
    prev = None
    max_step = 0.0
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % every == 0:
            t = i / FPS
            k = SEGMENTS.index(segment_at(t))
            boxes, probs = mtcnn.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            nb = 0 if boxes is None else len(boxes)
            per_seg[k]["counts"].append(nb)
            if nb == 0:
                print(f"  frame {i} (t={t:.2f}s): no face")
                prev = None
            else:
                # facenet-pytorch 2.5.3 with numpy 2 returns object arrays
                boxes, probs = np.asarray(boxes, dtype=float), np.asarray(probs, dtype=float)
                if nb > 1:
                    print(
                        f"  frame {i} (t={t:.2f}s): {nb} faces, p={np.round(probs, 3).tolist()}, "
                        f"boxes={np.round(boxes).tolist()}"
                    )
                b = boxes[int(np.argmax(probs))]
                per_seg[k]["boxes"].append(b)
                per_seg[k]["p"].append(float(probs.max()))
                if prev is not None:
                    max_step = max(max_step, float(np.abs(b - prev).max()))
                prev = b
                if b[0] < 0 or b[1] < 0 or b[2] > WIDTH or b[3] > HEIGHT:
                    print(f"  frame {i} (t={t:.2f}s): box {np.round(b, 1).tolist()} leaves the frame")
        i += 1
    cap.release()
    bad = 0
    for k, seg in enumerate(SEGMENTS):
        counts = np.array(per_seg[k]["counts"])
        one = int((counts == 1).sum())
        print(
            f"{seg.start_s:5.1f}-{seg.end_s:5.1f} s {seg.kind:9s}: exactly one face in "
            f"{one}/{len(counts)} checked frames ({100 * one / max(len(counts), 1):.1f}%), "
            f"none {(counts == 0).sum()}, several {(counts > 1).sum()}"
        )
        if per_seg[k]["boxes"]:
            bx = np.array(per_seg[k]["boxes"])
            side = np.minimum(bx[:, 2] - bx[:, 0], bx[:, 3] - bx[:, 1])
            cx, cy = (bx[:, 0] + bx[:, 2]) / 2, (bx[:, 1] + bx[:, 3]) / 2
            print(
                f"    box short side {side.min():.0f}-{side.max():.0f} px, "
                f"centre x {cx.min():.0f}-{cx.max():.0f}, y {cy.min():.0f}-{cy.max():.0f}, "
                f"min p {min(per_seg[k]['p']):.3f}"
            )
        bad += len(counts) - one
    print(
        f"largest change of a box coordinate between checked frames ({every} frame(s) apart): "
        f"{max_step:.1f} px"
    )
    return 0 if bad == 0 else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default assets/demo)")
    ap.add_argument("--images", type=Path, default=SHARED_DATA / "images", help="folder with the two photos")
    ap.add_argument("--sounds", type=Path, default=SHARED_DATA / "audio" / "esc10",
                    help="folder with the ESC-10 cry clips")
    ap.add_argument(
        "--verify", action="store_true", help="run MTCNN over the clip in --out instead of writing it"
    )
    ap.add_argument("--every", type=int, default=1, help="with --verify: check every N-th frame")
    args = ap.parse_args(argv)
    if args.verify:
        return verify(args.out / CLIP_NAME, args.every)
    clip = write_clip(args.out, args.images, args.sounds)
    print(
        f"wrote {clip} ({clip.stat().st_size} bytes, {N_FRAMES} frames, {FPS} fps, "
        f"{AUDIO_CODEC} sound) and {args.out / TOML_NAME}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
