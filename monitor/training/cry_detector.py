"""Train the cry detector's head (issue 22): real cries over a synthesised NICU bed, seeded.

Data, all read from the shared folder, never downloaded:

- positives: the Donate-a-cry cries of the TRAINING installations (a fixed split by installation,
  `validation_installation`) and the ESC-10 cries of folds 1-2 (fold 3 is held out: the demo's
  cry and the AUC check);
- negatives: the sounds of a NICU that are not crying, as the foreground in place of the cry
  (alarm melodies, oximeter beeps, the app's own alarm tones, speech, coughs, doors, noise bursts
  and the ESC-10 non-cries of the training half), synthesised NICU beds alone
  (monitor/training/soundscape.py), and the breaths inside the cry recordings.

Cries and the other foregrounds go through the same bedside sound path, so neither loudness nor
noise tells them apart: the foreground at -45..-10 dBFS, a bed under it at SNR 0-20 dB,
sometimes a room's reverberation, one of the band limits (G.711 mu-law / A-law at 8 kHz, a
telephone band, low passes, or full band) and sometimes clipping. The YAMNet port embeds each
0.975 s window once; embeddings are cached by a key of everything that made them, so a second run
with the same seed trains in seconds. The head is a 1024-32-1 MLP fitted full-batch with AdamW.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from monitor.scoring.cry import WINDOW_SAMPLES, CryScorer, split_windows
from monitor.scoring.cry_detector import CryHead
from monitor.training import soundscape as nicu

log = logging.getLogger(__name__)

DATA_VERSION = "cry-data-2"  # change when the example recipe changes: the cache key includes it
VALIDATION_SHARE = 0.2
CRY_LABEL_ACTIVITY = 0.5  # a window with at least this share of cry sound is crying
PAUSE_ACTIVITY = 0.05  # ... at most this share: a breath, not crying
TRAIN_ESC10_CRY_FOLDS = (1, 2)
HELD_OUT_ESC10_CRY_FOLDS = (3,)
BAND_WEIGHTS = {"full": 0.3, "mulaw": 0.2, "alaw": 0.15, "telephone": 0.1, "lowpass_4k": 0.1,
                "lowpass_7k": 0.15}
HIDDEN = 32
EMBED_BATCH = 64


def validation_installation(instance: str) -> bool:
    """The fixed split: an installation is for validation when the first byte of the sha256 of
    its id is below 20 % of 256. Independent of any seed, so every run holds out the same ones."""
    return hashlib.sha256(instance.lower().encode()).digest()[0] < VALIDATION_SHARE * 256


def esc10_training_other(name: str) -> bool:
    """ESC-10 non-cries trained on (the other half is held out for the AUC check)."""
    return hashlib.sha256(name.encode()).digest()[0] % 2 == 0


@dataclass(frozen=True)
class Examples:
    windows: np.ndarray  # (n, 15600) float32
    labels: np.ndarray  # (n,) 1 crying, 0 not
    bands: list[str]


def _band(rng: np.random.Generator) -> str:
    names = list(BAND_WEIGHTS)
    return names[int(rng.choice(len(names), p=list(BAND_WEIGHTS.values())))]


def bedside(rng: np.random.Generator, x: np.ndarray, band: str) -> np.ndarray:
    """The sound path's band limit and sometimes (10 %) clipping at 2-4x the RMS."""
    y = nicu.band_limited(x, band)
    if rng.random() < 0.1:
        y = nicu.clipped(y, min(1.0, 10 ** (nicu.rms_dbfs(y) / 20) * rng.uniform(2, 4)))
    return np.clip(y, -1, 1).astype(np.float32)


NEGATIVE_KINDS = ("other", "speech", "alarm", "beeps", "app_tone", "cough", "door", "noise")


