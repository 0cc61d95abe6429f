"""Run the ingest stages for a feed file or for one photo; one code path for a folder and S3."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterator

from psycopg_pool import ConnectionPool

from functions.encoders.model_set import ModelSet
from functions.ingest.encode import encode_changes
from functions.ingest.feed import ParsedFeed, Rejection, parse_feed
from functions.ingest.fuse import fuse_changes
from functions.ingest.plan import Candidate, image_key_for, plan_batch
from functions.ingest.sources import Source
from functions.store import catalog

log = logging.getLogger(__name__)

DELTA_SUFFIX = ".delta.jsonl"
FEED_SUFFIX = ".jsonl"
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")

Progress = Callable[[int], None]


@dataclass
class IngestReport:
    """What one feed or photo did to the catalog; ``skipped`` says why each bad record was left out."""

    source_key: str
    read: int = 0
    indexed: int = 0
    unchanged: int = 0
    deleted: int = 0
    without_photo: int = 0
    # A large feed is split into this many batches for the worker instead of being indexed here.
    queued_batches: int = 0
    skipped: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "source_key": self.source_key, "read": self.read, "indexed": self.indexed,
            "unchanged": self.unchanged, "deleted": self.deleted, "without_photo": self.without_photo,
            "queued_batches": self.queued_batches,
            "skipped": len(self.skipped),
            "skipped_reasons": [
                {"line": r.line_no, "id": r.product_id, "reason": r.reason} for r in self.skipped],
        }


def is_feed(key: str) -> bool:
    return key.lower().endswith(FEED_SUFFIX)


def is_full_feed(key: str) -> bool:
    """A full feed is a snapshot of the products it owns; a delta feed only upserts and deletes."""
    return is_feed(key) and not key.lower().endswith(DELTA_SUFFIX)


def is_photo(key: str) -> bool:
    return key.lower().endswith(PHOTO_SUFFIXES)


def _batches(items: list[Candidate], size: int) -> Iterator[list[Candidate]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Indexer:
    """Indexes feeds and photos into the store with one set of models."""

    def __init__(self, pool: ConnectionPool, models: ModelSet, batch_size: int = 64) -> None:
        self.pool = pool
        self.models = models
        self.batch_size = batch_size

    def _index_batch(self, candidates: list[Candidate], source: Source, feed_key: str,
                     report: IngestReport) -> None:
        models = self.models
        fingerprints = {c.image_key: source.fingerprint(c.image_key) for c in candidates if c.image_key}
        with self.pool.connection() as conn:
            stored = catalog.stored_products(
                conn, [c.record.id for c in candidates], models.text.version, models.image.version,
                models.version)
            plan = plan_batch(candidates, stored, fingerprints, feed_key)
            report.unchanged += len(plan.unchanged)
            encoded, rejections = encode_changes(plan.changes, source, models)
            report.skipped.extend(rejections)
            writes = fuse_changes(conn, encoded, feed_key, models)
            report.indexed += catalog.write_products(
                conn, writes, text_encoder=models.text.version, image_encoder=models.image.version,
                model_version=models.version)
        report.without_photo += sum(1 for write in writes if write.image_fingerprint is None)

    def index_feed(self, source: Source, feed_key: str, progress: Progress | None = None) -> IngestReport:
        """Index a feed file. A full feed (``*.jsonl``) deletes the products it wrote before and no
        longer lists; a delta feed (``*.delta.jsonl``) only upserts and deletes what it marks."""
        parsed = parse_feed(source.iter_lines(feed_key))
        report = self.index_parsed(source, feed_key, parsed, progress)
        if is_full_feed(feed_key):
            with self.pool.connection() as conn:
                report.deleted += catalog.mark_deleted(
                    conn, catalog.ids_missing_from_feed(conn, feed_key, parsed.mentioned_ids))
        log.info("indexed feed %s: %s", feed_key, report.as_dict())
        return report

    def index_parsed(self, source: Source, feed_key: str, parsed: ParsedFeed,
                     progress: Progress | None = None) -> IngestReport:
        """Upsert the records of a parsed feed — a whole file or a batch of its lines — and delete
        the products it marks deleted. Deleting what a full feed no longer lists needs the whole
        file, so that is the caller's part (``index_feed``, or the last batch of an upload)."""
        report = IngestReport(source_key=feed_key, read=len(parsed.records) + len(parsed.rejections))
        report.skipped.extend(parsed.rejections)
        for rejection in parsed.rejections:
            log.warning("%s line %s skipped: %s", feed_key, rejection.line_no, rejection.reason)
        candidates = [Candidate(r, image_key_for(feed_key, r)) for r in parsed.records]
        for batch in _batches(candidates, self.batch_size):
            self._index_batch(batch, source, feed_key, report)
            if progress:
                progress(len(batch))
        with self.pool.connection() as conn:
            report.deleted = catalog.mark_deleted(conn, parsed.deleted_ids)
        return report

    def index_photo(self, source: Source, photo_key: str) -> IngestReport:
        """A photo uploaded after its product: re-encode and re-fuse the products that use it."""
        report = IngestReport(source_key=photo_key)
        with self.pool.connection() as conn:
            owners = catalog.records_with_image(conn, photo_key)
        if not owners:
            log.info("photo %s belongs to no product yet; its feed will pick it up", photo_key)
        for record, feed_key in owners:
            report.read += 1
            self._index_batch([Candidate(record, photo_key)], source, feed_key, report)
        return report
