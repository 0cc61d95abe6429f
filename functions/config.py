"""Settings from the environment — the same names locally, in tests and in Lambda."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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

    @classmethod
    def from_env(cls) -> "Settings":
        threads = os.environ.get("VITRINA_THREADS")
        return cls(
            models_location=os.environ.get("VITRINA_MODELS", "models"),
            models_cache=Path(os.environ.get("VITRINA_MODELS_CACHE", "/tmp/vitrina-models")),
            data_dir=Path(os.environ.get("VITRINA_DATA_DIR", ".vitrina")),
            database_url=os.environ.get("DATABASE_URL") or None,
            threads=int(threads) if threads else None,
        )
