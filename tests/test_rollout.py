"""Rolling a model version out under live queries, rolling it back, refusing what cannot serve."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from chalice.test import Client

import app as vitrina_app
from functions.encoders.artifacts import MANIFEST, served_files, sha256_of
from functions.ingest.sources import FolderSource
from functions.rollout import RolloutError, activate, announced_location, rollback
from tests.support import MODELS_DIR, PROJECT_ROOT, write_dataset

TRAIN_PYTHON = PROJECT_ROOT / ".venv-train" / "bin" / "python"


def _version_folder(target: Path, fusion_file: Path | None, version: str, text_version: str | None = None) -> Path:
    """The built models with another fusion (or another text encoder version), as a new version."""
    manifest = json.loads((MODELS_DIR / MANIFEST).read_text())
    target.mkdir()
    for name in served_files(manifest):
        if name != manifest["fusion"]["file"] or fusion_file is None:
            os.symlink(MODELS_DIR / name, target / name)
    if fusion_file is not None:
        os.replace(fusion_file, target / "fusion-alt.onnx")
        alt = target / "fusion-alt.onnx"
        manifest["files"]["fusion-alt.onnx"] = {"sha256": sha256_of(alt), "bytes": alt.stat().st_size}
        manifest["fusion"] = {**manifest["fusion"], "file": "fusion-alt.onnx", "version": f"fusion-{version}"}
    if text_version:
        manifest["text_encoder"] = {**manifest["text_encoder"], "version": text_version}
    manifest["version"] = version
    (target / MANIFEST).write_text(json.dumps(manifest))
    return target


@pytest.fixture(scope="module")
def equal_weights_fusion(tmp_path_factory) -> Path:
    """Fusion v0 with text 1 : image 1 — a real, different fusion graph, built by the model builder."""
    path = tmp_path_factory.mktemp("fusion") / "fusion.onnx"
    subprocess.run([str(TRAIN_PYTHON), "-c", "import sys; from pathlib import Path; "
                    "from training_job.export_fusion import export_fusion; export_fusion(Path(sys.argv[1]), 1.0, 1.0)",
                    str(path)], cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=300)
    return path


@pytest.fixture
def catalog_40(services, fashion_products, tmp_path):
    services.settings = dataclasses.replace(services.settings, model_check_seconds=0)
    folder = write_dataset(tmp_path / "shop", fashion_products[:40])
    services.indexer.index_feed(FolderSource(folder), "catalog.jsonl")
    return fashion_products[:40]


def test_queries_never_fail_during_a_rollout_and_rollback_returns(services, catalog_40, equal_weights_fusion,
                                                                 tmp_path) -> None:
    old = services.models.version
    new_folder = _version_folder(tmp_path / "v-equal", _copy(equal_weights_fusion, tmp_path), "v-equal")
    anchor = catalog_40[0]["id"]
    failures, answers, stop = [], [], threading.Event()

    with Client(vitrina_app.app) as client:
        def query_forever() -> None:
            while not stop.is_set():
                for response in (client.http.get(f"/items/{anchor}/similar?k=5"),
                                 client.http.post("/search", headers={"Content-Type": "application/json"},
                                                  body=json.dumps({"text": "watch", "k": 5}))):
                    body = json.loads(response.body)
                    if response.status_code != 200 or len(body.get("items", [])) != 5:
                        failures.append((response.status_code, body))
                    else:
                        answers.append(body["model_version"])

        worker = threading.Thread(target=query_forever)
        worker.start()
        try:
            report = activate(services.pool, str(new_folder), tmp_path / "cache")
            deadline = time.monotonic() + 60
            while "v-equal" not in answers[-2:] and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join()
        assert report.version == "v-equal" and report.products == 40
        assert not failures, failures[:3]
        assert answers[0] == old and answers[-1] == "v-equal"
        # Answers switch once, from old to new: never back and forth.
        switches = sum(1 for a, b in zip(answers, answers[1:]) if a != b)
        assert switches == 1

        assert rollback(services.pool) == old
        assert json.loads(client.http.get("/health").body)["model_version"] == old


def _copy(path: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "fusion-copy.onnx"
    copy.write_bytes(path.read_bytes())
    return copy


def test_old_versions_are_purged_beyond_keep(services, catalog_40, equal_weights_fusion, tmp_path) -> None:
    old = services.models.version
    activate(services.pool, str(_version_folder(tmp_path / "v2", _copy(equal_weights_fusion, tmp_path), "v2")),
             tmp_path / "cache", keep=1)
    with services.pool.connection() as conn:
        versions = {row[0] for row in conn.execute("SELECT DISTINCT model_version FROM fused_vectors")}
    assert versions == {"v2"}
    with pytest.raises(RolloutError, match="no earlier version"):
        rollback(services.pool)
    assert old != "v2"


def test_a_version_whose_encoders_differ_from_the_stored_vectors_is_refused(services, catalog_40, tmp_path) -> None:
    folder = _version_folder(tmp_path / "v-other", None, "v-other", text_version="some-other-encoder")
    with pytest.raises(RolloutError, match="no text vector from encoder some-other-encoder"):
        activate(services.pool, str(folder), tmp_path / "cache")
    with services.pool.connection() as conn:
        assert conn.execute("SELECT version FROM models WHERE status = 'active'").fetchone()[0] == services.models.version


def _object_created(bucket: str, key: str) -> dict:
    """What S3 sends EventBridge for a new object (the rule in infra/template.json matches it)."""
    return {"version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": "2026-12-04T00:00:00Z", "region": "eu-west-1",
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {"version": "0", "bucket": {"name": bucket}, "reason": "PutObject",
                       "object": {"key": key, "size": 1, "etag": "x", "sequencer": "1"}}}


def test_a_published_version_rolls_out_and_the_next_scheduled_training_builds_on_it(
        services, catalog_40, equal_weights_fusion, tmp_path, monkeypatch) -> None:
    import boto3
    from moto import mock_aws

    from functions.training import upload_folder

    environment = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
                   "VITRINA_TRAINING_BUCKET": "artifacts", "VITRINA_TRAINING_ROLE_ARN": "arn:aws:iam::123456789012:role/t",
                   "VITRINA_TRAINING_IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/vitrina-training:latest"}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    folder = _version_folder(tmp_path / "v-published", _copy(equal_weights_fusion, tmp_path), "v-published")
    with mock_aws():
        s3, sagemaker = boto3.client("s3"), boto3.client("sagemaker")
        monkeypatch.setattr(vitrina_app, "_s3_client", s3)
        monkeypatch.setattr(vitrina_app, "_sagemaker_client", sagemaker)
        s3.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        keys = upload_folder(s3, folder, "s3://artifacts/models/v-published")
        assert keys[-1] == "models/v-published/manifest.json"  # announced only once complete

        with Client(vitrina_app.app) as client:
            announce = _object_created("artifacts", "models/v-published/manifest.json")
            report = client.lambda_.invoke("activate_models", announce).payload
            assert report["location"] == "s3://artifacts/models/v-published"
            assert (report["version"], report["products"]) == ("v-published", 40)
            assert json.loads(client.http.get("/health").body)["model_version"] == "v-published"
            # S3 events arrive at least once: the same announcement again changes nothing.
            again = client.lambda_.invoke("activate_models", announce).payload
            assert (again["version"], again["products"]) == ("v-published", 0)

            started = client.lambda_.invoke("start_training", client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])).payload
        job = sagemaker.describe_training_job(TrainingJobName=started["training_job_arn"].rsplit("/", 1)[1])
        channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}
        # The job learns from the active version's encoders and must beat its fusion.
        assert channels == {"export": "s3://artifacts/training/export/", "models": "s3://artifacts/models/v-published/"}
        arguments = job["AlgorithmSpecification"]["ContainerArguments"]
        assert arguments[arguments.index("--artifacts") + 1] == "s3://artifacts/models"
        exported = {o["Key"] for o in s3.list_objects_v2(Bucket="artifacts", Prefix="training/export/")["Contents"]}
        assert exported == {"training/export/catalog.npz", "training/export/events.csv", "training/export/manifest.json"}


@pytest.mark.parametrize("key", ["models/v1/fusion.onnx", "manifest.json", "models/v1/manifest.json.bak"])
def test_only_a_model_sets_manifest_announces_a_version(key: str) -> None:
    with pytest.raises(RolloutError, match="is not a model set's manifest.json"):
        announced_location("artifacts", key)
    assert announced_location("artifacts", "models/v1/manifest.json") == "s3://artifacts/models/v1"
