"""Facial actions on the shared photos, and on the same photos with the mouth covered.

The covered versions are drawn here (tests/face_material.py: a pacifier-sized disc, a taped
tube-like band), because the shared data has no occluded face. States are read from one
reading each (a photo has no time), with the shipped settings.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from face_material import occlude
from monitor.config import FaceSettings
from monitor.scoring.face_actions import FaceActionReader
from monitor.signal.face_state import EyeState, MouthState, read_once
from test_face_mesh import REFERENCE

SETTINGS = FaceSettings()
COLOUR_FACES = ["sad-baby.jpeg#0", "happy-baby.jpeg#0", "neutral.jpeg#0", "astronaut.png#0",
                "group.jpeg#0", "group.jpeg#1", "group.jpeg#2", "group.jpeg#3"]


@pytest.fixture(scope="module")
def reader() -> FaceActionReader:
    return FaceActionReader(SETTINGS, "cpu")


@pytest.fixture(scope="module")
def faces(shared_data) -> dict:
    """"photo#k" -> (image, MTCNN box, five points): MTCNN's faces as stored with the mesh's
    reference outputs (tools/make_face_mesh_reference.py ran the shipped detector)."""
    reference = np.load(REFERENCE)
    images = {}
    out = {}
    for name, box, five in zip(reference["names"], reference["boxes"], reference["points5"]):
        photo = name.split("#")[0]
        if photo not in images:
            images[photo] = cv2.imread(str(shared_data / "images" / photo))
        out[name] = (images[photo], box, five)
    return out


_READ: dict = {}


def state_of(reader, faces, name: str, kind: str | None = None):
    """The state of one face, its mouth covered by `kind` if given; the cover is drawn on the
    frame, the face is where MTCNN found it before the cover (as the tracker holds it)."""
    if (name, kind) not in _READ:
        image, box, five = faces[name]
        if kind is not None:
            image = occlude(image, five, kind)
        _READ[name, kind] = reader.read([(image, box, five)])[0]
    actions = _READ[name, kind]
    return read_once(actions, SETTINGS), actions


def test_states_read_as_a_person_reads_the_photos(reader, faces):
    """Crying infant: mouth wide open; its eyes are open in this photo (it looks at the camera
    through tears), so they read open, not squeezed. Laughing infant: mouth open. Neutral adult:
    eyes open, mouth closed. Surprised adult: mouth open. Angry adult (the grimace): eyes
    squeezed with the brow lowered, teeth bared."""
    crying, _ = state_of(reader, faces, "sad-baby.jpeg#0")
    assert (crying.eyes, crying.mouth) == (EyeState.OPEN, MouthState.OPEN)
    laughing, _ = state_of(reader, faces, "happy-baby.jpeg#0")
    assert laughing.mouth is MouthState.OPEN
    neutral, _ = state_of(reader, faces, "neutral.jpeg#0")
    assert neutral.label == "eyes open, mouth closed"
    surprised, _ = state_of(reader, faces, "surprised.jpeg#0")
    assert surprised.mouth is MouthState.OPEN and surprised.eyes is EyeState.OPEN
    angry, _ = state_of(reader, faces, "angry.jpg#0")
    assert angry.eyes is EyeState.SQUEEZED and angry.brow_lowered
    assert angry.label.startswith("eyes squeezed, brow lowered")


def test_open_mouths_open_wider_than_closed_ones(reader, faces):
    """The inner-lip gap orders the faces as they look: the laughing and the crying infant
    widest, closed adult mouths (neutral, the group's) narrowest."""
    gap = {name: state_of(reader, faces, name)[1].mouth_open for name in faces}
    closed = [gap[n] for n in ("neutral.jpeg#0", "group.jpeg#0", "group.jpeg#1", "group.jpeg#2",
                               "group.jpeg#3")]
    assert min(gap["sad-baby.jpeg#0"], gap["happy-baby.jpeg#0"]) > gap["surprised.jpeg#0"]
    assert gap["surprised.jpeg#0"] > 2 * max(closed)


@pytest.mark.parametrize("kind", ["disc", "band"])
def test_a_covered_mouth_reads_covered_never_closed(reader, faces, kind):
    """Every colour photo's face with a pacifier or a taped tube drawn over its mouth reads
    "mouth covered", or its fit is refused (unknown); never "closed"."""
    covered = []
    for name in COLOUR_FACES:
        state, actions = state_of(reader, faces, name, kind)
        assert state.mouth is not MouthState.CLOSED, (name, actions)
        assert state.mouth is MouthState.COVERED or actions.fit_problem, (name, actions)
        covered.append(state.label.endswith("mouth covered"))
    assert sum(covered) >= len(COLOUR_FACES) - 1, covered
    for name in ("sad-baby.jpeg#0", "happy-baby.jpeg#0", "neutral.jpeg#0"):
        assert state_of(reader, faces, name, kind)[0].mouth is MouthState.COVERED, name


def test_uncovered_mouths_are_not_read_covered(reader, faces):
    for name in COLOUR_FACES + ["surprised.jpeg#0"]:
        state, actions = state_of(reader, faces, name)
        assert state.mouth is not MouthState.COVERED, (name, actions)
        assert not actions.fit_problem, (name, actions)


def test_a_grey_picture_never_reads_a_closed_mouth(reader, faces):
    """The angry adult is a black-and-white photo: colour cannot tell lips from a cover, so a
    taped tube over its mouth reads unknown (an open mouth still reads open)."""
    state, actions = state_of(reader, faces, "angry.jpg#0", "band")
    assert actions.covered is None
    assert state.mouth is not MouthState.CLOSED
