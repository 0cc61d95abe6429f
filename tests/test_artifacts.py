"""Model artifacts are read from a folder or an s3:// prefix and checked against the manifest."""
from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.encoders.artifacts import MANIFEST, fetch_models, served_files
from functions.errors import ModelIntegrityError
from tests.support import MODELS_DIR


def _linked_copy(target: Path) -> dict:
    """The real models folder, as symlinks (no 120 MB copies), with its manifest."""
    manifest = json.loads((MODELS_DIR / MANIFEST).read_text())
    target.mkdir()
    for name in served_files(manifest):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(MODELS_DIR / name, target / name)
    (target / MANIFEST).write_text(json.dumps(manifest))
    return manifest


def test_a_tampered_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    manifest = _linked_copy(folder)
    assert fetch_models(str(folder), tmp_path / "cache")[1]["version"] == manifest["version"]
    tokenizer = folder / manifest["text_encoder"]["tokenizer"]
    tokenizer.unlink()
    tokenizer.write_text((MODELS_DIR / manifest["text_encoder"]["tokenizer"]).read_text() + " ")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        fetch_models(str(folder), tmp_path / "cache")


def test_a_missing_manifest_or_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="no manifest.json"):
        fetch_models(str(tmp_path), tmp_path / "cache")
    folder = tmp_path / "models"
    manifest = _linked_copy(folder)
    (folder / manifest["fusion"]["file"]).unlink()
    with pytest.raises(ModelIntegrityError, match="missing"):
        fetch_models(str(folder), tmp_path / "cache")


def test_models_from_s3_are_cached_and_verified(tmp_path: Path, monkeypatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    manifest = json.loads((MODELS_DIR / MANIFEST).read_text())
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="artifacts")
        for name in [*served_files(manifest), MANIFEST]:
            s3.upload_file(str(MODELS_DIR / name), "artifacts", f"models/current/{name}")
        folder, fetched = fetch_models("s3://artifacts/models/current", tmp_path / "cache")
        assert fetched["version"] == manifest["version"]
        assert folder == tmp_path / "cache" / manifest["version"]

        # A file replaced in the bucket without a new manifest is refused, not served.
        fusion = manifest["fusion"]["file"]
        s3.put_object(Bucket="artifacts", Key=f"models/current/{fusion}", Body=b"not the fusion model")
        (folder / fusion).unlink()
        with pytest.raises(ModelIntegrityError, match="sha256"):
            fetch_models("s3://artifacts/models/current", tmp_path / "cache")

        # A later version with the same encoders (what training publishes) links them, once in /tmp.
        for name in served_files(manifest):
            s3.upload_file(str(MODELS_DIR / name), "artifacts", f"models/v2/{name}")
        s3.put_object(Bucket="artifacts", Key=f"models/v2/{MANIFEST}", Body=json.dumps({**manifest, "version": "v2"}))
        second, _ = fetch_models("s3://artifacts/models/v2", tmp_path / "cache")
        text = manifest["text_encoder"]["file"]
        assert second != folder and (second / text).stat().st_ino == (folder / text).stat().st_ino
