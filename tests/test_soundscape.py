"""The synthesised NICU bed and the camera's sound path (monitor/training/soundscape.py).

G.711 is checked against FFmpeg's own pcm_mulaw / pcm_alaw codecs (through PyAV); the alarm
melodies against the IEC 60601-1-8 rules they are made from; levels against their definitions.
"""

from __future__ import annotations

import av
import numpy as np
import pytest
from scipy.signal import welch

from monitor.paths import ASSETS_DIR
from monitor.training import soundscape as nicu


def ffmpeg_g711(samples: np.ndarray, law: str) -> tuple[np.ndarray, np.ndarray]:
    """(codes, decoded floats) of 8 kHz float samples through FFmpeg's encoder and decoder."""
    pcm = np.clip(np.round(samples * 32768), -32768, 32767).astype(np.int16)
    encoder = av.CodecContext.create(f"pcm_{law}", "w")
    encoder.sample_rate, encoder.format, encoder.layout = 8000, "s16", "mono"
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = 8000
    data = b"".join(bytes(p) for p in [*encoder.encode(frame), *encoder.encode(None)])
    decoder = av.CodecContext.create(f"pcm_{law}", "r")
    decoder.sample_rate, decoder.layout = 8000, "mono"
    decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in decoder.decode(av.Packet(data))])
    return np.frombuffer(data, np.uint8), decoded.astype(np.float64) / 32768


@pytest.mark.parametrize("law", ["mulaw", "alaw"])
def test_g711_decodes_as_ffmpeg_and_encodes_within_one_step(law):
    rng = np.random.default_rng(7)
    x = np.clip(rng.standard_normal(8000) * 0.2, -1, 1)
    x[:200] = np.linspace(-1, 1, 200)  # every segment, both signs, full scale
    codes, decoded = ffmpeg_g711(x, law)
    encode = nicu.mulaw_encode if law == "mulaw" else nicu.alaw_encode
    decode = nicu.mulaw_decode if law == "mulaw" else nicu.alaw_decode
    np.testing.assert_array_equal(decode(codes), decoded.astype(np.float32))  # bit exact
    mine = decode(encode(x)).astype(np.float64)
    # FFmpeg and the segment algorithm may round a sample to the neighbouring code; never further
    step = np.abs(np.diff(np.sort(np.unique(decode(np.arange(256, dtype=np.uint8))))))
    assert np.max(np.abs(mine - decoded)) <= step.max() + 1e-9
    # G.711 keeps about 38 dB SNR on speech-level sound (8 bits, logarithmic)
    loud = np.abs(x) > 0.01
    snr = 10 * np.log10(np.sum(x[loud] ** 2) / np.sum((mine[loud] - x[loud]) ** 2))
    assert snr > 30


def test_the_narrow_band_path_removes_everything_above_4_khz():
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(nicu.RATE * 2) * 0.1).astype(np.float32)
    for band in ("mulaw", "alaw", "lowpass_4k", "telephone"):
        f, power = welch(nicu.band_limited(noise, band), fs=nicu.RATE, nperseg=1024)
        below, above = power[(f > 500) & (f < 3000)].mean(), power[(f > 4500) & (f < 7500)].mean()
        assert 10 * np.log10(below / above) > 25, band
    f, power = welch(nicu.band_limited(noise, "full"), fs=nicu.RATE, nperseg=1024)
    assert 10 * np.log10(power[(f > 500) & (f < 3000)].mean() / power[(f > 4500) & (f < 7500)].mean()) < 3


def test_alarm_melodies_follow_iec_60601_1_8():
    """Pulses of 75-250 ms whose fundamental is 150-1000 Hz (up to 8 semitones of melody) with at
    least four harmonics within 15 dB of it."""
    for seed in range(5):
        rng = np.random.default_rng(seed)
        x = nicu.alarm_melody(rng, 12.0)
        levels = nicu.frame_levels(x, 160)
        on = np.r_[False, levels > levels.max() - 20, False].astype(int)  # 10 ms frames
        starts, ends = np.flatnonzero(np.diff(on) == 1), np.flatnonzero(np.diff(on) == -1)
        assert len(starts) >= 3
        widths = (ends - starts) * 0.01
        assert np.all((widths > 0.05) & (widths < 0.27))
        pulse = x[(starts[0] + 2) * 160:(ends[0] - 2) * 160]
        spectrum = np.abs(np.fft.rfft(pulse * np.hanning(pulse.size), 1 << 16))
        freqs = np.fft.rfftfreq(1 << 16, 1 / nicu.RATE)
        f0 = freqs[np.argmax(spectrum * (freqs < 1000 * 2 ** (8 / 12) + 20))]
        assert 150 - 5 <= f0 <= 1000 * 2 ** (7 / 12) + 5
        peak = spectrum.max()
        strong = [k for k in range(2, 9) if k * f0 < 7900 and
                  spectrum[np.abs(freqs - k * f0) < 8].max() >= peak * 10 ** (-15.5 / 20)]
        assert len(strong) >= 3  # fundamental + >= 3 more = at least four components


def test_a_bed_is_at_its_level_with_events_over_it(shared_data):
    sounds = nicu.bed_sounds(shared_data, ASSETS_DIR, other_folds=(1,))
    scene = nicu.bed(np.random.default_rng(3), 120.0, sounds, events_per_minute=0)
    assert nicu.rms_dbfs(scene.samples) == pytest.approx(nicu.BED_DBFS, abs=0.1)
    busy = nicu.bed(np.random.default_rng(3), 120.0, sounds, events_per_minute=6)
    assert len(busy.events) >= 4
    assert nicu.rms_dbfs(busy.samples) > nicu.BED_DBFS + 3


def test_a_cry_track_is_at_the_cot_level_with_breaths(shared_data):
    clips = [c.samples for c in nicu.donateacry(shared_data)[:4]]
    track, active = nicu.cry_track(np.random.default_rng(0), clips, 30.0)
    assert track.size == 30 * nicu.RATE
    assert nicu.active_level(track) == pytest.approx(nicu.COT_CRY_DBFS, abs=1.5)
    assert 0.2 < active.mean() < 0.98  # crying, and pausing between (these phone clips: ~40 %)
    background = np.random.default_rng(1).standard_normal(track.size).astype(np.float32) * 0.01
    mix = nicu.mixed(track, background, 5.0)
    noise = mix - track
    assert nicu.active_level(track) - nicu.rms_dbfs(noise) == pytest.approx(5.0, abs=0.05)
