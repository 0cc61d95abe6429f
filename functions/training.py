"""Starting the training job: on this machine (the training environment) or as a SageMaker
training job on a spot GPU. The same entry point runs in both (``training_job.fusion.train``).

Only the request is built here (boto3); nothing imports torch or ``training_job``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlparse

from functions.config import positive_int
from functions.encoders.artifacts import MANIFEST

if TYPE_CHECKING:
    from functions.services import Services

TRAIN_MODULE = "training_job.fusion.train"
# SageMaker's container conventions: channels under /opt/ml/input/data, checkpoints synced to S3.
CONTAINER_EXPORT = "/opt/ml/input/data/export"
CONTAINER_BASE_MODELS = "/opt/ml/input/data/models"
CONTAINER_CHECKPOINTS = "/opt/ml/checkpoints"


def local_command(python: Path, export: Path, base_models: Path, artifacts: Path, *, epochs: int | None = None,
                  force: bool = False) -> list[str]:
    """The command line that trains on this machine with the training environment's Python."""
    command = [str(python), "-m", TRAIN_MODULE, "--export", str(export), "--base-models", str(base_models),
               "--artifacts", str(artifacts)]
    if epochs is not None:
        command += ["--epochs", str(epochs)]
    return command + (["--force"] if force else [])


DEFAULT_INSTANCE_TYPE = "ml.g4dn.xlarge"
DEFAULT_EPOCHS = 2  # as the training job's own default (training_job/fusion/train.py)


@dataclass(frozen=True)
class CloudTraining:
    """What a shop chooses for training in its account (the stack outputs most of it)."""

    role_arn: str
    image_uri: str
    export_s3: str       # s3:// prefix written by `vitrina export`
    base_models_s3: str  # s3:// prefix of the active models (the encoders and the fusion to beat)
    artifacts_s3: str    # s3:// prefix the job publishes <version>/ under, manifest.json last
    output_s3: str       # s3:// prefix for SageMaker's output
    checkpoints_s3: str  # s3:// prefix SageMaker syncs /opt/ml/checkpoints to: a spot restart resumes
    instance_type: str = DEFAULT_INSTANCE_TYPE
    max_run_seconds: int = 3 * 3600
    # Spot capacity may take a while; the job gives up after this (must be ≥ max_run_seconds).
    max_wait_seconds: int = 6 * 3600
    epochs: int = DEFAULT_EPOCHS

    @classmethod
    def in_bucket(cls, bucket_uri: str, role_arn: str, image_uri: str, *,
                  instance_type: str = DEFAULT_INSTANCE_TYPE, epochs: int = DEFAULT_EPOCHS) -> "CloudTraining":
        """The artifacts bucket's layout (infra/template.json grants the roles exactly this):
        ``training/export|output|checkpoints/`` for the job, ``models/<version>/`` for what it
        publishes (the bucket's "Object Created" event for a manifest rolls it out), and
        ``models/current/`` for the first models uploaded by hand."""
        root = bucket_uri.rstrip("/")
        return cls(role_arn=role_arn, image_uri=image_uri, export_s3=f"{root}/training/export/",
                   base_models_s3=f"{root}/models/current/", artifacts_s3=f"{root}/models",
                   output_s3=f"{root}/training/output/", checkpoints_s3=f"{root}/training/checkpoints/",
                   instance_type=instance_type, epochs=epochs)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "CloudTraining":
        """What the stack gives the scheduled ``start_training`` function (infra/template.json)."""
        names = ("VITRINA_TRAINING_BUCKET", "VITRINA_TRAINING_ROLE_ARN", "VITRINA_TRAINING_IMAGE")
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise ValueError(f"cloud training is not configured: {', '.join(missing)} not set")
        return cls.in_bucket(f"s3://{environ[names[0]]}", environ[names[1]], environ[names[2]],
                             instance_type=environ.get("VITRINA_TRAINING_INSTANCE_TYPE") or DEFAULT_INSTANCE_TYPE,
                             epochs=positive_int("VITRINA_TRAINING_EPOCHS", DEFAULT_EPOCHS, environ))


def training_job_request(config: CloudTraining, job_name: str | None = None) -> dict[str, Any]:
    """The CreateTrainingJob request: managed spot training with checkpoints and a max wait."""
    if config.max_wait_seconds < config.max_run_seconds:
        raise ValueError("max_wait_seconds must be at least max_run_seconds")
    name = job_name or f"vitrina-fusion-{time.strftime('%Y%m%d-%H%M%S')}"

    def channel(name: str, uri: str) -> dict[str, Any]:
        return {"ChannelName": name, "InputMode": "File", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}}}

    return {
        "TrainingJobName": name,
        "RoleArn": config.role_arn,
        "AlgorithmSpecification": {
            "TrainingImage": config.image_uri,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python", "-m", TRAIN_MODULE],
            "ContainerArguments": ["--export", CONTAINER_EXPORT, "--base-models", CONTAINER_BASE_MODELS,
                                   "--artifacts", config.artifacts_s3, "--checkpoints", CONTAINER_CHECKPOINTS,
                                   "--epochs", str(config.epochs)],
        },
        "InputDataConfig": [channel("export", config.export_s3), channel("models", config.base_models_s3)],
        "OutputDataConfig": {"S3OutputPath": config.output_s3},
        "ResourceConfig": {"InstanceType": config.instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": config.max_run_seconds,
                              "MaxWaitTimeInSeconds": config.max_wait_seconds},
        "EnableManagedSpotTraining": True,
        "CheckpointConfig": {"S3Uri": config.checkpoints_s3, "LocalPath": CONTAINER_CHECKPOINTS},
    }


def start_cloud_training(sagemaker_client: Any, config: CloudTraining, job_name: str | None = None) -> str:
    """Submit the job; returns its ARN."""
    return sagemaker_client.create_training_job(**training_job_request(config, job_name))["TrainingJobArn"]


def upload_folder(s3_client: Any, folder: Path, s3_prefix: str) -> list[str]:
    """Upload every file of ``folder`` under ``s3://bucket/prefix/``; returns the keys written.

    ``manifest.json`` goes last: its arrival is what announces a complete model set (the
    artifacts bucket's event rolls it out), so every file it lists is already there."""
    parsed = urlparse(s3_prefix)
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    keys = []
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: (p.name == MANIFEST, p))
    for path in files:
        key = "/".join(filter(None, (prefix, path.relative_to(folder).as_posix())))
        s3_client.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys


def export_and_start(services: "Services", s3_client: Any, sagemaker_client: Any, config: CloudTraining,
                     workdir: Path, job_name: str | None = None) -> str:
    """Export the store, upload the export where the job's ``export`` channel reads it, start the job.

    The job's ``models`` channel is the active version's location when that is in S3 (a trained
    version under ``models/<version>/``): the export's vectors are its encoders', and its fusion is
    the one to beat. What a scheduled retraining does; the job then publishes (or not, at its gate)
    by itself."""
    from functions.export import export_training_data
    from functions.store.models import model_location

    export_training_data(services, workdir)
    upload_folder(s3_client, workdir, config.export_s3)
    with services.pool.connection() as conn:
        active = model_location(conn, services.models.version)
    if active and active.startswith("s3://"):
        config = replace(config, base_models_s3=active.rstrip("/") + "/")
    return start_cloud_training(sagemaker_client, config, job_name)
