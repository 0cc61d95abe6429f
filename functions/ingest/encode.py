"""Stage 3: run the encoders on what the plan marked, in batches.

A photo that cannot be decoded (or is too large) rejects its record: nothing of it is written, and
what was stored before stays as it was.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from functions.encoders.image_preprocess import preprocess_photo
from functions.encoders.model_set import ModelSet
from functions.errors import VitrinaError
from functions.ingest.feed import Rejection
from functions.ingest.plan import PlannedChange
from functions.ingest.sources import Source

log = logging.getLogger(__name__)


@dataclass
class EncodedChange:
    change: PlannedChange
    text_vector: np.ndarray | None
    image_vector: np.ndarray | None
    # Set when the photo vanished between planning and reading: index from the text alone.
    image_fingerprint: str | None


def encode_changes(changes: list[PlannedChange], source: Source,
                   models: ModelSet) -> tuple[list[EncodedChange], list[Rejection]]:
    rejections: list[Rejection] = []
    tensors: dict[int, np.ndarray] = {}
    fingerprints = {i: change.image_fingerprint for i, change in enumerate(changes)}
    for i, change in enumerate(changes):
        if not change.encode_image:
            continue
        key = change.candidate.image_key
        try:
            tensors[i] = preprocess_photo(source.read_photo(key))
        except FileNotFoundError:
            fingerprints[i] = None
        except VitrinaError as exc:
            record = change.candidate.record
            log.warning("skipping product %s (line %s): photo %s: %s", record.id, record.line_no, key, exc)
            rejections.append(Rejection(record.line_no, f"photo {key}: {exc}", record.id))

    rejected = {rejection.product_id for rejection in rejections}
    kept = [i for i, change in enumerate(changes) if change.candidate.record.id not in rejected]
    text_rows = [i for i in kept if changes[i].encode_text]
    text_vectors = models.text.encode([changes[i].candidate.record.encoder_text() for i in text_rows])
    image_rows = [i for i in kept if i in tensors]
    image_vectors = models.image.encode([tensors[i] for i in image_rows])

    by_text = dict(zip(text_rows, text_vectors))
    by_image = dict(zip(image_rows, image_vectors))
    encoded = [EncodedChange(changes[i], by_text.get(i), by_image.get(i), fingerprints[i]) for i in kept]
    return encoded, rejections
