"""The cry and movement cues in review and every export: sessions with cues (and one without a
microphone) stored beside the real demo record, exported and read back, and shown in the review
window. The inserted values are the reference: every check reads them back from what was made."""

from __future__ import annotations

import csv
import json
import math
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader
from PyQt6.QtCore import Qt
from sqlalchemy import insert

from monitor.config import AudioSettings, MovementSettings, ReviewSettings, Settings
from monitor.paths import DEMO_CLIP
from monitor.review.export import export
from monitor.store.database import open_database
from monitor.store.schema import EPISODE, SAMPLE, SESSION
from monitor.ui.review.window import ReviewWindow

pytestmark = pytest.mark.slow
SETTINGS = ReviewSettings(timezone="Europe/Berlin")
HEARD, SILENT = "NICU-7", "NICU-8"
SOUND = "sound track of cot-7.mp4"
# The session's own movement steps (not the defaults): m 0.008 is "moving" here, "vigorous" by default.
STEPS = MovementSettings(moving_from=0.0005, vigorous_from=0.01)
CRY_ON = 0.3


def cry(t: int) -> float | None:
    """No sound yet for 5 s, quiet, then crying from 45 to 75 s."""
    return None if t < 5 else 0.5 if 45 <= t < 75 else 0.02


def movement(t: int) -> float | None:
    """Unknown (camera moving) for 10 s, still, moving 50-60, vigorous 60-65, 0.008 65-70, still."""
    if t < 10:
        return None
    return 0.001 if 50 <= t < 60 else 0.02 if 60 <= t < 65 else 0.008 if 65 <= t < 70 else 0.0


def store_session(engine, bed: str, audio: str | None, seconds: int, episode: tuple) -> int:
    """One session written with SQLAlchemy as the pipeline would leave it."""
    origin = datetime.now(timezone.utc) - timedelta(hours=2)
    stored = Settings(bed_label=bed, audio=AudioSettings(cry_rule="yamnet_ema", cry_on=CRY_ON),
                      movement=STEPS).bedside()  # the rule whose threshold is cry_on
    with engine.begin() as conn:
        session_id = conn.execute(insert(SESSION).values(
            monitor_id="ward2-pc9", bed_label=bed, encounter_id=f"enc-{bed}", source="camera:0",
            model_name="mini", model_sha256="cd" * 32, device="cpu", app_version="0.1.0",
            settings_json=json.dumps(stored), started_at=origin, clock_origin_utc=origin,
            ended_at=origin + timedelta(seconds=seconds), end_reason="completed", audio=audio,
        )).inserted_primary_key[0]
        start, end, cues, priority = episode
        conn.execute(insert(SAMPLE), [{
            "session_id": session_id, "t": float(t), "s": 0.8 if start <= t < end else 0.2,
            "f": 0.5 if start <= t < end else 0.0, "frames": 15, "frames_scored": 15,
            "frames_no_face": 0, "frames_poor_quality": 0, "p_mean": 0.5, "p_max": 0.6,
            "c": cry(t) if audio else None,
            "cry_max": (cry(t) + 0.1 if cry(t) is not None else None) if audio else None,
            "m": movement(t)} for t in range(seconds)])
        conn.execute(insert(EPISODE).values(
            session_id=session_id, number=1, start_at=start, alarm_at=start + 10.0, end_at=end,
            end_reason="resolved", peak_s=0.8, mean_s=0.8, max_share=0.5, max_band=2,
            max_priority=priority, mode="monitoring", cues=cues))
    return session_id


@pytest.fixture
def engine(demo_db: Path):
    engine = open_database(f"sqlite:///{demo_db}")
    store_session(engine, HEARD, SOUND, 120, (40.0, 80.0, "face+cry", "medium"))
    store_session(engine, SILENT, None, 60, (10.0, 40.0, "face", "low"))
    yield engine
    engine.dispose()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def test_csv_has_the_cues_of_every_second_and_episode(engine, tmp_path: Path) -> None:
    export(engine, SETTINGS, "csv", tmp_path / "out", "RN Okafor")
    samples = read_csv(tmp_path / "out" / "samples.csv")
    heard = [s for s in samples if s["bed"] == HEARD]
    assert [(s["c"], s["cry_max"], s["m"]) for s in heard] == [
        (cell(cry(t)), cell(None if cry(t) is None else cry(t) + 0.1), cell(movement(t)))
        for t in range(120)]  # unknown stays empty, never 0
    assert {s["c"] for s in samples if s["bed"] == SILENT} == {""}
    episodes = {e["bed"]: e for e in read_csv(tmp_path / "out" / "episodes.csv")}
    assert (episodes[HEARD]["cues"], float(episodes[HEARD]["peak_c"]), episodes[HEARD]["audio"]) \
        == ("face+cry", 0.5, SOUND)
    assert (episodes[SILENT]["cues"], episodes[SILENT]["peak_c"], episodes[SILENT]["audio"]) \
        == ("face", "", "no microphone")
    demo = next(e for bed, e in episodes.items() if bed not in (HEARD, SILENT))
    # the demo clip was built with the infant crying over its whole alarm window (demo.toml), so
    # its one alarm is carried by face and cry, and the cry cue reached crying while it lasted
    clip = tomllib.loads((DEMO_CLIP.parent / "demo.toml").read_text())
    alarm = clip["expected"]["alarm_window"]
    assert clip["cry"]["start_s"] <= alarm[0] and alarm[1] <= clip["cry"]["end_s"]
    assert demo["cues"] == "face+cry"
    assert float(demo["peak_c"]) >= AudioSettings().cry_on
    with av.open(str(DEMO_CLIP)) as container:  # the session records the track's own rate
        rate = container.streams.audio[0].rate
    assert demo["audio"] == f"sound track of {DEMO_CLIP.name} ({rate / 1000:g} kHz)"


