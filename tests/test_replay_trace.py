"""replay_trace: recorded traces through the engine, and every file problem named by its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.config import AlarmSettings
from monitor.errors import MonitorError
from monitor.signal.trace import replay_trace

TRACES = Path(__file__).parent / "data" / "traces"
DEFAULTS = AlarmSettings(face_only_priority="medium")  # p and s rows only: the face rules


def pain_events(result: dict) -> list[tuple[float, str, str | None]]:
    return [(e["t"], e["transition"], e["user"]) for e in result["events"] if e["kind"] == "PAIN"]


def test_worked_example_table_to_the_second():
    result = replay_trace(TRACES / "worked_example.csv", DEFAULTS)
    assert result["episodes"] == [{
        "start": 20.0, "alarm_at": 30.0, "end": 70.0, "end_reason": "resolved",
        "max_priority": "medium", "ack_at": 45.0, "ack_by": "nurse_a", "mode": "monitoring",
        "cues": "face",
    }]
    assert pain_events(result) == [
        (30.0, "raised", None), (45.0, "acknowledged", "nurse_a"), (85.0, "ended", None),
        (85.0, "cleared", None)]
    raised = next(e for e in result["events"] if e["transition"] == "raised")
    assert raised["priority"] == "medium"
    json.dumps(result)  # ready for the command line's JSON output


def test_worked_example_silence_lasts_until_165(tmp_path):
    """Same table, but S stays at 0.8 after the acknowledgement: audio returns at 45 + 120."""
    trace = tmp_path / "held.csv"
    trace.write_text("t,kind,value,user\n0,s,0.1,\n20,s,0.62,\n30,s,0.7,\n45,s,0.8,\n"
                     "45,ack,,nurse_a\n200,s,0.8,\n")
    result = replay_trace(trace, DEFAULTS)
    assert [(t, tr) for t, tr, _ in pain_events(result)][:4] == [
        (30.0, "raised"), (45.0, "acknowledged"), (165.0, "silence_ended"), (165.0, "escalated")]
    assert result["episodes"][0]["end_reason"] == "session_ended"
    assert result["episodes"][0]["end"] == 200.0, "no end row: the session ends at the last t"


def test_blind_trace_keeps_one_episode_through_camera_loss():
    result = replay_trace(TRACES / "blind_then_resolved.csv", DEFAULTS)
    (episode,) = result["episodes"]
    assert (episode["start"], episode["alarm_at"], episode["end"], episode["end_reason"]) == (
        0.0, 10.0, 42.9, "resolved")
    assert (episode["ack_at"], episode["ack_by"]) == (61.0, "nurse_a")
    camera = [(e["t"], e["transition"]) for e in result["events"] if e["kind"] == "CAMERA_LOST"]
    assert camera[:2] == [(21.9, "raised"), (30.0, "cleared")]
    assert camera[2:] == [(62.0, "raised"), (63.0, "cleared")], "a stage's report of a frozen image"
    transitions = [tr for _, tr, _ in pain_events(result)]
    assert transitions == ["raised", "signal_lost", "signal_resumed", "escalated", "ended", "latched",
                           "acknowledged", "cleared"]


def test_other_settings_give_other_episodes():
    strict = AlarmSettings(d_on_s=20.0, face_only_priority="medium")
    result = replay_trace(TRACES / "worked_example.csv", strict)
    assert result["episodes"][0]["alarm_at"] == 40.0


@pytest.mark.parametrize("body, line, words", [
    ("0,s,0.1,\n5,jump,,\n", 3, "unknown kind 'jump'"),
    ("0,s,0.1,\n5,s,0.2\n", 3, "expected 4 columns"),
    ("0,s,0.1,\nfive,s,0.2,\n", 3, "bad time 'five'"),
    ("0,s,0.1,\n5,p,high,\n", 3, "bad value 'high'"),
    ("0,s,0.1,\n5,p,1.5,\n", 3, "within 0..1"),
    ("0,s,0.1,\n5,p,,\n", 3, "needs a value"),
    ("0,s,0.1,\n5,s,nan,\n", 3, "finite"),
    ("0,s,0.1,\n5,s,0.2,\n4,s,0.3,\n", 4, "time goes backwards"),
    ("0,s,0.1,\n5,tick,3,\n", 3, "takes no value"),
    ("0,s,0.1,\n5,tick,,nurse\n", 3, "takes no user"),
    ("0,s,0.1,\n5,procedure_start,45,\n", 3, "at most 30 minutes"),
    ("0,s,0.1,\n5,end,,\n6,tick,,\n", 4, "after the 'end' row"),
    ("0,s,0.1,\n5,cry,,\n", 3, "needs a value"),
    ("0,s,0.1,\n5,cry,1.2,\n", 3, "cry must be within 0..1"),
    ("0,s,0.1,\n5,sound,0.5,\n", 3, "sound must be 1 .a source. or 0"),
    ("0,s,0.1,\n5,movement,-0.01,\n", 3, "movement must be >= 0"),
    ("0,s,0.1,\n5,movement,0.01,nurse\n", 3, "takes no user"),
])
def test_errors_name_the_line(tmp_path, body, line, words):
    trace = tmp_path / "bad.csv"
    trace.write_text("t,kind,value,user\n" + body)
    with pytest.raises(MonitorError, match=f"bad.csv, line {line}: .*{words}"):
        replay_trace(trace, DEFAULTS)


def test_header_missing_file_and_empty_trace(tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_text("time,kind,value,user\n0,s,0.1,\n")
    with pytest.raises(MonitorError, match=r"t.csv, line 1: the header must be t,kind,value,user"):
        replay_trace(trace, DEFAULTS)
    trace.write_text("t,kind,value,user\n\n")
    with pytest.raises(MonitorError, match="no rows"):
        replay_trace(trace, DEFAULTS)
    with pytest.raises(MonitorError, match="not found"):
        replay_trace(tmp_path / "missing.csv", DEFAULTS)


def test_blank_lines_and_unknown_s_are_accepted(tmp_path):
    trace = tmp_path / "ok.csv"
    trace.write_text("t,kind,value,user\n0,s,0.7,\n\n10,s,0.7,\n12,s,,\n100,end,,\n")
    (episode,) = replay_trace(trace, DEFAULTS)["episodes"]
    assert (episode["end"], episode["end_reason"]) == (12.0, "signal_lost")


def test_byte_order_mark_is_read(tmp_path):
    """Spreadsheets on Windows save CSV as UTF-8 with a byte-order mark: the same trace."""
    plain = TRACES / "worked_example.csv"
    marked = tmp_path / "with_bom.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert replay_trace(marked, DEFAULTS) == replay_trace(plain, DEFAULTS)


# --- cues ------------------------------------------------------------------------------------------


def test_p_rows_only_give_the_same_episodes_at_the_face_only_priority():
    """Fusion changes the priority of an uncorroborated episode, never its times."""
    face_rules = replay_trace(TRACES / "blind_then_resolved.csv", DEFAULTS)
    default = replay_trace(TRACES / "blind_then_resolved.csv", AlarmSettings())
    for was, now in zip(face_rules["episodes"], default["episodes"], strict=True):
        assert {**was, "max_priority": "low"} == now
    assert all(e["kind"] != "CRYING" for e in default["events"])


def test_cry_movement_and_sound_rows(tmp_path):
    rows = ["t,kind,value,user", "0,sound,0,", "0,s,0.7,"]
    rows += [f"{k / 2:g},movement,0.05," for k in range(1, 8)]  # vigorous from the start
    rows += [f"{k / 2:g},movement,," for k in range(8, 40)]  # then unknown
    trace = tmp_path / "cues.csv"
    trace.write_text("\n".join(rows) + "\n30,end,,\n")
    (episode,) = replay_trace(trace, AlarmSettings())["episodes"]
    assert (episode["alarm_at"], episode["max_priority"], episode["cues"]) == (10.0, "medium", "face+movement")
    still = tmp_path / "still.csv"
    still.write_text(trace.read_text().replace("movement,0.05,", "movement,0,"))
    (episode,) = replay_trace(still, AlarmSettings())["episodes"]
    assert (episode["max_priority"], episode["cues"]) == ("low", "face")


def test_replay_trace_command_reads_alarms_audio_and_movement_sections(tmp_path, capsys):
    from monitor.cli import main

    settings = tmp_path / "fusion.toml"
    settings.write_text("[alarms]\nface_only_priority = \"none\"\ncrying_after_s = 20.0\n"
                        "[audio]\ncry_rule = \"yamnet_ema\"\ncry_min_s = 4.0\n[movement]\nwindow_s = 8.0\n")
    assert main(["replay-trace", str(TRACES / "fusion_example.csv"), "--settings", str(settings)]) == 0
    result = json.loads(capsys.readouterr().out)
    crying = [(e["t"], e["transition"]) for e in result["events"] if e["kind"] == "CRYING"]
    # crying from the 100 s window + cry_min_s 4 s, raised crying_after_s 20 s later
    assert crying[0] == (124.0, "raised")
    pain = [(e["t"], e["transition"], e["priority"]) for e in result["events"] if e["kind"] == "PAIN"]
    assert pain[0] == (38.0, "raised", "medium"), "face-only: no alarm until the cry at 34 + 4 s"
