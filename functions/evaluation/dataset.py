"""Events of a dataset folder (``events.csv``, optional ``test.csv``), validated and split.

A row that cannot be used — malformed, an unknown event type, a bad timestamp, an item absent from
the catalog — is skipped and counted, never fatal.
"""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from functions.recommenders.base import EVENT_TYPES, EventLog


@dataclass
class LoadedEvents:
    events: EventLog
    skipped: Counter = field(default_factory=Counter)


def load_events(path: Path, catalog_ids: set[str]) -> LoadedEvents:
    users, items, types, stamps = [], [], [], []
    skipped: Counter = Counter()
    with open(path, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            user, item, kind, ts = (row.get(name) for name in ("user_id", "item_id", "event", "timestamp"))
            if not user or not item or not ts:
                skipped["missing field"] += 1
            elif kind not in EVENT_TYPES:
                skipped["unknown event type"] += 1
            elif item not in catalog_ids:
                skipped["item not in catalog"] += 1
            else:
                try:
                    stamps.append(np.datetime64(ts.replace("Z", ""), "s"))
                except ValueError:
                    skipped["bad timestamp"] += 1
                    continue
                users.append(user)
                items.append(item)
                types.append(kind)
    log = EventLog(np.array(users, dtype=object), np.array(items, dtype=object), np.array(types, dtype=object),
                   np.array(stamps, dtype="datetime64[s]"))
    return LoadedEvents(log, skipped)


def subset(log: EventLog, mask: np.ndarray) -> EventLog:
    return EventLog(log.user_ids[mask], log.item_ids[mask], log.types[mask], log.ts[mask])


def holdout_split(log: EventLog, days: int) -> tuple[EventLog, EventLog]:
    """Train on everything before the last ``days`` calendar days of the log, test on those days."""
    last_day = log.ts.max().astype("datetime64[D]")
    cutoff = (last_day - np.timedelta64(days - 1, "D")).astype("datetime64[s]")
    is_test = log.ts >= cutoff
    return subset(log, ~is_test), subset(log, is_test)
