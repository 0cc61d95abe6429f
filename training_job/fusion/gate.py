"""The evaluation gate: score fusion models on the held-out window as `vitrina eval` does.

Each fusion ONNX file (the active one and the candidate, exactly as they would be served) fuses the
export's base vectors; ``ContentRecommender`` ranks from those vectors through the evaluation harness
with its metrics. The text→photo retrieval check measures what modality alignment buys: a product's
text-only fused vector should find its photo-only fused vector.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from functions.evaluation.harness import evaluate
from functions.recommenders.algorithms import ContentRecommender
from functions.recommenders.base import Catalog, EventLog

BATCH = 4096


def fuse_with_onnx(path: Path, text: np.ndarray, image: np.ndarray,
                   has_text: np.ndarray | None = None, has_image: np.ndarray | None = None) -> np.ndarray:
    """Run a fusion graph over row-aligned vectors; presence defaults to "row is not all zeros"."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    has_text = np.any(text != 0, axis=1, keepdims=True) if has_text is None else has_text
    has_image = np.any(image != 0, axis=1, keepdims=True) if has_image is None else has_image
    parts = []
    for start in range(0, len(text), BATCH):
        rows = slice(start, start + BATCH)
        parts.append(session.run(["fused"], {
            "text": text[rows], "image": image[rows],
            "has_text": has_text[rows].astype(np.float32), "has_image": has_image[rows].astype(np.float32)})[0])
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def score_fusions(item_ids: np.ndarray, categories: np.ndarray, fused: dict[str, np.ndarray],
                  train: EventLog, test: EventLog, k: int = 12) -> dict[str, dict[str, dict[str, float]]]:
    """name → {"overall": metrics, "cold_start": metrics} for each fused catalog matrix."""
    catalog = Catalog(list(item_ids), [c or None for c in categories], dict(fused))
    recommenders = [ContentRecommender(name, name) for name in fused]
    result = evaluate(catalog, train, test, recommenders, k=k)
    return {name: {"overall": result.overall[name], "cold_start": result.cold_start[name]} for name in fused}


def text_to_photo_recall(path: Path, text: np.ndarray, image: np.ndarray, k: int = 10) -> float:
    """Share of products with both modalities whose text-only vector ranks their own photo-only
    vector in the top k among the photo-only vectors of every product with a photo. Ties count
    against (fusion v0 puts text and photo in orthogonal blocks: every score ties at zero)."""
    has_image = np.any(image != 0, axis=1)
    both = np.flatnonzero(has_image & np.any(text != 0, axis=1))
    photos = np.flatnonzero(has_image)
    zeros_text, zeros_image = np.zeros_like(text[:1]), np.zeros_like(image[:1])
    queries = fuse_with_onnx(path, text[both], np.repeat(zeros_image, len(both), 0))
    targets = fuse_with_onnx(path, np.repeat(zeros_text, len(photos), 0), image[photos])
    position = {row: i for i, row in enumerate(photos)}
    own = np.array([position[row] for row in both])
    hits = 0
    for start in range(0, len(both), 1024):
        scores = queries[start:start + 1024] @ targets.T
        mine = scores[np.arange(len(scores)), own[start:start + 1024]]
        hits += int(np.sum((scores >= mine[:, None]).sum(1) - 1 < k))
    return hits / len(both) if len(both) else 0.0
