"""`painmon replay`, `evaluate-episodes`, `evaluate-video` and `export-truth` (docs/TUNING.md)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from itertools import zip_longest
from pathlib import Path

from monitor.errors import MonitorError


def register(sub: argparse._SubParsersAction) -> None:
    replay = sub.add_parser("replay", help="re-run a stored session's frames through the alarm engine "
                            "with other settings; episodes before and after")
    replay.add_argument("--db", required=True, help="SQLAlchemy URL of the log")
    replay.add_argument("--session", required=True, type=int, help="session id")
    replay.add_argument("--settings", type=Path, help="TOML settings file (default: the stored settings)")
    replay.add_argument("--json", action="store_true", help="print one JSON object")
    replay.set_defaults(handler=cmd_replay)

    episodes = sub.add_parser("evaluate-episodes", help="score stored sessions' alarms against truth")
    episodes.add_argument("--db", required=True, help="SQLAlchemy URL of the log")
    _add_evaluate(episodes)
    episodes.set_defaults(handler=cmd_evaluate_episodes)

    video = sub.add_parser("evaluate-video", help="analyse a video and score its alarms against truth")
    video.add_argument("--video", required=True, type=Path)
    video.add_argument("--model", help="model folder with card.json and weights")
    video.add_argument("--db", help="keep the analysed session in this log (default: a temporary one)")
    _add_evaluate(video)
    video.set_defaults(handler=cmd_evaluate_video)

    export = sub.add_parser("export-truth", help="annotated episodes as a truth CSV")
    export.add_argument("--db", required=True, help="SQLAlchemy URL of the log")
    export.add_argument("--session", type=int, action="append", help="session id (repeat; default all)")
    export.add_argument("--min-nips", type=int, help="only episodes whose latest NIPS reaches this")
    export.add_argument("--out", type=Path, help="CSV file (default: standard output)")
    export.set_defaults(handler=cmd_export_truth)


def _add_evaluate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--truth", required=True, type=Path, help="CSV: session or video, start, end[, label]")
    parser.add_argument("--settings", type=Path, help="TOML settings file (default: each session's own)")
    parser.add_argument("--sweep", type=Path, metavar="PNG", help="also sweep T_on, D_on, tau; plot here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _settings_file(path: Path | None):
    from monitor.config import load

    return None if path is None else load(path, environ={})


def cmd_replay(args: argparse.Namespace) -> int:
    from monitor.store.database import open_database
    from monitor.tuning.replay import load_session, replay

    stored = load_session(open_database(args.db, create=False, reading=True), args.session)
    settings = _settings_file(args.settings) or stored.settings
    after = replay(stored, settings.alarms)
    changed = _changed(stored.settings.alarms.model_dump(), settings.alarms.model_dump())
    if args.json:
        print(json.dumps({"session": stored.id, "settings_changed": changed,
                          "not_replayed": stored.not_replayed,
                          "stored": [_episode(e) for e in stored.episodes],
                          "replayed": [_episode(e) for e in after]}, indent=2))
        return 0
    print(f"session {stored.id}: {len(stored.frames)} frames, {len(stored.actions)} user action(s) replayed")
    for key, (old, new) in changed.items():
        print(f"  {key}: {old!r} -> {new!r}")
    for line in stored.not_replayed:
        print(f"  NOT replayed (one set of settings throughout): {line}")
    print(f"{'#':>3}  {'stored':<44}  {'replayed':<44}")
    for n, (old, new) in enumerate(zip_longest(stored.episodes, after), start=1):
        print(f"{n:>3}  {_episode_text(old):<44}  {_episode_text(new):<44}")
    return 0


def _changed(old: dict, new: dict) -> dict:
    return {key: (old[key], new[key]) for key in new if new[key] != old[key]}


def _episode(e) -> dict:
    return {"start": e.start, "alarm_at": e.alarm_at, "end": e.end, "end_reason": e.end_reason,
            "max_priority": e.max_priority, "ack_at": e.ack_at, "mode": e.mode}


def _episode_text(e) -> str:
    if e is None:
        return "-"
    end = "open" if e.end is None else f"{e.end:.1f}"
    return f"{e.start:.1f}-{end} s alarm {e.alarm_at:.1f} s {e.max_priority} {e.end_reason or ''}"


def cmd_evaluate_episodes(args: argparse.Namespace) -> int:
    from monitor.store.database import open_database
    from monitor.tuning.truth import read_truth

    key, truth = read_truth(args.truth)
    if key != "session":
        raise MonitorError(f"{args.truth}: evaluate-episodes needs a session column (use evaluate-video for videos)")
    try:
        named = {int(name): intervals for name, intervals in truth.items()}
    except ValueError:
        raise MonitorError(f"{args.truth}: session must be a session id (a whole number)") from None
    return _evaluate(open_database(args.db, create=False, reading=True), named, args)


def cmd_evaluate_video(args: argparse.Namespace) -> int:
    from monitor.config import load
    from monitor.pipeline.runner import OneSourcePipeline
    from monitor.store.database import open_database
    from monitor.tuning.truth import read_truth

    key, truth = read_truth(args.truth)
    names = [n for n in (str(args.video), args.video.name) if n in truth] if key == "video" else []
    if not names:
        raise MonitorError(f"{args.truth}: no video row names {args.video.name}")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'evaluate.db'}"
        settings = load(args.settings, {"store.url": url, "scoring.model_dir": args.model})
        summary = OneSourcePipeline(settings, str(args.video)).run()
        return _evaluate(open_database(url), {summary.session_id: truth[names[0]]}, args)


def _evaluate(db, named: dict, args: argparse.Namespace) -> int:
    from monitor.config import Settings
    from monitor.tuning.metrics import Recording, score, unknown_seconds
    from monitor.tuning.replay import load_session, replay
    from monitor.tuning.sweep import plot, sweep, table

    given = _settings_file(args.settings)
    sessions = []
    for sid, intervals in sorted(named.items()):
        stored = load_session(db, sid)
        alarms = (given or stored.settings).alarms
        sessions.append((stored, Recording(f"session {sid}", stored.end_t,
                                           unknown_seconds(stored.frames, stored.end_t, alarms.camera_lost_after_s),
                                           intervals)))
    base = given or sessions[0][0].settings
    tuning = (given or Settings()).tuning
    result = score([(rec, replay(stored, (given or stored.settings).alarms)) for stored, rec in sessions],
                   tuning.match_after_s, tuning.count_from)
    points = sweep(sessions, base.alarms, tuning) if args.sweep else []
    if points:
        plot(points, args.sweep, f"Alarm settings trade-off over {len(sessions)} session(s), "
             f"{result.monitored_s / 3600:.2f} h monitored, {result.truth_events} pain interval(s)")
    if args.json:
        out = {"scores": result.as_dict()}
        if points:
            out["sweep"] = [{"tau_s": p.tau_s, "t_on": p.t_on, "d_on_s": p.d_on_s, "current": p.current,
                             **p.scores.as_dict()} for p in points]
        print(json.dumps(out, indent=2))
        return 0
    _print_scores(result)
    if points:
        print(table(points))
        print(f"plot: {args.sweep}", file=sys.stderr)
    return 0


def _print_scores(s) -> None:
    sens = "-" if s.sensitivity is None else f"{s.sensitivity:.0%}"
    med, p90 = (s.delay_s(q) for q in (50, 90))
    print(f"monitored {s.monitored_s / 3600:.2f} h; pain intervals {s.truth_events}: "
          f"{s.hits} alarmed, {s.misses} missed (sensitivity {sens})")
    print(f"false alarms {s.false_alarms} ({s.false_alarms_per_hour:.1f} per hour)")
    if med is not None:
        print(f"time from pain start to alarm: median {med:.1f} s, p90 {p90:.1f} s")
    print(f"time in alarm {s.alarm_s:.1f} s ({s.alarm_s / s.monitored_s:.0%}); "
          f"unknown (no scored face) {s.unknown_s / s.monitored_s:.0%} of monitoring time")


def cmd_export_truth(args: argparse.Namespace) -> int:
    from monitor.review.data import find_sessions
    from monitor.store import queries
    from monitor.store.database import open_database
    from monitor.store.files import open_private
    from monitor.tuning.truth import truth_from_annotations

    db = open_database(args.db, create=False, reading=True)
    ids = args.session or [row.id for row in find_sessions(db)]
    for sid in args.session or []:  # an empty truth file for a mistyped id would look like "no pain"
        stored = queries.get_session(db, sid)
        if stored is None:
            raise MonitorError(f"no session {sid} in this database")
        if stored.purged_at is not None:
            raise MonitorError(f"session {sid} was purged: its episodes are gone")
    text = truth_from_annotations(db, ids, args.min_nips)
    if args.out:
        with open_private(args.out, "w", encoding="utf-8") as fh:  # patient data, as the record
            fh.write(text)
    else:
        print(text, end="")
    return 0
