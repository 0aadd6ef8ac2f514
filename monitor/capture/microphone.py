"""The cot microphone through sounddevice (PortAudio): mono 16 kHz blocks on the session clock.

PortAudio calls `_callback` on its own real-time thread; it only stamps and queues the block
(never blocks, counts what a full queue drops). Stamps come from counting samples (BlockStamper),
not from PortAudio's `inputBufferAdcTime`: through ALSA to PulseAudio, the default path on a
Linux PC, that time was measured 0.26-0.66 s off and stepping 0.2 s per 0.1 s block.
`read_blocks()` turns the queue into `AudioBlock`s at 16 kHz, resampling when the device cannot
record at 16 kHz. A watchdog thread
notices a lost device (the stream stops, or no block for `audio.lost_after_s`) and reopens it
with the camera's back-off (`capture.reconnect_min_s` .. `reconnect_max_s`).

PortAudio lists devices once, when it starts: a device that comes back under another name or
index is found again only under "default" (PulseAudio/PipeWire follow hotplugs), so a ward
that replugs microphones should use "default".
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from monitor.config import AudioSettings, CaptureSettings, Settings
from monitor.errors import MonitorError
from monitor.packets import AudioBlock

RATE = 16000  # the cry model's sample rate
_RESAMPLE_HALF_TAPS = 10  # scipy.signal.resample_poly's default filter: 2 * 10 * max(up, down) + 1 taps


@dataclass
class MicrophoneStatus:
    """What the watchdog, the status line and the technical alarm need from the microphone."""

    connected: bool = True
    detail: str = ""
    reconnects: int = 0
    dropped: int = 0  # blocks lost because nobody read them within audio.buffer_s
    overflows: int = 0  # blocks the sound card flagged as having lost samples before we got them


def parse_input(spec: str) -> str | int | None:
    """`--audio` / `audio.input`: "none" -> None, "default", a device index -> int, else a name."""
    text = spec.strip()
    if not text or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise MonitorError(f"--audio {spec!r}: expected default, a device name or index, or none")
    if text.lower() in ("none", "default"):
        return None if text.lower() == "none" else "default"
    return int(text) if text.isdigit() else text


def import_sounddevice() -> ModuleType:
    """sounddevice, imported only when a microphone is wanted (it loads PortAudio on import)."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise MonitorError(f"the microphone needs sounddevice and PortAudio ({exc}): install the "
                           "system library libportaudio2 (tools/install-system-deps.sh), or run "
                           "with --audio none") from None
    return sounddevice


def _input_devices(sd: Any) -> list[dict]:
    return [dict(info, index=i) for i, info in enumerate(sd.query_devices())
            if info["max_input_channels"] > 0]


def _listing(devices: list[dict]) -> str:
    if not devices:
        return "PortAudio lists no input device"
    return "input devices: " + ", ".join(f"{d['index']} {d['name']!r}" for d in devices)


def resolve_device(sd: Any, device: str | int) -> tuple[int | None, str]:
    """(PortAudio device index or None for the default input, description); MonitorError
    naming the available input devices when there is no such device."""
    devices = _input_devices(sd)
    hint = "; choose one with --audio NAME|INDEX or audio.input, or --audio none"
    if device == "default":
        try:
            info = sd.query_devices(kind="input")
        except (sd.PortAudioError, ValueError):
            raise MonitorError(f"no default microphone ({_listing(devices)}){hint}") from None
        return None, f"microphone {info['name']!r} (default)"
    if isinstance(device, int):
        matches = [d for d in devices if d["index"] == device]
    else:
        wanted = device.lower()
        matches = [d for d in devices if d["name"].lower() == wanted] or [
            d for d in devices if wanted in d["name"].lower()]
    if len(matches) != 1:
        problem = "matches several devices" if matches else "is not an input device here"
        raise MonitorError(f"microphone {device!r} {problem} ({_listing(matches or devices)}){hint}")
    return matches[0]["index"], f"microphone {matches[0]['name']!r} (device {matches[0]['index']})"


