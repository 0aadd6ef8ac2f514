"""The PDF report's text stays readable whatever the nurses wrote (issue #24 item 16): a long
annotation never shrinks the page's text (it was 3.2 pt at 8,000 characters), a 1 MB note is cut
on the page with the count of what the CSV still holds, and names in Japanese, with accents or an
emoji are drawn from embedded fonts that have their glyphs (they were boxes in Helvetica)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from monitor.config import ReviewSettings
from monitor.review import data
from monitor.review.export import export
from monitor.store.database import open_database
from review_helpers import write_night

SETTINGS = ReviewSettings(timezone="Europe/Berlin")
TEXT_FLOOR_PT = 5.0  # the smallest text a report may print (its own smallest labels are 6 pt)
NAME = "山田 花子"  # a nurse's name in Japanese
OTHER = "Zoë Ångström-Nuñez 👶"  # the emoji is in Symbola only, not in DejaVu Sans


@pytest.fixture
def engine(tmp_path: Path):
    engine = open_database(f"sqlite:///{tmp_path / 'record.db'}")
    write_night(engine)
    yield engine
    engine.dispose()


def annotate(engine, author: str, comment: str) -> None:
    (session,) = data.find_sessions(engine)
    episode = data.episodes(engine, [session.id])[0]
    data.add_annotation(engine, SETTINGS, episode, author, None, 3, comment)


def text_sizes(path: Path) -> list[tuple[float, str]]:
    """(printed size in points, text) of every piece of text on every page."""
    found: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = (abs(cm[0] * tm[0] + cm[2] * tm[1]) if cm else 1.0) or abs(tm[3])
            found.append((size * scale, text))

    for page in PdfReader(path).pages:
        page.extract_text(visitor_text=visit)
    return found


def embedded_fonts(path: Path) -> set[str]:
    names = set()
    for page in PdfReader(path).pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                names.add(str(font["/BaseFont"]))
    return names


def test_a_long_annotation_keeps_the_text_size(engine, tmp_path: Path) -> None:
    annotate(engine, "RN Lee", "sucrose given, then swaddled; " * 270)  # about 8,000 characters
    out = tmp_path / "r.pdf"
    export(engine, SETTINGS, "pdf", out, "RN Lee")
    sizes = text_sizes(out)
    smallest = min(size for size, _ in sizes)
    print("smallest text", smallest, "pt; pages", len(PdfReader(out).pages))
    assert smallest >= TEXT_FLOOR_PT, sorted(sizes)[:5]


def test_a_megabyte_note_is_cut_on_the_page_and_whole_in_the_csv(engine, tmp_path: Path) -> None:
    note = "ж" * 1_000_000  # a letter the report prints nowhere else
    annotate(engine, "RN Lee", note)
    out = tmp_path / "r.pdf"
    export(engine, SETTINGS, "pdf", out, "RN Lee")
    reader = PdfReader(out)
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) <= 2 and out.stat().st_size < 300_000
    shown = text.count("ж")
    assert 0 < shown < 10_000
    assert f"{len(note) - shown:,} more characters, see the CSV export" in text.replace("\n", " ")
    export(engine, SETTINGS, "csv", tmp_path / "csv", "RN Lee")
    assert note in (tmp_path / "csv" / "annotations.csv").read_text(encoding="utf-8")


def test_names_in_any_script_are_printed_with_embedded_glyphs(engine, tmp_path: Path) -> None:
    annotate(engine, NAME, f"seen with {OTHER}, brought a 🧸")  # a teddy bear no font has
    out = tmp_path / "r.pdf"
    export(engine, SETTINGS, "pdf", out, NAME)
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert NAME in text and "Zoë Ångström-Nuñez" in text  # (pypdf cannot map the emoji back)
    assert "brought a [U+1F9F8]" in text, "a character no font has is printed as its code"
    fonts = embedded_fonts(out)
    assert any("DroidSansFallback" in f for f in fonts), fonts  # the CJK glyphs
    assert any("DejaVuSans" in f for f in fonts), fonts
    assert any("Symbola" in f for f in fonts), fonts  # the emoji
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(out), str(png)],
                   check=True)
    assert Path(f"{png}-1.png").stat().st_size > 0
