"""`painmon cry --json FILE [FILE ...]`: the cry model's scores of recordings, one JSON object per
file, so a recording can be checked (or a threshold chosen) without running the monitor.

Every file is decoded and scored before anything is printed: one bad file ends the command with
one error line and no partial JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

# The cry score of a window: the higher of these two YAMNet classes (card.json's cue labels).
CRY_CLASSES = ("Baby cry, infant cry", "Crying, sobbing")
SCORE_DIGITS = 4
TIME_DIGITS = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    cry = subparsers.add_parser(
        "cry", help="score the infant cry in sound files and videos' sound tracks (JSON)",
        description="Score recordings with the cry model (YAMNet, models/cry-yamnet) in 0.975 s "
                    "windows every 0.48 s. A window's cry score is the higher of YAMNet's class "
                    "20 'Baby cry, infant cry' and class 19 'Crying, sobbing' (0..1; not a "
                    "calibrated probability). Prints a JSON array, one object per file: file, "
                    "audio (false for a video without sound: cry_max and cry_mean null, no "
                    "windows), duration_s, cry_max, cry_mean, windows [[start_s, score], ...]. "
                    "A missing or unreadable file: one error line, exit 2, nothing printed.")
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
    sounds = [_read(path) for path in args.files]  # every file must read before a line is printed
    scorer = CryScorer(settings.scoring)
    columns = [scorer.cue_labels.index(label) for label in CRY_CLASSES]
    reports = [_report(path, sound, duration, scorer, columns)
               for path, (sound, duration) in zip(args.files, sounds, strict=True)]
    print("[\n" + ",\n".join(json.dumps(r) for r in reports) + "\n]")
    return 0


def _read(path: Path) -> tuple[np.ndarray | None, float]:
    """(samples, duration_s); samples None for a file without a sound track."""
    from monitor.scoring.sound_file import NoSoundTrack, read_sound

    try:
        return read_sound(path)
    except NoSoundTrack as none:
        return None, none.duration_s


def _report(path: Path, sound: np.ndarray | None, duration_s: float, scorer: Any,
            columns: list[int]) -> dict[str, Any]:
    entry: dict[str, Any] = {"file": str(path), "audio": sound is not None,
                             "duration_s": round(duration_s, TIME_DIGITS)}
    if sound is None:
        return entry | {"cry_max": None, "cry_mean": None, "windows": []}
    starts, windows = scorer.windows(sound)
    scores = scorer.cry_scores(windows)[:, columns].max(axis=1)
    return entry | {
        "cry_max": round(float(scores.max()), SCORE_DIGITS),
        "cry_mean": round(float(scores.mean()), SCORE_DIGITS),
        "windows": [[round(float(t), TIME_DIGITS), round(float(s), SCORE_DIGITS)]
                    for t, s in zip(starts, scores, strict=True)],
    }
