"""Rolling a new model version out, and back.

A version is activated by re-fusing every product's *stored* base vectors with the new fusion (no
photo is re-encoded), building that version's HNSW index, then switching the active version in
one transaction. Until the switch every query answers from the old version, whose vectors and
index are untouched; afterwards each process follows the database's active version
(``services.get_services``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from psycopg_pool import ConnectionPool

from functions.encoders.artifacts import MANIFEST
from functions.encoders.model_set import ModelSet, load_model_set
from functions.store import catalog
from functions.store import models as model_versions

log = logging.getLogger(__name__)

BATCH = 512


class RolloutError(Exception):
    """A version that cannot be activated as it is (e.g. its encoders differ from the stored vectors)."""


@dataclass
class RolloutReport:
    version: str
    products: int
    seconds: float
    purged: list[str] = field(default_factory=list)


def _ids_to_fuse(pool: ConnectionPool, version: str, only_missing: bool) -> list[str]:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id FROM products p WHERE NOT deleted AND (NOT %s OR NOT EXISTS ("
            " SELECT 1 FROM fused_vectors f WHERE f.product_id = p.id AND f.model_version = %s)) ORDER BY id",
            (only_missing, version)).fetchall()
    return [row[0] for row in rows]


def refuse_catalog(pool: ConnectionPool, models: ModelSet, *, only_missing: bool = False,
                   progress: Callable[[int], None] | None = None) -> int:
    """Write ``models.version``'s fused vectors for every live product from its stored base vectors."""
    ids = _ids_to_fuse(pool, models.version, only_missing)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        with pool.connection() as conn:
            text = catalog.base_vectors(conn, chunk, "text", models.text.version)
            image = catalog.base_vectors(conn, chunk, "image", models.image.version)
            missing = [product_id for product_id in chunk if product_id not in text]
            if missing:
                raise RolloutError(
                    f"{len(missing)} products (e.g. {missing[0]!r}) have no text vector from encoder "
                    f"{models.text.version}: index the catalog with these encoders first")
            text_matrix = np.stack([text[product_id] for product_id in chunk])
            image_matrix = np.stack([image.get(product_id, np.zeros(models.image.dim, np.float32))
                                     for product_id in chunk])
            fused = models.fusion.fuse(text_matrix, image_matrix)
            catalog.write_fused(conn, zip(chunk, fused), models.version)
        if progress:
            progress(len(chunk))
    return len(ids)


def activate(pool: ConnectionPool, location: str, cache_dir: Path, *, keep: int = 3,
             progress: Callable[[int], None] | None = None) -> RolloutReport:
    """Load and verify the version at ``location``, re-fuse the catalog, index, switch; then drop
    the vectors of all but the ``keep`` most recent versions."""
    started = time.perf_counter()
    models = load_model_set(location, cache_dir)
    with pool.connection() as conn:
        model_versions.register_model(conn, models.version, models.fusion.dim, models.manifest,
                                      location, build_index=False)
        active = model_versions.active_model(conn)
    if active is not None and active[0] == models.version:
        # Announced again (S3 events arrive at least once) or already served: nothing to switch;
        # only products that lack its vectors are fused.
        count = refuse_catalog(pool, models, only_missing=True, progress=progress)
        return RolloutReport(models.version, count, time.perf_counter() - started)
    count = refuse_catalog(pool, models, progress=progress)
    with pool.connection() as conn:
        model_versions.create_index(conn, models.version, models.fusion.dim)
        model_versions.activate_model(conn, models.version)
    # Products indexed by the old version while this one was being built.
    count += refuse_catalog(pool, models, only_missing=True)
    with pool.connection() as conn:
        purged = model_versions.purge_old_versions(conn, keep)
    log.info("activated model %s (%s products)", models.version, count)
    return RolloutReport(models.version, count, time.perf_counter() - started, purged)


def announced_location(bucket: str, key: str) -> str:
    """The model set whose ``manifest.json`` was written at ``s3://bucket/key``: its folder.

    Publishers write the manifest last (``functions.training.upload_folder``), so its arrival
    announces a complete set."""
    folder, _, name = key.rpartition("/")
    if name != MANIFEST or not folder or not bucket:
        raise RolloutError(f"s3://{bucket}/{key} is not a model set's {MANIFEST}")
    return f"s3://{bucket}/{folder}"


def rollback(pool: ConnectionPool) -> str:
    """Switch back to the previously active version (its vectors are kept until purged)."""
    with pool.connection() as conn:
        previous = model_versions.previous_model(conn)
        if previous is None:
            raise RolloutError("no earlier version with its vectors to roll back to")
        model_versions.activate_model(conn, previous)
    return previous
