"""Stage 2: compare incoming records with what is stored and decide the work for each.

Re-encoding is the expensive part, so it happens only when the text or the photo really changed
(or was encoded by another encoder version); a record identical to what is stored is left alone.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from functions.ingest.feed import FeedRecord
from functions.store.catalog import StoredProduct


@dataclass(frozen=True)
class Candidate:
    """A record together with the storage key of its photo (None if it has none)."""

    record: FeedRecord
    image_key: str | None


@dataclass(frozen=True)
class PlannedChange:
    candidate: Candidate
    image_fingerprint: str | None
    content_hash: str
    text_hash: str
    encode_text: bool
    encode_image: bool


@dataclass
class BatchPlan:
    changes: list[PlannedChange]
    unchanged: list[str]


def image_key_for(feed_key: str, record: FeedRecord) -> str | None:
    """Photo paths in a feed are relative to the feed file's folder."""
    if record.image is None:
        return None
    return posixpath.normpath(posixpath.join(posixpath.dirname(feed_key), record.image))


def plan_batch(candidates: list[Candidate], stored: dict[str, StoredProduct],
               fingerprints: dict[str, str | None], feed_key: str) -> BatchPlan:
    """Decide, per candidate, whether to write it and which modalities to encode.

    ``fingerprints`` maps image keys to the photo's current fingerprint (None: not uploaded yet —
    the product is indexed from its text and picks up the photo when it arrives).
    """
    plan = BatchPlan(changes=[], unchanged=[])
    for candidate in candidates:
        record = candidate.record
        fingerprint = fingerprints.get(candidate.image_key) if candidate.image_key else None
        content_hash = record.content_hash(candidate.image_key)
        text_hash = record.text_hash()
        before = stored.get(record.id)
        text_current = before is not None and before.text_current and before.text_hash == text_hash
        image_current = (fingerprint is None or (
            before is not None and before.image_current and before.image_fingerprint == fingerprint))
        if (before is not None and not before.deleted and before.content_hash == content_hash
                and before.image_fingerprint == fingerprint and before.feed == feed_key
                and text_current and image_current and before.fused_current):
            plan.unchanged.append(record.id)
            continue
        plan.changes.append(PlannedChange(
            candidate=candidate, image_fingerprint=fingerprint, content_hash=content_hash,
            text_hash=text_hash, encode_text=not text_current, encode_image=not image_current))
    return plan
