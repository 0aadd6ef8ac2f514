"""Replay, episode scores and the sweep on the real demo session and a synthetic one."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import AlarmSettings, ReviewSettings, Settings, TuningSettings
from monitor.errors import MonitorError
from monitor.review.data import add_annotation, episodes as review_episodes
from monitor.store.database import open_database
from monitor.tuning.metrics import Recording, score, unknown_seconds
from monitor.tuning.replay import load_session, replay
from monitor.tuning.sweep import sweep
from monitor.tuning.truth import Interval, read_truth, truth_from_annotations
from tests.replayed import TRACE_PRECISION_S, same_episode
from tests.tuning.conftest import SYNTHETIC_TRUTH, demo_expected, synthetic

EXPECTED = demo_expected()
CRYING = next(s for s in EXPECTED["segments"] if s["kind"] == "crying")
DEMO_TRUTH = [Interval(CRYING["start_s"], CRYING["end_s"], "crying")]


def _recording(session, truth) -> Recording:
    return Recording("s", session.end_t, unknown_seconds(session.frames, session.end_t, 2.0), truth)


def test_replay_with_stored_settings_reproduces_the_stored_episodes(demo_url: str) -> None:
    stored = load_session(open_database(demo_url), 1)
    replayed = replay(stored, stored.settings.alarms)
    assert len(stored.episodes) == len(replayed) == 1
    assert all(same_episode(a, b) for a, b in zip(stored.episodes, replayed))
    assert stored.actions == [] and stored.not_replayed == []


def test_demo_scores_against_its_crying_interval(demo_url: str) -> None:
    stored = load_session(open_database(demo_url), 1)
    result = score([(_recording(stored, DEMO_TRUTH), replay(stored, stored.settings.alarms))], 15.0)
    assert (result.truth_events, result.hits, result.misses, result.false_alarms) == (1, 1, 0, 0)
    delay = result.delays_s[0]
    assert delay == pytest.approx(stored.episodes[0].alarm_at - CRYING["start_s"], abs=TRACE_PRECISION_S)
    earliest, latest = (t - CRYING["start_s"] for t in EXPECTED["alarm_window"])
    assert earliest <= delay <= latest, "the clip's own alarm window (demo.toml)"
    # Crying that the monitor never saw alarming (after the episode has ended): the demo's alarm
    # becomes a false one, the truth a miss.
    after = EXPECTED["end_window"][1]
    late = score([(_recording(stored, [Interval(after + 5, after + 10)]),
                   replay(stored, stored.settings.alarms))], 0.0)
    assert (late.hits, late.misses, late.false_alarms) == (0, 1, 1)
    assert late.false_alarms_per_hour == pytest.approx(3600.0 / stored.end_t)


def test_synthetic_counts_and_time_to_alarm() -> None:
    session = synthetic()
    result = score([(_recording(session, SYNTHETIC_TRUTH), replay(session, AlarmSettings()))], 15.0)
    assert (result.truth_events, result.hits, result.misses, result.false_alarms) == (2, 1, 1, 1)
    assert result.false_alarms_per_hour == pytest.approx(6.0)  # one in 10 minutes
    # S (tau 3 s, each p weighted by the gap since the frame before) reaches T_on 0.6 once the
    # frames from 99.9 s span 3 ln(0.9 / 0.35) s; the alarm follows D_on 10 s later.
    crossing = math.ceil(3.0 * math.log(0.9 / 0.35) * 10) / 10 - 0.1
    assert result.delays_s == pytest.approx((crossing + 10.0,), abs=1e-6)
    assert result.unknown_s == pytest.approx(60.0)
    assert result.alarm_s / result.monitored_s == pytest.approx(result.alarm_s / 600.0)


def test_replay_reapplies_acknowledgements() -> None:
    acked = replay(synthetic([(120.0, "ack", None, "nurse A")]), AlarmSettings())
    assert (acked[0].ack_at, acked[0].ack_by) == (120.0, "nurse A")
    assert all(e.ack_at is None for e in replay(synthetic(), AlarmSettings()))


@pytest.mark.parametrize("which", ["demo", "synthetic"])
def test_raising_d_on_never_raises_false_alarms(demo_url: str, which: str) -> None:
    if which == "demo":
        session, truth = load_session(open_database(demo_url), 1), [Interval(60.0, 70.0)]
    else:
        session, truth = synthetic(), SYNTHETIC_TRUTH
    grid = TuningSettings(t_on_grid=(0.5, 0.6, 0.7, 0.8), d_on_grid_s=(3.0, 5.0, 10.0, 20.0, 40.0),
                          tau_grid_s=(1.0, 3.0))
    points = sweep([(session, _recording(session, truth))], AlarmSettings(), grid)
    assert len(points) == 2 * 4 * 5 and sum(p.current for p in points) == 1
    for tau in (1.0, 3.0):
        for t_on in grid.t_on_grid:
            line = sorted((p for p in points if (p.tau_s, p.t_on) == (tau, t_on)), key=lambda p: p.d_on_s)
            rates = [p.scores.false_alarms_per_hour for p in line]
            assert rates == sorted(rates, reverse=True)
            assert max(rates) > 0  # the check has something to compare
            delays = [p.scores.delay_s(50) for p in line if p.scores.hits]
            assert delays == sorted(delays)


def test_cli_replay_evaluate_and_sweep(demo_url: str, tmp_path: Path, capsys) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text(f"session,start,end,label\n1,{CRYING['start_s']},{CRYING['end_s']},crying\n",
                     encoding="utf-8")
    settings = tmp_path / "strict.toml"
    settings.write_text("[alarms]\nt_on = 0.8\nd_on_s = 20\n", encoding="utf-8")
    assert main(["replay", "--db", demo_url, "--session", "1", "--settings", str(settings), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["stored"]) == 1 and out["replayed"] == []
    assert out["settings_changed"] == {"t_on": [0.6, 0.8], "d_on_s": [10.0, 20.0]}
    png = tmp_path / "sweep.png"
    assert main(["evaluate-episodes", "--db", demo_url, "--truth", str(truth), "--sweep", str(png), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["scores"]["hits"], out["scores"]["false_alarms"]) == (1, 0)
    current = [p for p in out["sweep"] if p["current"]]
    assert len(current) == 1 and current[0]["hits"] == 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    truth.write_text("video,start,end\ndemo.mp4,27,47\n", encoding="utf-8")
    assert main(["evaluate-episodes", "--db", demo_url, "--truth", str(truth)]) == 2
    assert "needs a session column" in capsys.readouterr().err


def test_truth_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("session,start,end\n1,,\n2,10,5\n", encoding="utf-8")
    with pytest.raises(MonitorError, match=r"t\.csv, line 3: need 0 <= start < end \(got 10, 5\)"):
        read_truth(path)
    path.write_text("session,start,end\n1,,\n", encoding="utf-8")
    assert read_truth(path) == ("session", {"1": []})  # a session without pain


def test_truth_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfsession,start,end,label\r\n1,27,47,crying\r\n")
    assert read_truth(path) == ("session", {"1": [Interval(27.0, 47.0, "crying")]})


def test_annotated_episodes_export_as_truth(demo_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    with sqlite3.connect(demo_url[10:]) as source, sqlite3.connect(url[10:]) as copy:
        source.backup(copy)  # the WAL too: the annotation must not touch the shared record
    db = open_database(url)
    episode = review_episodes(db, [1])[0]
    add_annotation(db, ReviewSettings(), episode, "nurse A", None, 5, "crying")
    header, row = truth_from_annotations(db, [1]).splitlines()
    session, start, end, label = row.split(",")
    assert (header, session, label) == ("session,start,end,label", "1", "NIPS 5; crying")
    assert float(start) == pytest.approx(episode.start_at, abs=5e-4)  # written to the millisecond
    assert float(end) == pytest.approx(episode.end_at, abs=5e-4)
    expected = demo_expected()
    assert expected["start_window"][0] <= float(start) <= expected["start_window"][1]
    assert expected["end_window"][0] <= float(end) <= expected["end_window"][1]
    assert truth_from_annotations(db, [1], min_nips=6).splitlines() == ["session,start,end,label"]
    assert Settings().tuning.match_after_s == 15.0


def test_export_truth_refuses_a_session_that_does_not_exist(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'record.db'}"
    open_database(url).dispose()
    out = tmp_path / "truth.csv"
    assert main(["export-truth", "--db", url, "--session", "42", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "painmon: error: no session 42 in this database\n"
    assert not out.exists()


def test_only_alarms_from_the_chosen_priority_count() -> None:
    """A face-only episode at low counts with count_from low, not with medium; one recorded at
    priority none (face_only_priority none) never counts."""
    from dataclasses import replace

    stored = synthetic()
    truth = Recording("s", stored.end_t, 0.0, SYNTHETIC_TRUTH)
    low = replay(stored, AlarmSettings())  # face only: the default face_only_priority low
    assert low and all(e.max_priority == "low" for e in low)
    assert score([(truth, low)], 15.0, "low").hits == 1
    assert score([(truth, low)], 15.0, "medium").hits == 0
    none = [replace(e, max_priority="none") for e in low]
    assert score([(truth, none)], 15.0, "low").false_alarms == 0
