"""The face mesh (MediaPipe face_landmark.tflite ported to torch) against Google's runtime.

tests/data/face_mesh/reference.npz was made by tools/make_face_mesh_reference.py with LiteRT
(ai-edge-litert 2.3.0) on crops of every face MTCNN finds in the shared photos: the crops, their
places and the runtime's landmarks for both passes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from monitor.errors import MonitorError
from monitor.paths import DEFAULT_FACE_MESH_DIR
from monitor.scoring.face_mesh import FaceMesh, MeshCrop, cut, load_face_mesh
from monitor.scoring.face_mesh_card import read_face_mesh_card

REFERENCE = Path(__file__).resolve().parent / "data" / "face_mesh" / "reference.npz"
FACE_FRACTION = 0.01  # the bound: 1 % of the face size
# MediaPipe's mesh indices: eye contours (subject's right, left) and the outer lip contour
RIGHT_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
LEFT_EYE = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
MOUTH_LEFT, MOUTH_RIGHT = 61, 291  # lip corners, image left then right on an upright face


@pytest.fixture(scope="module")
def reference():
    return np.load(REFERENCE)


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh(DEFAULT_FACE_MESH_DIR, "cpu")


@pytest.fixture(scope="module")
def fits(mesh, reference, shared_data) -> list:
    """The two-pass fit of every reference face, from its MTCNN box and five points."""
    out = []
    for i, name in enumerate(reference["names"]):
        image = cv2.imread(str(shared_data / "images" / name.split("#")[0]))
        out.append(mesh.fit([(image, reference["boxes"][i], reference["points5"][i])])[0])
    return out


def face_size_px(side: float, card) -> float:
    """The face's size in a crop of `side` pixels: the crop is crop_scale times the face."""
    return side / card.input.crop_scale


@pytest.mark.parametrize("part", ["first_", "second_"])
def test_port_matches_the_runtime_within_one_percent_of_the_face(mesh, reference, part):
    """On the runtime's own input crops: x, y within 1 % of the face size (in crop pixels, the
    face is 192 / 1.5 = 128 px), z too, and the face score's logit within 0.01."""
    points, logits = mesh.forward(reference[part + "crops"])
    expected = reference[part + "landmarks"]
    error = np.abs(points - expected)
    bound = FACE_FRACTION * face_size_px(mesh.card.input.size, mesh.card)
    print(f"{part}: max |xy| error {error[..., :2].max():.5f} px, z {error[..., 2].max():.5f}, "
          f"bound {bound:.2f} px")
    assert error.max() < bound
    assert np.abs(logits - reference[part + "face_logits"]).max() < 0.01


def test_crops_are_cut_as_the_reference_was(reference, shared_data):
    """The crop rule (place, roll, size) still cuts the pixels the runtime saw."""
    for i, name in enumerate(reference["names"]):
        image = cv2.imread(str(shared_data / "images" / name.split("#")[0]))
        for part in ("first_", "second_"):
            pixels = cut(image, MeshCrop(*reference[part + "crop_params"][i]), 192)
            assert np.abs(pixels.astype(int) - reference[part + "crops"][i]).mean() < 0.5, (name, part)


def test_two_pass_fit_from_the_tracked_face_matches_the_runtime(mesh, reference, fits):
    """End to end from the MTCNN box and five points: image-pixel landmarks within 1 % of the
    face size of the runtime's second pass, mapped back through the reference crop."""
    for i, (name, fit) in enumerate(zip(reference["names"], fits)):
        crop = MeshCrop(*reference["second_crop_params"][i])
        expected = crop.image_points(reference["second_landmarks"][i], 192)
        error = np.linalg.norm(fit.points[:, :2] - expected[:, :2], axis=1).max()
        assert error < FACE_FRACTION * face_size_px(crop.side, mesh.card), name


def test_points_fall_on_the_eyes_and_lips_mtcnn_finds(reference, fits):
    """MTCNN (an independent model) puts its five points on the eyes and mouth corners: the
    mesh's eye centres lie within a fifth of the eye distance of its eye points, and its lip
    corners within 0.3 (MTCNN's mouth points sit low on the crying infant's wide-open mouth,
    about a quarter of the eye distance below the lip corners), on both infants and every adult."""
    for i, (name, fit) in enumerate(zip(reference["names"], fits)):
        five = reference["points5"][i]
        points = fit.points[:, :2]
        eye_distance = np.linalg.norm(five[1] - five[0])
        eyes = np.array([points[RIGHT_EYE].mean(0), points[LEFT_EYE].mean(0)])
        corners = points[[MOUTH_LEFT, MOUTH_RIGHT]]
        assert np.linalg.norm(eyes - five[:2], axis=1).max() < 0.2 * eye_distance, name
        assert np.linalg.norm(corners - five[3:], axis=1).max() < 0.3 * eye_distance, name


def test_batched_forward_equals_one_at_a_time(mesh, reference):
    crops = reference["second_crops"][:4]
    together, logits = mesh.forward(crops)
    for k in range(len(crops)):
        alone, logit = mesh.forward(crops[k:k + 1])
        np.testing.assert_allclose(alone[0], together[k], atol=1e-3)


def test_card_names_the_source_and_licence():
    card = read_face_mesh_card(DEFAULT_FACE_MESH_DIR)
    assert card.licence.spdx == "Apache-2.0"
    assert "mediapipe==0.10.21" in card.source.file
    assert card.output.points == 468 and card.input.size == 192
    assert "Apache License" in (DEFAULT_FACE_MESH_DIR / card.licence.notice_file).read_text()


@pytest.fixture
def mesh_copy(tmp_path) -> Path:
    target = tmp_path / "face-mesh"
    shutil.copytree(DEFAULT_FACE_MESH_DIR, target)
    return target


def test_flipped_byte_in_weights_is_refused(mesh_copy):
    weights = mesh_copy / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(MonitorError, match="do not match the card"):
        load_face_mesh(mesh_copy, torch.device("cpu"))


def test_missing_folder_is_explained(tmp_path):
    with pytest.raises(MonitorError, match="face mesh folder not found.*convert_face_mesh"):
        load_face_mesh(tmp_path / "nowhere", torch.device("cpu"))
