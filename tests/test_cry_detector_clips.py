"""The cry cue of issue 22 through the whole pipeline, on clips built from real cries of the
validation installations (never trained on) over a synthesised NICU bed (soundscape.py).

- a faceless camera clip with sustained crying at SNR 5 dB, as a G.711 camera (mu-law, 8 kHz)
  and full band (AAC 16 kHz), raises CRYING within 15 s of the first cry sound;
- a calm, awake face in view (the shared laughing infant) while another infant's cry is heard
  10 dB below this cot's cry level raises no CRYING and no medium PAIN, and the record says the
  cry was another infant's (CUE cry_nearby).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from monitor.config import Settings, StoreSettings
from monitor.paths import ASSETS_DIR
from monitor.pipeline.runner import OneSourcePipeline
from monitor.training import cry_detector as data
from monitor.training import soundscape as nicu
from tests import photo_clips
from tests.camera_clips import write_camera_file
from tests.cue_clips import write_clip

pytestmark = pytest.mark.slow

LEAD_IN_S, CRY_S, TAIL_S = 10.0, 30.0, 5.0
SNR_DB = 5.0
CRYING_WITHIN_S = 15.0  # issue 22: CRYING within 15 s of the start of sustained crying


@pytest.fixture(scope="module")
def material(shared_data):
    return data.training_material(shared_data, ASSETS_DIR)


def faceless_sound(material, seed: int) -> tuple[np.ndarray, float]:
    """(bed, then crying from LEAD_IN_S, at SNR_DB; the session time of the first cry sound)."""
    rng = np.random.default_rng(seed)
    cry, active = nicu.cry_track(rng, [c.samples for c in material.validation], CRY_S)
    total = LEAD_IN_S + CRY_S + TAIL_S
    bed = nicu.bed(rng, total, material.sounds,
                   kinds=[k for k in nicu.EVENT_KINDS if k != "next_cot_cry"]).samples
    gain = 10 ** ((nicu.active_level(cry) - SNR_DB - nicu.rms_dbfs(bed)) / 20)
    sound = bed * gain
    start = int(LEAD_IN_S * nicu.RATE)
    sound[start:start + cry.size] += cry
    return np.clip(sound, -1, 1).astype(np.float32), LEAD_IN_S + int(np.argmax(active)) / nicu.RATE


def events(db: Path, kinds: tuple[str, ...]) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        marks = ",".join("?" * len(kinds))
        return conn.execute(f"SELECT t, kind, priority, transition FROM alarm_event WHERE kind IN "
                            f"({marks}) ORDER BY id", kinds).fetchall()


def run(clip: Path, db: Path):
    return OneSourcePipeline(Settings(store=StoreSettings(url=f"sqlite:///{db}")), str(clip)).run()


@pytest.mark.parametrize("codec,rate", [("pcm_mulaw", 8000), ("aac", 16000)])
def test_a_faceless_clip_with_sustained_crying_raises_crying_within_15_s(tmp_path, material, codec,
                                                                         rate):
    sound, onset = faceless_sound(material, seed=11)
    clip = tmp_path / ("camera.mov" if codec.startswith("pcm") else "camera.mp4")
    write_camera_file(clip, sound, codec, rate, 1, size=(320, 240))
    db = tmp_path / "cot.db"
    summary = run(clip, db)
    assert summary.frames_scored == 0  # nobody in view
    crying = [e for e in events(db, ("CRYING",)) if e[3] == "raised"]
    assert crying, events(db, ("CRYING", "PAIN"))
    assert onset < crying[0][0] <= onset + CRYING_WITHIN_S
    with sqlite3.connect(db) as conn:
        (audio,) = conn.execute("SELECT audio FROM monitoring_session").fetchone()
    assert audio.endswith(f"({rate / 1000:g} kHz, narrow band)" if rate == 8000
                          else f"({rate / 1000:g} kHz)")


def test_a_calm_face_in_view_with_another_infants_cry_raises_no_crying(tmp_path, material):
    """The next cot's infant cries 10 dB below this cot's cry level (inverse square over 0.3 m
    against about 1 m) for 30 s, over the bed; this infant lies calm and awake in view."""
    rng = np.random.default_rng(5)
    fps, seconds = 10, LEAD_IN_S + CRY_S + TAIL_S
    cry, _ = nicu.cry_track(rng, [c.samples for c in material.validation], CRY_S)
    cry = cry * 10 ** (-10.0 / 20)  # from COT_CRY_DBFS to 10 dB below it
    bed = nicu.bed(rng, seconds, material.sounds,
                   kinds=[k for k in nicu.EVENT_KINDS if k != "next_cot_cry"]).samples
    sound = bed.copy()
    start = int(LEAD_IN_S * nicu.RATE)
    sound[start:start + cry.size] += cry
    frames = [frame for _, frame in photo_clips.frames(photo_clips.HAPPY, fps=fps, seconds=seconds)]
    clip = write_clip(tmp_path / "calm.mp4", frames, fps, np.clip(sound, -1, 1).astype(np.float32))
    db = tmp_path / "cot.db"
    summary = run(clip, db)
    assert summary.frames_scored > 0.9 * len(frames)  # the face is in view
    alarms = events(db, ("CRYING", "PAIN"))
    assert not [e for e in alarms if e[1] == "CRYING"], alarms
    assert not [e for e in alarms if e[1] == "PAIN" and e[2] in ("medium", "high")], alarms
    nearby = [e for e in events(db, ("CUE",)) if e[3] == "cry_nearby"]
    assert nearby and LEAD_IN_S < nearby[0][0] <= LEAD_IN_S + CRYING_WITHIN_S
