"""Cry model speed (not a CI step): ms per 0.975 s window at batch 1 and batch 16.

    .venv/bin/python benchmarks/cry_model.py [--device auto|cpu|cuda|mps] [--threads N] [--repeats N]

Scores windows of the shared speech clip (the cost does not depend on the sound) with the shipped
model through CryScorer, front end included, after two warm-up passes; prints the median of
`repeats` timed passes, with the cry detector's head (what the cry stage runs, `score_cry`) and
without it (YAMNet alone). A stream needs one window every 0.48 s: far below 480 ms keeps up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from monitor.config import ScoringSettings  # noqa: E402
from monitor.scoring.cry import CryScorer  # noqa: E402

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "audio" / "speech.wav"


def _signal() -> np.ndarray:
    """16 kHz int16 speech from the shared data (a 16 kHz WAV needs no decoder or resampler)."""
    with wave.open(str(SPEECH), "rb") as f:
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float32) / 32768


def _median_ms_per_window(scorer: CryScorer, windows: np.ndarray, repeats: int) -> float:
    for _ in range(2):
        scorer.score_cry(windows)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scorer.score_cry(windows)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000 / len(windows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    with_head = CryScorer(ScoringSettings(device=args.device, batch_size=16), args.threads)
    alone = CryScorer(ScoringSettings(device=args.device, batch_size=16, cry_detector_dir=None),
                      args.threads)
    _, windows = with_head.windows(_signal())
    batch16 = np.resize(windows, (16, windows.shape[1]))  # repeats the windows to fill 16
    print(f"{with_head.name} + {with_head.detector_card.model_id} on {with_head.device_description}")
    for name, batch in (("batch 1", windows[:1]), ("batch 16", batch16)):
        for what, scorer in (("with the detector", with_head), ("YAMNet alone", alone)):
            ms = _median_ms_per_window(scorer, batch, args.repeats)
            print(f"{name:>8}, {what:>17}: {ms:7.2f} ms per window ({1000 / ms:6.1f} windows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
