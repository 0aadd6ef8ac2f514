"""What every command shares: the common options, settings from them, the plain-words notice."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from monitor.config import Settings, load
from monitor.errors import MonitorError

NOT_A_DEVICE = ("Not a certified medical device: an estimate of facial pain expression that "
                "supports, never replaces, clinical pain assessment.")


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML settings file (also $PAINMON_CONFIG)")
    parser.add_argument("--db", help="SQLAlchemy URL of the log (default: SQLite in your data folder)")
    parser.add_argument("--model", help="model folder with card.json and weights")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="inference device")
    parser.add_argument("--bed", help="bed label stored with the session")
    parser.add_argument("--encounter", help="pseudonymous encounter id (default: a new random one)")
    parser.add_argument("--audio", metavar="default|DEVICE|none",
                        help="sound for the cry cue: a camera's microphone (default, a device name "
                             "or index), a file's own sound track unless none (setting audio.input)")


def settings_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "store.url": getattr(args, "db", None),
        "scoring.model_dir": getattr(args, "model", None),
        "scoring.device": getattr(args, "device", None),
        "bed_label": getattr(args, "bed", None),
        "audio.input": getattr(args, "audio", None),
    }


def monitoring_settings(args: argparse.Namespace) -> Settings:
    """Settings for a command that monitors and records (run, live, demo)."""
    settings = load(args.config, settings_flags(args))
    refuse_memory_database(settings.store.url)
    return settings


def refuse_memory_database(url: str | None) -> None:
    """An in-memory SQLite record vanishes with the process: nothing would be kept."""
    if url is None:
        return
    bare = url.split("?", 1)[0]
    if bare.startswith("sqlite") and (bare.endswith("://") or ":memory:" in bare
                                       or "mode=memory" in url):
        raise MonitorError(f"--db {url} keeps the record in memory only: nothing would be kept; "
                           "give a file, e.g. --db sqlite:///painmon.db, or leave --db out")
