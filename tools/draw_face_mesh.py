"""docs/face-mesh.jpg: the face mesh port's own points on the shared photos, with the states read.

    python tools/draw_face_mesh.py [--out docs/face-mesh.jpg]

Each tile is the second-pass crop the mesh saw (monitor/scoring/face_mesh.py), with the port's
eye, brow and lip outlines (green eyes, blue brows, red outer lips, yellow inner lips) and the
face state read from that one reading; the last two tiles cover the crying infant's mouth with a
drawn pacifier and a taped tube (tests/face_material.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from face_material import occlude  # noqa: E402
from monitor.config import FaceSettings  # noqa: E402
from monitor.scoring.face_actions import FaceActionReader, measure  # noqa: E402
from monitor.scoring.face_mesh import cut  # noqa: E402
from monitor.signal.face_state import read_once  # noqa: E402

IMAGES = REPO.parent / "shared" / "data" / "images"
REFERENCE = REPO / "tests" / "data" / "face_mesh" / "reference.npz"
TILES = (("sad-baby.jpeg#0", None), ("happy-baby.jpeg#0", None), ("angry.jpg#0", None),
         ("neutral.jpeg#0", None), ("surprised.jpeg#0", None), ("astronaut.png#0", None),
         ("sad-baby.jpeg#0", "disc"), ("sad-baby.jpeg#0", "band"))
OUTLINES = (
    ((33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246), (0, 255, 0), True),
    ((263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466), (0, 255, 0), True),
    ((70, 63, 105, 66, 107), (255, 128, 0), False),
    ((300, 293, 334, 296, 336), (255, 128, 0), False),
    ((61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185),
     (0, 0, 255), True),
    ((78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191),
     (0, 220, 255), True),
)
SIZE = 320


def tile(reader: FaceActionReader, image: np.ndarray, box, five, title: str) -> np.ndarray:
    settings = reader.settings
    fit = reader.mesh.fit([(image, box, five)])[0]
    actions = measure(image, fit.points, fit.face_score, five, min_face_score=settings.min_face_score,
                      max_eye_offset=settings.max_eye_offset,
                      max_scale_change=settings.max_scale_change,
                      max_eye_asymmetry=settings.max_eye_asymmetry)
    crop = cv2.cvtColor(cut(image, fit.crop, SIZE), cv2.COLOR_RGB2BGR)
    to_crop = fit.crop.to_crop(SIZE)
    points = fit.points[:, :2] @ to_crop[:2, :2].T + to_crop[:, 2]
    for indices, colour, closed in OUTLINES:
        cv2.polylines(crop, [points[list(indices)].round().astype(np.int32)], closed, colour, 2,
                      cv2.LINE_AA)
    label = np.full((56, SIZE, 3), 32, np.uint8)
    cv2.putText(label, title, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (230, 230, 230), 1, cv2.LINE_AA)
    cv2.putText(label, read_once(actions, settings).label, (6, 44), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (120, 230, 255), 1, cv2.LINE_AA)
    return np.vstack([crop, label])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "face-mesh.jpg")
    args = parser.parse_args(argv)
    reference = np.load(REFERENCE)
    faces = {n: (b, f) for n, b, f in zip(reference["names"], reference["boxes"], reference["points5"])}
    reader = FaceActionReader(FaceSettings(), "cpu")
    tiles = []
    for name, cover in TILES:
        image = cv2.imread(str(IMAGES / name.split("#")[0]))
        box, five = faces[name]
        if cover:
            image = occlude(image, five, cover)
        title = name.split("#")[0] + (f" + drawn {'pacifier' if cover == 'disc' else 'taped tube'}"
                                      if cover else "")
        tiles.append(tile(reader, image, box, five, title))
    rows = [np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)]
    cv2.imwrite(str(args.out), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
