"""Shared fixtures. Real material lives in ../shared/data beside the checkout (see NOTICE)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test material missing: expected {SHARED_DATA} (see shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def private_user_folders(tmp_path_factory, monkeypatch) -> Path:
    """Each test gets its own settings and log folders: the tester's own painmon.toml must not
    change a result, and tests must not write into the tester's log."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    return home