class BlockStamper:
    """When a stream started on the session clock, from the sample count and arrival times.

    A block cannot arrive before its last sample was recorded, so every callback bounds the
    start of its run: start <= arrival - samples so far / rate. The estimate is the tightest
    bound seen (the least-delayed callback), which jitter and bursts only loosen, allowed to creep
    later by DRIFT_PER_S of elapsed time so that a device clock slower than the session clock is
    followed. A run is an unbroken stretch of samples; `restart` begins a new one (a new stream,
    or samples lost to an overflow). Written on PortAudio's thread, read on the reader's:
    `anchor` is replaced whole, never changed in place."""

    DRIFT_PER_S = 1e-3  # 1000 ppm: far beyond a sound card's crystal, far below a block's length

    def __init__(self) -> None:
        self.anchor: tuple[int, float] = (0, 0.0)  # (run, start of that run on the session clock)
        self.rate = RATE
        self._count = 0
        self._last_arrival = 0.0

    def restart(self, rate: int | None = None) -> None:
        self.rate = rate or self.rate
        self.anchor = (self.anchor[0] + 1, math.inf)
        self._count = 0

    def take(self, arrival: float, frames: int) -> tuple[int, int, float]:
        """(run, index of the block's first sample in the run, its time by what is known now)."""
        run, start = self.anchor
        bound = arrival - (self._count + frames) / self.rate
        if math.isinf(start):
            start = bound
        else:
            start = min(bound, start + self.DRIFT_PER_S * max(0.0, arrival - self._last_arrival))
        self.anchor = (run, start)
        first, self._count = self._count, self._count + frames
        self._last_arrival = arrival
        return run, first, start + first / self.rate


