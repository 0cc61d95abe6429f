"""`vitrina train --cloud`'s request, accepted by (moto's) SageMaker; the local command line."""
from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.training import CloudTraining, local_command, start_cloud_training, training_job_request

CONFIG = CloudTraining.in_bucket("s3://artifacts", "arn:aws:iam::123456789012:role/vitrina-sagemaker",
                                 "123456789012.dkr.ecr.eu-west-1.amazonaws.com/vitrina-training:latest")


def test_the_request_asks_for_managed_spot_with_checkpoints_and_a_max_wait() -> None:
    request = training_job_request(CONFIG, "job-1")
    assert request["EnableManagedSpotTraining"] is True
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 10800, "MaxWaitTimeInSeconds": 21600}
    assert request["CheckpointConfig"] == {"S3Uri": "s3://artifacts/training/checkpoints/",
                                           "LocalPath": "/opt/ml/checkpoints"}
    assert request["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    assert "--checkpoints" in request["AlgorithmSpecification"]["ContainerArguments"]
    with pytest.raises(ValueError, match="max_wait_seconds"):
        training_job_request(CloudTraining(**{**CONFIG.__dict__, "max_wait_seconds": 60}))


def test_sagemaker_accepts_it(monkeypatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("sagemaker")
        arn = start_cloud_training(client, CloudTraining(**{**CONFIG.__dict__, "instance_type": "ml.g5.xlarge"}),
                                   "vitrina-fusion-test")
        assert arn.endswith("training-job/vitrina-fusion-test")
        job = client.describe_training_job(TrainingJobName="vitrina-fusion-test")
        assert job["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
        assert job["AlgorithmSpecification"]["TrainingImage"] == CONFIG.image_uri


def test_the_stack_configures_the_scheduled_job_through_the_environment() -> None:
    environment = {"VITRINA_TRAINING_BUCKET": "artifacts", "VITRINA_TRAINING_ROLE_ARN": CONFIG.role_arn,
                   "VITRINA_TRAINING_IMAGE": CONFIG.image_uri, "VITRINA_TRAINING_INSTANCE_TYPE": "ml.g5.xlarge",
                   "VITRINA_TRAINING_EPOCHS": "8"}
    config = CloudTraining.from_env(environment)
    assert config == CloudTraining(**{**CONFIG.__dict__, "instance_type": "ml.g5.xlarge", "epochs": 8})
    with pytest.raises(ValueError, match="VITRINA_TRAINING_IMAGE not set"):
        CloudTraining.from_env({**environment, "VITRINA_TRAINING_IMAGE": ""})
    with pytest.raises(ValueError, match="VITRINA_TRAINING_EPOCHS must be a positive integer"):
        CloudTraining.from_env({**environment, "VITRINA_TRAINING_EPOCHS": "0"})


def test_local_command_runs_the_same_entry_point() -> None:
    command = local_command(Path("/v/python"), Path("e"), Path("m"), Path("a"), epochs=2, force=True)
    assert command == ["/v/python", "-m", "training_job.fusion.train", "--export", "e", "--base-models", "m",
                       "--artifacts", "a", "--epochs", "2", "--force"]


def test_a_scheduled_retraining_exports_uploads_and_starts(services, fashion_products, tmp_path, monkeypatch) -> None:
    from functions.ingest.sources import FolderSource
    from functions.training import export_and_start
    from tests.support import write_dataset

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    services.indexer.index_feed(FolderSource(write_dataset(tmp_path / "shop", fashion_products[:5])), "catalog.jsonl")
    with mock_aws():
        s3, sagemaker = boto3.client("s3"), boto3.client("sagemaker")
        s3.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        arn = export_and_start(services, s3, sagemaker, CONFIG, tmp_path / "export", "vitrina-scheduled")
        keys = {item["Key"] for item in s3.list_objects_v2(Bucket="artifacts", Prefix="training/")["Contents"]}
        assert keys == {"training/export/catalog.npz", "training/export/events.csv", "training/export/manifest.json"}
        assert arn.endswith("training-job/vitrina-scheduled")
