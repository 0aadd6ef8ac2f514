"""Movement cue speed (not a CI step): ms per 640x480 frame of MovementMeter plus MovementSmoother.

    .venv/bin/python benchmarks/movement.py [--frames N] [--threads N] [--repeats N]

Runs over the first N frames of the embedded demo clip (decoded beforehand, so decoding is not
counted), a full-frame cot region, each pass with a fresh meter; prints the median over `repeats`
passes of the mean ms per frame, the 95th percentile of single frames, and the CPU time per frame
(which other jobs on a shared machine disturb less than the wall clock). OpenCV uses one thread
by default, as on the bedside PC's second core beside the detector.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from monitor.config import MovementSettings
from monitor.signal.movement import MovementSmoother
from monitor.vision.movement import MovementMeter

DEMO = Path(__file__).resolve().parent.parent / "assets" / "demo" / "demo.mp4"


def _frames(count: int) -> list[tuple[float, np.ndarray]]:
    cap = cv2.VideoCapture(str(DEMO))
    out = []
    while len(out) < count:
        ok, frame = cap.read()
        if not ok:
            break
        out.append((cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, frame))
    cap.release()
    if not out:
        raise SystemExit(f"cannot read {DEMO}")
    return out


def _pass(frames: list[tuple[float, np.ndarray]], settings: MovementSettings) -> tuple[list[float], float]:
    """Wall seconds per frame, and CPU seconds per frame over the pass."""
    meter, smoother = MovementMeter(settings=settings), MovementSmoother(settings)
    times = []
    cpu = time.process_time()
    for t, frame in frames:
        start = time.perf_counter()
        reading = meter.measure(t, frame)
        smoother.add(t, reading.m, reading.unknown or "")
        smoother.at(t)
        times.append(time.perf_counter() - start)
    return times[1:], (time.process_time() - cpu) / len(frames)  # frame 0 only stores its picture


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=300, help="demo frames per pass (default 300)")
    ap.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1)")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes (default 3)")
    args = ap.parse_args(argv)
    cv2.setNumThreads(args.threads)
    frames = _frames(args.frames)
    settings = MovementSettings()
    _pass(frames[:30], settings)  # warm-up: OpenCV allocates its buffers
    passes = [_pass(frames, settings) for _ in range(args.repeats)]
    mean_ms = statistics.median(1e3 * statistics.fmean(wall) for wall, _ in passes)
    p95_ms = statistics.median(1e3 * float(np.percentile(wall, 95)) for wall, _ in passes)
    cpu_ms = statistics.median(1e3 * cpu for _, cpu in passes)
    h, w = frames[0][1].shape[:2]
    print(f"movement cue, {w}x{h}, {len(frames)} frames x {args.repeats} passes, "
          f"OpenCV threads {args.threads}: {mean_ms:.2f} ms/frame mean, {p95_ms:.2f} ms p95 "
          f"(wall); {cpu_ms:.2f} ms/frame CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
