"""Render assets/icons/painmon.svg to the PNG sizes desktops look for (freedesktop hicolor theme).

    python tools/make_icons.py     # rewrites assets/icons/hicolor/*/apps/painmon.png

The PNGs are committed so a bundle build needs no renderer; rerun this after editing the SVG.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PyQt6.QtSvg import QSvgRenderer  # noqa: E402

from monitor.paths import ICON  # noqa: E402

SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
THEME = ICON.parent / "hicolor"


def render(svg: Path, size: int, out: Path) -> None:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def main() -> None:
    app = QGuiApplication([])  # noqa: F841 (QImage painting needs one)
    for size in SIZES:
        render(ICON, size, THEME / f"{size}x{size}" / "apps" / "painmon.png")
    scalable = THEME / "scalable" / "apps" / "painmon.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICON, scalable)
    print(f"wrote {len(SIZES)} PNGs and the scalable SVG under {THEME}")


if __name__ == "__main__":
    main()
