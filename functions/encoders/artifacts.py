"""Model artifacts: a folder (or ``s3://`` prefix) with ``manifest.json`` and the files it lists.

Every file the runtime loads is checked against the manifest's sha256 first: a corrupt or swapped
file is refused with ``ModelIntegrityError``, never served.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from functions.errors import ModelIntegrityError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def served_files(manifest: dict[str, Any]) -> list[str]:
    """The files the runtime loads (the fp32 reference copies are for benchmarks only)."""
    text = manifest["text_encoder"]
    return [text["file"], text["tokenizer"], manifest["image_encoder"]["file"], manifest["fusion"]["file"]]


def verify(folder: Path, manifest: dict[str, Any], names: list[str]) -> None:
    """Raise ModelIntegrityError unless each named file exists with the manifest's sha256."""
    listed = manifest.get("files", {})
    for name in names:
        if name not in listed:
            raise ModelIntegrityError(f"{name} is not listed in the manifest of {folder}")
        path = folder / name
        if not path.is_file():
            raise ModelIntegrityError(f"{path} is missing")
        actual = sha256_of(path)
        if actual != listed[name]["sha256"]:
            raise ModelIntegrityError(
                f"{path} has sha256 {actual[:12]}…, the manifest says {listed[name]['sha256'][:12]}…"
            )


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelIntegrityError(f"no {MANIFEST} in {folder}: build the models first (make models)")
    return json.loads(path.read_text(encoding="utf-8"))


def _link_cached_copy(cache_dir: Path, target: Path, sha256: str) -> bool:
    """Link an identical file another cached version already holds: a trained version ships the
    active version's encoders byte for byte, and /tmp (and the download) need them only once."""
    for candidate in cache_dir.glob(f"*/{target.name}"):
        if candidate != target and sha256_of(candidate) == sha256:
            target.unlink(missing_ok=True)
            os.link(candidate, target)
            return True
    return False


def _download_from_s3(location: str, cache_dir: Path) -> Path:
    import boto3

    parsed = urlparse(location)
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    client = boto3.client("s3")

    def key(name: str) -> str:
        return f"{prefix}/{name}" if prefix else name

    manifest_bytes = client.get_object(Bucket=bucket, Key=key(MANIFEST))["Body"].read()
    manifest = json.loads(manifest_bytes)
    folder = cache_dir / manifest["version"]
    folder.mkdir(parents=True, exist_ok=True)
    for name in served_files(manifest):
        target = folder / name
        expected = manifest["files"][name]["sha256"]
        if target.is_file() and sha256_of(target) == expected:
            continue
        if _link_cached_copy(cache_dir, target, expected):
            continue
        log.info("downloading s3://%s/%s", bucket, key(name))
        partial = target.with_name(target.name + ".part")
        client.download_file(bucket, key(name), str(partial))
        os.replace(partial, target)
    (folder / MANIFEST).write_bytes(manifest_bytes)
    return folder


def fetch_models(location: str, cache_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Resolve a models location to a verified local folder and its manifest.

    ``s3://bucket/prefix`` is downloaded once into ``cache_dir`` (Lambda: /tmp, reused while the
    container lives); a local folder is used in place.
    """
    folder = _download_from_s3(location, cache_dir) if location.startswith("s3://") else Path(location)
    manifest = read_manifest(folder)
    verify(folder, manifest, served_files(manifest))
    return folder, manifest
