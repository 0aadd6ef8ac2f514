"""`painmon train` and `painmon evaluate`: flags -> settings -> pipeline, and a short summary.

Flags override the [training] section of the settings file; torch is imported by the handler
only, so the rest of the command line stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, get_args

from monitor.config import TrainingSettings, load
from monitor.training.loaders import LAYOUTS

ARCHS = get_args(TrainingSettings.model_fields["arch"].annotation)


def _classes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True,
                        help="data folder (or the CSV manifest for --layout csv)")
    parser.add_argument("--layout", choices=LAYOUTS, default="cope",
                        help="cope: S<NN>_<M|F>_<stimulus>[_<k>].jpg names; folders: "
                             "<class>/[<subject>/]<image>; csv: path,label[,subject] manifest")
    parser.add_argument("--pain-classes", type=_classes,
                        help="comma-separated labels that count as pain (default: pain,pain_post_sucrose)")
    parser.add_argument("--exclude-classes", type=_classes,
                        help="comma-separated labels to leave out (e.g. air,friction,cry)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty --out")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="compute device")
    parser.add_argument("--cache", type=Path, help="face-box cache folder")
    parser.add_argument("--config", type=Path, help="TOML settings file (also $PAINMON_CONFIG)")


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train", help="train a pain model and report both evaluation protocols")
    _add_data(train)
    train.add_argument("--protocol", choices=["subjects", "random"],
                       help="headline protocol (default subjects); the other is reported beside it")
    train.add_argument("--folds", type=int, help="outer folds K (default 5)")
    train.add_argument("--arch", choices=ARCHS, help="network (default mini_xception)")
    train.add_argument("--init", help="expression (default), scratch, or a local state_dict file")
    train.add_argument("--epochs", type=int, help="most epochs per fit (early stopping ends sooner)")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--seed", type=int)
    train.set_defaults(handler=cmd_train)

    evaluate = subparsers.add_parser(
        "evaluate", help="score a held-out set with a model folder and write the same report")
    evaluate.add_argument("--model", type=Path, required=True, help="model folder (card.json)")
    _add_data(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)


def _settings(args: argparse.Namespace, extra: dict[str, Any]):
    flags = {"scoring.device": args.device, "training.cache_dir": args.cache,
             "training.pain_classes": args.pain_classes,
             "training.exclude_classes": args.exclude_classes} | extra
    return load(args.config, flags)


def cmd_train(args: argparse.Namespace) -> int:
    from monitor.training.pipeline import run_training

    settings = _settings(args, {f"training.{k}": getattr(args, k) for k in
                                ("protocol", "folds", "arch", "init", "epochs", "batch_size", "seed")})
    report = run_training(settings, args.data, args.layout, args.out, args.overwrite)
    _print_summary(report)
    print(f"model: {args.out} (card.json, weights.pt); report: {args.out / 'report.md'}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from monitor.training.pipeline import run_evaluation

    settings = _settings(args, {})
    report = run_evaluation(settings, args.model, args.data, args.layout, args.out,
                            tuple(args.pain_classes) if args.pain_classes else None,
                            tuple(args.exclude_classes) if args.exclude_classes is not None else None,
                            args.overwrite)
    _print_summary(report)
    print(f"report: {args.out / 'report.md'}")
    return 0


def _print_summary(report: dict) -> None:
    data = report["data"]
    print(f"{data['used']} faces from {data['labelled']} labelled images "
          f"({len(data['left_out'])} files left out, listed in the report)", file=sys.stderr)
    for name, result in report["protocols"].items():
        s = result["summary"]
        star = " (headline)" if name == report["headline"] else ""
        print(f"{name}{star}: accuracy {s['accuracy']['mean']:.3f}, F1 {s['f1']['mean']:.3f}, "
              f"ROC AUC {s['roc_auc']['mean']:.3f}, ECE {s['ece_uncalibrated']['mean']:.3f} -> "
              f"{s['ece']['mean']:.3f} over {result['folds']} fold(s)")
    print(f"took {report['timing_s']['total']:.1f} s on {report['device']}")
