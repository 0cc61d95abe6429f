"""The fusion training job end to end on a tiny synthetic export, run in the training environment
(.venv-train has torch; this one does not): publish, resume after an interruption, gate refusal."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from functions.encoders.model_set import load_model_set
from tests.support import MODELS_DIR, PROJECT_ROOT

TRAIN_PYTHON = PROJECT_ROOT / ".venv-train" / "bin" / "python"
DIM = 32
GROUPS, PER_GROUP = 6, 10

pytestmark = pytest.mark.skipif(not TRAIN_PYTHON.is_file() or not (MODELS_DIR / "manifest.json").is_file(),
                                reason="needs .venv-train (make train-venv) and built models (make models)")


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def write_export(folder: Path) -> Path:
    """60 items in 6 style groups (vectors: group centre + noise; every 5th item has no photo);
    customers buy within one group, a few days apart; the last day is the gate's."""
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(GROUPS), PER_GROUP)
    text = unit(rng.normal(size=(GROUPS, 384))[group] + 0.5 * rng.normal(size=(len(group), 384)))
    image = unit(rng.normal(size=(GROUPS, 1280))[group] + 0.5 * rng.normal(size=(len(group), 1280)))
    image[::5] = 0
    folder.mkdir(parents=True)
    np.savez(folder / "catalog.npz", item_ids=np.array([f"p{i:03d}" for i in range(len(group))]),
             categories=np.array([f"c{i % 3}" if i % 7 else "" for i in range(len(group))]), text=text, image=image)
    rows = []
    for user in range(80):
        members = np.flatnonzero(group == user % GROUPS)
        for step, item in enumerate(rng.choice(members, 4, replace=False)):
            day = 1 + (user * 3 + step * 2) % 25 if step < 3 else 28
            rows.append((f"2020-01-{day:02d}", f"u{user}", f"p{item:03d}", "purchase" if step % 2 else "cart"))
    with open(folder / "events.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["user_id", "item_id", "event", "timestamp"])
        writer.writerows((user, item, kind, ts) for ts, user, item, kind in sorted(rows))
    shutil.copy(MODELS_DIR / "manifest.json", folder / "manifest.json")
    return folder


def run_training(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The job in the training environment; later flags (``extra``) override the defaults here."""
    export = tmp_path / "export"
    if not export.exists():
        write_export(export)
    command = [str(TRAIN_PYTHON), "-m", "training_job.fusion.train", "--export", str(export),
               "--base-models", str(MODELS_DIR), "--artifacts", str(tmp_path / "artifacts"),
               "--checkpoints", str(tmp_path / "checkpoints"), "--dim", str(DIM), "--hidden", "64",
               "--batch-size", "32", *extra]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", **(env or {})})


def published(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "artifacts").iterdir() if not p.name.startswith(".")]


def test_training_publishes_a_model_set_the_runtime_loads(tmp_path: Path) -> None:
    done = run_training(tmp_path, "--epochs", "2", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    (folder,) = published(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    base = json.loads((MODELS_DIR / "manifest.json").read_text())
    assert folder.name == manifest["version"] and manifest["version"].startswith("t-")
    assert manifest["fusion"]["kind"] == "triplet-mlp" and manifest["fusion"]["dim"] == DIM
    assert {"active", "trained"} <= set(manifest["fusion"]["metrics"])
    for name in (base["text_encoder"]["file"], base["text_encoder"]["tokenizer"], base["image_encoder"]["file"]):
        assert manifest["files"][name] == base["files"][name]
    models = load_model_set(str(folder), tmp_path / "cache")
    rng = np.random.default_rng(1)
    fused = models.fusion.fuse(unit(rng.normal(size=(3, 384))), unit(rng.normal(size=(3, 1280))) * [[1], [0], [1]])
    assert fused.shape == (3, DIM)
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-4)
    assert not models.fusion.fuse(np.zeros((1, 384)), np.zeros((1, 1280))).any()


def test_a_cloud_run_publishes_to_s3_manifest_last(tmp_path: Path, monkeypatch) -> None:
    """As in SageMaker: ``--artifacts s3://…`` (here a moto server on localhost)."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
               "AWS_ENDPOINT_URL": "http://127.0.0.1:%d" % server.get_host_and_port()[1]}
        for name, value in aws.items():
            monkeypatch.setenv(name, value)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        done = run_training(tmp_path, "--epochs", "1", "--force", "--artifacts", "s3://artifacts/models", env=aws)
        assert done.returncode == 0, done.stdout + done.stderr
        objects = s3.list_objects_v2(Bucket="artifacts")["Contents"]
        (version,) = {o["Key"].split("/")[1] for o in objects}
        assert f"published s3://artifacts/models/{version}" in done.stdout
        models = load_model_set(f"s3://artifacts/models/{version}", tmp_path / "cache")
        assert models.version == version and models.fusion.dim == DIM
        assert len(objects) == len(models.manifest["files"]) + 1
    finally:
        server.stop()


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    first = run_training(tmp_path, "--epochs", "1", "--force")
    assert first.returncode == 0, first.stdout + first.stderr
    again = run_training(tmp_path, "--epochs", "2", "--force")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming from epoch 1" in again.stdout
    assert "epoch 2/2" in again.stdout and "epoch 1/2" not in again.stdout


def test_a_worse_model_is_refused_at_the_gate(tmp_path: Path) -> None:
    # A one-dimensional fused space: every product lands on +1 or -1, its ranking is all ties.
    done = run_training(tmp_path, "--epochs", "1", "--dim", "1")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "gate refused" in done.stderr
    assert published(tmp_path) == []


def test_the_untrained_network_in_v0s_space_is_fusion_v0() -> None:
    """Training starts from v0's ranking exactly, so it refines v0 rather than relearning it."""
    script = """
import torch
from training_job.export_fusion import WeightedConcat
from training_job.fusion.model import V0_DIM, TripletFusion
torch.manual_seed(0)
text, image = torch.randn(64, 384), torch.randn(64, 1280)
has_text, has_image = (torch.rand(64, 1) > 0.2).float(), (torch.rand(64, 1) > 0.3).float()
ours = TripletFusion(V0_DIM)(text, image, has_text, has_image)
v0 = WeightedConcat(2.0, 1.0)(text, image, has_text, has_image)
print(float((ours - v0).abs().max()))
"""
    done = subprocess.run([str(TRAIN_PYTHON), "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 1e-6
