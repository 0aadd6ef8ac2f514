"""`painmon run` (headless) and `painmon demo` (the window, or headless where none can open)."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from monitor.cli.common import NOT_A_DEVICE, add_common, monitoring_settings
from monitor.errors import EXIT_BAD_INPUT, EXIT_FAULT, MonitorError
from monitor.paths import DEMO_CLIP
from monitor.signal.records import SYMBOL

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # HUP: the terminal was closed


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="monitor a source headless and log to the database")
    run.add_argument("--source", required=True,
                     help="camera:N, a video file, or an rtsp:// / http(s):// URL")
    run.add_argument("--realtime", action="store_true", help="pace a file like a live camera")
    add_common(run)
    run.set_defaults(handler=lambda a: cmd_run(a, a.source, a.realtime))

    demo = sub.add_parser("demo", help="play the embedded demo clip in the bedside window, or "
                          "analyse it headless where no window can open (no camera needed)")
    demo.add_argument("--headless", action="store_true",
                      help="analyse at full speed and print the summary, even where a window could open")
    add_common(demo)
    demo.set_defaults(handler=cmd_demo)


class Progress:
    """One status line: rewritten in place on a terminal, a line every 10 s in a log."""

    LOG_EVERY_S = 10.0

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last_logged = -self.LOG_EVERY_S

    def __call__(self, summary, snapshot) -> None:
        s = "unknown" if snapshot.s is None else f"{snapshot.s:.2f} {snapshot.s_label}"
        f = "-" if snapshot.f is None else f"{snapshot.f:.0%}"
        alarms = " ".join(_alarm_text(a) for a in snapshot.alarms) or "none"
        line = (f"t {snapshot.t:7.1f}s  frames {summary.frames:6d}  scored {summary.frames_scored:6d}  "
                f"S {s:<12} F {f:>4}  alarms: {alarms}")
        if self._tty:
            print(f"\r{line:<110}", end="", file=sys.stderr, flush=True)
        elif time.monotonic() - self._last_logged >= self.LOG_EVERY_S:
            self._last_logged = time.monotonic()
            print(line, file=sys.stderr, flush=True)


def _alarm_text(alarm) -> str:
    state = " latched" if alarm.latched and not alarm.active else ""
    state += " signal-lost" if alarm.signal_lost else ""
    return f"{alarm.kind}{SYMBOL[alarm.priority]}{state}"


def print_summary(summary) -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)
    ended = summary.end_reason + (f" ({summary.end_detail})" if summary.end_detail else "")
    print(f"session {summary.session_id}: {summary.source}, ended: {ended}")
    video_s = summary.duration_s if summary.picture_ended_at is None else summary.picture_ended_at
    print(f"  frames {summary.frames} in {video_s:.1f} s of video, analysed at "
          f"{summary.fps:.1f} frames/s on {summary.device}")
    if summary.picture_ended_at is not None:
        print(f"  the picture ends at {summary.picture_ended_at:.1f} s, the sound at "
              f"{summary.duration_s:.1f} s: the face is unknown after the picture")
    print(f"  scored face {summary.frames_scored}, no face {summary.frames_no_face} "
          f"({summary.no_face_s:.1f} s), poor quality {summary.frames_poor_quality}")
    print(f"  model {summary.model}")
    if summary.audio is None:
        print("  sound: no microphone (cry cue unknown throughout)")
    else:
        print(f"  sound: {summary.audio}; crying {summary.crying_s:.1f} s")
    episodes = sorted(summary.episodes.values(), key=lambda e: e.number)
    print(f"  pain-expression episodes: {len(episodes)}")
    for e in episodes:
        end = "open" if e.end is None else f"{e.end:.1f} s"
        ack = f", acknowledged {e.ack_at:.1f} s by {e.ack_by}" if e.ack_at is not None else ""
        print(f"    #{e.number}: {e.start:.1f} s - {end} (alarm {e.alarm_at:.1f} s), "
              f"peak S {e.peak_s:.2f}, priority {e.max_priority}, cues {e.cues.replace('+', ' + ')}, "
              f"{e.end_reason or 'open'}{ack}")
    print(f"  log: {summary.database}")
    if problem := record_problem(summary):
        print(f"  record: {problem}")


def record_problem(summary) -> str | None:
    """What the record lacks, in words (a full disk, a database gone), or None."""
    parts = []
    if summary.unwritten:
        where = (f"kept in {summary.kept_in} for the next start" if summary.kept_in
                 else "lost: they could not be kept either")
        parts.append(f"{summary.unwritten} rows not written ({summary.store_error}); {where}")
    if summary.dropped:
        parts.append(f"{summary.dropped} rows dropped (the writer's buffer was full)")
    return "; ".join(parts) or None


def cmd_run(args: argparse.Namespace, source: str, realtime: bool) -> int:
    from monitor.pipeline.runner import OneSourcePipeline  # heavy imports (torch) only when monitoring

    settings = monitoring_settings(args)
    print(NOT_A_DEVICE, file=sys.stderr)
    stop_asked: list[int] = []  # a stop that comes while the models load is kept for the loop
    monitor = None

    def stop(number: int, _frame) -> None:
        stop_asked.append(number)
        if monitor is not None:
            monitor.stop()

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        monitor = OneSourcePipeline(settings, source, realtime=realtime, encounter_id=args.encounter)
        if stop_asked:
            monitor.stop()
        summary = monitor.run(on_progress=Progress())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print_summary(summary)
    if problem := record_problem(summary):  # a fault of the machine: the supervisor restarts
        print(f"painmon: fault: the record is incomplete: {problem}", file=sys.stderr)
        return EXIT_FAULT
    if summary.end_reason == "source_failed":
        print(f"painmon: error: {summary.source} failed: {summary.end_detail}; what was analysed "
              "is kept", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if not DEMO_CLIP.exists():
        raise MonitorError(f"the embedded demo clip is missing: {DEMO_CLIP} (regenerate it with "
                           "python tools/make_demo_clip.py)")
    from monitor.cli.window import open_window, window_available

    if not args.headless and window_available():
        return open_window(args, str(DEMO_CLIP), realtime=True)
    return cmd_run(args, str(DEMO_CLIP), realtime=False)
