"""A change of the tracked face, stored as the engine stores it (an alarm_event row of kind SUBJECT),
is visible wherever the record is read: a marker with its name on the review timeline, and a row in
the CSV events file, the PDF's event table and the FHIR bundle. Alarm transitions stay out of
these listings (the episode table sums them up)."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader
from sqlalchemy import insert

from monitor.config import ReviewSettings
from monitor.review import data
from monitor.review.export import export
from monitor.review.export_csv import EVENT_COLUMNS
from monitor.store import queries
from monitor.store.database import open_database
from monitor.store.schema import EVENT
from monitor.ui.review.window import ReviewWindow
from review_helpers import DEMO_BED

pytestmark = pytest.mark.slow
SETTINGS = ReviewSettings(timezone="Europe/London")
T = 40.0  # session-clock second of the change, inside the demo clip's 75 s
DETAIL = "new face at (233, 330), 782 px from the last subject, 1.1 s after it was last seen"


@pytest.fixture
def record(demo_db: Path):
    """The demo record with one subject change, written as the engine's events are."""
    engine = open_database(f"sqlite:///{demo_db}")
    (demo,) = data.find_sessions(engine, DEMO_BED)
    with engine.begin() as conn:
        conn.execute(insert(EVENT).values(session_id=demo.id, episode_id=None, t=T, kind="SUBJECT",
                                          priority=None, transition="subject_changed", user=None,
                                          detail=DETAIL))
    yield engine, demo
    engine.dispose()


def test_csv_lists_the_subject_change_and_no_alarm_transition(record, tmp_path: Path) -> None:
    engine, demo = record
    stored = queries.events(engine, demo.id)
    assert any(e.kind == "PAIN" for e in stored)  # the demo record has alarm transitions ...
    export(engine, SETTINGS, "csv", tmp_path / "out", "RN Okafor")
    with open(tmp_path / "out" / "events.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == list(EVENT_COLUMNS)
    (row,) = rows  # ... which the listing leaves to the episode table
    assert (row["bed"], row["session_uid"], row["kind"], row["event"]) == (
        DEMO_BED, demo.uid, "SUBJECT", "subject_changed")
    assert row["what"] == "tracked face changed" and row["detail"] == DETAIL
    assert float(row["t_s"]) == T
    assert abs(datetime.fromisoformat(row["time"]) - data.wall_time(demo, T)) < timedelta(milliseconds=1)


def test_pdf_marks_and_lists_the_subject_change(record, tmp_path: Path) -> None:
    engine, demo = record
    out = tmp_path / "report.pdf"
    export(engine, SETTINGS, "pdf", out, "RN Okafor", session_key=demo.uid)
    (page,) = [p.extract_text() for p in PdfReader(out).pages]
    assert "Events (1)" in page and "tracked face changed" in page
    assert "782 px from the last subject" in page.replace("\n", " ")
    at = data.wall_time(demo, T).astimezone(data.display_zone(SETTINGS))
    assert f"{at:%H:%M:%S}" in page


def test_fhir_bundle_carries_the_subject_change(record, tmp_path: Path) -> None:
    engine, demo = record
    out = tmp_path / "bundle.json"
    export(engine, SETTINGS, "fhir", out, "RN Okafor", session_key=demo.uid)
    bundle = json.loads(out.read_text())
    Bundle.model_validate(bundle)
    changes = [e["resource"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Observation"
               and e["resource"]["code"]["coding"][0]["code"] == "subject-changed"]
    (change,) = changes
    assert change["valueString"] == DETAIL
    assert change["subject"]["identifier"]["value"] == demo.encounter_id
    assert abs(datetime.fromisoformat(change["effectiveDateTime"]) - data.wall_time(demo, T)) \
        < timedelta(milliseconds=1)


def test_an_export_range_after_the_change_leaves_it_out(record, tmp_path: Path) -> None:
    engine, demo = record
    export(engine, SETTINGS, "csv", tmp_path / "out", "RN Okafor",
           start=data.wall_time(demo, T + 5.0))
    with open(tmp_path / "out" / "events.csv", newline="", encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == []


def test_review_timeline_marks_the_subject_change(record, qtbot) -> None:
    engine, demo = record
    window = ReviewWindow(engine, SETTINGS, "RN Okafor")
    qtbot.addWidget(window)
    row = next(i for i, s in enumerate(window.sessions) if s.uid == demo.uid)
    window.session_table.selectRow(row)
    (marker,) = window.timeline.markers
    assert marker.value() == pytest.approx(demo.clock_origin_utc.timestamp() + T)
    assert marker.label.textItem.toPlainText() == "tracked face changed"
    assert DETAIL in marker.toolTip()
    assert "tracked face changed 1×" in window.heading.text()
