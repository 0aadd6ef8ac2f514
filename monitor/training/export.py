"""The trained model folder: weights, card (with the training record), NOTICE and the report.

The card is what `painmon run --model DIR` reads: it carries the calibration temperature the
Scorer applies, the label mapping, both protocols' metrics and the weights' sha256.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from pathlib import Path

import torch

from monitor import __version__
from monitor.paths import DEFAULT_MODEL_DIR
from monitor.scoring.card import (
    Calibration, InputSpec, Licence, ModelCard, OutputSpec, Source, TrainingData, TrainingRecord,
    WeightsSpec, read_card,
)
from monitor.training.crossval import Trained
from monitor.training.labels import CLASSES

WEIGHTS_FILE, NOTICE_FILE = "weights.pt", "NOTICE"
_CARD_PROTOCOL_KEYS = ("protocol", "title", "folds", "summary", "confusion_total")


def card_name(out: Path) -> str:
    """The folder name made into a valid card name (lower case, digits, . _ -)."""
    name = re.sub(r"[^a-z0-9._-]+", "-", out.name.lower()).strip("-._")
    return name or "pain-model"


def export_model(out: Path, trained: Trained, spec: InputSpec, report: dict) -> ModelCard:
    """Write weights.pt, card.json and NOTICE into `out`; returns the card."""
    out.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    state = {k: v.detach().cpu().float().contiguous() for k, v in trained.net.state_dict().items()}
    torch.save(state, buffer)
    weights = buffer.getvalue()
    (out / WEIGHTS_FILE).write_bytes(weights)
    (out / NOTICE_FILE).write_text(_notice(report, trained.init), encoding="utf-8")
    card = _card(out, trained, spec, report, weights, sum(v.numel() for v in state.values()
                                                           if v.is_floating_point()))
    (out / "card.json").write_text(card.to_json(), encoding="utf-8")
    return card


def _card(out: Path, trained: Trained, spec: InputSpec, report: dict, weights: bytes,
          parameters: int) -> ModelCard:
    data, headline = report["data"], report["protocols"][report["headline"]]
    auc, acc = headline["summary"]["roc_auc"], headline["summary"]["accuracy"]
    final = report["final_model"]
    results = "; ".join(f"{name}: accuracy {r['summary']['accuracy']['mean']:.3f}, ROC AUC "
                        f"{r['summary']['roc_auc']['mean']:.3f}" for name, r in report["protocols"].items())
    return ModelCard(
        name=card_name(out),
        version=report["created"].replace(":", "").replace("+0000", "Z"),
        architecture=trained.architecture,
        input=spec,
        output=OutputSpec(activation="softmax", labels=CLASSES, pain_labels=("pain",),
                          pain_score_name="P(pain expression), temperature-calibrated"),
        calibration=Calibration(
            temperature=trained.temperature,
            method=f"temperature scaling fitted on {trained.n_val} validation images "
                   f"({final['validation_protocol']} split)"),
        weights=WeightsSpec(file=WEIGHTS_FILE, sha256=hashlib.sha256(weights).hexdigest(),
                            format="torch_state_dict", dtype="float32", parameters=parameters),
        training_data=TrainingData(
            dataset=f"{Path(data['folder']).name} ({data['layout']} layout)",
            population=f"{data['used']} face images of "
                       f"{data['subjects'] if data['subjects'] is not None else 'an unknown number of'} "
                       f"subjects; " + ", ".join(f"{k} {v}" for k, v in data["per_class"].items()),
            test_accuracy=acc["mean"] if math.isfinite(acc["mean"]) else None,
            notes=f"{report['headline']} protocol is the headline; {results}"),
        intended_use=("Research and local validation of a pain-expression score on the population "
                      "it was trained on; not for clinical decisions."),
        limitations=(
            f"Headline ({report['headline']}) ROC AUC {auc['mean']:.3f} ± {auc['sd']:.3f} across "
            f"{headline['folds']} folds on {data['used']} images: small data, wide intervals.",
            "Scores facial expression only (one item of clinical scales such as NIPS); crying, "
            "hunger and other distress look alike.",
            "Not validated outside the training population, camera and lighting.",
            "Calibration was fitted on one small validation split; recheck ECE on local data.",
        ),
        licence=Licence(spdx="NOASSERTION", copyright="see NOTICE", project="painmon train",
                        notice_file=NOTICE_FILE),
        source=Source(url=data["folder"], file=f"{data['used']} images",
                      sha256=data["manifest_sha256"], framework=f"PyTorch {torch.__version__}",
                      converted_with=f"painmon train {__version__}"),
        training=TrainingRecord(
            tool=report["tool"],
            data={k: v for k, v in data.items() if k != "left_out"} | {"left_out": len(data["left_out"])},
            label_mapping=report["label_mapping"],
            headline_protocol=report["headline"],
            protocols={name: {k: r[k] for k in _CARD_PROTOCOL_KEYS}
                       for name, r in report["protocols"].items()},
            calibration={"temperature": trained.temperature, "n_val": trained.n_val,
                         "validation_uncalibrated": final["validation_uncalibrated"],
                         "validation": final["validation"]},
            settings=report["settings"]),
    )


def _notice(report: dict, init: str) -> str:
    text = [f"Weights trained by {report['tool']} on {report['created']} from the data in",
            f"  {report['data']['folder']} (sha256 of the file manifest "
            f"{report['data']['manifest_sha256']}).",
            "The terms of that data set apply to these weights (COPE/iCOPE, for example, are",
            "released by their owners on request, for research).",
            f"Initialisation: {init}."]
    if init.startswith("expression"):
        text += ["", "They derive from the facial-expression mini-Xception of face_classification:",
                 "", (DEFAULT_MODEL_DIR / read_card(DEFAULT_MODEL_DIR).licence.notice_file)
                 .read_text(encoding="utf-8")]
    return "\n".join(text) + "\n"
