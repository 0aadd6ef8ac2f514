"""What `painmon train-cry` and `painmon evaluate-cry` do: material -> head -> model folder, and
the model folder -> the evaluation report (cry_eval.py) and, asked, into its card."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from monitor.config import ScoringSettings
from monitor.errors import MonitorError
from monitor.scoring.card import Licence, TrainingData, WeightsSpec, read_json_card
from monitor.scoring.cry import CryScorer
from monitor.scoring.cry_detector import (DETECTOR_FIX, Backbone, CryDetectorCard, DetectorOutput,
                                          HeadArchitecture)
from monitor.training import cry_detector as data
from monitor.training import cry_eval
from monitor.training import soundscape as nicu

log = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.pt"
LIMITATIONS = (
    "A cue, not a validated clinical measure: it says a window sounds like an infant crying.",
    "Trained on 8 kHz phone recordings of infants at home (Donate-a-cry: mostly 0-2 years, "
    "many 'hungry') and 16 ESC-10 cries, not on preterm infants in incubators, whose cries are "
    "weaker and higher.",
    "The NICU bed it was trained against is synthesised (soundscape.py), not recorded: real "
    "alarms, pumps and voices differ.",
    "It hears any infant: the next cot's cry scores like this infant's. The loudness gate "
    "(audio.min_cry_dbfs, set at installation between this cot's cries and the next cot's) and "
    "the whose-cry rule (a calm face in view) are what tell them apart.",
)
NOT_TESTED_ON = (
    "real NICU recordings (no NICU sound is in the shared data)",
    "preterm or intubated infants (an intubated infant cannot cry aloud)",
    "recordings from the network cameras themselves (G.711 and AAC were simulated on the cries)",
    "music, television or a cry recording played in the room",
    "two infants crying at once at similar levels",
)
DATA_LICENCES = (
    "Donate-a-cry corpus (gveres/donateacry-corpus, cleaned data by KTH students): ODbL 1.0 / "
    "DbCL 1.0; this model is a Produced Work of it (ODbL 4.3): shared/data/audio/donateacry/"
    "ATTRIBUTION.md",
    "ESC-10 subset of ESC-50 (K. J. Piczak, ACM MM 2015): CC BY 3.0, per-clip Freesound credits in "
    "shared/data/audio/esc10/ATTRIBUTION.md",
    "speech.wav: TensorFlow Lite Support test data, Apache-2.0",
    "YAMNet (the backbone, models/cry-yamnet): Apache-2.0, The TensorFlow Authors",
)


def _scorer(model_dir: Path, detector_dir: Path | None) -> CryScorer:
    # one thread: the embeddings are the same on every machine, and a shared machine's cores
    # are not spun on waiting for each other
    return CryScorer(ScoringSettings(cry_model_dir=model_dir, cry_detector_dir=detector_dir,
                                     device="cpu", batch_size=64), cpu_threads=1)


def train(shared: Path, assets: Path, out: Path, seed: int, passes: int, cache: Path | None,
          model_dir: Path | None = None) -> CryDetectorCard:
    """Train the head and write `out` (card.json, weights.pt); returns the card."""
    scorer = _scorer(model_dir or ScoringSettings().cry_model_dir, None)
    material = data.training_material(shared, assets)
    x, y, counts = data.training_embeddings(material, scorer, seed, passes, cache)
    head = data.fit_head(x, y, seed)
    weights = data.state_bytes(head)
    validation = sorted({c.group for c in material.validation})
    card = CryDetectorCard(
        name="cry-detector", version="1.0.0",
        architecture=HeadArchitecture(name="embedding_mlp", inputs=x.shape[1], hidden=data.HIDDEN),
        backbone=Backbone(model_id=scorer.name, weights_sha256=scorer.sha256),
        output=DetectorOutput(activation="logistic", threshold=0.5,
                              meaning="probability that this 0.975 s window holds an infant's cry"),
        weights=WeightsSpec(file=WEIGHTS_FILE, sha256=hashlib.sha256(weights).hexdigest(),
                            format="torch_state_dict", dtype="float32",
                            parameters=sum(p.numel() for p in head.parameters())),
        training_data=TrainingData(
            dataset="Donate-a-cry (training installations) + ESC-10 cries folds 1-2 + a "
                    "synthesised NICU bed",
            population="infant cries recorded with phones at home (8 kHz) and Freesound cries; "
                       "no NICU recording",
            notes="split by installation, never by file; see training.split"),
        intended_use="The cry cue's per-window score at the cot (audio.cry_rule detector_span): "
                     "cot microphones and network cameras, full band or narrow band (G.711).",
        limitations=LIMITATIONS, not_tested_on=NOT_TESTED_ON,
        licence=Licence(spdx="MIT", copyright="Copyright (c) 2026 The painmon contributors",
                        project="painmon", notice_file="LICENSE"),
        data_licences=DATA_LICENCES,
        training={
            "command": f"painmon train-cry --seed {seed} --passes {passes}",
            "seed": seed, "passes": passes, "data_version": data.DATA_VERSION,
            "examples": counts,
            "split": {"rule": "an installation is for validation when sha256(instance)[0] < 0.2 * 256",
                      "training_installations": len({c.group for c in material.cries
                                                     if c.source == "donateacry"}),
                      "validation_installations": len(validation),
                      "validation_clips": len(material.validation),
                      "validation": validation,
                      "esc10_cry_folds": list(data.TRAIN_ESC10_CRY_FOLDS),
                      "esc10_held_out_cry_folds": list(data.HELD_OUT_ESC10_CRY_FOLDS)},
            "augmentation": "cry at -45..-10 dBFS, bed at SNR 0-20 dB, reverberation (30 %, RT60 "
                            "0.2-0.6 s), band " + ", ".join(f"{b} {w:.0%}" for b, w in
                                                           data.BAND_WEIGHTS.items())
                            + ", clipping (10 %)",
            "fit": "AdamW lr 3e-3, weight decay 1e-2, 400 full-batch steps, balanced classes",
        },
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / WEIGHTS_FILE).write_bytes(weights)
    (out / "card.json").write_text(card.to_json())
    licence = Path(__file__).resolve().parents[2] / "LICENSE"
    (out / "LICENSE").write_text(licence.read_text())
    return card


def evaluate(shared: Path, assets: Path, model_dir: Path, detector_dir: Path,
             bands: Sequence[str], snrs: Sequence[float], track_s: float, clips: int,
             hours: float, seed: int, write_card: bool) -> dict:
    bad = [b for b in bands if b not in nicu.BANDS]
    if bad or not bands:
        raise MonitorError(f"unknown band {bad[0] if bad else '(none)'}: use {', '.join(nicu.BANDS)}")
    if track_s < cry_eval.SEGMENT_S or clips < 0 or hours < 0:
        raise MonitorError("--track-s must be at least 10 s, --clips and --hours at least 0")
    scorer = _scorer(model_dir, detector_dir)
    material = data.training_material(shared, assets)
    validation = [c.samples for c in material.validation]
    held_out_others = [c for c in nicu.esc10(shared, range(1, 6), infant_cry=False)
                       if not data.esc10_training_other(c.name)]
    sounds = nicu.BedSounds(material.sounds.speech, [c.samples for c in held_out_others],
                            material.sounds.alarm_tones, next_cot_cries=validation)
    rng = np.random.default_rng(seed)
    report: dict = {"seed": seed, "model": scorer.detector_card.model_id,
                    "gate_dbfs": nicu.INSTALLED_GATE_DBFS, "cot_cry_dbfs": nicu.COT_CRY_DBFS,
                    "next_cot_db": nicu.NEXT_COT_DB, "conditions": [], "false_crying": []}
    for band in bands:
        for snr in snrs:
            result = cry_eval.evaluate_condition(scorer, validation, sounds,
                                                 cry_eval.Condition(band, snr), rng, track_s, clips)
            for rule in cry_eval.RULES:
                result[rule]["time_to_crying"] = cry_eval.summary(result[rule].pop("time_to_crying_s"))
            report["conditions"].append(result)
            log.info("evaluate-cry %s SNR %g dB done", band, snr)
        if hours > 0:
            report["false_crying"].append(cry_eval.false_alarms(scorer, sounds, band, hours, rng))
    esc_cries = nicu.esc10(shared, range(1, 6), infant_cry=True)
    esc_others = nicu.esc10(shared, range(1, 6), infant_cry=False)
    report["esc10_all"] = cry_eval.esc10_auc(scorer, [c.samples for c in esc_cries],
                                             [c.samples for c in esc_others])
    report["esc10_held_out"] = cry_eval.esc10_auc(
        scorer, [c.samples for c in esc_cries if int(c.name.split("-")[0]) in
                 data.HELD_OUT_ESC10_CRY_FOLDS], [c.samples for c in held_out_others])
    report = json.loads(json.dumps(report))
    if write_card:  # one entry per set of bands, so runs for different bands can sit side by side
        card = read_json_card(detector_dir, CryDetectorCard, DETECTOR_FIX)
        key = ",".join(bands)
        command = (f"painmon evaluate-cry --bands {key} --snr {','.join(f'{x:g}' for x in snrs)} "
                   f"--track-s {track_s:g} --clips {clips} --hours {hours:g} --seed {seed} --card")
        evaluation = dict(card.evaluation) | {key: {"command": command, **report}}
        (detector_dir / "card.json").write_text(
            card.model_copy(update={"evaluation": evaluation}).to_json())
    return report
