"""Settings from the environment — the same names locally, in tests and in Lambda."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping


@dataclass(frozen=True)
class Settings:
    # A models folder or an s3:// prefix holding manifest.json and the files it lists.
    models_location: str
    # Where s3:// models are cached (Lambda: /tmp, kept while the container lives).
    models_cache: Path
    # Home of the embedded PostgreSQL when DATABASE_URL is not set.
    data_dir: Path
    database_url: str | None
    # onnxruntime threads per session; None lets it use every core.
    threads: int | None
    # A database of its own on the same server (e.g. a dataset under evaluation); None: the URL's.
    database_name: str | None = None
    # How often a process asks the database which model version is active (after a roll-out).
    model_check_seconds: float = 10.0
    # In AWS, a feed longer than feed_batch_lines is split into batches sent to this SQS queue.
    feed_queue_url: str | None = None
    feed_batch_lines: int = 500
    # A roll-out keeps the vectors of this many versions (the active one included), for rollback.
    keep_model_versions: int = 3

    @classmethod
    def from_env(cls) -> "Settings":
        threads = os.environ.get("VITRINA_THREADS")
        return cls(
            models_location=os.environ.get("VITRINA_MODELS", "models"),
            models_cache=Path(os.environ.get("VITRINA_MODELS_CACHE", "/tmp/vitrina-models")),
            data_dir=Path(os.environ.get("VITRINA_DATA_DIR", ".vitrina")),
            database_url=_database_url_from_env(),
            threads=int(threads) if threads else None,
            feed_queue_url=os.environ.get("VITRINA_FEED_QUEUE_URL") or None,
            feed_batch_lines=positive_int("VITRINA_FEED_BATCH_LINES", 500),
            model_check_seconds=float(os.environ.get("VITRINA_MODEL_CHECK_SECONDS", "10")),
            keep_model_versions=positive_int("VITRINA_KEEP_MODEL_VERSIONS", 3),
        )


def _database_url_from_env() -> str | None:
    """In AWS the credentials live in Secrets Manager (DATABASE_SECRET_ARN, reached through the RDS
    Proxy at DATABASE_HOST); elsewhere DATABASE_URL, or None for the embedded server."""
    secret_arn = os.environ.get("DATABASE_SECRET_ARN")
    if secret_arn:
        # Imported here: boto3 is only needed where a secret is used.
        from functions.store.secrets import database_url_from_secret

        return database_url_from_secret(secret_arn, host=os.environ.get("DATABASE_HOST") or None)
    return os.environ.get("DATABASE_URL") or None


def positive_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    """The environment variable ``name`` as a positive integer (``default`` when unset or empty)."""
    value = environ.get(name)
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
