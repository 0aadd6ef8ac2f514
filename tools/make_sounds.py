#!/usr/bin/env python3
"""Write the alarm tones of the live window into assets/sounds/ (16-bit mono WAV, reproducible).

Patterns follow the spirit of IEC 60601-1-8: priorities differ by the number and rhythm of pulses,
not only by pitch, so that staff tell them apart in a noisy room. Each pulse has a fundamental and
four harmonics (easier to localise than a pure sine) and soft edges (no clicks).

    high       10 pulses, 3+2, pause, 3+2            patient alarm, high priority
    medium     3 pulses                               patient alarm, medium priority
    technical  2 long pulses, falling                 technical alarm (camera, pipeline, storage, ...)
    low        1 soft pulse                           low-priority technical alarm
    reminder   2 short soft pulses                    latched alarm reminder, procedure end, standby overdue

Run: python tools/make_sounds.py [--out DIR]
"""

from __future__ import annotations

import argparse
import wave
from pathlib import Path

import numpy as np

RATE = 22050
OUT = Path(__file__).resolve().parent.parent / "assets" / "sounds"


def pulse(freq: float, length_s: float, level: float = 0.5, glide_to: float | None = None) -> np.ndarray:
    """One tone burst with harmonics and 15 ms raised-cosine edges."""
    n = int(RATE * length_s)
    f = np.full(n, freq) if glide_to is None else np.linspace(freq, glide_to, n)
    phase = 2 * np.pi * np.cumsum(f) / RATE
    wave_ = sum(np.sin(k * phase) / k for k in range(1, 6))
    edge = min(int(RATE * 0.015), n // 2)
    envelope = np.ones(n)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, edge))
    envelope[:edge], envelope[n - edge:] = ramp, ramp[::-1]
    return level * envelope * wave_ / np.max(np.abs(wave_))


def silence(length_s: float) -> np.ndarray:
    return np.zeros(int(RATE * length_s))


def sequence(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts)


def burst(count: int) -> np.ndarray:
    """`count` short high-priority pulses."""
    return sequence(*[sequence(pulse(880.0, 0.14, 0.6), silence(0.08)) for _ in range(count)])


def tones() -> dict[str, np.ndarray]:
    return {
        "high": sequence(burst(3), silence(0.2), burst(2), silence(0.6), burst(3), silence(0.2), burst(2)),
        "medium": sequence(*[sequence(pulse(660.0, 0.2, 0.5), silence(0.15)) for _ in range(3)]),
        "technical": sequence(pulse(523.0, 0.35, 0.45, glide_to=392.0), silence(0.2),
                              pulse(523.0, 0.35, 0.45, glide_to=392.0)),
        "low": pulse(523.0, 0.25, 0.35),
        "reminder": sequence(pulse(587.0, 0.1, 0.35), silence(0.12), pulse(587.0, 0.1, 0.35)),
    }


def write(path: Path, samples: np.ndarray) -> None:
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(RATE)
        fh.writeframes(pcm.tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, samples in tones().items():
        write(args.out / f"{name}.wav", samples)
        print(f"{args.out / name}.wav  {len(samples) / RATE:.2f} s")


if __name__ == "__main__":
    main()
