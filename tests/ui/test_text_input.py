"""What a nurse types into the live window (shift user, procedure reason) is refused when it
holds control or text-direction characters (issue #18): the window says why, and keeps the
previous value; nothing reaches the record or the engine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitor.ui.live.options import WindowOptions


@pytest.fixture
def window(qtbot, open_window, tmp_path):
    window = open_window(tmp_path / "missing.mp4", user="RN Lee")
    qtbot.waitUntil(lambda: window.ended, timeout=120_000)
    return window


def test_a_shift_user_with_a_direction_override_is_refused(window) -> None:
    window.set_shift_user("RN \u202eeeL")
    assert window.user == "RN Lee"
    assert window.last_event_label.text().startswith(
        "the shift user must not contain a text-direction character (U+202E")
    window.set_shift_user("RN Diaz")
    assert window.user == "RN Diaz"


def test_a_procedure_reason_with_a_control_character_is_refused(window) -> None:
    window.start_procedure("heel\x1b[2J lance", 5)
    assert window.procedure_reason == ""
    assert window.last_event_label.text().startswith(
        "the procedure reason must not contain a control character (U+001B")


def test_the_user_option_is_checked() -> None:
    with pytest.raises(ValidationError, match="user must not contain a control character"):
        WindowOptions(user="night\x00nurse")
