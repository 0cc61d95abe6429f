"""Connections: a small pool with the pgvector adapter registered on every connection."""
from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool

from functions.store.migrate import migrate


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """``database_url`` when set; otherwise the embedded server kept in ``data_dir``."""
    if database_url:
        return database_url
    from functions.store.embedded import start_embedded_postgres

    return start_embedded_postgres(data_dir)


def ensure_database(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``, created if it does not exist.

    Lets one server hold several catalogs apart — the shop's, and datasets under evaluation.
    """
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return psycopg.conninfo.make_conninfo(server_url, dbname=name)


def open_pool(url: str, *, max_size: int = 4) -> ConnectionPool:
    """Migrate the database, then open a pool whose connections know the vector type."""
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    return ConnectionPool(
        url, min_size=1, max_size=max_size, configure=register_vector, open=True,
        kwargs={"autocommit": True},
    )
