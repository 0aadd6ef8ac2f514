"""`painmon train` and `painmon evaluate` from start to finish, without any argument parsing.

Training: load and label the data, crop faces with the bedside code, run the headline protocol
and the other one beside it, fit the final model on all data, and write the model folder with
its report. Evaluation: score a held-out set with a model folder and write the same report.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from monitor import __version__
from monitor.config import Settings
from monitor.paths import DEFAULT_MODEL_DIR
from monitor.errors import MonitorError
from monitor.scoring.card import InputSpec, read_card
from monitor.scoring.device import choose_device, describe_device
from monitor.scoring.model import load_model
from monitor.training.calibration import pain_probability
from monitor.training.crossval import (
    Prepared, cross_validate, predictions_of, protocol_result, train_once,
)
from monitor.training.export import export_model
from monitor.training.faces import crop_faces
from monitor.training.fit import predict_logits
from monitor.training.labels import CLASSES, binary_labels
from monitor.training.loaders import load_data
from monitor.training.metrics import binary_metrics
from monitor.training.networks import check_choice
from monitor.training.report import write_report
from monitor.training.samples import relative
from monitor.training.splits import PROTOCOLS


def _value_range(spec: InputSpec) -> tuple[float, float]:
    pre = spec.preprocessing
    ends = [(v / pre.divide_by - pre.subtract) * pre.multiply_by for v in (0.0, 255.0)]
    return min(ends), max(ends)


def prepare(settings: Settings, data_dir: Path, layout: str, spec: InputSpec,
            device: torch.device, pain_classes: tuple[str, ...],
            exclude_classes: tuple[str, ...]) -> tuple[Prepared, dict, dict]:
    """(face inputs ready to split, data summary for the report, label mapping)."""
    data = load_data(data_dir, layout)
    labelled = binary_labels(data, pain_classes, exclude_classes)
    faces = crop_faces(labelled.samples, spec, settings.vision, device,
                       settings.training.cache_dir, settings.training.keep_poor_quality)
    kept = [labelled.samples[i] for i in faces.kept]
    y = labelled.y[faces.kept]
    if len(set(y.tolist())) < 2:
        raise MonitorError(f"faces were found in {len(kept)} of {len(labelled.samples)} images, "
                           "and they hold one class only; see the files left out in the report")
    groups = np.array([s.subject for s in kept]) if data.has_subjects else None
    manifest = "\n".join(f"{relative(s.path, data.root)}\t{s.label}\t{s.subject}\t{h}"
                         for s, h in zip(labelled.samples, faces.file_sha256))
    summary = {
        "folder": str(data.root),
        "layout": data.layout,
        "files_seen": len(data.samples) + len(data.skipped),
        "labelled": len(data.samples),
        "excluded_by_class": len(data.samples) - len(labelled.samples),
        "used": len(kept),
        "subjects": None if groups is None else len(set(groups.tolist())),
        "per_class": {c: int(np.sum(y == i)) for i, c in enumerate(CLASSES)},
        "per_label": dict(sorted(Counter(s.label for s in kept).items())),
        "per_subject": None if groups is None else {
            g: {c: int(np.sum((groups == g) & (y == i))) for i, c in enumerate(CLASSES)}
            for g in sorted(set(groups.tolist()))},
        "left_out": [{"file": relative(s.path, data.root), "reason": s.reason}
                     for s in data.skipped + faces.dropped],
        "corrections": data.corrections,
        "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
    }
    prepared = Prepared(faces.inputs, y, groups, [relative(s.path, data.root) for s in kept],
                        _value_range(spec))
    return prepared, summary, labelled.mapping


def _header(title: str, device: torch.device, settings: dict) -> dict:
    return {"title": title, "tool": f"painmon {__version__}",
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "device": describe_device(device), "settings": settings}


def _check_out(out: Path, overwrite: bool) -> None:
    if out.resolve() == DEFAULT_MODEL_DIR.resolve():
        raise MonitorError(f"--out {out} is the shipped expression model; choose another folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise MonitorError(f"output folder {out} exists and is not empty; choose another --out "
                           "or pass --overwrite")


def run_training(settings: Settings, data_dir: Path, layout: str, out: Path,
                 overwrite: bool = False) -> dict:
    """Train, evaluate both protocols, export the model folder; returns the report."""
    started = time.monotonic()
    _check_out(out, overwrite)
    train = settings.training
    check_choice(train.arch, train.init)
    device = choose_device(settings.scoring.device)
    spec = read_card(DEFAULT_MODEL_DIR).input  # the bedside preprocessing, for every architecture
    data, summary, mapping = prepare(settings, data_dir, layout, spec, device, train.pain_classes,
                                     train.exclude_classes)
    faces_s = time.monotonic() - started
    if train.protocol == "subjects" and data.groups is None:
        raise MonitorError("--protocol subjects needs subject ids (COPE names, "
                           "<class>/<subject>/ folders or a subject column); without them only "
                           "--protocol random can run, and its numbers are optimistic")
    order = [train.protocol] + [p for p in PROTOCOLS if p != train.protocol]
    runnable = [p for p in order if p == "random" or data.groups is not None]
    report = _header(f"Training report: {out.name}", device,
                     train.model_dump(mode="json") | {"device": settings.scoring.device})
    report |= {"kind": "train", "data": summary, "label_mapping": mapping,
               "headline": train.protocol, "protocols": {}, "timing_s": {"faces": faces_s}}
    if len(runnable) < len(order):
        report["not_run"] = {"subjects": "the data has no subject ids"}
    for protocol in runnable:
        tick = time.monotonic()
        report["protocols"][protocol] = cross_validate(data, protocol, train, device)
        report["timing_s"][protocol] = time.monotonic() - tick
    tick = time.monotonic()
    everything = np.arange(len(data.y))
    final = train_once(data, everything, runnable[0], train, device, train.seed, desc="final model")
    report["timing_s"]["final"] = time.monotonic() - tick
    report["final_model"] = {
        "directory": str(out), "init": final.init, "epochs_run": final.epochs_run,
        "best_epoch": final.best_epoch, "temperature": final.temperature, "n_train": final.n_train,
        "n_val": final.n_val, "validation_protocol": runnable[0],
        "validation_subjects": final.val_subjects,
        "validation_uncalibrated": final.val_before, "validation": final.val_after}
    report["timing_s"]["total"] = time.monotonic() - started
    export_model(out, final, spec, report)
    write_report(report, out)
    return report


def run_evaluation(settings: Settings, model_dir: Path, data_dir: Path, layout: str, out: Path,
                   pain_classes: tuple[str, ...] | None = None,
                   exclude_classes: tuple[str, ...] | None = None, overwrite: bool = False) -> dict:
    """Score a held-out set with a model folder (calibration applied) and write its report."""
    started = time.monotonic()
    _check_out(out, overwrite)
    device = choose_device(settings.scoring.device)
    model = load_model(model_dir, device)
    card = model.card
    recorded = card.training.settings if card.training else {}
    pain = pain_classes or tuple(recorded.get("pain_classes", settings.training.pain_classes))
    exclude = exclude_classes if exclude_classes is not None else tuple(
        recorded.get("exclude_classes", settings.training.exclude_classes))
    data, summary, mapping = prepare(settings, data_dir, layout, card.input, device, pain, exclude)
    logits = predict_logits(model.net, data.x, device)
    pain_indices = card.output.pain_indices
    before = pain_probability(logits, 1.0, pain_indices)
    after = pain_probability(logits, card.calibration.temperature, pain_indices)
    bins = settings.training.ece_bins
    everything = np.arange(len(data.y))
    record = {"fold": 1, "n_train": 0, "n_val": 0, "n_test": len(everything),
              "test_subjects": [] if data.groups is None else sorted(set(data.groups.tolist())),
              "epochs_run": 0, "best_epoch": 0, "temperature": card.calibration.temperature,
              "metrics": binary_metrics(data.y, after, bins),
              "uncalibrated": binary_metrics(data.y, before, bins)}
    predictions = predictions_of(data, everything, 1, before, after)
    report = _header(f"Evaluation report: {card.model_id} on {Path(data_dir).name}", device,
                     {"model": card.model_id, "model_sha256": model.sha256,
                      "temperature": card.calibration.temperature, "pain_classes": list(pain),
                      "exclude_classes": list(exclude), "ece_bins": bins})
    report |= {"kind": "evaluate", "data": summary, "label_mapping": mapping,
               "headline": "held_out",
               "protocols": {"held_out": protocol_result("held_out", [record], predictions, bins)}}
    report["timing_s"] = {"total": time.monotonic() - started}
    write_report(report, out)
    return report

