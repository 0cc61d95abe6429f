"""Stage 4: fuse each changed product's text and image vectors — fresh ones, else the stored ones."""
from __future__ import annotations

import numpy as np
import psycopg

from functions.encoders.model_set import ModelSet
from functions.ingest.encode import EncodedChange
from functions.store.catalog import ProductWrite, base_vectors


def fuse_changes(conn: psycopg.Connection, encoded: list[EncodedChange], feed_key: str,
                 models: ModelSet) -> list[ProductWrite]:
    if not encoded:
        return []
    ids = [item.change.candidate.record.id for item in encoded]
    stored_text = base_vectors(conn, ids, "text", models.text.version)
    stored_image = base_vectors(conn, ids, "image", models.image.version)
    text = np.zeros((len(encoded), models.text.dim), np.float32)
    image = np.zeros((len(encoded), models.image.dim), np.float32)
    for row, item in enumerate(encoded):
        product_id = item.change.candidate.record.id
        text[row] = item.text_vector if item.text_vector is not None else stored_text[product_id]
        if item.image_vector is not None:
            image[row] = item.image_vector
        elif item.image_fingerprint is not None and product_id in stored_image:
            image[row] = stored_image[product_id]
    fused = models.fusion.fuse(text, image)
    return [
        ProductWrite(
            record=item.change.candidate.record, feed=feed_key,
            image_key=item.change.candidate.image_key, image_fingerprint=item.image_fingerprint,
            content_hash=item.change.content_hash, text_hash=item.change.text_hash,
            fused=fused[row], text_vector=item.text_vector, image_vector=item.image_vector,
        )
        for row, item in enumerate(encoded)
    ]
