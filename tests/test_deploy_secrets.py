"""The database URL from the RDS secret in Secrets Manager (moto), cached per process."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import boto3
import psycopg
import pytest
from moto import mock_aws

from functions.config import Settings
from functions.services import build_services
from functions.store import secrets
from functions.store.secrets import DatabaseSecretError, database_url_from_secret, url_from_secret_json

RDS_SECRET = {"username": "vitrina", "password": "p@ss/w:rd?#", "engine": "postgres",
              "host": "db-instance.abc.eu-west-1.rds.amazonaws.com", "port": 5432, "dbname": "vitrina"}
PROXY = "vitrina-db.proxy-abc.eu-west-1.rds.amazonaws.com"


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    secrets.clear_cache()
    with mock_aws():
        yield boto3.client("secretsmanager")
    secrets.clear_cache()


def test_url_from_the_rds_secret_points_at_the_proxy(secretsmanager) -> None:
    arn = secretsmanager.create_secret(Name="vitrina-db", SecretString=json.dumps(RDS_SECRET))["ARN"]
    url = database_url_from_secret(arn, host=PROXY)
    fields = psycopg.conninfo.conninfo_to_dict(url)
    assert fields == {"user": "vitrina", "password": "p@ss/w:rd?#", "host": PROXY, "port": "5432",
                      "dbname": "vitrina", "sslmode": "require"}
    # Without an override, the secret's own host (the instance) is used.
    assert psycopg.conninfo.conninfo_to_dict(database_url_from_secret(arn))["host"] == RDS_SECRET["host"]


def test_secret_is_fetched_once_per_process(secretsmanager) -> None:
    arn = secretsmanager.create_secret(Name="vitrina-db", SecretString=json.dumps(RDS_SECRET))["ARN"]
    first = database_url_from_secret(arn, host=PROXY)
    secretsmanager.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert database_url_from_secret(arn, host=PROXY) == first
    secrets.clear_cache()
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        database_url_from_secret(arn, host=PROXY)


@pytest.mark.parametrize("secret, message", [
    ("not json", "is not JSON"),
    ("[1, 2]", "must hold a JSON object"),
    (json.dumps({"username": "vitrina", "host": "h"}), "lacks password"),
    (json.dumps({"password": "x"}), "lacks username, host"),
    (json.dumps({**RDS_SECRET, "port": "five"}), "port that is not a number"),
])
def test_a_secret_that_is_no_database_connection_is_refused_clearly(secret: str, message: str) -> None:
    with pytest.raises(DatabaseSecretError, match=message):
        url_from_secret_json(secret, where="arn:test")


def test_lambda_settings_connect_through_the_secret(secretsmanager, database_url: str,
                                                    models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Lambda does on a cold start: environment → secret → URL → a migrated, working store."""
    target = psycopg.conninfo.conninfo_to_dict(database_url)
    secret = {"username": target.get("user", "postgres"), "password": target.get("password") or "unused",
              "host": target["host"], "port": int(target.get("port", 5432)), "dbname": target["dbname"]}
    arn = secretsmanager.create_secret(Name="vitrina-db", SecretString=json.dumps(secret))["ARN"]
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@nowhere.invalid/none")  # the secret wins
    monkeypatch.setenv("VITRINA_MODELS", str(tmp_path / "unused"))
    settings = Settings.from_env()
    assert psycopg.conninfo.conninfo_to_dict(settings.database_url)["dbname"] == target["dbname"]
    services = build_services(settings, models)
    try:
        with services.pool.connection() as conn:
            assert conn.execute("SELECT count(*) FROM feed_uploads").fetchone() == (0,)
    finally:
        services.close()