def negative_foreground(rng: np.random.Generator, sounds: nicu.BedSounds) -> np.ndarray:
    """5-7 s of one NICU sound that is not crying, in the foreground as a cry would be."""
    kind = NEGATIVE_KINDS[int(rng.integers(len(NEGATIVE_KINDS)))]
    seconds = rng.uniform(5, 7)
    n = int(seconds * nicu.RATE)
    if kind == "noise":  # a fan, a tap, a bin: shaped noise bursts
        x = nicu.pink_noise(rng, n) * np.repeat(rng.uniform(0, 1, int(seconds * 4) + 1) > 0.4,
                                                nicu.RATE // 4)[:n]
    elif kind in ("alarm", "beeps", "speech"):
        x = nicu.EVENT_BUILDERS[kind](rng, seconds, sounds)
    else:
        x = np.concatenate([nicu.EVENT_BUILDERS[kind](rng, seconds, sounds)
                            for _ in range(int(rng.integers(1, 4)))])
    x = np.resize(x, n) if x.size < n else x[:n]
    return x if np.any(x) else nicu.pink_noise(rng, n)


def cry_examples(rng: np.random.Generator, clips: Sequence[np.ndarray], sounds: nicu.BedSounds,
                 passes: int, negatives: bool = False) -> Examples:
    """Each clip `passes` times through the bedside chain; windows labelled by cry activity.
    With `negatives`, each clip's place is taken by a NICU sound that is not crying (label 0)."""
    windows, labels, bands = [], [], []
    for _ in range(passes):
        for clip in clips:
            cry = negative_foreground(rng, sounds) if negatives else clip
            if rng.random() < 0.3:
                cry = nicu.reverberant(cry, rng, rng.uniform(0.2, 0.6), rng.uniform(0.1, 0.4))
            cry = cry * 10 ** ((rng.uniform(-45, -10) - nicu.active_level(cry)) / 20)
            scene = nicu.bed(rng, cry.size / nicu.RATE + 0.1, sounds, events_per_minute=6,
                             kinds=[k for k in nicu.EVENT_KINDS if k != "next_cot_cry"])
            band = _band(rng)
            mix = bedside(rng, nicu.mixed(cry, scene.samples, rng.uniform(0, 20)), band)
            active = nicu.activity(cry).astype(np.float32) * (not negatives)
            _, w = split_windows(mix)
            _, a = split_windows(active)
            share = a.mean(axis=1)
            keep = (share >= CRY_LABEL_ACTIVITY) | (share <= PAUSE_ACTIVITY)
            windows.append(w[keep])
            labels.append((share[keep] >= CRY_LABEL_ACTIVITY).astype(np.float32))
            bands += [band] * int(keep.sum())
    return Examples(np.concatenate(windows), np.concatenate(labels), bands)


def bed_examples(rng: np.random.Generator, sounds: nicu.BedSounds, count: int) -> Examples:
    """`count` windows of NICU beds without a cry: dense events over backgrounds at -60..-30 dBFS."""
    windows, bands, n = [], [], 0
    kinds = [k for k in nicu.EVENT_KINDS if k != "next_cot_cry"]
    while n < count:
        scene = nicu.bed(rng, 30.0, sounds, events_per_minute=10, kinds=kinds,
                         background_dbfs=rng.uniform(-60, -30))
        band = _band(rng)
        samples = bedside(rng, scene.samples, band)
        _, w = split_windows(samples, hop_samples=WINDOW_SAMPLES)
        windows.append(w)
        bands += [band] * len(w)
        n += len(w)
    return Examples(np.concatenate(windows)[:count], np.zeros(count, np.float32), bands[:count])


def embed(scorer: CryScorer, windows: np.ndarray) -> np.ndarray:
    """(n, 1024) float32 YAMNet embeddings, in batches (progress in the log)."""
    out = []
    for i in range(0, len(windows), EMBED_BATCH):
        out.append(scorer.embeddings(windows[i:i + EMBED_BATCH]))
        if i // EMBED_BATCH % 50 == 0:
            log.info("embedded %d of %d windows", i + len(out[-1]), len(windows))
    return np.concatenate(out) if out else np.zeros((0, 1024), np.float32)


def fit_head(x: np.ndarray, y: np.ndarray, seed: int, epochs: int = 400) -> CryHead:
    """Full-batch AdamW on balanced class weights; seeded, so a run gives the same weights."""
    torch.manual_seed(seed)
    head = CryHead(x.shape[1], HIDDEN)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    positive = float(yt.mean())
    weight = torch.where(yt > 0.5, 0.5 / positive, 0.5 / (1 - positive))
    optimiser = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=1e-2)
    for _ in range(epochs):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(xt), yt, weight=weight)
        loss.backward()
        optimiser.step()
    return head.eval()


def cache_key(seed: int, passes: int, files: Sequence[str], backbone_sha256: str) -> str:
    text = json.dumps([DATA_VERSION, seed, passes, sorted(files), backbone_sha256])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def state_bytes(head: CryHead) -> bytes:
    buffer = io.BytesIO()
    torch.save({k: v.detach().clone() for k, v in head.state_dict().items()}, buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class TrainingMaterial:
    cries: list[nicu.CryClip]  # training installations and ESC-10 folds 1-2
    sounds: nicu.BedSounds
    validation: list[nicu.CryClip]  # the held-out installations (for evaluate-cry)


def training_material(shared: Path, assets: Path) -> TrainingMaterial:
    clips = nicu.donateacry(shared)
    others = [c for c in nicu.esc10(shared, range(1, 6), infant_cry=False)
              if esc10_training_other(c.name)]
    tones = nicu.bed_sounds(shared, assets, other_folds=()).alarm_tones
    sounds = nicu.BedSounds(nicu.read_audio(shared / "audio" / "speech.wav"),
                            [c.samples for c in others], tones)
    cries = [c for c in clips if not validation_installation(c.group)]
    cries += nicu.esc10(shared, TRAIN_ESC10_CRY_FOLDS, infant_cry=True)
    return TrainingMaterial(cries, sounds, [c for c in clips if validation_installation(c.group)])


def training_embeddings(material: TrainingMaterial, scorer: CryScorer, seed: int, passes: int,
                        cache: Path | None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(embeddings, labels, counts), from the cache when everything that made them is the same."""
    key = cache_key(seed, passes, [c.name for c in material.cries], scorer.sha256)
    path = None if cache is None else cache / f"cry-embeddings-{key}.npz"
    if path is not None and path.is_file():
        data = np.load(path)
        log.info("cry training embeddings from the cache %s", path)
        return data["x"], data["y"], json.loads(str(data["counts"]))
    rng = np.random.default_rng(seed)
    cries = cry_examples(rng, [c.samples for c in material.cries], material.sounds, passes)
    log.info("made %d windows of cries", len(cries.labels))
    others = cry_examples(rng, [c.samples for c in material.cries], material.sounds, passes,
                          negatives=True)
    log.info("made %d windows of other foreground sounds", len(others.labels))
    beds = bed_examples(rng, material.sounds, count=len(cries.labels) // 2)
    log.info("made %d windows of NICU beds", len(beds.labels))
    x = embed(scorer, np.concatenate([cries.windows, others.windows, beds.windows]))
    y = np.concatenate([cries.labels, others.labels, beds.labels])
    counts = {"crying_windows": int(cries.labels.sum()),
              "breath_windows_in_cries": int((cries.labels == 0).sum()),
              "other_foreground_windows": len(others.labels),
              "nicu_bed_windows": len(beds.labels),
              "bands": {b: (cries.bands + others.bands + beds.bands).count(b)
                        for b in BAND_WEIGHTS}}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, x=x, y=y, counts=json.dumps(counts))
    return x, y, counts
