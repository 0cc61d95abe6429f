"""S3 ObjectCreated events for the uploads bucket: feed files and photos go through the pipeline."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_plus

from functions.ingest.batches import FeedSplitter
from functions.ingest.pipeline import IngestReport, Indexer, is_feed, is_photo
from functions.ingest.sources import S3Source

log = logging.getLogger(__name__)


def handle_s3_event(event: dict[str, Any], indexer: Indexer, s3_client: Any,
                    splitter: FeedSplitter | None = None) -> list[IngestReport]:
    """Index every feed and photo the event names; other objects are logged and ignored.

    With a ``splitter`` (in AWS), a feed longer than its batch size is queued in batches instead.

    An exception (the database is down, S3 refuses) propagates, so Lambda retries the event and
    finally dead-letters it; a bad record inside a feed is only counted in its report.
    """
    reports = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        # S3 URL-encodes keys in events (a space arrives as '+').
        key = unquote_plus(record["s3"]["object"]["key"])
        source = S3Source(bucket, s3_client)
        if is_feed(key):
            queued = splitter.split(source, bucket, key) if splitter else None
            reports.append(queued or indexer.index_feed(source, key))
        elif is_photo(key):
            reports.append(indexer.index_photo(source, key))
        else:
            log.warning("ignoring s3://%s/%s: neither a feed (*.jsonl) nor a photo", bucket, key)
    return reports
