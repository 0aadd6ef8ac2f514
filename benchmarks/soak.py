"""Soak benchmark (not a CI step): replay a recording in a loop through one monitoring session for
a long time and report memory, threads and open files at the start and the end.

    .venv/bin/python benchmarks/soak.py --minutes 10 [--source FILE] [--json OUT]

The endurance run of docs/RELIABILITY.md is the same with `--minutes 30`; CI runs a 2-minute
version (tests/reliability/test_endurance.py).

RSS is read after the first minute (torch and the models are loaded by then) and at the end;
the target is growth under 5 %.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from monitor.capture.sources import FileSource, SourceEnded, SourceStatus  # noqa: E402
from monitor.cli import DEMO_CLIP  # noqa: E402
from monitor.config import Settings, StoreSettings  # noqa: E402
from monitor.packets import FramePacket  # noqa: E402
from monitor.pipeline.runner import OneSourcePipeline  # noqa: E402


class LoopingFile:
    """A recording played over and over on one continuous session clock, like a long night."""

    live = False

    def __init__(self, path: Path, settings: Settings, until: float) -> None:
        self._path, self._settings, self._until = path, settings, until
        self._file = FileSource(path, settings.capture)
        self._offset = 0.0
        self._last = 0.0
        self._index = 0
        self.description = f"file {path.name} (looped)"

    def read(self, timeout: float) -> FramePacket:
        if time.monotonic() >= self._until:
            raise SourceEnded
        try:
            packet = self._file.read(timeout)
        except SourceEnded:
            self._file.close()
            self._file = FileSource(self._path, self._settings.capture)
            self._offset = self._last + 1.0 / self._file.fps
            packet = self._file.read(timeout)
        self._last = self._offset + packet.t
        self._index += 1
        return FramePacket(t=self._last, index=self._index, image=packet.image)

    def status(self) -> SourceStatus:
        return SourceStatus()

    def close(self) -> None:
        self._file.close()


def process_figures() -> dict[str, float]:
    with open("/proc/self/status") as fh:
        fields = dict(line.split(":", 1) for line in fh)
    return {
        "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
        "threads": threading.active_count(),
        "os_threads": int(fields["Threads"]),
        "open_files": len(os.listdir("/proc/self/fd")),
    }


def run_soak(minutes: float, source: Path = DEMO_CLIP) -> dict:
    """One session over `source` looped for `minutes`; figures after the first minute (or half the
    run, if shorter) and at the last progress report while the session still runs."""
    with tempfile.TemporaryDirectory(prefix="painmon-soak-") as tmp:
        settings = Settings(store=StoreSettings(url=f"sqlite:///{tmp}/soak.db"))
        start = time.monotonic()
        figures: dict[str, dict] = {}

        def sample(_summary, _snapshot) -> None:
            elapsed = time.monotonic() - start
            now = {"at_s": round(elapsed), **process_figures()}
            if "start" not in figures and elapsed >= min(60.0, minutes * 30):
                figures["start"] = now
            figures["end"] = now

        source_loop = LoopingFile(source, settings, until=start + minutes * 60)
        summary = OneSourcePipeline(settings, source_loop).run(on_progress=sample)
    growth = figures["end"]["rss_mb"] / figures["start"]["rss_mb"] - 1
    return {"minutes": minutes, "frames": summary.frames, "fps": summary.fps,
            "episodes": len(summary.episodes), "end_reason": summary.end_reason,
            "rss_growth": growth, **figures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--source", type=Path, default=DEMO_CLIP)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run_soak(args.minutes, args.source)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
