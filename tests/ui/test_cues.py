"""The cue panel, the cry trace and the alarm tiles with cues, driven by constructed snapshots
(the engine's contract: monitor.signal.records.Snapshot), and the live window on a silent clip."""

from __future__ import annotations

import dataclasses
import math

import pytest

from monitor.config import AlarmSettings, AudioSettings
from tests.camera_clips import write_camera_file
from tests.cue_clips import cries
from monitor.signal.records import (
    CAMERA_LOST,
    CRYING,
    MEDIUM,
    PAIN,
    AlarmState,
    EpisodeRecord,
    Snapshot,
)
from monitor.ui.live import style
from monitor.ui.live.alarmbar import alarm_tiles
from monitor.ui.live.cues import CuePanel, cue_words
from monitor.ui.live.trend import TrendStrip

AUDIO = AudioSettings(cry_rule="yamnet_ema")


def snapshot(**cues) -> Snapshot:
    base = Snapshot(t=50.0, s=0.72, s_reason=None, s_band=2, s_label="pain", f=0.4, f_band=2,
                    mode="monitoring", mode_until=None, audio_paused_until=None, alarms=(),
                    tone=None, reminder_due=False)
    return dataclasses.replace(base, **cues)


@pytest.fixture
def panel(qtbot) -> CuePanel:
    panel = CuePanel(AUDIO)
    qtbot.addWidget(panel)
    panel.resize(260, 420)
    return panel


def test_no_microphone_is_said_with_its_reason_never_as_quiet(panel):
    panel.set_snapshot(snapshot(c=None, cry_state="no_microphone", cry_reason="microphone lost"))
    cry = panel.row("CRY")
    assert cry.word == "NO MICROPHONE" and cry.detail == "microphone lost"
    assert cry.bar is None and cry.colour == style.UNKNOWN  # no bar at 0: unknown is not quiet
    assert panel.text("CRY") == "CRY: NO MICROPHONE (microphone lost)"
    panel.grab()  # paints


def test_crying_shows_the_state_and_c_against_the_cry_threshold(panel):
    panel.set_snapshot(snapshot(c=0.63, cry_state="crying", m=0.004, movement_state="moving"))
    cry, movement = panel.row("CRY"), panel.row("MOVEMENT")
    assert cry.word == "CRYING" and cry.bar == 0.63 and "0.63" in cry.detail
    assert cry.mark == AUDIO.cry_on and cry.colour != style.UNKNOWN
    assert movement.word == "MOVING" and movement.segments == 2
    assert panel.row("FACE").word == "PAIN" and "0.72" in panel.row("FACE").detail
    panel.set_snapshot(snapshot(c=0.07, cry_state="whimper"))
    assert panel.row("CRY").word == "WHIMPER"
    panel.grab()


def test_unknown_movement_and_face_say_why(panel):
    panel.set_snapshot(snapshot(s=None, s_reason="no_face", s_band=None, s_label=None,
                                movement_state="unknown", movement_reason="camera moving"))
    assert panel.text("MOVEMENT") == "MOVEMENT: UNKNOWN (camera moving)"
    assert panel.text("FACE") == "FACE: UNKNOWN (no face in view)"
    panel.set_snapshot(snapshot(c=0.5, cry_state="crying"), "ended")  # the window stopped watching
    assert {panel.row(n).word for n in ("FACE", "CRY", "MOVEMENT")} == {"UNKNOWN"}
    assert panel.row("CRY").detail == "monitoring has ended"


def test_the_face_row_names_the_facial_actions_it_sees(panel):
    """The face mesh's words beside the expression score (issue 23); none before a reading."""
    assert "eyes" not in panel.row("FACE").detail
    for words in ("eyes squeezed, mouth open", "eyes closed, relaxed", "mouth covered"):
        panel.set_snapshot(snapshot(face_state=words, eyes_state="closed", mouth_state="closed"))
        assert panel.text("FACE") == f"FACE: PAIN (expression S 0.72; {words})"
    panel.grab()


def test_pain_tile_names_its_cues_and_crying_is_a_patient_alarm():
    def state(kind, episode=None):
        return AlarmState(kind, MEDIUM, True, False, False, True, None, 40.0, episode, "")

    episode = EpisodeRecord(1, 20.0, 30.0, None, None, 0.9, 0.7, 0.8, 3, MEDIUM, None, None,
                            "monitoring", cues="face+cry")
    tiles = alarm_tiles(snapshot(alarms=(state(CAMERA_LOST), state(PAIN, 1))), {1: episode}, str)
    assert [t.kind for t in tiles] == [PAIN, CAMERA_LOST]
    assert tiles[0].detail.startswith("cues: face + cry")
    crying = alarm_tiles(snapshot(alarms=(state(CAMERA_LOST), state(CRYING))), {}, str)
    assert [t.kind for t in crying] == [CRYING, CAMERA_LOST]
    assert not crying[0].technical and crying[0].flashing and crying[1].technical
    assert "cues:" not in crying[0].detail
    assert [cue_words(c) for c in ("face", "face+cry", "face+cry+movement", None)] == [
        "face only", "face + cry", "face + cry + movement", ""]


def test_trend_draws_c_on_the_same_clock_with_a_gap_where_unknown(qtbot):
    trend = TrendStrip(AlarmSettings(), 15)
    qtbot.addWidget(trend)
    for t, s, c in ((1.0, 0.2, None), (1.5, 0.3, 0.1), (2.0, 0.4, 0.5), (2.5, None, 0.6)):
        trend.add(t, s, c)
    trend.add(2.6, None, 0.6)  # closer than the thinning step, same gaps: dropped
    trend.redraw()
    cry = trend.cry_series()
    assert [t for t, _ in cry] == [t for t, _ in trend.series()] == [1.0, 1.5, 2.0, 2.5]
    assert math.isnan(cry[0][1]) and [c for _, c in cry[1:]] == [0.1, 0.5, 0.6]
    assert math.isnan(trend.series()[-1][1])


@pytest.mark.slow
def test_live_window_on_a_clip_without_sound_says_no_microphone(qtbot, open_window, no_face_clip):
    window = open_window(no_face_clip)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=120_000)
    assert window.snapshot.cry_state == "no_microphone" and window.snapshot.c is None
    cry = window.cues.row("CRY")
    assert cry.word == "NO MICROPHONE" and cry.detail and cry.bar is None
    qtbot.waitUntil(lambda: window.ended, timeout=120_000)
    assert window.cues.row("CRY").detail == "monitoring has ended"


@pytest.mark.slow
@pytest.mark.parametrize("codec,rate,narrow", [("pcm_mulaw", 8000, True), ("aac", 16000, False)])
def test_live_window_says_when_the_sound_is_narrow_band(qtbot, open_window, tmp_path, shared_data,
                                                        codec, rate, narrow):
    # a G.711 camera's 8 kHz sound carries half the band of a cot microphone's (issue #22): the cry
    # row says so beside C, so a nurse knows the cue hears less; 16 kHz AAC is not narrow band
    clip = tmp_path / ("camera.mov" if narrow else "camera.mp4")
    write_camera_file(clip, cries(shared_data, 6.0), codec, rate, 1, size=(160, 120))
    window = open_window(clip)
    qtbot.waitUntil(lambda: window.snapshot is not None and window.snapshot.c is not None,
                    timeout=120_000)
    assert ("narrow band" in window.cues.row("CRY").detail) is narrow