class StreamResampler:
    """resample_poly for a stream: block by block, the same samples as resampling the whole
    recording at once (no clicks at block edges), at the cost of the filter's half length
    (about 0.6 ms) of delay."""

    def __init__(self, rate_in: int, rate_out: int = RATE) -> None:
        self.rate_in = rate_in
        g = math.gcd(rate_in, rate_out)
        self.up, self.down = rate_out // g, rate_in // g
        self._half = _RESAMPLE_HALF_TAPS * max(self.up, self.down)  # at the upsampled rate
        self.reset()

    def reset(self) -> None:
        """Start a new recording: the next sample is sample 0."""
        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_start = 0  # input index of _buf[0]; always a multiple of down
        self.n_in = 0  # input samples taken
        self.n_out = 0  # output samples given

    def push(self, x: np.ndarray) -> np.ndarray:
        """Take input samples; return every output sample whose filter now has all its input."""
        self._buf = np.concatenate([self._buf, np.asarray(x, dtype=np.float32)])
        self.n_in += len(x)
        # output k needs inputs up to (k * down + half) / up
        last = ((self.n_in - 1) * self.up - self._half) // self.down
        if last < self.n_out:
            return np.zeros(0, dtype=np.float32)
        y = resample_poly(self._buf, self.up, self.down)
        first_of_buf = self._buf_start * self.up // self.down
        out = y[self.n_out - first_of_buf:last + 1 - first_of_buf].astype(np.float32)
        self.n_out = last + 1
        keep_from = max(self._buf_start, (self.n_out * self.down - self._half) // self.up)
        keep_from -= keep_from % self.down
        self._buf = self._buf[keep_from - self._buf_start:]
        self._buf_start = keep_from
        return out


class Microphone:
    """One input device as a stream of AudioBlocks on the session clock; reconnects by itself."""

    live = True
    JUMP_S = 0.02  # a contiguous block's stamp moves on only when the estimate is this much later

    def __init__(self, device: str | int, sd: Any, clock: Callable[[], float],
                 audio: AudioSettings, capture: CaptureSettings) -> None:
        self._device = device
        self._sd = sd
        self._clock = clock
        self._audio = audio
        self._capture = capture
        self._status = MicrophoneStatus()
        self._status_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, math.ceil(audio.buffer_s / audio.block_s)))
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._stream: Any = None
        self._generation = 0  # which opened stream may still report that it finished
        self._rate = RATE  # the open stream's rate
        self._stamper = BlockStamper()
        self._expected: tuple[int, int] | None = None  # (run, sample) the next block should start at
        self._resampler: StreamResampler | None = None  # read_blocks' own state from here on
        self._expected_t: float | None = None  # session time the previous block ended at
        self._last_block = clock()
        try:
            self._open()
        except sd.PortAudioError as exc:
            raise MonitorError(f"cannot open {self.description}: {exc}; check that it is connected "
                               f"and not in use ({_listing(_input_devices(sd))}), or run with "
                               "--audio none") from None
        self._watchdog = threading.Thread(target=self._watch, name="microphone", daemon=True)
        self._watchdog.start()

    def _open(self) -> None:
        """Open and start the stream at 16 kHz, else at the device's own rate (then resampled)."""
        index, self.description = resolve_device(self._sd, self._device)
        info = self._sd.query_devices(index, "input")
        rates = [RATE] + [r for r in (round(info["default_samplerate"]),) if r != RATE]
        error: Exception | None = None
        for rate in rates:
            self._generation += 1
            try:
                stream = self._sd.InputStream(
                    device=index, channels=1, samplerate=rate, dtype="float32",
                    blocksize=max(1, round(self._audio.block_s * rate)),
                    callback=self._callback, finished_callback=self._finisher(self._generation))
            except self._sd.PortAudioError as exc:
                error = exc
                continue
            self._rate = rate
            self._stamper.restart(rate)
            self._finished.clear()
            self._last_block = self._clock()
            try:
                stream.start()
            except self._sd.PortAudioError as exc:
                stream.close()
                error = exc
                continue
            self._stream = stream
            return
        raise error

    def _finisher(self, generation: int) -> Callable[[], None]:
        """A stream that stops by itself (device gone, driver error) wakes the watchdog; one we
        closed ourselves does not."""
        def finished() -> None:
            if generation == self._generation:
                self._finished.set()
        return finished

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: place the block in its run of samples, queue it."""
        now = self._clock()
        if status.input_overflow:  # samples were lost before this block: the count restarts
            self._status.overflows += 1
            self._stamper.restart()
        run, first, t = self._stamper.take(now, frames)
        self._last_block = now
        try:
            self._queue.put_nowait((run, first, t, indata[:, 0].copy(), self._rate))
        except queue.Full:
            self._status.dropped += 1

    def read_blocks(self) -> list[AudioBlock]:
        """Every block recorded since the last call, oldest first, at 16 kHz; never waits.

        Stamps use the best estimate of the run's start known now. Blocks that follow each other
        without a lost sample are contiguous and are stamped so, unless the estimate moved later
        by more than JUMP_S (a slow device clock); sound after a loss (a full queue, an overflow,
        a reconnect) starts where it was recorded. Time never runs backwards."""
        blocks = []
        while True:
            try:
                run, first, t, samples, rate = self._queue.get_nowait()
            except queue.Empty:
                return blocks
            anchor_run, start = self._stamper.anchor
            if anchor_run == run and not math.isinf(start):
                t = start + first / rate
            span = len(samples) / rate
            follows = self._expected == (run, first)
            if follows and t - self._expected_t <= self.JUMP_S:
                t = self._expected_t
            else:
                t = max(t, self._expected_t if self._expected_t is not None else -math.inf)
                if self._resampler is not None and not follows:
                    self._resampler.reset()
            self._expected = (run, first + len(samples))
            self._expected_t = t + span
            if rate == RATE:
                self._resampler = None
            elif self._resampler is None or self._resampler.rate_in != rate:
                self._resampler = StreamResampler(rate)
            if self._resampler is None:
                out, t_out = samples, t
            else:
                first_in = self._resampler.n_out * self._resampler.down / self._resampler.up
                offset = (first_in - self._resampler.n_in) / rate
                out, t_out = self._resampler.push(samples), t + offset
            if len(out):
                blocks.append(AudioBlock(t=t_out, samples=out.astype(np.float32), rate=RATE))

    def _lost(self) -> str | None:
        try:
            stopped = self._finished.is_set() or not self._stream.active
        except self._sd.PortAudioError:
            stopped = True
        if stopped:
            return "the sound stream stopped"
        silent = self._clock() - self._last_block
        if silent >= self._audio.lost_after_s:
            return f"no sound for {silent:.1f} s"
        return None

    def _watch(self) -> None:
        poll = min(0.1, self._audio.lost_after_s / 4)
        while not self._stop.wait(poll):
            why = self._lost()
            if why is not None:
                self._reconnect(f"{self.description} lost: {why}")

    def _reconnect(self, why: str) -> None:
        with self._status_lock:
            self._status.connected = False
            self._status.detail = f"{why}; reconnecting"
        self._close_stream()
        delay = self._capture.reconnect_min_s
        while not self._stop.wait(delay):
            try:
                self._open()
            except (self._sd.PortAudioError, MonitorError) as exc:
                with self._status_lock:
                    self._status.detail = f"{why}; reconnecting ({exc})"
                delay = min(delay * 2, self._capture.reconnect_max_s)
                continue
            with self._status_lock:
                self._status.connected = True
                self._status.detail = ""
                self._status.reconnects += 1
            return

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort()
            stream.close()
        except self._sd.PortAudioError:
            pass  # a device that is gone cannot be stopped cleanly; it is closed either way

    def status(self) -> MicrophoneStatus:
        with self._status_lock:
            return replace(self._status)

    def close(self) -> None:
        self._stop.set()
        if self._watchdog.is_alive():
            self._watchdog.join()
        self._close_stream()


def open_microphone(spec: str, clock: Callable[[], float], settings: Settings,
                    sd_module: ModuleType | None = None) -> Microphone | None:
    """The microphone `spec` names (default | NAME | INDEX), or None for "none".

    `sd_module` stands in for sounddevice in tests; by default sounddevice is imported here."""
    device = parse_input(spec)
    if device is None:
        return None
    sd = sd_module if sd_module is not None else import_sounddevice()
    return Microphone(device, sd, clock, settings.audio, settings.capture)
