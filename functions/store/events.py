"""Storefront events: recorded once each, read back as a customer's or a guest session's history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import psycopg

from functions.errors import InvalidInput
from functions.recommenders.base import Interaction

# The most recent interactions that make up a profile: enough for taste, bounded for latency.
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class NewEvent:
    item_id: str
    type: str
    user_id: str | None = None
    session_id: str | None = None
    ts: datetime | None = None
    event_id: str | None = None


def record_events(conn: psycopg.Connection, events: Sequence[NewEvent]) -> tuple[int, int]:
    """Store a batch all or nothing; returns (stored, duplicates of an already stored event_id).

    Every item must be a live product: an event for an unknown or deleted item refuses the batch.
    """
    ids = sorted({event.item_id for event in events})
    live = {row[0] for row in conn.execute(
        "SELECT id FROM products WHERE id = ANY(%s) AND NOT deleted", (ids,)).fetchall()}
    unknown = [f"events[{i}]: unknown or deleted item {event.item_id!r}"
               for i, event in enumerate(events) if event.item_id not in live]
    if unknown:
        raise InvalidInput("; ".join(unknown[:10]) + (f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else ""))
    stored = 0
    with conn.transaction():
        for event in events:
            cursor = conn.execute(
                """
                INSERT INTO events (event_id, user_id, session_id, item_id, type, ts)
                VALUES (%s, %s, %s, %s, %s, coalesce(%s, now()))
                ON CONFLICT (event_id) DO NOTHING
                """,
                (event.event_id, event.user_id, event.session_id, event.item_id, event.type, event.ts))
            stored += cursor.rowcount
    return stored, len(events) - stored


def history(conn: psycopg.Connection, *, user_id: str | None = None, session_id: str | None = None,
            limit: int = HISTORY_LIMIT) -> list[Interaction]:
    """The latest interactions of a customer (or a guest session) with live products, oldest first."""
    column = "user_id" if user_id is not None else "session_id"
    rows = conn.execute(
        f"""
        SELECT e.item_id, e.type, e.ts FROM events e JOIN products p ON p.id = e.item_id
        WHERE e.{column} = %s AND NOT p.deleted ORDER BY e.ts DESC, e.id DESC LIMIT %s
        """,
        (user_id if user_id is not None else session_id, limit),
    ).fetchall()
    return [Interaction(item, kind, ts) for item, kind, ts in reversed(rows)]
