"""Fonts for the PDF report, embedded so that any name prints: DejaVu Sans (Latin with accents,
Greek, Cyrillic, many symbols), Droid Sans Fallback (Chinese, Japanese, Korean) and Symbola
(emoji, in outline). Helvetica, reportlab's built-in font, has Latin-1 only: other characters were
drawn as boxes.

The files come from the bundle's `fonts/` folder (packaging/painmon.spec copies them) or from the
system's Debian packages fonts-dejavu-core, fonts-droid-fallback and fonts-symbola
(tools/install-system-deps.sh). A character no font has is printed as its code, e.g. [U+1FAE0];
without the fonts at all, text beyond Latin-1 is printed that way and a warning names the packages.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from monitor.paths import RESOURCES

log = logging.getLogger(__name__)

BUNDLED = RESOURCES / "fonts"
SYSTEM = Path("/usr/share/fonts/truetype")
# (name in the PDF, file, the system's folder for it), in the order a character is looked up
FACES = (("DejaVuSans", "DejaVuSans.ttf", SYSTEM / "dejavu"),
         ("DroidSansFallback", "DroidSansFallbackFull.ttf", SYSTEM / "droid"),
         ("Symbola", "Symbola_hint.ttf", SYSTEM / "ancient-scripts"))
BOLD = ("DejaVuSans-Bold", "DejaVuSans-Bold.ttf", SYSTEM / "dejavu")
PACKAGES = "fonts-dejavu-core fonts-droid-fallback fonts-symbola"


@dataclass(frozen=True)
class ReportFonts:
    regular: str  # the text font (its bold face registered as its <b>)
    bold: str
    faces: tuple[tuple[str, frozenset[int]], ...]  # (font, the characters it has), lookup order

    def markup(self, text: str) -> str:
        """`text` as Paragraph markup: escaped, each run of characters in the first font that
        has them; a character no font has as its code."""
        parts: list[str] = []
        run_font, run = self.regular, []
        for char in text:
            if char.isspace():
                char = " "  # a line break or tab in a note is a space on the page
            font = next((name for name, chars in self.faces if ord(char) in chars), None)
            piece = _escape(char) if font else f"[U+{ord(char):04X}]"
            font = font or self.regular
            if font != run_font and run:
                parts.append(_in(run_font, "".join(run), self.regular))
                run = []
            run_font = font
            run.append(piece)
        if run:
            parts.append(_in(run_font, "".join(run), self.regular))
        return "".join(parts)


@functools.cache
def report_fonts() -> ReportFonts:
    """The fonts found, registered with reportlab once."""
    found = [(name, _file(file, folder)) for name, file, folder in FACES]
    bold = _file(BOLD[1], BOLD[2])
    if found[0][1] is None or bold is None:
        log.warning("PDF report: DejaVu Sans not found in %s or %s: text beyond Latin-1 is "
                    "printed as character codes; install %s", BUNDLED, SYSTEM, PACKAGES)
        return ReportFonts("Helvetica", "Helvetica-Bold", (("Helvetica", frozenset(range(32, 256))),))
    faces = []
    for name, path in found:
        if path is None:
            log.warning("PDF report: %s not found: its characters are printed as codes; "
                        "install %s", name, PACKAGES)
            continue
        font = TTFont(name, str(path))
        pdfmetrics.registerFont(font)
        faces.append((name, frozenset(font.face.charToGlyph)))
    pdfmetrics.registerFont(TTFont(BOLD[0], str(bold)))
    regular = FACES[0][0]
    for bold_flag, italic, face in ((0, 0, regular), (1, 0, BOLD[0]), (0, 1, regular),
                                    (1, 1, BOLD[0])):
        addMapping(regular, bold_flag, italic, face)
    return ReportFonts(regular, BOLD[0], tuple(faces))


def _file(name: str, system_folder: Path) -> Path | None:
    for path in (BUNDLED / name, system_folder / name):
        if path.is_file():
            return path
    return None


def _in(font: str, text: str, regular: str) -> str:
    return text if font == regular else f'<font face="{font}">{text}</font>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
