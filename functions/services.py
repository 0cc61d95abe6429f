"""The long-lived objects a process needs — database pool, models, indexer — built once.

A Lambda container builds them on its first call and reuses them while it lives; the CLI and the
tests build them the same way from the same settings.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from psycopg_pool import ConnectionPool

from functions.config import Settings
from functions.encoders.model_set import ModelSet, load_model_set
from functions.ingest.pipeline import Indexer
from functions.store.database import ensure_database, open_pool, resolve_database_url
from functions.store.models import activate_model, active_model, model_location, register_model
from functions.store.vectors import VectorSpace

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    pool: ConnectionPool
    models: ModelSet
    # Model sets loaded by this process, by version: a rollback switches back without reloading.
    loaded: dict[str, ModelSet] = field(default_factory=dict)
    checked_at: float = 0.0

    def close(self) -> None:
        self.pool.close()

    @property
    def space(self) -> VectorSpace:
        """The served version's fused space: queries search its vectors and index."""
        return VectorSpace(self.models.version, self.models.fusion.dim)

    @property
    def indexer(self) -> Indexer:
        return Indexer(self.pool, self.models)

    def use(self, models: ModelSet) -> None:
        """Serve ``models``: queries embed with it and search its version's vectors."""
        self.loaded[models.version] = models
        self.models = models

    def follow_active(self) -> None:
        """Serve the database's active version, loading it if another process activated it.

        Requests in flight keep the objects they hold; the old version's vectors stay until
        purged, so they finish on it."""
        with self.pool.connection() as conn:
            active = active_model(conn)
            location = model_location(conn, active[0]) if active else None
        self.checked_at = time.monotonic()
        if active is None or active[0] == self.models.version:
            return
        if active[0] in self.loaded:
            self.use(self.loaded[active[0]])
        elif location is None:
            log.warning("active model %s has no recorded location; serving %s", active[0], self.models.version)
        else:
            log.info("switching to model %s from %s", active[0], location)
            self.use(load_model_set(location, self.settings.models_cache, self.settings.threads))


def build_services(settings: Settings, models: ModelSet | None = None) -> Services:
    """Open the store (migrated), load and verify the models (unless given), register their version."""
    url = resolve_database_url(settings.database_url, settings.data_dir)
    if settings.database_name:
        url = ensure_database(url, settings.database_name)
    pool = open_pool(url)
    if models is None:
        models = load_model_set(settings.models_location, settings.models_cache, settings.threads)
    location = settings.models_location
    if not location.startswith("s3://"):
        location = str(Path(location).resolve())
    with pool.connection() as conn:
        register_model(conn, models.version, models.fusion.dim, models.manifest, location)
        if active_model(conn) is None:
            activate_model(conn, models.version)
    services = Services(settings=settings, pool=pool, models=models, loaded={models.version: models})
    services.follow_active()
    return services


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """The process-wide services, built from the environment on first use."""
    global _services
    with _lock:
        if _services is None:
            _services = build_services(Settings.from_env())
        elif time.monotonic() - _services.checked_at >= _services.settings.model_check_seconds:
            _services.follow_active()
        return _services


def set_services(services: Services | None) -> None:
    """Install (or clear) the process-wide services — the CLI and tests build their own."""
    global _services
    with _lock:
        _services = services
