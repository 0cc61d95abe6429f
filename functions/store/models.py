"""Model versions: registration, the active version, and each version's HNSW index."""
from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
# pgvector's HNSW index takes vectors up to 2,000 dimensions.
MAX_INDEXED_DIM = 2000


def check_version(version: str) -> str:
    """Model versions end up in index names and partial-index predicates: keep them plain."""
    if not _VERSION_PATTERN.match(version):
        raise ValueError(f"model version {version!r} must match {_VERSION_PATTERN.pattern}")
    return version


def index_name(version: str) -> str:
    return "fused_hnsw_" + re.sub(r"[^a-z0-9]", "_", version.lower())


def register_model(conn: psycopg.Connection, version: str, dim: int, manifest: dict[str, Any],
                   location: str | None = None, *, build_index: bool = True) -> None:
    """Record a model version (staged) and, unless told to wait, build its HNSW index; a known
    version keeps its status. A bulk load builds the index after loading (``create_index``):
    one build over all rows is far faster than growing the graph row by row."""
    check_version(version)
    if not 0 < dim <= MAX_INDEXED_DIM:
        raise ValueError(f"fused dimension {dim} is outside 1..{MAX_INDEXED_DIM}")
    with conn.transaction():
        conn.execute(
            "INSERT INTO models (version, manifest, dim, status, location) VALUES (%s, %s, %s, 'staged', %s)"
            " ON CONFLICT (version) DO UPDATE SET location = coalesce(EXCLUDED.location, models.location)",
            (version, Jsonb(manifest), dim, location),
        )
        if build_index:
            create_index(conn, version, dim)


def create_index(conn: psycopg.Connection, version: str, dim: int) -> None:
    """The version's partial HNSW index on ``embedding::vector(dim)``, cosine distance."""
    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON fused_vectors USING hnsw"
            " ((embedding::vector({dim})) vector_cosine_ops) WHERE model_version = {version}"
        ).format(name=sql.Identifier(index_name(check_version(version))), dim=sql.Literal(dim),
                 version=sql.Literal(version))
    )


def activate_model(conn: psycopg.Connection, version: str) -> None:
    """Make ``version`` the active one, retiring the previous, in one transaction."""
    with conn.transaction():
        found = conn.execute("SELECT 1 FROM models WHERE version = %s", (version,)).fetchone()
        if found is None:
            raise LookupError(f"model version {version!r} is not registered")
        conn.execute("UPDATE models SET status = 'retired' WHERE status = 'active' AND version <> %s",
                     (version,))
        conn.execute("UPDATE models SET status = 'active', activated_at = now() WHERE version = %s",
                     (version,))


def active_model(conn: psycopg.Connection) -> tuple[str, int] | None:
    """(version, dim) of the active model, or None before the first activation."""
    row = conn.execute("SELECT version, dim FROM models WHERE status = 'active'").fetchone()
    return (row[0], row[1]) if row else None


def model_location(conn: psycopg.Connection, version: str) -> str | None:
    row = conn.execute("SELECT location FROM models WHERE version = %s", (version,)).fetchone()
    return row[0] if row else None


def previous_model(conn: psycopg.Connection) -> str | None:
    """The version active before the current one that still has its vectors (for a rollback)."""
    row = conn.execute(
        "SELECT version FROM models WHERE status = 'retired' AND activated_at IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM fused_vectors f WHERE f.model_version = models.version)"
        " ORDER BY activated_at DESC LIMIT 1").fetchone()
    return row[0] if row else None


def purge_old_versions(conn: psycopg.Connection, keep: int) -> list[str]:
    """Drop the vectors and index of all but the ``keep`` most recently activated versions
    (the active one always stays); their rows remain, as history."""
    rows = conn.execute(
        "SELECT version FROM models WHERE status <> 'active' AND activated_at IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM fused_vectors f WHERE f.model_version = models.version)"
        " ORDER BY activated_at DESC OFFSET %s", (max(keep - 1, 0),)).fetchall()
    purged = [row[0] for row in rows]
    for version in purged:
        with conn.transaction():
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(index_name(version))))
            conn.execute("DELETE FROM fused_vectors WHERE model_version = %s", (version,))
    return purged
