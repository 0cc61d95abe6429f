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


def register_model(conn: psycopg.Connection, version: str, dim: int, manifest: dict[str, Any]) -> None:
    """Record a model version (staged) and build its HNSW index; a known version is left as it is."""
    check_version(version)
    if not 0 < dim <= MAX_INDEXED_DIM:
        raise ValueError(f"fused dimension {dim} is outside 1..{MAX_INDEXED_DIM}")
    with conn.transaction():
        conn.execute(
            "INSERT INTO models (version, manifest, dim, status) VALUES (%s, %s, %s, 'staged')"
            " ON CONFLICT (version) DO NOTHING",
            (version, Jsonb(manifest), dim),
        )
        conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {name} ON fused_vectors USING hnsw"
                " ((embedding::vector({dim})) vector_cosine_ops) WHERE model_version = {version}"
            ).format(name=sql.Identifier(index_name(version)), dim=sql.Literal(dim),
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
