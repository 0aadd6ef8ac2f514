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
