"""One media container read with PyAV (FFmpeg): its frames and its sound, each stamped with its own
presentation time, and an honest account of how much of the file could be decoded.

Times are `pts * time_base` relative to the video stream's start (the first frame is t=0), for
sound and frames alike, so they stay aligned at any analysis speed and variable-frame-rate files
with B-frames get each frame's true time. Sound is resampled to 16 kHz and mixed to mono float32 as
the mean of its channels (the low-frequency channel left out), which can never exceed full scale
(FFmpeg's own downmix takes 5.1 to three times full scale, stereo to 1.27 times), in contiguous
blocks (a gap in the track is filled with silence, so concatenated blocks stay on time). Channels
that cancel in that mean (stereo wired in opposite phase) are named in `notes`, never heard as
silence without a word. Frames are turned upright as the file's display matrix says (a phone
filmed sideways), as FFmpeg's own player shows them.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from monitor.capture.base import SourceEnded, SourceFailed
from monitor.errors import MonitorError
from monitor.packets import AudioBlock, FramePacket

log = logging.getLogger(__name__)

AUDIO_RATE = 16_000  # the cry model's rate
BLOCK_S = 0.24  # half the cry model's 0.48 s hop: sound reaches the model with little delay
GAP_FILL_S = 0.02  # a jump forward in the sound track beyond this is filled with silence
# A file counts as damaged when it delivers less than this share of the frames or duration its
# container declares, or when more packets than this fail to decode (FFmpeg conceals a few).
MIN_DECODED_SHARE = 0.9
DECODE_ERRORS_TOLERATED = 2
HOLE_S = 1.0  # no frame for this long inside a file: frames were lost (Matroska resyncs silently)
LOOKAHEAD_FRAMES = 32  # frames held back (still YUV) to merge a lagging sound track in time order
# Channels "cancel" when their mono mean is this much quieter than the channels themselves
# (uncorrelated stereo is 3 dB quieter, five uncorrelated channels 7 dB), judged once this much
# sound has come and the channels are louder than a quiet room's noise.
CANCELLED_DB = 20.0
CANCEL_JUDGED_AFTER_S = 1.0
CANCEL_AUDIBLE_DBFS = -70.0


@dataclass
class Integrity:
    """What the container declares against what was decoded, judged when the file ends."""

    declared_frames: int = 0  # 0: the container does not say (e.g. Matroska)
    declared_s: float = 0.0
    decoded_frames: int = 0
    decoded_s: float = 0.0  # the end of the last frame (or sound sample) delivered
    decode_errors: int = 0
    holes: list[tuple[float, float]] = field(default_factory=list)  # (from, to) without frames
    demux_failed: str = ""

    def problem(self) -> str | None:
        """Why the file must count as damaged, or None when it was decoded as declared."""
        found = []
        if self.declared_frames and self.decoded_frames < MIN_DECODED_SHARE * self.declared_frames:
            found.append(f"decoded {self.decoded_frames} of {self.declared_frames} frames")
        if self.declared_s and self.decoded_s < MIN_DECODED_SHARE * self.declared_s:
            found.append(f"it ends at {self.decoded_s:.1f} s of {self.declared_s:.1f} s")
        if self.decode_errors > DECODE_ERRORS_TOLERATED:
            found.append(f"{self.decode_errors} packets failed to decode")
        if self.holes:
            start, end = max(self.holes, key=lambda hole: hole[1] - hole[0])
            more = f" (and {len(self.holes) - 1} shorter gaps)" if len(self.holes) > 1 else ""
            found.append(f"no frames for {end - start:.1f} s after {start:.1f} s{more}")
        if self.demux_failed:
            found.append(f"reading stopped: {self.demux_failed}")
        return "; ".join(found) or None


class MediaReader:
    """Iterates one container's video frames (FramePacket, BGR) and sound (AudioBlock), merged in
    presentation order. Bad packets are counted and skipped; at the end the iterator raises
    SourceEnded, or SourceFailed when the file was truncated or damaged (see Integrity)."""

    def __init__(self, path: Path, video: bool = True, audio: bool = True,
                 open_timeout_s: float = 10.0) -> None:
        if not path.exists():
            raise MonitorError(f"video file not found: {path}")
        if path.is_dir() or path.stat().st_size == 0:
            raise MonitorError(f"{path} is empty or not a video file")
        self.path = path
        try:
            self._container = av.open(str(path), metadata_errors="ignore", timeout=open_timeout_s)
        except (av.error.FFmpegError, UnicodeDecodeError) as exc:
            raise MonitorError(f"cannot decode {path}: not a video FFmpeg can read, or the file is "
                               f"corrupt or truncated ({exc})") from None
        streams = self._container.streams
        self._video = streams.video[0] if video and streams.video else None
        self._audio = streams.audio[0] if audio and streams.audio else None
        if video and self._video is None:
            self._container.close()
            raise MonitorError(f"{path} holds no video stream")
        if self._video is None and self._audio is None:
            self._container.close()
            raise MonitorError(f"{path} holds no sound track")
        self.has_audio = self._audio is not None
        self.audio_rate = sound_rate(self._audio)  # the source's own rate, recorded (issue 22)
        self._origin = _origin(self._container)
        self.integrity = _declared(self._container, self._video or self._audio, self._origin)
        if self._video is not None:
            self._video.thread_type = "AUTO"
            self.fps = float(self._video.average_rate or self._video.guessed_rate or 25)
            self._frame_s = 1.0 / self.fps  # a frame's duration, where the file does not say
        self._sound = SoundBlocks(self._origin) if self._audio is not None else None
        self._frames: deque[tuple[float, av.VideoFrame]] = deque()
        self._blocks: deque[AudioBlock] = deque()
        self._demux = self._container.demux(*(s for s in (self._video, self._audio) if s))
        self._demuxing = True
        self._index = 0
        self._last_t = -float("inf")  # the last decoded frame
        self._sent_t = -float("inf")  # the last delivered frame
        # where the picture ends, once it is known that the sound goes on after it (None: it
        # does not, or not known yet): sound after it is no lost camera, and the face is unknown
        self.picture_ended_at: float | None = None
        self._noted = False  # the sound's note was logged

    def __iter__(self) -> Iterator[FramePacket | AudioBlock]:
        return self

    def __next__(self) -> FramePacket | AudioBlock:
        while True:
            item = self._ready()
            if item is not None:
                return item
            if not self._demuxing:
                raise self._end()
            self._decode_next_packet()

    def _ready(self) -> FramePacket | AudioBlock | None:
        """The earliest waiting item, once neither stream can still bring an earlier one."""
        frames, blocks, sound = self._frames, self._blocks, self._sound
        if frames and blocks:
            return self._packet() if frames[0][0] <= blocks[0].t else blocks.popleft()
        if frames:
            if sound is None or not self._demuxing or frames[0][0] <= sound.next_t:
                return self._packet()
            if len(frames) < LOOKAHEAD_FRAMES:
                return None
            blocks.extend(sound.take_partial())  # the sound decoded so far, as a shorter block
            return blocks.popleft() if blocks and blocks[0].t < frames[0][0] else self._packet()
        if blocks and (self._video is None or not self._demuxing or blocks[0].t <= self._last_t):
            return blocks.popleft()  # frames still to come start after the last decoded one
        return None

    def _packet(self) -> FramePacket:
        t, frame = self._frames.popleft()
        packet = FramePacket(t=t, index=self._index, image=_upright(frame))
        self._index += 1
        self._sent_t = t
        return packet

    def _decode_next_packet(self) -> None:
        try:
            packet = next(self._demux)
        except StopIteration:
            packet = None
        except av.error.FFmpegError as exc:  # the container itself is broken from here on
            self.integrity.demux_failed = str(exc)
            self._drain_decoders()
            packet = None
        if packet is None:
            self._demuxing = False
            if self._sound is not None:  # the resampler's last samples; dropped (a few ms) where
                # frames were delivered past them already, so times never go backwards
                self._blocks.extend(b for b in self._sound.flush() if b.t >= self._sent_t)
                self._note_picture_end()
            return
        try:
            decoded = packet.decode()  # an empty (flush) packet at the end drains the decoder
        except av.error.FFmpegError as exc:
            self.integrity.decode_errors += 1
            if self.integrity.decode_errors <= 3:
                at = "?" if packet.pts is None else f"{float(packet.pts * packet.time_base):.2f} s"
                log.warning("%s: a %s packet at %s failed to decode: %s", self.path.name,
                            packet.stream.type, at, exc)
            return
        self._take(decoded)

    def _note_picture_end(self) -> None:
        """At the end of reading: a sound track that goes on more than a block past the last
        frame (the picture ended first; a few ms of encoder tail do not count)."""
        if self._video is None or not self.integrity.decoded_frames:
            return
        picture_end = self.integrity.decoded_s
        if self._sound.end_t > picture_end + BLOCK_S:
            self.picture_ended_at = picture_end

    def _drain_decoders(self) -> None:
        """The frames still inside the decoders (B-frame delay, threads) when reading broke off."""
        for stream in (self._video, self._audio):
            if stream is not None:
                try:
                    self._take(stream.codec_context.decode(None))
                except av.error.FFmpegError:
                    self.integrity.decode_errors += 1

    def _take(self, decoded: list) -> None:
        for frame in decoded:
            if isinstance(frame, av.VideoFrame):
                self._add_frame(frame)
            elif self._sound is not None:
                self._blocks.extend(self._sound.add(frame))
                if not self._noted and self.notes:
                    self._noted = True
                    log.warning("%s: %s", self.path.name, self.notes[0])

    @property
    def notes(self) -> list[str]:
        """What the user must know about the sound so far (channels that cancel)."""
        note = None if self._sound is None else self._sound.balance.note()
        return [note] if note else []

    def _add_frame(self, frame: av.VideoFrame) -> None:
        if frame.time is not None:
            t = frame.time - self._origin
        else:  # a raw stream without times: the average rate is all there is
            t = 0.0 if self._last_t == -float("inf") else self._last_t + self._frame_s
        if t <= self._last_t:  # a repeated time: a broken file, not a frame of its own
            return
        if t - self._last_t > HOLE_S and self.integrity.decoded_frames:
            self.integrity.holes.append((self._last_t, t))
        self._last_t = t
        self._frames.append((t, frame))
        self.integrity.decoded_frames += 1
        self.integrity.decoded_s = max(self.integrity.decoded_s, t + self._frame_s)

    def _end(self) -> Exception:
        if self._video is None and self._sound is not None:
            self.integrity.decoded_s = self._sound.end_t
        problem = self.integrity.problem()
        if problem is None:
            return SourceEnded()
        return SourceFailed(f"{self.path.name} is damaged or truncated: {problem}")

    def close(self) -> None:
        self._container.close()


def sound_rate(stream: av.audio.stream.AudioStream | None) -> int | None:
    """The sample rate a sound stream was made at (8000 for a G.711 camera), None without one."""
    if stream is None:
        return None
    return int(stream.rate or stream.codec_context.sample_rate or 0) or None


def narrow_band(rate: int | None) -> bool:
    """Below 16 kHz the sound stops under YAMNet's top mel band (7.5 kHz): G.711 and phones."""
    return rate is not None and rate < AUDIO_RATE


