"""A stand-in for the sounddevice module where this machine has no microphone.

Shaped like sounddevice 0.5: `query_devices(device=None, kind=None)`, `InputStream(device=,
channels=, samplerate=, dtype=, blocksize=, callback=, finished_callback=)` whose callback runs on
the stream's own thread with (indata (frames, 1) float32, frames, time_info with
inputBufferAdcTime / currentTime / outputBufferDacTime on the stream's clock, CallbackFlags-like
status), `start/stop/abort/close`, `active`, and `PortAudioError`. The device plays a given
recording in real time, looping, and can be unplugged and plugged back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

STREAM_CLOCK_ORIGIN = 1000.0  # PortAudio's clock has its own origin: never the session clock's


class PortAudioError(Exception):
    """Like sounddevice.PortAudioError: (message, PaErrorCode)."""


@dataclass
class FakeFlags:
    input_overflow: bool = False
    input_underflow: bool = False


@dataclass
class FakeDevice:
    name: str
    signal: np.ndarray | None = None  # float32 mono at the first rate; None: output only
    rates: tuple[int, ...] = (16000,)
    plugged: bool = True
    gone: str = "error"  # how an unplug shows: "error" (the stream stops) or "silent" (no callbacks)
    burst: int = 1  # blocks handed over per callback round, as hosts with large buffers do
    position: int = 0
    opened: list[int] = field(default_factory=list)  # sample rate of every stream opened
    recorded: list[float] = field(default_factory=list)  # stream time of each block's 1st sample

    def unplug(self, how: str = "error") -> None:
        self.gone = how
        self.plugged = False

    def plug(self) -> None:
        self.plugged = True


def stream_time() -> float:
    return time.monotonic() + STREAM_CLOCK_ORIGIN


class FakeInputStream:
    def __init__(self, sd: FakeSoundDevice, device: int | None, channels: int, samplerate: float,
                 dtype: str, blocksize: int, callback: Callable,
                 finished_callback: Callable[[], None] | None = None) -> None:
        index = sd.default_input if device is None else device
        if index is None or not 0 <= index < len(sd.devices):
            raise PortAudioError("Error querying device -1", -9996)
        self.device = sd.devices[index]
        if not self.device.plugged:
            raise PortAudioError("Error opening InputStream: Device unavailable", -9985)
        if self.device.signal is None or channels != 1 or dtype != "float32":
            raise PortAudioError("Error opening InputStream: Invalid number of channels", -9998)
        if int(samplerate) not in self.device.rates:
            raise PortAudioError("Error opening InputStream: Invalid sample rate", -9997)
        self.device.opened.append(int(samplerate))
        self.samplerate = float(samplerate)
        self.blocksize = blocksize
        self._callback = callback
        self._finished = finished_callback
        self._stop = threading.Event()
        self._active = False
        self._thread: threading.Thread | None = None
        self.closed = False

    @property
    def active(self) -> bool:
        return self._active

    @property
    def time(self) -> float:
        return stream_time()

    def start(self) -> None:
        self._active = True
        self._thread = threading.Thread(target=self._run, daemon=True, name="fake-portaudio")
        self._thread.start()

    def _run(self) -> None:
        frames, rate = self.blocksize, self.samplerate
        started = stream_time()
        signal = self.device.signal
        block = 0
        while not self._stop.is_set():
            adc = started + block * frames / rate
            round_end = (block // self.device.burst + 1) * self.device.burst
            delay = started + round_end * frames / rate - stream_time()
            if delay > 0 and self._stop.wait(delay):
                break
            if not self.device.plugged:
                if self.device.gone == "error":
                    self._active = False
                    if self._finished:
                        self._finished()
                    return
                self._stop.wait(0.01)
                continue
            pos = self.device.position
            take = np.take(signal, np.arange(pos, pos + frames), mode="wrap")
            self.device.position = (pos + frames) % len(signal)
            self.device.recorded.append(adc)
            info = SimpleNamespace(inputBufferAdcTime=adc, currentTime=stream_time(),
                                   outputBufferDacTime=0.0)
            self._callback(take.astype(np.float32).reshape(frames, 1), frames, info, FakeFlags())
            block += 1

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        if self._active and self._finished:
            self._finished()
        self._active = False

    def stop(self) -> None:
        self._halt()

    def abort(self) -> None:
        self._halt()

    def close(self) -> None:
        self._halt()
        self.closed = True


class FakeSoundDevice:
    """The module: `sd.query_devices`, `sd.InputStream`, `sd.PortAudioError`."""

    PortAudioError = PortAudioError

    def __init__(self, devices: list[FakeDevice], default_input: int | None = 0) -> None:
        self.devices = devices
        self.default_input = default_input

    def _info(self, index: int) -> dict:
        d = self.devices[index]
        return {"name": d.name, "index": index, "hostapi": 0,
                "max_input_channels": 0 if d.signal is None else 2,
                "max_output_channels": 2 if d.signal is None else 0,
                "default_samplerate": float(d.rates[0])}

    def query_devices(self, device: int | str | None = None, kind: str | None = None):
        if device is None and kind is None:
            return [self._info(i) for i in range(len(self.devices))]
        index = self.default_input if device is None else device
        if index is None:
            raise PortAudioError(f"Error querying device {-1}")
        if isinstance(index, str):
            raise NotImplementedError("the fake resolves indices only")
        info = self._info(index)
        if kind and info[f"max_{kind}_channels"] < 1:
            raise ValueError(f"Not an {kind} device: {info['name']!r}")
        return info

    def InputStream(self, **kwargs) -> FakeInputStream:
        return FakeInputStream(self, **kwargs)
