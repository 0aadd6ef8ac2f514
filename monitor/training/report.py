"""The report of a training or evaluation run: JSON for machines, Markdown for people, and plots.

Both protocols stand side by side in one table, the subject-disjoint one first: the gap
between them is how much of a random-split score came from recognising the infant.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from monitor.training.metrics import METRICS
from monitor.training.plots import reliability_png, roc_png

REPORT_JSON, REPORT_MD, ROC_PNG, RELIABILITY_PNG = "report.json", "report.md", "roc.png", "reliability.png"
NOT_A_DEVICE = ("Not a certified medical device: these numbers describe facial pain expression on "
                "this data set, under these protocols, and nothing more.")
_NAMES = {"roc_auc": "ROC AUC", "f1": "F1", "ece": "ECE", "brier": "Brier"}


def write_report(report: dict, out_dir: Path) -> None:
    """report.json, report.md, roc.png and reliability.png into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / REPORT_JSON).write_text(json.dumps(_json_safe(report), indent=2) + "\n", encoding="utf-8")
    (out_dir / REPORT_MD).write_text(markdown(report), encoding="utf-8")
    roc_png(report["protocols"], out_dir / ROC_PNG)
    reliability_png(report["protocols"], out_dir / RELIABILITY_PNG, report["settings"]["ece_bins"])


def _json_safe(value):
    """NaN (an undefined metric, e.g. AUC of a one-class fold) is not JSON: write null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _cell(stat: dict) -> str:
    if not math.isfinite(stat["mean"]):
        return "undefined"
    if not math.isfinite(stat["sd"]):
        return f"{stat['mean']:.3f}"
    lo, hi = stat["ci95"]
    return f"{stat['mean']:.3f} ± {stat['sd']:.3f} [{lo:.3f}, {hi:.3f}]"


def _title(metric: str) -> str:
    return _NAMES.get(metric, metric)


def markdown(report: dict) -> str:
    protocols = report["protocols"]
    names = list(protocols)
    lines = [f"# {report['title']}", "", NOT_A_DEVICE, ""]
    lines += _data_section(report)
    lines += ["## Results: protocols side by side", "",
              "Mean ± sd across folds [95% t-interval of the mean]; metrics after calibration "
              "(temperature scaling changes no decision, only ECE and Brier).", ""]
    for name in names:
        lines.append(f"- **{name}**{' (headline)' if name == report['headline'] else ''}: "
                     f"{protocols[name]['title']}, {protocols[name]['folds']} fold(s)")
    for name, why in report.get("not_run", {}).items():
        lines.append(f"- **{name}**: not run: {why}")
    lines += ["", "| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for metric in METRICS:
        lines.append(f"| {_title(metric)} | " +
                     " | ".join(_cell(protocols[n]["summary"][metric]) for n in names) + " |")
    for metric in ("brier", "ece"):
        lines.append(f"| {_title(metric)} before calibration | " +
                     " | ".join(_cell(protocols[n]["summary"][f"{metric}_uncalibrated"])
                                for n in names) + " |")
    if {"subjects", "random"} <= set(names):
        gap = {m: protocols["random"]["summary"][m]["mean"] - protocols["subjects"]["summary"][m]["mean"]
               for m in ("accuracy", "f1", "roc_auc")}
        lines += ["", "Random split minus subject-disjoint: " +
                  ", ".join(f"{_title(m)} {v:+.3f}" for m, v in gap.items()) +
                  ". A positive gap is what the model learned about the infants themselves "
                  "rather than about pain; only the subject-disjoint numbers say what to expect "
                  "on a new infant."]
    for name in names:
        lines += _protocol_section(name, protocols[name])
    lines += _final_section(report)
    lines += ["## Plots", "", f"![ROC]({ROC_PNG})", "", f"![Reliability]({RELIABILITY_PNG})", "",
              "## Settings", ""]
    lines += [f"- {k}: {v}" for k, v in report["settings"].items()]
    lines += ["", f"Run took {report['timing_s']['total']:.1f} s on {report['device']}. "
              f"{report['tool']}, {report['created']}.", ""]
    return "\n".join(lines)


def _data_section(report: dict) -> list[str]:
    data = report["data"]
    lines = ["## Data", "",
             f"- folder: `{data['folder']}` (layout {data['layout']}), data sha256 "
             f"`{data['manifest_sha256'][:16]}…`",
             f"- files seen {data['files_seen']}, labelled {data['labelled']}, excluded by class "
             f"{data['excluded_by_class']}, with a usable face {data['used']}",
             f"- subjects: {data['subjects'] if data['subjects'] is not None else 'unknown'}",
             "- images used per class: " + ", ".join(f"{k} {v}" for k, v in data["per_class"].items()),
             "- images used per label: " + ", ".join(f"{k} {v}" for k, v in data["per_label"].items()),
             "- label mapping: " + ", ".join(f"{k} → {v}" for k, v in report["label_mapping"].items()),
             ""]
    if data["corrections"]:
        lines += [f"Spelling variants read ({len(data['corrections'])}):", ""]
        lines += [f"- {c}" for c in data["corrections"]] + [""]
    if data["left_out"]:
        lines += [f"Files left out ({len(data['left_out'])}):", "", "| file | reason |", "|---|---|"]
        lines += [f"| `{f['file']}` | {f['reason']} |" for f in data["left_out"]] + [""]
    return lines


def _protocol_section(name: str, result: dict) -> list[str]:
    (tn, fp), (fn, tp) = result["confusion_total"]
    lines = ["", f"### {name}: {result['title']}", "",
             "| fold | test images | test subjects | epochs (best) | T | accuracy | F1 | ROC AUC | "
             "ECE before → after | Brier before → after |", "|---" * 10 + "|"]
    for r in result["fold_results"]:
        m, u = r["metrics"], r["uncalibrated"]
        subjects = ", ".join(r["test_subjects"]) or "-"
        lines.append(f"| {r['fold']} | {r['n_test']} | {subjects} | {r['epochs_run']} "
                     f"({r['best_epoch']}) | {r['temperature']:.2f} | {m['accuracy']:.3f} | "
                     f"{m['f1']:.3f} | {m['roc_auc']:.3f} | {u['ece']:.3f} → {m['ece']:.3f} | "
                     f"{u['brier']:.3f} → {m['brier']:.3f} |")
    lines += ["", "Confusion matrix, all test folds (rows: truth, columns: prediction):", "",
              "| | predicted no pain | predicted pain |", "|---|---|---|",
              f"| no pain | {tn} | {fp} |", f"| pain | {fn} | {tp} |", ""]
    return lines


def _final_section(report: dict) -> list[str]:
    final = report.get("final_model")
    if not final:
        return []
    before, after = final["validation_uncalibrated"], final["validation"]
    return ["## Final model (trained on all data)", "",
            f"- saved as `{final['directory']}`; init {final['init']}; "
            f"{final['epochs_run']} epochs (best {final['best_epoch']})",
            f"- temperature {final['temperature']:.3f}, fitted on {final['n_val']} validation "
            f"images ({final['validation_protocol']} split)",
            f"- validation ECE {before['ece']:.3f} → {after['ece']:.3f}, Brier "
            f"{before['brier']:.3f} → {after['brier']:.3f}", ""]
