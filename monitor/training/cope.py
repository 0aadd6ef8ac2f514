"""COPE / iCOPE file names: `S<NN>_<M|F>_<stimulus>[_<k>].jpg`, tolerant of the known variants.

Real releases contain typos (`friciton`, `succrose`), a count glued to the stimulus (`pain2`),
stray spaces (`pain _1`) and mixed case. Only those known variants are corrected, each one is
reported, and any other name is refused with a reason: a silent guess could flip a label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STIMULI = ("rest", "cry", "air", "friction", "pain", "sucrose", "yawn", "pain_post_sucrose",
           "sneeze")
# Misspellings seen in real releases; nothing outside this table is ever corrected.
KNOWN_TYPOS = {"friciton": "friction", "succrose": "sucrose"}

_NAME = re.compile(r"^s(?P<subject>\d{1,3})_(?P<sex>[mf])_(?P<stimulus>[a-z]+(?:_[a-z]+)*?)"
                   r"(?:_?(?P<index>\d+))?$")


@dataclass(frozen=True)
class CopeName:
    subject: str  # "S04": zero-padded to two digits, as the dataset writes it
    sex: str  # "M" or "F"
    stimulus: str  # one of STIMULI
    index: int | None
    corrections: tuple[str, ...]  # what was read differently from the literal name, in words


class CopeNameError(ValueError):
    """The stem is not a COPE name; the message says why, for the report."""


def parse_cope_name(stem: str) -> CopeName:
    """Parse a file stem (no extension); raises CopeNameError rather than guess."""
    corrections: list[str] = []
    text = stem.lower()  # case never changes a meaning here, so it is not reported
    squeezed = re.sub(r"\s*_\s*", "_", text.strip())
    if squeezed != text:
        corrections.append("spaces removed")
    match = _NAME.match(squeezed)
    if match is None:
        raise CopeNameError("not S<NN>_<M|F>_<stimulus>[_<k>]")
    words = match["stimulus"].split("_")
    fixed = [KNOWN_TYPOS.get(word, word) for word in words]
    corrections += [f"'{a}' read as '{b}'" for a, b in zip(words, fixed) if a != b]
    stimulus = "_".join(fixed)
    if stimulus not in STIMULI:
        raise CopeNameError(f"unknown stimulus '{match['stimulus']}' (known: {', '.join(STIMULI)})")
    index = match["index"]
    if index is not None and not re.search(r"_\d+$", squeezed):
        corrections.append(f"'{words[-1]}{index}' read as '{words[-1]}_{index}'")
    return CopeName(subject=f"S{int(match['subject']):02d}", sex=match["sex"].upper(),
                    stimulus=stimulus, index=None if index is None else int(index),
                    corrections=tuple(corrections))