NARROW_BAND = "narrow band"


def describe_rate(rate: int | None) -> str:
    """' (8 kHz, narrow band)', ' (48 kHz)', or '' when the rate is not known."""
    if rate is None:
        return ""
    return f" ({rate / 1000:g} kHz{f', {NARROW_BAND}' if narrow_band(rate) else ''})"


class SoundBlocks:
    """Decoded sound frames in, contiguous 16 kHz mono blocks out, stamped by presentation time."""

    def __init__(self, origin: float) -> None:
        self._origin = origin
        self._resampler: av.AudioResampler | None = None  # keeps the channels: mixed in _push_channels
        self._layout = ""
        self.balance = ChannelBalance()
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        self._start_t: float | None = None  # the time of the next block's first sample
        self._input_end: float | None = None  # where the last decoded frame ended
        self._block_n = int(round(BLOCK_S * AUDIO_RATE))

    @property
    def next_t(self) -> float:
        """No block still to come starts earlier (-inf before the track's first sound)."""
        return -float("inf") if self._start_t is None else self._start_t

    @property
    def end_t(self) -> float:
        return (self._start_t or 0.0) + self._pending_n / AUDIO_RATE

    def add(self, frame: av.AudioFrame) -> list[AudioBlock]:
        t = None if frame.time is None else frame.time - self._origin
        if t is not None and self._start_t is None:
            self._start_t = t
        elif t is not None and self._input_end is not None and t - self._input_end > GAP_FILL_S:
            self._push(np.zeros(int(round((t - self._input_end) * AUDIO_RATE)), np.float32))
        if t is not None:
            self._input_end = t + frame.samples / frame.sample_rate
        elif self._input_end is not None:
            self._input_end += frame.samples / frame.sample_rate
        if self._start_t is None:  # no time yet: the track starts with the session
            self._start_t = 0.0
        if frame.layout.name != self._layout:  # the first frame, or the channels changed
            self._flush_resampler()
            self._resampler = av.AudioResampler(format="fltp", layout=frame.layout.name,
                                                rate=AUDIO_RATE)
            self._layout = frame.layout.name
        for out in self._resampler.resample(frame):
            self._push_channels(out)
        return self._take(final=False)

    def take_partial(self) -> list[AudioBlock]:
        """Whatever is decoded, even less than a block: for a track that lags the frames."""
        return self._take(final=True)

    def flush(self) -> list[AudioBlock]:
        self._flush_resampler()
        return self._take(final=True)

    def _flush_resampler(self) -> None:
        if self._resampler is not None:
            for out in self._resampler.resample(None):
                self._push_channels(out)

    def _push_channels(self, out: av.AudioFrame) -> None:
        channels = out.to_ndarray()
        kept = [i for i, c in enumerate(out.layout.channels) if c.name != "LFE"] or [0]
        mono = channels[kept].mean(axis=0, dtype=np.float32)
        self.balance.add(channels[kept], mono)
        self._push(mono)

    def _push(self, samples: np.ndarray) -> None:
        self._pending.append(samples.astype(np.float32, copy=False))
        self._pending_n += len(samples)

    def _take(self, final: bool) -> list[AudioBlock]:
        if self._start_t is None or self._pending_n < (1 if final else self._block_n):
            return []
        samples = np.concatenate(self._pending)
        if self._start_t < 0:  # sound before the first frame (e.g. encoder priming) is dropped
            skip = min(len(samples), int(round(-self._start_t * AUDIO_RATE)))
            samples, self._start_t = samples[skip:], self._start_t + skip / AUDIO_RATE
        cut = len(samples) if final else len(samples) - len(samples) % self._block_n
        blocks = []
        for at in range(0, cut, self._block_n):
            chunk = np.clip(samples[at:at + self._block_n], -1.0, 1.0)
            blocks.append(AudioBlock(t=self._start_t, samples=chunk, rate=AUDIO_RATE))
            self._start_t += len(chunk) / AUDIO_RATE
        self._pending = [samples[cut:]] if cut < len(samples) else []
        self._pending_n = len(samples) - cut
        return blocks


