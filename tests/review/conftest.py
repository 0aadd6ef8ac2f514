"""Fixtures for review, export, forwarding and purge: a record made by the real pipeline on the
demo clip, a second night written through the store's writer, and a private PostgreSQL database
per test on the server that `make test` starts (tools/start-postgres.sh)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from monitor.cli import DEMO_CLIP
from monitor.config import Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline
from monitor.store.database import open_database
from review_helpers import DEMO_BED, DEMO_ENCOUNTER, copy_sqlite, pg_server

PG_ENV = "TEST_POSTGRES_URL"
PG_SKIP_ENV = "TEST_POSTGRES_SKIP"  # =1: skip the PostgreSQL tests knowingly (not PAINMON_: settings)


@pytest.fixture(scope="session")
def demo_record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real pipeline over the demo clip, once per test run (about 1.5 min on a CPU)."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    settings = Settings(bed_label=DEMO_BED, store=StoreSettings(url=f"sqlite:///{db}"))
    summary = OneSourcePipeline(settings, str(DEMO_CLIP), encounter_id=DEMO_ENCOUNTER).run()
    assert summary.end_reason == "source_ended" and len(summary.episodes) == 1
    return db


@pytest.fixture
def demo_db(demo_record: Path, tmp_path: Path) -> Path:
    """This test's own copy of the demo record."""
    return copy_sqlite(demo_record, tmp_path / "bedside.db")


def _admin(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    """The test server's URL. Without one these tests fail, never skip silently, unless skipping
    is asked for by name."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get(PG_SKIP_ENV) == "1":
            pytest.skip(f"PostgreSQL tests skipped: {PG_SKIP_ENV}=1")
        pytest.fail(f"{PG_ENV} is not set: run the tests through `make test` (it starts PostgreSQL), "
                    f'or run tools/start-postgres.sh start; eval "$(tools/start-postgres.sh env)" '
                    f"first; {PG_SKIP_ENV}=1 skips these tests")
    return url


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A new, empty database on the test server for this test only."""
    name = f"painmon_{uuid.uuid4().hex[:12]}"
    admin = _admin(pg_base_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(pg_base_url).set(database=name).render_as_string(hide_password=False)
    pg_server("start")  # a test may have stopped it
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine_for() -> Iterator:
    """open_database that disposes what it opened at the end of the test."""
    engines: list[Engine] = []

    def opener(url: str) -> Engine:
        engines.append(open_database(url))
        return engines[-1]

    yield opener
    for engine in engines:
        engine.dispose()
