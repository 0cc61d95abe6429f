"""Where feed files and photos are read from: a local dataset folder or an S3 bucket.

Both answer the same three questions, so the pipeline has one code path for ``vitrina index DIR``
and for the S3 upload handler. Keys are POSIX paths relative to the folder or bucket root.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, Iterator, Protocol

from functions.errors import PayloadTooLarge

# A product photo is well under this; a bigger object is refused before it is read into memory.
MAX_PHOTO_BYTES = 20 * 1024 * 1024


class Source(Protocol):
    """Read access to feed files and photos by key."""

    def iter_lines(self, key: str) -> Iterator[str]:
        """The text lines of a feed file."""

    def read_photo(self, key: str) -> bytes:
        """The bytes of a photo; FileNotFoundError if absent, PayloadTooLarge if too big."""

    def fingerprint(self, key: str) -> str | None:
        """A value that changes when the object's content changes; None if it does not exist."""


class FolderSource:
    """A dataset folder on disk, e.g. ``shared/data/fashion-small``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise FileNotFoundError(key)
        return path

    def iter_lines(self, key: str) -> Iterator[str]:
        with open(self._path(key), encoding="utf-8", errors="replace") as lines:
            yield from lines

    def read_photo(self, key: str) -> bytes:
        path = self._path(key)
        if path.stat().st_size > MAX_PHOTO_BYTES:
            raise PayloadTooLarge(f"photo {key} is larger than {MAX_PHOTO_BYTES} bytes")
        return path.read_bytes()

    def fingerprint(self, key: str) -> str | None:
        try:
            return hashlib.sha256(self.read_photo(key)).hexdigest()
        except (FileNotFoundError, IsADirectoryError):
            return None


class S3Source:
    """An S3 bucket (the uploads bucket in AWS, moto in tests)."""

    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        return code in {"NoSuchKey", "404", "NotFound"}

    def iter_lines(self, key: str) -> Iterator[str]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        yield from io.TextIOWrapper(body, encoding="utf-8", errors="replace")

    def read_photo(self, key: str) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        if obj["ContentLength"] > MAX_PHOTO_BYTES:
            obj["Body"].close()
            raise PayloadTooLarge(f"photo {key} is larger than {MAX_PHOTO_BYTES} bytes")
        return obj["Body"].read()

    def fingerprint(self, key: str) -> str | None:
        # The ETag changes with the content; a HEAD is far cheaper than hashing the photo.
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"')
        except self.client.exceptions.ClientError as exc:
            if self._missing(exc):
                return None
            raise
