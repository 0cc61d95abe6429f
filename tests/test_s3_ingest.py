"""The S3 upload handler, invoked with the events Chalice's test client generates; S3 is moto."""
from __future__ import annotations

import json

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

import app as vitrina_app
from tests.support import FASHION

BUCKET = "shop-uploads"


@pytest.fixture
def s3(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        monkeypatch.setattr(vitrina_app, "_s3_client", client)
        yield client


def _invoke(client: Client, key: str) -> dict:
    event = client.events.generate_s3_event(bucket=BUCKET, key=key)
    return client.lambda_.invoke("index", event).payload


def test_feed_then_late_photo_through_s3_events(services, s3, fashion_products) -> None:
    products = fashion_products[:8]
    feed = "\n".join(json.dumps(p) for p in products) + "\n" + "{broken\n"
    s3.put_object(Bucket=BUCKET, Key="shop/catalog.jsonl", Body=feed.encode())
    for product in products[:-1]:  # the last photo comes later
        s3.put_object(Bucket=BUCKET, Key=f"shop/{product['image']}",
                      Body=(FASHION / product["image"]).read_bytes())

    with Client(vitrina_app.app) as client:
        (report,) = _invoke(client, "shop/catalog.jsonl")["reports"]
        assert (report["read"], report["indexed"], report["skipped"], report["without_photo"]) == (9, 8, 1, 1)
        assert "malformed JSON" in report["skipped_reasons"][0]["reason"]

        # The same upload again: nothing to do.
        (again,) = _invoke(client, "shop/catalog.jsonl")["reports"]
        assert (again["indexed"], again["unchanged"]) == (0, 8)

        late = products[-1]
        s3.put_object(Bucket=BUCKET, Key=f"shop/{late['image']}", Body=(FASHION / late["image"]).read_bytes())
        (photo,) = _invoke(client, f"shop/{late['image']}")["reports"]
        assert photo["indexed"] == 1

        # A photo no product names yet is not an error: its feed will pick it up.
        s3.put_object(Bucket=BUCKET, Key="shop/images/orphan.jpg", Body=(FASHION / late["image"]).read_bytes())
        (orphan,) = _invoke(client, "shop/images/orphan.jpg")["reports"]
        assert (orphan["read"], orphan["indexed"]) == (0, 0)

    with services.pool.connection() as conn:
        images = conn.execute("SELECT count(*) FROM base_embeddings WHERE modality = 'image'").fetchone()[0]
    assert images == 8
