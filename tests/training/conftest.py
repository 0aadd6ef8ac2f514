"""COPE-layout data sets generated from the real faces in ../shared/data, and one trained model.

Pseudo-subjects are new "photos" of the real faces: each subject has its own framing, roll,
mirroring, colour cast and exposure, and each image varies a little around them. File names
follow COPE, with the typos real releases contain. Face boxes are cached for the whole session.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from monitor.cli import main

CANVAS = 160  # generated photo side, pixels: small, so MTCNN and training stay fast
SOURCES = {"crying_infant": "sad-baby.jpeg", "calm_infant": "happy-baby.jpeg",
           "angry_adult": "angry.jpg", "neutral_adult": "neutral.jpeg"}
# Per subject: three pain photos (crying infant twice, angry adult) and three no-pain photos.
EASY_PHOTOS = [("crying_infant", "pain_1"), ("crying_infant", "pain2"), ("angry_adult", "pain _3"),
               ("calm_infant", "rest_1"), ("calm_infant", "REST_2"), ("neutral_adult", None)]
EASY_NO_PAIN_NAMES = ["friciton", "succrose_1", "air_1", "friction", "Sucrose", "air_2",
                      "friciton_2", "succrose"]
# The leak set: nine different real people (group.jpeg holds four), one class per person. Each
# class holds an infant and calm adults, so expressions carry no label; the person, and their
# own brightness level, carry it all. (surprised.jpeg is left out: MTCNN finds that face only
# now and then at this size.)
LEAK_PEOPLE = ["sad-baby.jpeg", "happy-baby.jpeg", "angry.jpg", "neutral.jpeg", "astronaut.png",
               "group.jpeg#0", "group.jpeg#1", "group.jpeg#2", "group.jpeg#3"]
LEAK_PAIN = [1, 0, 0, 1, 0, 1, 0, 1, 0]
LEAK_GAIN = [1.12, 0.82, 1.24, 0.70, 0.94, 1.18, 0.76, 0.88, 1.00]  # no trend with the label
TRAIN_FLAGS = ["--epochs", "10", "--batch-size", "16", "--folds", "3", "--device", "cpu"]


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """The test machines have two busy cores: one thread trains these small nets fastest."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _largest_first(boxes: np.ndarray) -> np.ndarray:
    return boxes[np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))]


@pytest.fixture(scope="session")
def people(shared_data: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """"file" or "file#i" -> (BGR image, MTCNN face box), found on a reduced copy for speed;
    the faces of group.jpeg are numbered from left to right."""
    from facenet_pytorch import MTCNN

    mtcnn, found = MTCNN(device="cpu"), {}
    for name in sorted({p.split("#")[0] for p in LEAK_PEOPLE} | set(SOURCES.values())):
        image = cv2.imread(str(shared_data / "images" / name))
        scale = 480 / max(image.shape[:2])
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        boxes, probs = mtcnn.detect(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        assert boxes is not None, f"MTCNN found no face in {name}"
        boxes = boxes[probs > 0.95] / scale
        found[name] = (image, _largest_first(boxes)[0])
        for i, box in enumerate(sorted(boxes.tolist(), key=lambda b: b[0])):
            found[f"{name}#{i}"] = (image, np.array(box))
    return found


@pytest.fixture(scope="session")
def source_faces(people) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {key: people[name] for key, name in SOURCES.items()}


def subject_look(rng: np.random.Generator) -> dict:
    """What makes a pseudo-subject's photos alike: framing, roll, mirroring, light."""
    return {"zoom": rng.uniform(1.3, 1.6), "roll": rng.uniform(-8, 8), "mirror": rng.uniform() < 0.5,
            "tint": rng.uniform(0.85, 1.15, size=3).astype(np.float32), "gain": rng.uniform(0.8, 1.15),
            "gamma": rng.uniform(0.8, 1.25)}


def photo(face: tuple[np.ndarray, np.ndarray], look: dict, rng: np.random.Generator) -> np.ndarray:
    """A CANVAS x CANVAS float BGR photo of the face, varied a little around the subject's look."""
    image, (x0, y0, x1, y1) = face
    side = max(x1 - x0, y1 - y0)
    cx = (x0 + x1) / 2 + rng.uniform(-0.06, 0.06) * side
    cy = (y0 + y1) / 2 + rng.uniform(-0.06, 0.06) * side
    crop = side * look["zoom"] * rng.uniform(0.93, 1.07)
    matrix = cv2.getRotationMatrix2D((cx, cy), look["roll"] + rng.uniform(-4, 4), CANVAS / crop)
    matrix[:, 2] += (CANVAS / 2 - cx, CANVAS / 2 - cy)
    out = cv2.warpAffine(image, matrix, (CANVAS, CANVAS), flags=cv2.INTER_AREA,
                         borderMode=cv2.BORDER_REPLICATE)
    if look["mirror"] ^ (rng.uniform() < 0.3):
        out = out[:, ::-1]
    out = out.astype(np.float32) * look["tint"] * look["gain"] * rng.uniform(0.93, 1.07)
    return 255 * (np.clip(out, 0, 255) / 255) ** look["gamma"]


def save(path: Path, image: np.ndarray) -> None:
    cv2.imwrite(str(path), np.clip(image, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])


@pytest.fixture(scope="session")
def easy_set(tmp_path_factory, source_faces) -> Path:
    """8 subjects x 6 photos: pain = crying infant / angry adult, no pain = calm infant /
    neutral adult; plus three files a loader must list and leave out."""
    root = tmp_path_factory.mktemp("easy_cope")
    rng = np.random.default_rng(1)
    for s in range(1, 9):
        look = subject_look(rng)
        for key, stimulus in EASY_PHOTOS:
            stimulus = stimulus or EASY_NO_PAIN_NAMES[s - 1]
            save(root / f"S{s:02d}_{'FM'[s % 2]}_{stimulus}.jpg", photo(source_faces[key], look, rng))
    some_photo = (root / "S01_M_rest_1.jpg").read_bytes()
    (root / "S03_M_hiccup_1.jpg").write_bytes(some_photo)
    (root / "IMG_0001.jpg").write_bytes(some_photo)
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="session")
def leak_set(tmp_path_factory, people) -> Path:
    """Nine people x 5 photos each, one class per person (see LEAK_PEOPLE)."""
    root = tmp_path_factory.mktemp("leak_cope")
    rng = np.random.default_rng(3)
    for s, (person, pain, gain) in enumerate(zip(LEAK_PEOPLE, LEAK_PAIN, LEAK_GAIN), start=1):
        look = subject_look(rng) | {"gain": gain}
        for k in range(1, 6):
            save(root / f"S{s:02d}_{'FM'[s % 2]}_{'pain' if pain else 'rest'}_{k}.jpg",
                 photo(people[person], look, rng))
    return root


@pytest.fixture(scope="session")
def face_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("face_cache")


@pytest.fixture(scope="session")
def easy_model(tmp_path_factory, easy_set, face_cache) -> Path:
    """The easy set trained once through the command line, as a researcher would."""
    out = tmp_path_factory.mktemp("models") / "easy-pain"
    rc = main(["train", "--data", str(easy_set), "--layout", "cope", "--out", str(out),
               "--cache", str(face_cache), *TRAIN_FLAGS])
    assert rc == 0
    return out
