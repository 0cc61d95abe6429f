"""Items, similar items and search, over the active fused space."""
from __future__ import annotations

from typing import Any

import numpy as np

from functions.api.params import ListOptions, SearchRequest
from functions.encoders.image_preprocess import preprocess_photo
from functions.errors import NotFound
from functions.services import Services
from functions.store import catalog, vectors


def item_view(row: dict[str, Any]) -> dict[str, Any]:
    """A product as the API shows it in lists (``score`` added when the row has one)."""
    item = {
        "id": row["id"], "title": row["title"], "category": row["category"],
        "price": float(row["price"]) if row["price"] is not None else None,
        "in_stock": row["in_stock"], "image": row["image_key"],
    }
    if "score" in row:
        item["score"] = round(float(row["score"]), 6)
    return item


def get_item(services: Services, item_id: str) -> dict[str, Any]:
    with services.pool.connection() as conn:
        row = catalog.get_product(conn, item_id)
    if row is None:
        raise NotFound(f"no item with id {item_id!r}")
    item = item_view(row)
    item.update(description=row["description"], attributes=row["attributes"],
                updated_at=row["updated_at"].isoformat())
    return item


def _answer(services: Services, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": [item_view(row) for row in rows], "model_version": services.space.version}


def similar_items(services: Services, item_id: str, options: ListOptions) -> dict[str, Any]:
    """The k items closest to ``item_id`` in the fused space, the item itself left out."""
    with services.pool.connection() as conn:
        anchor = vectors.fused_vector(conn, services.space, item_id)
        if anchor is None or catalog.get_product(conn, item_id) is None:
            raise NotFound(f"no item with id {item_id!r}")
        rows = vectors.nearest(conn, services.space, anchor, options.k, options.filter.with_exclude(item_id))
    return _answer(services, rows)


def query_vector(services: Services, request: SearchRequest) -> np.ndarray:
    """Embed a text or photo query into the fused space (the other modality absent)."""
    models = services.models
    if request.text is not None:
        return models.fusion.fuse(models.text.encode([request.text], kind="query"), None)[0]
    photo = models.image.encode([preprocess_photo(request.image)])
    return models.fusion.fuse(None, photo)[0]


def search(services: Services, request: SearchRequest) -> dict[str, Any]:
    vector = query_vector(services, request)
    with services.pool.connection() as conn:
        rows = vectors.nearest(conn, services.space, vector, request.options.k, request.options.filter)
    return _answer(services, rows)
