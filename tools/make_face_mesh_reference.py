"""Reference outputs of MediaPipe's face_landmark.tflite on crops of the shared photos.

    pip install ai-edge-litert==2.3.0      # Google's runtime: a tool dependency, not the monitor's
    python tools/make_face_mesh_reference.py --tflite /tmp/mp/face_landmark.tflite

For every face MTCNN finds in the shared photos: the first crop from its box and eye points, the
runtime's landmarks on it, the second crop re-centred on those landmarks (monitor/scoring/
face_mesh.py's own crop rules) and the runtime's landmarks on that. Writes
tests/data/face_mesh/reference.npz: `names`, `boxes` (n, 4), `points5` (n, 5, 2) and per pass
(`first_`, `second_`): `crops` (n, 192, 192, 3) uint8 RGB, `crop_params` (n, 4: cx, cy, side,
roll), `landmarks` (n, 468, 3) crop pixels, `face_logits` (n,).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.config import VisionSettings  # noqa: E402
from monitor.scoring.face_mesh import MeshCrop, crop_from_face, crop_from_landmarks, cut  # noqa: E402
from monitor.vision.detector import FaceDetector  # noqa: E402

IMAGES = REPO.parent / "shared" / "data" / "images"
PHOTOS = ("sad-baby.jpeg", "happy-baby.jpeg", "angry.jpg", "neutral.jpeg", "surprised.jpeg",
          "astronaut.png", "group.jpeg")
OUT = REPO / "tests" / "data" / "face_mesh" / "reference.npz"
SIZE, SCALE = 192, 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflite", type=Path, required=True, help="face_landmark.tflite")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from ai_edge_litert.interpreter import Interpreter

    runtime = Interpreter(model_path=str(args.tflite))
    runtime.allocate_tensors()
    source = runtime.get_input_details()[0]["index"]
    outputs = {d["shape"][-1]: d["index"] for d in runtime.get_output_details()}

    def run(crop_rgb: np.ndarray) -> tuple[np.ndarray, float]:
        runtime.set_tensor(source, crop_rgb[None].astype(np.float32) / 255.0)
        runtime.invoke()
        points = runtime.get_tensor(outputs[1404]).reshape(468, 3)
        return points, float(runtime.get_tensor(outputs[1]).reshape(()))

    detector = FaceDetector(VisionSettings())
    rows: dict[str, list] = {k: [] for k in ("names", "boxes", "points5")}
    for part in ("first_", "second_"):
        for key in ("crops", "crop_params", "landmarks", "face_logits"):
            rows[part + key] = []
    for name in PHOTOS:
        image = cv2.imread(str(IMAGES / name))
        for k, face in enumerate(detector.detect(image)):
            rows["names"].append(f"{name}#{k}")
            rows["boxes"].append(face.box)
            rows["points5"].append(face.landmarks)
            crop = crop_from_face(face.box, face.landmarks, SCALE)
            for part in ("first_", "second_"):
                pixels = cut(image, crop, SIZE)
                points, logit = run(pixels)
                rows[part + "crops"].append(pixels)
                rows[part + "crop_params"].append([crop.cx, crop.cy, crop.side, crop.roll])
                rows[part + "landmarks"].append(points)
                rows[part + "face_logits"].append(logit)
                crop = crop_from_landmarks(MeshCrop(*rows[part + "crop_params"][-1])
                                           .image_points(points, SIZE), SCALE)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v, dtype=np.float64 if "params" in k or k in ("boxes", "points5")
                            else None) for k, v in rows.items()}
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out}: {len(rows['names'])} faces, {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
