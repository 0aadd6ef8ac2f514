"""Where painmon finds what it ships with, and where it keeps the user's settings, record and logs.

What ships (models, the demo clip, sounds, icons) lies beside the package in a checkout and in the
bundle's own folder when frozen by PyInstaller. What the user owns follows the platform's
conventions (platformdirs), e.g. on Linux ~/.config/painmon, ~/.local/share/painmon,
~/.local/state/painmon/log and ~/.cache/painmon. `painmon paths` prints them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

APP_NAME = "painmon"
SETTINGS_FILENAME = "painmon.toml"
DATABASE_FILENAME = "painmon.db"
LOG_FILENAME = "painmon.log"


def frozen() -> bool:
    """True inside the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def _resource_root() -> Path:
    return Path(getattr(sys, "_MEIPASS")) if frozen() else Path(__file__).resolve().parent.parent


RESOURCES = _resource_root()
MODELS_DIR = RESOURCES / "models"
ASSETS_DIR = RESOURCES / "assets"
DEFAULT_MODEL_DIR = MODELS_DIR / "emotion-mini-xception"
DEFAULT_CRY_MODEL_DIR = MODELS_DIR / "cry-yamnet"
DEFAULT_CRY_DETECTOR_DIR = MODELS_DIR / "cry-detector"
DEFAULT_FACE_MESH_DIR = MODELS_DIR / "face-mesh"
DEMO_CLIP = ASSETS_DIR / "demo" / "demo.mp4"
SOUNDS_DIR = ASSETS_DIR / "sounds"
ICON = ASSETS_DIR / "icons" / "painmon.svg"


# The user's folders are looked up on each call: they follow XDG_* variables set after import.
def settings_file() -> Path:
    """Read when neither --config nor $PAINMON_CONFIG names a file, if it exists."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / SETTINGS_FILENAME


def database_file() -> Path:
    """The default SQLite record (store.url unset)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / DATABASE_FILENAME


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """Run-time state that must survive a crash, e.g. the monitor processes' leases."""
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    """Rebuildable data only (training's face boxes): safe to delete."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def describe() -> dict[str, str]:
    """Every location, for `painmon paths`."""
    return {
        "settings": str(settings_file()),
        "database": str(database_file()),
        "logs": str(log_dir() / LOG_FILENAME),
        "cache": str(cache_dir()),
        "models": str(MODELS_DIR),
        "assets": str(ASSETS_DIR),
        "program": sys.executable if frozen() else str(RESOURCES),
    }
