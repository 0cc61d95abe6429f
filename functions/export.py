"""`vitrina export`: what the training job learns from, written where it can read it.

``catalog.npz`` holds every live product's id, category and stored base text and image vectors
(zero rows where a modality is missing); ``events.csv`` the interactions, oldest first;
``manifest.json`` the active model's manifest (its encoders produced the vectors).
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np

from functions.services import Services
from functions.store.catalog import export_vectors

EVENT_COLUMNS = ["user_id", "item_id", "event", "timestamp"]


def export_training_data(services: Services, out: Path, events_csv: Path | None = None) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    models = services.models
    with services.pool.connection() as conn:
        ids, categories, vectors = export_vectors(conn, models.text.version, models.image.version, models.version)
        np.savez(out / "catalog.npz", item_ids=np.array(ids, dtype=str),
                 categories=np.array([c or "" for c in categories], dtype=str),
                 text=vectors["text"], image=vectors["image"])
        if events_csv is not None:
            shutil.copyfile(events_csv, out / "events.csv")
            with open(out / "events.csv", encoding="utf-8") as stream:
                count = sum(1 for _ in stream) - 1
        else:
            count = _write_store_events(conn, out / "events.csv")
    (out / "manifest.json").write_text(json.dumps(models.manifest, indent=2), encoding="utf-8")
    return {"items": len(ids), "events": count}


def _write_store_events(conn, path: Path) -> int:
    """Customers by user id, guests by session id (prefixed, so the two never collide)."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as stream, conn.cursor() as cursor:
        writer = csv.writer(stream)
        writer.writerow(EVENT_COLUMNS)
        cursor.execute("SELECT coalesce(user_id, 'session:' || session_id), item_id, type, ts FROM events"
                       " ORDER BY ts, id")
        for user, item, kind, ts in cursor:
            writer.writerow([user, item, kind, ts.isoformat()])
            count += 1
    return count