class ChannelBalance:
    """How much quieter the mono mix is than its channels: the sign of channels that cancel."""

    def __init__(self) -> None:
        self._channels_energy = 0.0  # the channels' mean sum of squares
        self._mono_energy = 0.0
        self._samples = 0
        self._several = False

    def add(self, channels: np.ndarray, mono: np.ndarray) -> None:
        if len(channels) < 2:
            return
        self._several = True
        self._channels_energy += float(np.mean(np.sum(np.square(channels, dtype=np.float64),
                                                      axis=1)))
        self._mono_energy += float(np.sum(np.square(mono, dtype=np.float64)))
        self._samples += channels.shape[1]

    def note(self) -> str | None:
        """A sentence for the user when the channels cancel, else None."""
        if not self._several or self._samples < CANCEL_JUDGED_AFTER_S * AUDIO_RATE:
            return None
        channels_dbfs = 10 * math.log10(max(self._channels_energy / self._samples, 1e-20))
        if channels_dbfs < CANCEL_AUDIBLE_DBFS:
            return None
        loss_db = 10 * math.log10(self._channels_energy / max(self._mono_energy, 1e-20))
        if loss_db < CANCELLED_DB:
            return None
        return (f"the sound's channels cancel when mixed to mono (the mix is {loss_db:.0f} dB "
                "quieter than the channels: left and right in opposite phase?), so the cry cue "
                "hears almost nothing: check the microphone's wiring or record one channel")


