"""The export folder written by `vitrina export`: catalog vectors, events, the active manifest.

Events are parsed and split by the evaluation code itself (``functions.evaluation.dataset``), so the
gate's held-out window is exactly the one `vitrina eval --holdout-days N` would use.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from functions.evaluation.dataset import holdout_split, load_events
from functions.recommenders.base import EventLog


@dataclass
class Export:
    item_ids: np.ndarray
    categories: np.ndarray
    text: np.ndarray
    image: np.ndarray
    events: EventLog
    manifest: dict[str, Any]
    fingerprint: str

    def item_indices(self, log: EventLog) -> np.ndarray:
        """Catalog row of each event's item (every loaded event's item is in the catalog)."""
        index = {item: row for row, item in enumerate(self.item_ids)}
        return np.array([index[item] for item in log.item_ids], dtype=np.int64)


def load_export(folder: Path) -> Export:
    with np.load(folder / "catalog.npz") as catalog:
        item_ids, categories = catalog["item_ids"].astype(str), catalog["categories"].astype(str)
        text, image = catalog["text"].astype(np.float32), catalog["image"].astype(np.float32)
    events = load_events(folder / "events.csv", set(item_ids)).events
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return Export(item_ids, categories, text, image, events, manifest, _fingerprint(folder))


def split(export: Export, eval_days: int) -> tuple[EventLog, EventLog]:
    """Training events before the last ``eval_days`` calendar days, the gate's events in them."""
    return holdout_split(export.events, eval_days)


def _fingerprint(folder: Path) -> str:
    """What the data is, for the checkpoint's config hash: a resumed run must see the same export."""
    digest = hashlib.sha256()
    for name in ("catalog.npz", "events.csv", "manifest.json"):
        with open(folder / name, "rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
