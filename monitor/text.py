"""Text that people type or settings files give, checked before it is stored or shown.

Control characters (NUL, escape sequences, C1 codes) and the invisible Unicode marks that change
text direction (U+202A-202E, U+2066-2069, U+200E/200F, U+061C) are refused: with them a bed label
or a user name can display as another one (a right-to-left override turns "bed-12" into
"bed-21" on screen), or break a log line or an export. Pure, so the settings, the stores and
the windows share one rule.
"""

from __future__ import annotations

import unicodedata

from monitor.errors import MonitorError

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text_problem(text: str) -> str | None:
    """What makes `text` unfit to store and show as given (for a message), or None."""
    for position, char in enumerate(text, start=1):
        if char in BIDI_CONTROLS:
            return (f"a text-direction character (U+{ord(char):04X}, position {position}): it "
                    "can make the text display as other text")
        if unicodedata.category(char) == "Cc":
            return f"a control character (U+{ord(char):04X}, position {position})"
    return None


def plain_text(text: str, what: str) -> str:
    """`text` unchanged, or a MonitorError naming `what` and the character."""
    problem = text_problem(text)
    if problem is not None:
        raise MonitorError(f"{what} must not contain {problem}")
    return text
