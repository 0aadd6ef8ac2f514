"""`painmon train-cry` and `painmon evaluate-cry`: the cry detector of issue 22, from the shared
recordings, seeded; figures as JSON (and into the model card with --card)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from monitor.errors import MonitorError
from monitor.paths import ASSETS_DIR, DEFAULT_CRY_DETECTOR_DIR, DEFAULT_CRY_MODEL_DIR, cache_dir

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train-cry", help="train the cry detector's head on the shared cries and a synthesised "
                          "NICU bed (seeded; embeddings cached)")
    train.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared data folder")
    train.add_argument("--out", type=Path, default=DEFAULT_CRY_DETECTOR_DIR, help="model folder")
    train.add_argument("--seed", type=int, default=22)
    train.add_argument("--passes", type=int, default=4,
                       help="times each cry goes through the bedside sound path")
    train.add_argument("--cache", type=Path, default=cache_dir() / "cry-training",
                       help="embedding cache folder")
    train.set_defaults(handler=cmd_train)

    evaluate = subparsers.add_parser(
        "evaluate-cry", help="the old and the new cry cue on the validation installations over a "
                             "synthesised NICU bed: windows, 10 s segments, time to CRYING, "
                             "false CRYING per hour")
    evaluate.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared data folder")
    evaluate.add_argument("--model", type=Path, default=DEFAULT_CRY_DETECTOR_DIR,
                          help="cry detector folder")
    evaluate.add_argument("--bands", default="full,mulaw",
                          help="comma-separated: full, mulaw, alaw, telephone, lowpass_4k, lowpass_7k")
    evaluate.add_argument("--snr", default="5,10,20", help="comma-separated SNRs in dB")
    evaluate.add_argument("--track-s", type=float, default=300.0,
                          help="seconds of crying (and of bed) per condition")
    evaluate.add_argument("--clips", type=int, default=10,
                          help="faceless time-to-CRYING clips per condition")
    evaluate.add_argument("--hours", type=float, default=8.0,
                          help="hours of bed without this infant's cry per band")
    evaluate.add_argument("--seed", type=int, default=2022)
    evaluate.add_argument("--out", type=Path, help="write the JSON report here")
    evaluate.add_argument("--card", action="store_true",
                          help="write the figures into the model card's evaluation section")
    evaluate.set_defaults(handler=cmd_evaluate)


def _shared(path: Path) -> Path:
    for needed in ("audio/donateacry/clips.csv", "audio/esc10/clips.csv", "audio/speech.wav"):
        if not (path / needed).is_file():
            raise MonitorError(f"{path / needed} not found: --data must be the shared data folder "
                               "(see shared/data/README.md)")
    return path


def cmd_train(args: argparse.Namespace) -> int:
    from monitor.training.cry_training import train

    if args.passes < 1:
        raise MonitorError("--passes must be at least 1")
    card = train(_shared(args.data), ASSETS_DIR, args.out, args.seed, args.passes, args.cache)
    print(f"wrote {args.out} ({card.model_id}): "
          + ", ".join(f"{k} {v}" for k, v in card.training["examples"].items() if k != "bands"))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from monitor.training.cry_training import evaluate

    bands = [b.strip() for b in args.bands.split(",") if b.strip()]
    try:
        snrs = [float(x) for x in args.snr.split(",") if x.strip()]
    except ValueError:
        raise MonitorError(f"--snr must be numbers separated by commas, got {args.snr!r}") from None
    report = evaluate(_shared(args.data), ASSETS_DIR, DEFAULT_CRY_MODEL_DIR, args.model, bands,
                      snrs, args.track_s, args.clips, args.hours, args.seed, args.card)
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0
