"""Three ways labelled faces arrive: COPE/iCOPE file names, one folder per class, a CSV manifest.

Each loader lists every file it could not use and why; a layout that matches nothing, or a
folder without images, is a MonitorError that suggests the likely fix.
"""

from __future__ import annotations

import csv
from pathlib import Path

from monitor.errors import MonitorError
from monitor.training.cope import CopeNameError, parse_cope_name
from monitor.training.samples import IMAGE_SUFFIXES, LoadedData, Sample, Skipped, is_image, relative

LAYOUTS = ("cope", "folders", "csv")
CSV_COLUMNS = ("path", "label", "subject")


def load_data(root: Path, layout: str) -> LoadedData:
    """The labelled samples under `root` read as `layout` (cope, folders or csv)."""
    root = Path(root)
    if not root.exists():
        raise MonitorError(f"data not found: {root}")
    loader = {"cope": _load_cope, "folders": _load_folders, "csv": _load_csv}.get(layout)
    if loader is None:
        raise MonitorError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    if layout != "csv" and not root.is_dir():
        raise MonitorError(f"--data must be a folder for --layout {layout}: {root}")
    data = loader(root)
    if not data.samples:
        raise MonitorError(_nothing_usable(data))
    return data


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _split_images(root: Path, data: LoadedData) -> list[Path]:
    files = _files(root)
    images = [p for p in files if is_image(p)]
    data.skipped += [Skipped(p, f"not an image ({p.suffix or 'no extension'})")
                     for p in files if not is_image(p)]
    if not images:
        raise MonitorError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}")
    return images


def _load_cope(root: Path) -> LoadedData:
    data = LoadedData(root, "cope")
    for path in _split_images(root, data):
        try:
            name = parse_cope_name(path.stem)
        except CopeNameError as exc:
            data.skipped.append(Skipped(path, f"not a COPE name: {exc}"))
            continue
        data.corrections += [f"{relative(path, root)}: {c}" for c in name.corrections]
        data.samples.append(Sample(path, name.stimulus, name.subject, name.sex))
    return data


def _load_folders(root: Path) -> LoadedData:
    """<root>/<class>/<image>, or <root>/<class>/<subject>/<image> when subjects are known."""
    data = LoadedData(root, "folders")
    for path in _split_images(root, data):
        parts = path.relative_to(root).parts
        if len(parts) == 2:
            data.samples.append(Sample(path, parts[0]))
        elif len(parts) == 3:
            data.samples.append(Sample(path, parts[0], parts[1]))
        else:
            where = "directly in the data folder" if len(parts) == 1 else "nested too deep"
            data.skipped.append(Skipped(path, f"{where}: expected <class>/[<subject>/]<image>"))
    return data


def _manifest(root: Path) -> Path:
    if root.is_file():
        return root
    found = sorted(root.glob("*.csv"))
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise MonitorError(f"{what} CSV manifest(s) in {root}: give the manifest file as --data")
    return found[0]


def _load_csv(root: Path) -> LoadedData:
    """A manifest with columns path,label[,subject]; paths are relative to the manifest's folder."""
    manifest = _manifest(root)
    base = manifest.parent
    data = LoadedData(base, "csv")
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
            header = [c.strip().lower() for c in (rows[0].keys() if rows else [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MonitorError(f"cannot read the CSV manifest {manifest}: {exc}") from None
    missing = [c for c in CSV_COLUMNS[:2] if c not in header]
    if not rows or missing:
        raise MonitorError(f"{manifest} needs a header with columns {', '.join(CSV_COLUMNS)} "
                           f"(subject optional) and at least one row")
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        path = base / row["path"]
        problem = ("empty path" if not row["path"] else "empty label" if not row["label"]
                   else "file not found" if not path.is_file()
                   else f"not an image ({path.suffix})" if not is_image(path) else "")
        if problem:
            data.skipped.append(Skipped(path, f"{manifest.name} line {line}: {problem}"))
        else:
            data.samples.append(Sample(path, row["label"], row.get("subject") or None))
    return data


def _nothing_usable(data: LoadedData) -> str:
    example = data.skipped[0]
    hint = {"cope": "folders or csv", "folders": "cope or csv", "csv": "cope or folders"}[data.layout]
    return (f"no usable labelled image under {data.root} as --layout {data.layout} "
            f"({len(data.skipped)} file(s) left out, e.g. {relative(example.path, data.root)}: "
            f"{example.reason}); is it --layout {hint}?")
