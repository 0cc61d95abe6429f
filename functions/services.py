"""The long-lived objects a process needs — database pool, models, indexer — built once.

A Lambda container builds them on its first call and reuses them while it lives; the CLI and the
tests build them the same way from the same settings.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from functions.config import Settings
from functions.encoders.model_set import ModelSet, load_model_set
from functions.ingest.pipeline import Indexer
from functions.store.database import ensure_database, open_pool, resolve_database_url
from functions.store.models import activate_model, active_model, register_model
from functions.store.vectors import VectorSpace

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    pool: ConnectionPool
    models: ModelSet
    space: VectorSpace
    indexer: Indexer

    def close(self) -> None:
        self.pool.close()


def build_services(settings: Settings, models: ModelSet | None = None) -> Services:
    """Open the store (migrated), load and verify the models (unless given), register their version."""
    url = resolve_database_url(settings.database_url, settings.data_dir)
    if settings.database_name:
        url = ensure_database(url, settings.database_name)
    pool = open_pool(url)
    if models is None:
        models = load_model_set(settings.models_location, settings.models_cache, settings.threads)
    with pool.connection() as conn:
        register_model(conn, models.version, models.fusion.dim, models.manifest)
        active = active_model(conn)
        if active is None:
            activate_model(conn, models.version)
        elif active[0] != models.version:
            log.warning("serving model %s from %s; the database's active model is %s",
                        models.version, settings.models_location, active[0])
    return Services(settings=settings, pool=pool, models=models,
                    space=VectorSpace(models.version, models.fusion.dim),
                    indexer=Indexer(pool, models))


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """The process-wide services, built from the environment on first use."""
    global _services
    with _lock:
        if _services is None:
            _services = build_services(Settings.from_env())
        return _services


def set_services(services: Services | None) -> None:
    """Install (or clear) the process-wide services — the CLI and tests build their own."""
    global _services
    with _lock:
        _services = services
