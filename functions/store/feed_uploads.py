"""Uploads of large feeds indexed in batches: which batches are done, and what the feed mentioned.

A full feed deletes the products it no longer lists — a decision that needs the ids of all its
lines, while each worker sees only its own batch. So every batch records the ids it mentions when
it completes, and the one that completes the upload computes the deletion from all of them, in
the same transaction as its completion record: exactly once, whatever the order of the batches or
a redelivered message (migration 0003).
"""
from __future__ import annotations

from typing import Iterable

import psycopg


def register_upload(conn: psycopg.Connection, bucket: str, feed_key: str, batches: int, lines: int) -> int:
    """Record an upload about to be split into ``batches``; returns its id for the messages."""
    row = conn.execute(
        "INSERT INTO feed_uploads (bucket, feed_key, batches, lines) VALUES (%s, %s, %s, %s) RETURNING id",
        (bucket, feed_key, batches, lines),
    ).fetchone()
    return row[0]


def complete_batch(conn: psycopg.Connection, upload_id: int, first_line: int,
                   mentioned_ids: Iterable[str]) -> bool:
    """Record a finished batch; True exactly once per upload: for the call that completes it.

    Must run inside the caller's transaction, which also holds what the caller does when it gets
    True (the deletion): if that fails, the completion is rolled back with it and a retry redoes both.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        raise RuntimeError("complete_batch must run inside a transaction")
    row = conn.execute(
        "SELECT batches, finished_at FROM feed_uploads WHERE id = %s FOR UPDATE", (upload_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"feed upload {upload_id} is unknown (was it registered in another database?)")
    batches, finished_at = row
    conn.execute(
        "INSERT INTO feed_upload_batches (upload_id, first_line, mentioned_ids) VALUES (%s, %s, %s)"
        " ON CONFLICT (upload_id, first_line) DO NOTHING",
        (upload_id, first_line, sorted(mentioned_ids)),
    )
    done = conn.execute(
        "SELECT count(*) FROM feed_upload_batches WHERE upload_id = %s", (upload_id,)).fetchone()[0]
    if finished_at is not None or done < batches:
        return False
    conn.execute("UPDATE feed_uploads SET finished_at = now() WHERE id = %s", (upload_id,))
    return True


def ids_missing_from_upload(conn: psycopg.Connection, upload_id: int) -> list[str]:
    """Live products of the upload's feed that none of its batches mentions.

    Only products last written before the upload began: a newer upload of the same feed may have
    written products while this one was in the queue, and those are not this upload's to delete.
    """
    rows = conn.execute(
        """
        SELECT p.id FROM products p JOIN feed_uploads u ON u.id = %(upload)s
        WHERE p.feed = u.feed_key AND NOT p.deleted AND p.updated_at < u.created_at
          AND NOT EXISTS (SELECT 1 FROM feed_upload_batches b
                          WHERE b.upload_id = u.id AND p.id = ANY (b.mentioned_ids))
        """,
        {"upload": upload_id},
    ).fetchall()
    return [row[0] for row in rows]
