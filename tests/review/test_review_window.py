"""The review window (pytest-qt, offscreen) on the record the real pipeline made of the demo clip:
the episode is listed at the right time, choosing it centres the timeline, an annotation goes to
the database and comes back, filters and sorting work, and opening a session is audited."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt

from monitor.cli import DEMO_CLIP
from monitor.config import ReviewSettings
from monitor.errors import MonitorError
from monitor.review import data
from monitor.store import queries
from monitor.store.database import open_database
from monitor.ui.review.window import ReviewWindow
from review_helpers import DEMO_BED, NIGHT_BED, REPO, write_night

pytestmark = pytest.mark.slow
SETTINGS = ReviewSettings(timezone="Europe/London")
SCREENSHOT = REPO / "docs" / "screenshots" / "review-window.png"
UPDATE_DOCS = "UPDATE_REVIEW_IMAGES"


@pytest.fixture
def engine(demo_db: Path):
    engine = open_database(f"sqlite:///{demo_db}")
    write_night(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def window(qtbot, engine) -> ReviewWindow:
    window = ReviewWindow(engine, SETTINGS, "RN Okafor")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def choose_bed_session(window: ReviewWindow, bed: str) -> None:
    row = next(i for i, s in enumerate(window.sessions) if s.bed_label == bed)
    window.session_table.selectRow(row)


def cell(window: ReviewWindow, row: int, title: str) -> str:
    column = [window.model.headerData(c, Qt.Orientation.Horizontal)
              for c in range(window.model.columnCount())].index(title)
    return window.filter.index(row, column).data()


def test_demo_episode_is_listed_at_the_right_time(window: ReviewWindow, engine) -> None:
    assert sorted(s.bed_label for s in window.sessions) == [DEMO_BED, NIGHT_BED]
    choose_bed_session(window, DEMO_BED)
    session = window.session.session
    assert window.filter.rowCount() == 1
    expected = tomllib.loads((DEMO_CLIP.parent / "demo.toml").read_text())["expected"]
    episode = window.model.episodes[0]
    assert expected["start_window"][0] <= episode.start_at <= expected["start_window"][1]
    assert expected["end_window"][0] <= episode.end_at <= expected["end_window"][1]
    start = data.wall_time(session, episode.start_at).astimezone(window.zone)
    assert cell(window, 0, "Start") == f"{start:%d %b %H:%M:%S}"
    assert cell(window, 0, "Duration") == f"{round(episode.end_at - episode.start_at)} s"
    assert cell(window, 0, "Priority") == episode.max_priority
    assert cell(window, 0, "Ack. at") == "not acknowledged"
    assert cell(window, 0, "End reason") == "resolved"
    opened = [a for a in queries.audit(engine) if a.action == "session_opened"]
    assert [(a.session_id, a.user) for a in opened] == [(session.id, "RN Okafor")]
    assert json.loads(opened[0].detail_json)["via"] == "review window"


def test_choosing_an_episode_centres_the_timeline(window: ReviewWindow) -> None:
    choose_bed_session(window, NIGHT_BED)
    window.timeline.zoom(0.1)
    window.select_episode(3)
    left, right = window.timeline.visible_range()
    assert (left + right) / 2 == pytest.approx((400 + 470) / 2, abs=0.5)
    assert left <= 400 and right >= 470
    window.select_episode(1)
    left, right = window.timeline.visible_range()
    assert (left + right) / 2 == pytest.approx(70, abs=0.5)


def test_annotation_round_trip(window: ReviewWindow, engine, qtbot) -> None:
    choose_bed_session(window, DEMO_BED)
    window.select_episode(1)
    window.intervention.setCurrentText("skin-to-skin")
    window.nips.setValue(5)
    window.comment.setText("held by mother, calm after 3 min")
    qtbot.mouseClick(window.add_button, Qt.MouseButton.LeftButton)
    episode = window.selected_episode()
    (stored,) = data.annotations(engine, [episode.id])
    assert (stored.author, stored.intervention, stored.nips, stored.comment) == \
        ("RN Okafor", "skin-to-skin", 5, "held by mother, calm after 3 min")
    assert cell(window, 0, "Notes") == "1"
    assert window.notes.item(0, 2).text() == "skin-to-skin" and window.notes.item(0, 3).text() == "5/7"
    assert window.comment.text() == "" and window.nips.value() == -1  # form cleared
    added = [a for a in queries.audit(engine) if a.action == "annotation_added"]
    assert json.loads(added[0].detail_json)["nips"] == 5
    window.reviewer.setText("")
    window.comment.setText("no author")
    with pytest.raises(MonitorError, match="author"):
        window.add_annotation()
    reopened = ReviewWindow(engine, SETTINGS, "Dr Ng")
    qtbot.addWidget(reopened)
    choose_bed_session(reopened, DEMO_BED)
    reopened.select_episode(1)
    assert reopened.notes.rowCount() == 1
    assert reopened.notes.item(0, 4).text() == "held by mother, calm after 3 min"


def test_filters_and_sorting(window: ReviewWindow) -> None:
    choose_bed_session(window, NIGHT_BED)

    def shown() -> list[int]:
        return [window.model.episodes[window.filter.mapToSource(window.filter.index(r, 0)).row()]
                .number for r in range(window.filter.rowCount())]

    assert shown() == [1, 2, 3]
    window.search.setText("rn lee")
    assert shown() == [1]
    window.search.setText("")
    window.priority.setCurrentIndex(2)  # medium and above
    assert shown() == [1, 3]
    window.priority.setCurrentIndex(0)
    window.unacknowledged.setChecked(True)
    assert shown() == [2]
    window.unacknowledged.setChecked(False)
    window.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # mean S
    assert shown() == [3, 2, 1]
    window.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # priority: by rank, not text
    assert shown() == [1, 3, 2]
    window.select_episode(2)
    window.comment.setText("checked, comfortable")
    window.add_annotation()
    window.unannotated.setChecked(True)
    assert sorted(shown()) == [1, 3]


def test_gaps_and_the_screenshot(window: ReviewWindow, qtbot, tmp_path: Path) -> None:
    choose_bed_session(window, NIGHT_BED)
    assert window.session.gaps.unknown == [(100.0, 130.0)]
    assert window.session.gaps.not_running == [(300.0, 360.0)]
    choose_bed_session(window, DEMO_BED)
    window.select_episode(1)
    window.intervention.setCurrentText("sucrose")
    window.nips.setValue(4)
    window.comment.setText("24% sucrose 0.5 ml after heel lance; settled within 2 min")
    window.add_annotation()
    window.timeline.show_all()
    qtbot.wait(50)
    image = window.grab().toImage()
    assert image.width() >= 1200 and not image.isNull()
    out = tmp_path / "review.png"
    assert window.grab().save(str(out)) and out.stat().st_size > 30_000
    if os.environ.get(UPDATE_DOCS):
        window.grab().save(str(SCREENSHOT))


def test_review_on_the_central_store(demo_db: Path, pg_url: str, qtbot, engine_for) -> None:
    """The same window on PostgreSQL after forwarding: episode, annotation, audit."""
    from monitor.review.forward import forward

    central = engine_for(pg_url)
    forward(engine_for(f"sqlite:///{demo_db}"), central, SETTINGS, "forwarder")
    window = ReviewWindow(central, SETTINGS, "Dr Ng")
    qtbot.addWidget(window)
    choose_bed_session(window, DEMO_BED)
    window.select_episode(1)
    assert cell(window, 0, "End reason") == "resolved"
    window.intervention.setCurrentText("repositioning")
    window.add_annotation()
    (note,) = data.annotations(central, [window.selected_episode().id])
    assert (note.author, note.intervention) == ("Dr Ng", "repositioning")
    assert {a.action for a in queries.audit(central) if a.user == "Dr Ng"} == \
        {"session_opened", "annotation_added"}
