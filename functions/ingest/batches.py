"""Large feeds in batches: the upload handler splits, a queue worker indexes each line range.

One Lambda invocation has 15 minutes; encoding costs ~40 ms a product, so a feed of tens of
thousands of products does not fit, and one bad moment (a database hiccup at product 9,000) would
redo everything. So a feed longer than ``batch_lines`` is not indexed by the upload handler: it
registers the upload, then sends one message per line range — (upload, bucket, feed key, first and
last line) — and a worker indexes each range with the same pipeline. A failing batch is retried
and finally dead-lettered on its own; the others go through.

A full feed deletes the products it no longer lists once all of its batches are done: the batch
that completes the upload does it (store/feed_uploads.py). Limits, stated: a duplicate id is
detected within a batch only (across batches the later write wins), and a worker reads the feed
object as it is when the message is handled — overwrite a feed only with a newer snapshot.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any, Protocol

from psycopg_pool import ConnectionPool

from functions.ingest.feed import parse_feed
from functions.ingest.pipeline import IngestReport, Indexer, is_full_feed
from functions.ingest.sources import S3Source, Source
from functions.store import catalog, feed_uploads

log = logging.getLogger(__name__)

# SQS takes at most 10 messages per SendMessageBatch call.
_SQS_BATCH = 10


class InvalidFeedBatch(ValueError):
    """A queue message that does not describe a batch of a feed (or a range the feed lacks)."""


@dataclass(frozen=True)
class FeedBatch:
    """Lines ``first_line``..``last_line`` (1-based, inclusive) of one upload of a feed."""

    upload_id: int
    bucket: str
    feed_key: str
    first_line: int
    last_line: int

    def to_message(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_message(cls, body: str) -> "FeedBatch":
        """Parse and validate a message body; the error says what is wrong with it."""
        try:
            fields = json.loads(body)
        except json.JSONDecodeError as exc:
            raise InvalidFeedBatch(f"feed batch message is not JSON: {exc.msg}") from exc
        if not isinstance(fields, dict) or set(fields) != {f for f in cls.__dataclass_fields__}:
            raise InvalidFeedBatch(f"feed batch message must have exactly the fields "
                                   f"{sorted(cls.__dataclass_fields__)}, got {body[:200]!r}")
        for name in ("upload_id", "first_line", "last_line"):
            if isinstance(fields[name], bool) or not isinstance(fields[name], int) or fields[name] < 1:
                raise InvalidFeedBatch(f"'{name}' must be a positive integer, got {fields[name]!r}")
        for name in ("bucket", "feed_key"):
            if not isinstance(fields[name], str) or not fields[name]:
                raise InvalidFeedBatch(f"'{name}' must be a non-empty string, got {fields[name]!r}")
        if fields["last_line"] < fields["first_line"]:
            raise InvalidFeedBatch(f"line range {fields['first_line']}..{fields['last_line']} is empty")
        return cls(**fields)


def line_ranges(lines: int, batch_lines: int) -> list[tuple[int, int]]:
    """Split lines 1..``lines`` into consecutive inclusive ranges of at most ``batch_lines``."""
    if batch_lines < 1:
        raise ValueError(f"batch_lines must be positive, got {batch_lines}")
    return [(first, min(first + batch_lines - 1, lines)) for first in range(1, lines + 1, batch_lines)]


class FeedQueue(Protocol):
    """Where batch messages go (SQS in AWS)."""

    def send(self, bodies: list[str]) -> None:
        """Send every body, or raise."""


class SqsFeedQueue:
    """An SQS queue, through a boto3 client."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, bodies: list[str]) -> None:
        for start in range(0, len(bodies), _SQS_BATCH):
            chunk = bodies[start:start + _SQS_BATCH]
            answer = self.client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)])
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} feed batch messages: "
                                   f"{answer['Failed'][0].get('Message')}")


class FeedSplitter:
    """Decides, per uploaded feed, whether the upload handler indexes it or the worker does."""

    def __init__(self, pool: ConnectionPool, queue: FeedQueue, batch_lines: int) -> None:
        if batch_lines < 1:
            raise ValueError(f"batch_lines must be positive, got {batch_lines}")
        self.pool = pool
        self.queue = queue
        self.batch_lines = batch_lines

    def split(self, source: Source, bucket: str, feed_key: str) -> IngestReport | None:
        """Queue the batches of a feed longer than ``batch_lines``; None: index it here instead."""
        lines = sum(1 for _ in source.iter_lines(feed_key))
        if lines <= self.batch_lines:
            return None
        ranges = line_ranges(lines, self.batch_lines)
        with self.pool.connection() as conn:
            upload_id = feed_uploads.register_upload(conn, bucket, feed_key, len(ranges), lines)
        self.queue.send([FeedBatch(upload_id, bucket, feed_key, first, last).to_message()
                         for first, last in ranges])
        log.info("feed %s: %s lines queued as %s batches (upload %s)", feed_key, lines, len(ranges), upload_id)
        return IngestReport(source_key=feed_key, queued_batches=len(ranges))


def index_feed_batch(indexer: Indexer, source: Source, batch: FeedBatch) -> IngestReport:
    """Index one line range; the batch that completes its upload deletes what the feed dropped."""
    wanted = batch.last_line - batch.first_line + 1
    lines = list(islice(source.iter_lines(batch.feed_key), batch.first_line - 1, batch.last_line))
    if len(lines) < wanted:
        raise InvalidFeedBatch(
            f"{batch.feed_key} ends before line {batch.last_line}: the feed was replaced by a shorter "
            f"one after upload {batch.upload_id} was queued, or the message is not ours")
    parsed = parse_feed(lines, first_line_no=batch.first_line)
    report = indexer.index_parsed(source, batch.feed_key, parsed)
    with indexer.pool.connection() as conn, conn.transaction():
        last = feed_uploads.complete_batch(conn, batch.upload_id, batch.first_line, parsed.mentioned_ids)
        if last and is_full_feed(batch.feed_key):
            report.deleted += catalog.mark_deleted(conn, feed_uploads.ids_missing_from_upload(conn, batch.upload_id))
    log.info("indexed %s lines %s..%s%s: %s", batch.feed_key, batch.first_line, batch.last_line,
             " (upload complete)" if last else "", report.as_dict())
    return report


def index_batch_message(indexer: Indexer, s3_client: Any, body: str) -> IngestReport:
    """Handle one queue message: a batch of a feed in the uploads bucket."""
    batch = FeedBatch.from_message(body)
    return index_feed_batch(indexer, S3Source(batch.bucket, s3_client), batch)
