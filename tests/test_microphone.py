"""The cot microphone: blocks on the session clock, resampling, a lost device and its return.

This machine has no microphone, so sounddevice is replaced by tests/fake_sounddevice.py (same
calls, a real recording played in real time); everything else is the shipped code.
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np
import pytest
from scipy.signal import resample_poly

from monitor.capture.microphone import (
    BlockStamper,
    Microphone,
    StreamResampler,
    import_sounddevice,
    open_microphone,
    parse_input,
)
from monitor.config import Settings
from monitor.errors import MonitorError
from tests.audio_material import at_16k, decode, esc10_clips
from tests.fake_sounddevice import STREAM_CLOCK_ORIGIN, FakeDevice, FakeSoundDevice


def wait_for(condition, timeout: float, poll: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return condition()


@pytest.fixture(scope="module")
def cry_44k(shared_data):
    samples, rate = decode(esc10_clips(shared_data, infant_cry=True)[0])
    return samples, rate


def settings(**audio) -> Settings:
    return Settings(audio={"lost_after_s": 1.0, **audio},
                    capture={"reconnect_min_s": 0.1, "reconnect_max_s": 1.0})


class SessionClock:
    """Seconds since the session began (time.monotonic underneath, as in the monitor)."""

    def __init__(self) -> None:
        self.origin = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.origin

    def of_stream_time(self, t: float) -> float:
        """A time on the fake PortAudio clock, on this clock."""
        return t - STREAM_CLOCK_ORIGIN - self.origin


def session_clock() -> SessionClock:
    return SessionClock()


def collect(mic: Microphone, seconds: float) -> list:
    blocks: list = []
    wait_for(lambda: blocks.extend(mic.read_blocks()) or sum(b.duration for b in blocks) >= seconds,
             timeout=seconds + 10)
    return blocks


def assert_contiguous(blocks) -> None:
    for before, after in itertools.pairwise(blocks):
        assert after.t == pytest.approx(before.t + before.duration, abs=1e-9)


def test_blocks_are_the_recording_stamped_on_the_session_clock(cry_44k):
    signal = at_16k(*cry_44k)
    sd = FakeSoundDevice([FakeDevice("USB cot mic", signal)])
    clock = session_clock()
    opened_at = clock()
    mic = open_microphone("default", clock, settings(), sd_module=sd)
    try:
        blocks = collect(mic, 1.0)
        read_at = clock()
    finally:
        mic.close()
    assert {b.rate for b in blocks} == {16000}
    assert_contiguous(blocks)
    heard = np.concatenate([b.samples for b in blocks])
    np.testing.assert_array_equal(heard, signal[:len(heard)])
    # the first sample was recorded after the microphone opened; none is stamped in the future
    assert opened_at <= blocks[0].t < read_at
    assert blocks[-1].t + blocks[-1].duration <= read_at + 1e-6
    assert mic.status().connected and mic.status().dropped == 0


@pytest.mark.parametrize("burst", [1, 4])
def test_stamps_are_when_the_sound_was_recorded_even_when_blocks_come_in_bursts(cry_44k, burst):
    """A host with large buffers hands over several blocks at once, late: stamps still say when
    each block was recorded (within one 0.1 s block; the cry model's hop is 0.48 s)."""
    device = FakeDevice("USB cot mic", at_16k(*cry_44k), burst=burst)
    clock = session_clock()
    mic = open_microphone("default", clock, settings(block_s=0.1), sd_module=FakeSoundDevice([device]))
    try:
        blocks = collect(mic, 2.0)
    finally:
        mic.close()
    assert_contiguous(blocks)
    recorded = [clock.of_stream_time(t) for t in device.recorded[:len(blocks)]]
    errors = [abs(b.t - truth) for b, truth in zip(blocks, recorded)]
    assert max(errors) <= 0.1, errors


def test_a_device_without_16k_is_recorded_at_its_own_rate_and_resampled(cry_44k):
    samples, rate = cry_44k
    device = FakeDevice("HDA Intel PCH: ALC257 Analog (hw:0,0)", samples, rates=(rate,))
    mic = open_microphone("0", session_clock(), settings(), sd_module=FakeSoundDevice([device]))
    try:
        blocks = collect(mic, 1.0)
    finally:
        mic.close()
    assert device.opened == [rate]  # 16 kHz refused by the device, then its own rate
    assert_contiguous(blocks)
    heard = np.concatenate([b.samples for b in blocks])
    whole = at_16k(samples, rate)
    np.testing.assert_allclose(heard, whole[:len(heard)], atol=1e-5)


@pytest.mark.parametrize("how", ["error", "silent"])
def test_an_unplugged_microphone_is_lost_then_found_again(cry_44k, how):
    device = FakeDevice("USB cot mic", at_16k(*cry_44k))
    clock = session_clock()
    config = settings()
    mic = open_microphone("USB cot mic", clock, config, sd_module=FakeSoundDevice([device]))
    try:
        before = collect(mic, 0.5)
        device.unplug(how)
        unplugged_at = clock()
        assert wait_for(lambda: not mic.status().connected, timeout=config.audio.lost_after_s + 5)
        lost = mic.status()
        assert "lost" in lost.detail and "reconnecting" in lost.detail
        if how == "silent":  # no callback, no error: only the silence tells
            assert clock() - unplugged_at >= config.audio.lost_after_s - 0.1 - 1e-6
            assert "no sound for" in lost.detail
        before += mic.read_blocks()
        time.sleep(0.3)  # reconnect attempts fail while it is out
        assert not mic.status().connected
        device.plug()
        plugged_at = clock()
        assert wait_for(lambda: mic.status().connected, timeout=config.capture.reconnect_max_s + 5)
        after = collect(mic, 0.3)
    finally:
        mic.close()
    assert mic.status().reconnects == 1 and mic.status().detail == ""
    assert_contiguous(before)
    assert_contiguous(after)
    # the gap is kept: sound after the return is stamped after the return
    assert after[0].t >= plugged_at - 0.2 > before[-1].t + before[-1].duration


def test_a_reader_that_falls_behind_loses_the_oldest_sound_and_says_so(cry_44k):
    mic = open_microphone("default", session_clock(), settings(buffer_s=1.0, block_s=0.1),
                          sd_module=FakeSoundDevice([FakeDevice("mic", at_16k(*cry_44k))]))
    try:
        assert wait_for(lambda: mic.status().dropped > 0, timeout=10)
        blocks = mic.read_blocks()
    finally:
        mic.close()
    assert sum(b.duration for b in blocks) <= 1.0 + 0.1 + 1e-9  # the queue held at most buffer_s
    assert mic.status().connected


def devices_of_a_laptop(signal: np.ndarray) -> FakeSoundDevice:
    return FakeSoundDevice([
        FakeDevice("HDA Intel PCH: ALC257 Analog (hw:0,0)", signal, rates=(44100, 48000)),
        FakeDevice("HDA Intel PCH: HDMI 0 (hw:0,3)", None),
        FakeDevice("USB PnP Sound Device: Audio (hw:1,0)", signal, rates=(48000,)),
        FakeDevice("default", signal, rates=(48000, 16000)),
    ], default_input=3)


def test_devices_are_chosen_by_name_part_of_a_name_or_index(cry_44k):
    sd = devices_of_a_laptop(cry_44k[0])
    for spec, expected in [("default", 3), ("USB PnP", 2), ("usb pnp sound device: audio (hw:1,0)", 2),
                           ("0", 0)]:
        mic = open_microphone(spec, session_clock(), settings(), sd_module=sd)
        mic.close()
        assert sd.devices[expected].opened, spec
        assert str(expected) in mic.description or spec == "default"


@pytest.mark.parametrize("spec,problem", [
    ("Blue Yeti", "is not an input device"), ("1", "is not an input device"),
    ("7", "is not an input device"), ("hw:", "matches several devices")])
def test_an_unknown_microphone_is_refused_with_the_inputs_there_are(cry_44k, spec, problem):
    with pytest.raises(MonitorError, match=problem) as err:
        open_microphone(spec, session_clock(), settings(), sd_module=devices_of_a_laptop(cry_44k[0]))
    assert "'USB PnP Sound Device: Audio (hw:1,0)'" in str(err.value)
    assert "--audio none" in str(err.value)
    if problem == "is not an input device":  # the output-only HDMI device is not offered
        assert "HDMI" not in str(err.value)


def test_a_microphone_that_cannot_be_opened_at_start_is_refused(cry_44k):
    device = FakeDevice("USB cot mic", at_16k(*cry_44k), plugged=False)
    with pytest.raises(MonitorError, match="cannot open microphone 'USB cot mic'"):
        open_microphone("default", session_clock(), settings(), sd_module=FakeSoundDevice([device]))


def test_no_default_microphone_is_refused():
    sd = FakeSoundDevice([FakeDevice("HDMI", None)], default_input=None)
    with pytest.raises(MonitorError, match="no default microphone"):
        open_microphone("default", session_clock(), settings(), sd_module=sd)


def test_none_means_no_microphone_and_needs_no_portaudio():
    assert open_microphone("none", session_clock(), settings(), sd_module=None) is None
    assert open_microphone(" None ", session_clock(), settings(), sd_module=None) is None


@pytest.mark.parametrize("spec", ["", "  ", "mic\nrm -rf", "mic\x1b[2J"])
def test_blank_or_control_characters_are_refused(spec):
    with pytest.raises(MonitorError, match="expected default, a device name or index, or none"):
        parse_input(spec)


def test_missing_portaudio_gives_an_actionable_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # what a failed import looks like
    with pytest.raises(MonitorError, match="libportaudio2.*--audio none"):
        import_sounddevice()


@pytest.mark.parametrize("rate", [44100, 48000, 22050, 8000])
def test_resampling_block_by_block_equals_resampling_the_whole_recording(cry_44k, rate):
    samples, native = cry_44k
    recording = samples if rate == native else resample_poly(samples, rate, native).astype(np.float32)
    resampler = StreamResampler(rate)
    rng = np.random.default_rng(rate)
    cuts = np.sort(rng.choice(np.arange(1, len(recording)), size=60, replace=False))
    streamed = np.concatenate([resampler.push(piece) for piece in np.split(recording, cuts)])
    whole = at_16k(recording, rate)
    # only the last half-length of resample_poly's filter (10 * max(up, down) taps) is still held
    held = 10 * max(resampler.up, resampler.down) / resampler.down
    assert 0 <= len(whole) - len(streamed) <= held + 1
    np.testing.assert_allclose(streamed, whole[:len(streamed)], atol=1e-6)


@pytest.mark.parametrize("ppm", [-300.0, 0.0, 300.0])
def test_stamps_follow_a_sound_card_clock_that_drifts(ppm):
    """Ten minutes of 0.1 s blocks from a card whose crystal is off by `ppm`, handed over late by
    a random delay (5 ms plus up to 300 ms bursts): stamps stay within the least delay seen of
    when each block was really recorded."""
    rng = np.random.default_rng(7)
    frames, nominal = 1600, 16000
    true_rate = nominal * (1 - ppm * 1e-6)
    stamper = BlockStamper()
    stamper.restart(nominal)
    worst = 0.0
    for k in range(6000):
        recorded = 5.0 + k * frames / true_rate
        delay = 0.005 + rng.exponential(0.01) + (0.3 if rng.random() < 0.02 else 0.0)
        _, first, t = stamper.take(recorded + frames / true_rate + delay, frames)
        assert first == k * frames
        worst = max(worst, abs(t - recorded))
    assert worst <= 0.05