def test_pdf_names_the_cues_and_what_was_heard(engine, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    export(engine, SETTINGS, "pdf", out, "RN Okafor")
    pages = [page.extract_text() for page in PdfReader(out).pages]
    heard = next(p for p in pages if f"bed {HEARD}" in p)
    silent = next(p for p in pages if f"bed {SILENT}" in p)
    for expected in ("face + cry", f"sound: {SOUND}", "C: cry cue", "movement vigorous", "cues"):
        assert expected in heard, expected
    assert "face only" in silent and "sound: no microphone" in silent
    assert "NIPS score" not in heard  # cues, never added up into a scale


def test_fhir_episodes_carry_their_cues(engine, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    export(engine, SETTINGS, "fhir", out, "RN Okafor")
    bundle = json.loads(out.read_text())
    Bundle.model_validate(bundle)
    episodes = {o["subject"]["identifier"]["value"]: o for o in
                (e["resource"] for e in bundle["entry"])
                if o["resourceType"] == "Observation"
                and o["code"]["coding"][0]["code"] == "pain-expression-episode"}

    def component(observation: dict, code: str) -> dict | None:
        return next((c for c in observation["component"]
                     if c["code"]["coding"][0]["code"] == code), None)

    heard, silent = episodes[f"enc-{HEARD}"], episodes[f"enc-{SILENT}"]
    assert component(heard, "cues")["valueString"] == "face + cry"
    assert component(heard, "peak-c")["valueQuantity"]["value"] == 0.5
    assert component(heard, "sound")["valueString"] == SOUND
    assert component(silent, "cues")["valueString"] == "face only"
    assert component(silent, "peak-c") is None  # nothing heard: no cry value, not a zero
    assert component(silent, "sound")["valueString"] == "no microphone"


@pytest.fixture
def window(qtbot, engine) -> ReviewWindow:
    window = ReviewWindow(engine, SETTINGS, "RN Okafor")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def choose(window: ReviewWindow, bed: str) -> None:
    window.session_table.selectRow(next(i for i, s in enumerate(window.sessions) if s.bed_label == bed))


def cues_cell(window: ReviewWindow) -> str:
    column = [window.model.headerData(c, Qt.Orientation.Horizontal)
              for c in range(window.model.columnCount())].index("Cues")
    return window.filter.index(0, column).data()


def test_review_shows_cry_and_movement_under_s(window: ReviewWindow, qtbot) -> None:
    choose(window, HEARD)
    assert f"sound: {SOUND}" in window.heading.text() and cues_cell(window) == "face + cry"
    (curve,) = [i for i in window.timeline.cue_items()["cry"] if hasattr(i, "getData")]
    _, c = curve.getData()
    assert [None if math.isnan(v) else float(v) for v in c] == [cry(t) for t in range(120)]
    assert window.session.thresholds.cry_on == CRY_ON
    states = [(t0, t1, state) for t0, t1, state in window.session.movement_runs()]
    assert states == [(0.0, 10.0, None), (10.0, 50.0, "still"), (50.0, 60.0, "moving"),
                      (60.0, 65.0, "vigorous"), (65.0, 70.0, "moving"), (70.0, 120.0, "still")]
    window.timeline.show_all()
    qtbot.wait(50)
    window.grab().save("/tmp/shots/review-cues.png")

    choose(window, SILENT)
    assert "sound: no microphone" in window.heading.text() and cues_cell(window) == "face only"
    notes = [i.toPlainText() for i in window.timeline.cue_items()["cry"] if hasattr(i, "toPlainText")]
    assert notes == ["no microphone: nothing heard"]
    assert not [i for i in window.timeline.cue_items()["cry"] if hasattr(i, "getData")]
