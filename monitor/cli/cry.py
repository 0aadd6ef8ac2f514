"""`painmon cry --json FILE [FILE ...]`: the cry model's scores of recordings, one JSON object per
file, so a recording can be checked (or a threshold chosen) without running the monitor.

A file is heard as `painmon run` hears it (monitor/scoring/sound_file.py: the same reader, the same
cry stage), so a window's time is its time in the file and both agree on when the infant cried;
its sound is streamed, never held whole. Every file is opened before the model loads and scored
before anything is printed: one bad file ends the command with one error line naming it and no
partial JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

# A window's cry score is CryWindow.c: the higher of YAMNet's "Baby cry, infant cry" and
# "Crying, sobbing" (card.json's cue labels), as in `run`.
SCORE_DIGITS = 4
TIME_DIGITS = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    cry = subparsers.add_parser(
        "cry", help="score the infant cry in sound files and videos' sound tracks (JSON)",
        description="Score recordings with the cry model (YAMNet, models/cry-yamnet) in 0.975 s "
                    "windows every 0.48 s, as painmon run does. A window's cry score is the higher "
                    "of YAMNet's class 20 'Baby cry, infant cry' and class 19 'Crying, sobbing' "
                    "(0..1; not a calibrated probability). Prints a JSON array, one object per "
                    "file: file, audio (false for a video without sound: cry_max and cry_mean "
                    "null, no windows), duration_s (the file's length), cry_max, cry_mean, "
                    "windows [[start_s, score], ...] (start_s: where the window starts in the "
                    "file; a hole in the sound track is heard as silence), notes (what to know "
                    "about the sound, e.g. channels that cancel when mixed to mono). A missing or "
                    "unreadable file: one error line, exit 2, nothing printed.")
    cry.add_argument("files", nargs="+", type=Path, metavar="FILE",
                     help="wav, flac, ogg, mp3, or a video file with a sound track")
    cry.add_argument("--json", action="store_true", help="print JSON (the only format; the default)")
    cry.add_argument("--config", type=Path, help="TOML settings file (also $PAINMON_CONFIG)")
    cry.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="inference device")
    cry.set_defaults(handler=cmd_cry)


def cmd_cry(args: argparse.Namespace) -> int:
    from monitor.config import load
    from monitor.scoring.cry import CryScorer

    settings = load(args.config, {"scoring.device": args.device})
    durations = [_opened(path) for path in args.files]  # every file must open before the model
    scorer = CryScorer(settings.scoring)
    reports = [_report(path, scorer) if duration is None else _silent(path, duration)
               for path, duration in zip(args.files, durations, strict=True)]
    print("[\n" + ",\n".join(json.dumps(r) for r in reports) + "\n]")
    return 0


def _opened(path: Path) -> float | None:
    """None for a file with sound (it opens), else the duration of a file without a sound track."""
    from monitor.scoring.sound_file import NoSoundTrack, SoundFile

    try:
        SoundFile(path).close()
    except NoSoundTrack as none:
        return none.duration_s
    return None


def _silent(path: Path, duration_s: float) -> dict[str, Any]:
    return {"file": str(path), "audio": False, "duration_s": round(duration_s, TIME_DIGITS),
            "cry_max": None, "cry_mean": None, "windows": [], "notes": []}


def _report(path: Path, scorer: Any) -> dict[str, Any]:
    from monitor.errors import MonitorError
    from monitor.pipeline.hearing import Hearing
    from monitor.scoring.sound_file import SoundFile

    hearing = Hearing(scorer)
    window_s = scorer.card.input.window_samples / scorer.card.input.sample_rate_hz
    try:
        with SoundFile(path) as sound:
            windows = [w for block in sound.blocks() for w in hearing.hear(block)]
            duration_s, notes = sound.duration_s, sound.notes
    except MonitorError as exc:
        raise MonitorError(exc if str(path) in str(exc) else f"{path}: {exc}") from None
    scores = np.array([w.c for w in windows])
    return {
        "file": str(path), "audio": True, "duration_s": round(duration_s, TIME_DIGITS),
        "cry_max": round(float(scores.max()), SCORE_DIGITS) if windows else None,
        "cry_mean": round(float(scores.mean()), SCORE_DIGITS) if windows else None,
        "windows": [[round(w.t - window_s, TIME_DIGITS), round(w.c, SCORE_DIGITS)]
                    for w in windows],
        "notes": notes,
    }