def _upright(frame: av.VideoFrame) -> np.ndarray:
    """The frame as BGR, turned as its display matrix says (a phone filmed sideways stores its
    frames turned; `rotation` is counter-clockwise degrees, as FFmpeg's own player turns them).
    Quarter turns only, as phones write; a mirrored matrix is not undone."""
    image = frame.to_ndarray(format="bgr24")
    turns = round((frame.rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _origin(container: av.container.InputContainer) -> float:
    """t=0: the video stream's start (or the container's), shared by all streams."""
    for stream in (*container.streams.video, *container.streams.audio):
        if stream.start_time is not None:
            return float(stream.start_time * stream.time_base)
    return 0.0 if container.start_time is None else container.start_time / av.time_base


def _declared(container: av.container.InputContainer, stream: av.stream.Stream,
              origin: float) -> Integrity:
    """What the container says the main stream holds, to compare with what decodes."""
    if stream.duration is not None:
        declared_s = float(stream.duration * stream.time_base)
    elif stream.type == "audio" and container.streams.video:
        declared_s = 0.0  # the container's length is the picture's: sound may end before it
    elif container.duration is not None:
        declared_s = container.duration / av.time_base - max(origin, 0.0)
    else:
        declared_s = 0.0
    frames = stream.frames if stream.type == "video" else 0
    return Integrity(declared_frames=frames, declared_s=declared_s)
