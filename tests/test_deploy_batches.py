"""Large feeds through the queue: the upload handler splits, the worker indexes the batches and
reports failed ones individually; deletion runs once, after the last batch. S3 and SQS are moto,
the store is the real PostgreSQL, the models the real ones; handlers get the events Chalice's test
client generates."""
from __future__ import annotations

import dataclasses
import json
from typing import Iterator

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

import app as vitrina_app
from functions.ingest.batches import FeedBatch, InvalidFeedBatch, line_ranges
from tests.support import FASHION

BUCKET = "shop-uploads"
FEED = "shop/catalog.jsonl"
BATCH_LINES = 4


@pytest.fixture
def aws(services, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        queue_url = sqs.create_queue(QueueName="feed-batches")["QueueUrl"]
        monkeypatch.setattr(vitrina_app, "_s3_client", s3)
        monkeypatch.setattr(vitrina_app, "_sqs_client", sqs)
        monkeypatch.setattr(services, "settings", dataclasses.replace(
            services.settings, feed_queue_url=queue_url, feed_batch_lines=BATCH_LINES))
        yield {"s3": s3, "sqs": sqs, "queue_url": queue_url}


def _upload(client: Client, aws: dict, products: list[dict], extra_lines: tuple[str, ...] = ()) -> dict:
    body = "\n".join([json.dumps(p) for p in products] + list(extra_lines)) + "\n"
    aws["s3"].put_object(Bucket=BUCKET, Key=FEED, Body=body.encode())
    (report,) = client.lambda_.invoke("index", client.events.generate_s3_event(bucket=BUCKET, key=FEED)).payload["reports"]
    return report


def _queued(aws: dict) -> list[str]:
    bodies = []
    while answer := aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10).get("Messages"):
        bodies += [m["Body"] for m in answer]
    return bodies


def _run_worker(client: Client, bodies: list[str]) -> tuple[list[str], list[str]]:
    """Invoke the worker with one SQS event; returns (message ids, ids it reported failed)."""
    event = client.events.generate_sqs_event(message_bodies=bodies, queue_name="feed-batches")
    ids = [f"message-{i}" for i in range(len(bodies))]
    for record, message_id in zip(event["Records"], ids):
        record["messageId"] = message_id
    payload = client.lambda_.invoke("index_batch", event).payload
    return ids, [failure["itemIdentifier"] for failure in payload["batchItemFailures"]]


def _live_ids(services) -> set[str]:
    with services.pool.connection() as conn:
        return {row[0] for row in conn.execute(
            "SELECT p.id FROM products p JOIN fused_vectors f ON f.product_id = p.id WHERE NOT p.deleted")}


def test_a_poisoned_batch_fails_alone_and_deletion_waits_for_the_last_batch(services, aws, fashion_products) -> None:
    products = fashion_products[:10]
    for product in products:
        aws["s3"].put_object(Bucket=BUCKET, Key=f"shop/{product['image']}", Body=(FASHION / product["image"]).read_bytes())

    with Client(vitrina_app.app) as client:
        report = _upload(client, aws, products, extra_lines=("{broken",))
        assert report["queued_batches"] == 3 and report["indexed"] == 0  # 11 lines in batches of 4
        bodies = _queued(aws)
        assert sorted((b["first_line"], b["last_line"]) for b in map(json.loads, bodies)) == [(1, 4), (5, 8), (9, 11)]

        upload_id = json.loads(bodies[0])["upload_id"]
        poisoned = [
            FeedBatch(upload_id, BUCKET, FEED, 40, 43).to_message(),           # beyond the feed's end
            FeedBatch(upload_id, BUCKET, "shop/gone.jsonl", 1, 4).to_message(),  # no such feed
            FeedBatch(upload_id, "no-such-bucket", FEED, 1, 4).to_message(),
            '{"upload_id": 1}',                                                  # not a batch
        ]
        ids, failed = _run_worker(client, [bodies[0], *poisoned, bodies[1], bodies[2]])
        assert failed == ids[1:5]
        assert _live_ids(services) == {p["id"] for p in products}

        # The next snapshot drops three products: they go only when its last batch is done.
        kept = products[:7]
        report = _upload(client, aws, kept)
        assert report["queued_batches"] == 2
        first, last = sorted(_queued(aws), key=lambda b: json.loads(b)["first_line"])
        _run_worker(client, [last])
        assert _live_ids(services) == {p["id"] for p in products}
        _, failed = _run_worker(client, [first, last])  # `last` delivered twice: deletion still once
        assert failed == []
        assert _live_ids(services) == {p["id"] for p in kept}

    with services.pool.connection() as conn:
        uploads = conn.execute("SELECT batches, finished_at IS NOT NULL FROM feed_uploads ORDER BY id").fetchall()
        deleted = conn.execute("SELECT count(*) FROM products WHERE deleted").fetchone()[0]
    assert uploads == [(3, True), (2, True)]
    assert deleted == 3


def test_a_short_feed_is_indexed_by_the_upload_handler(services, aws, fashion_products) -> None:
    products = fashion_products[:BATCH_LINES]
    with Client(vitrina_app.app) as client:
        report = _upload(client, aws, products)
    assert (report["queued_batches"], report["indexed"], report["without_photo"]) == (0, 4, 4)
    assert _queued(aws) == []


def test_line_ranges_cover_every_line_once() -> None:
    assert line_ranges(11, 4) == [(1, 4), (5, 8), (9, 11)]
    assert line_ranges(4, 4) == [(1, 4)]
    with pytest.raises(ValueError, match="positive"):
        line_ranges(10, 0)


@pytest.mark.parametrize("body, message", [
    ("nope", "not JSON"),
    (json.dumps({"upload_id": 1, "bucket": "b", "feed_key": "k", "first_line": 5, "last_line": 2}), "is empty"),
    (json.dumps({"upload_id": True, "bucket": "b", "feed_key": "k", "first_line": 1, "last_line": 2}), "upload_id"),
    (json.dumps({"upload_id": 1, "bucket": "", "feed_key": "k", "first_line": 1, "last_line": 2}), "bucket"),
])
def test_a_malformed_message_is_refused_clearly(body: str, message: str) -> None:
    with pytest.raises(InvalidFeedBatch, match=message):
        FeedBatch.from_message(body)
