"""Network camera sound (issue 22 item 4): G.711 at 8 kHz, AAC at 16 and 48 kHz, stereo.

The files are built here with PyAV (FFmpeg's own pcm_mulaw, pcm_alaw and aac encoders) from a
real phone-recorded cry of the shared data, the way a camera's recording or stream carries it;
they are read by the same MediaReader path as every file and stream, and must come out as the
cry stage's 16 kHz mono, on time, with the source's own rate known and recorded.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from monitor.capture.base import SourceEnded
from monitor.capture.media import MediaReader, describe_rate, narrow_band
from monitor.packets import AudioBlock
from monitor.training import soundscape as nicu
from tests.camera_clips import write_camera_file

SECONDS = 6.0
MAX_LAG = 160  # 10 ms: the sound may be shifted by a codec's delay, no more
CODECS = [  # (container, codec, rate, channels)
    ("mov", "pcm_mulaw", 8000, 1),
    ("mov", "pcm_alaw", 8000, 1),
    ("mp4", "aac", 16000, 1),
    ("mp4", "aac", 48000, 2),
]


def cry_16k(shared_data: Path) -> np.ndarray:
    clip = nicu.donateacry(shared_data)[0].samples  # 8 kHz phone recording, upsampled
    return nicu.at_level(clip[:int(SECONDS * nicu.RATE)], -20.0)


def sound_of(path: Path) -> tuple[MediaReader, np.ndarray, float]:
    reader, blocks = MediaReader(path, video=True, audio=True), []
    try:
        while True:
            item = next(reader)
            if isinstance(item, AudioBlock):
                blocks.append(item)
    except SourceEnded:
        reader.close()
    assert {b.rate for b in blocks} == {16000}
    return reader, np.concatenate([b.samples for b in blocks]), blocks[0].t


@pytest.mark.parametrize("container,codec,rate,channels", CODECS)
def test_camera_sound_arrives_as_the_cry_stages_16_khz_on_time(tmp_path, shared_data, container,
                                                               codec, rate, channels):
    cry = cry_16k(shared_data)
    path = tmp_path / f"camera.{container}"
    write_camera_file(path, cry, codec, rate, channels)
    reader, heard, first_t = sound_of(path)
    assert reader.audio_rate == rate
    assert narrow_band(reader.audio_rate) == (rate == 8000)
    assert abs(first_t) < 0.05
    assert heard.size / 16000 == pytest.approx(SECONDS, abs=0.1)
    # the same cry: aligned (AAC's priming is trimmed to within a few ms), band-limited only
    reference = nicu.band_limited(cry, "lowpass_4k") if rate == 8000 else cry
    reference = reference * (0.75 if channels == 2 else 1.0)  # the mean of a channel and its half
    n = min(heard.size, cry.size) - 2 * MAX_LAG
    lags = range(-MAX_LAG, MAX_LAG + 1)
    lag = max(lags, key=lambda k: float(np.dot(heard[MAX_LAG:MAX_LAG + n],
                                              reference[MAX_LAG + k:MAX_LAG + k + n])))
    a, b = heard[MAX_LAG:MAX_LAG + n], reference[MAX_LAG + lag:MAX_LAG + lag + n]
    correlation = float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))
    assert correlation > 0.9
    assert nicu.rms_dbfs(a) == pytest.approx(nicu.rms_dbfs(b), abs=1.5)


def test_the_rate_is_said_with_the_source():
    assert describe_rate(8000) == " (8 kHz, narrow band)"
    assert describe_rate(16000) == " (16 kHz)"
    assert describe_rate(44100) == " (44.1 kHz)"
    assert describe_rate(None) == ""
