"""What a loader returns: labelled image files, and every file it could not use with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class Sample:
    """One labelled image. `label` is the dataset's own class (a COPE stimulus, a folder name)."""

    path: Path
    label: str
    subject: str | None = None
    sex: str | None = None


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class LoadedData:
    """Samples plus the files left out and the spelling variants read, so a report can list them."""

    root: Path
    layout: str
    samples: list[Sample] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)

    @property
    def has_subjects(self) -> bool:
        return bool(self.samples) and all(s.subject is not None for s in self.samples)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def relative(path: Path, root: Path) -> str:
    """A path as the user knows it from the data folder (reports never need absolute paths)."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
