"""Face mesh speed (not a CI step): ms per face for the landmark pass, one pass and two.

    .venv/bin/python benchmarks/face_mesh.py [--device auto|cpu|cuda|mps] [--threads N] [--repeats N]

Runs the shipped port on the reference crops of the shared photos (tests/data/face_mesh/) at
batch 1 and batch 8, after two warm-up passes; prints the median of `repeats` passes per face,
for the network alone (`forward`) and the whole reading (`FaceActionReader.read`: two passes,
crops, the actions and the covered test) on the crying infant's photo. CPU time of the thread is
printed beside wall time: on a shared, loaded machine it is the steadier figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from monitor.config import FaceSettings  # noqa: E402
from monitor.scoring.device import configure_cpu_threads  # noqa: E402
from monitor.scoring.face_actions import FaceActionReader  # noqa: E402

REFERENCE = REPO / "tests" / "data" / "face_mesh" / "reference.npz"
IMAGES = REPO.parent / "shared" / "data" / "images"


def timed(call, repeats: int) -> tuple[float, float]:
    """Median (wall, thread CPU) seconds of `repeats` calls after two warm-ups."""
    call(), call()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.thread_time()
        call()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        wall.append(time.perf_counter() - w)
        cpu.append(time.thread_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    configure_cpu_threads(args.threads)
    reader = FaceActionReader(FaceSettings(), args.device)
    reference = np.load(REFERENCE)
    crops = reference["second_crops"]
    print(f"device {reader.mesh.device_description}")
    for batch in (1, 8):
        x = np.resize(crops, (batch,) + crops.shape[1:])
        wall, cpu = timed(lambda: reader.mesh.forward(x), args.repeats)
        print(f"network, batch {batch}: {wall / batch * 1000:.2f} ms per face "
              f"(thread CPU {cpu / batch * 1000:.2f} ms)")
    image = cv2.imread(str(IMAGES / "sad-baby.jpeg"))
    item = (image, reference["boxes"][0], reference["points5"][0])
    wall, cpu = timed(lambda: reader.read([item]), args.repeats)
    print(f"whole reading (two passes, crops, actions, covered test), one face: {wall * 1000:.2f} ms "
          f"(thread CPU {cpu * 1000:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
