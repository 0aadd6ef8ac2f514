"""The live video draws the face mesh's eye and mouth outlines only when asked (issue 23)."""

from __future__ import annotations

import numpy as np

from monitor.config import FaceSettings
from monitor.ui.live.video import VideoView
from monitor.ui.live.worker import to_qimage

MOUTH = ((100.0, 150.0), (140.0, 140.0), (180.0, 150.0), (140.0, 165.0))  # a lip ring, image px


def painted(qtbot, outlines) -> np.ndarray:
    view = VideoView((0.0, 0.0, 1.0, 1.0))
    qtbot.addWidget(view)
    view.resize(320, 240)
    frame = np.full((240, 320, 3), 60, np.uint8)
    view.set_frame(to_qimage(frame), "scored", (80.0, 60.0, 200.0, 200.0), "", outlines)
    image = view.grab().toImage()
    return np.array([[image.pixelColor(x, y).red() for x in range(320)] for y in range(130, 175)])


def test_outlines_are_off_by_default_and_drawn_on_request(qtbot):
    assert FaceSettings().draw_outlines is False
    plain, drawn = painted(qtbot, ()), painted(qtbot, (MOUTH,))
    changed = np.argwhere(plain != drawn)
    assert len(changed) > 50  # the ring's pixels
    xs = changed[:, 1]
    assert xs.min() >= 95 and xs.max() <= 185  # only where the ring is


def test_the_last_outlines_stay_while_the_face_is_tracked_and_go_with_it(qtbot):
    view = VideoView((0.0, 0.0, 1.0, 1.0))
    qtbot.addWidget(view)
    frame = to_qimage(np.zeros((240, 320, 3), np.uint8))
    view.set_frame(frame, "scored", (80.0, 60.0, 200.0, 200.0), "", (MOUTH,))
    view.set_frame(frame, "scored", (80.0, 60.0, 200.0, 200.0), "")  # a frame the mesh skipped
    assert view.outlines == (MOUTH,)
    view.set_frame(frame, "no_face", None, "no face found")
    assert view.outlines == ()
