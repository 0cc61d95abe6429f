"""Fusion: (text vector, image vector) → one normalised vector, as an ONNX graph per model version.

Either modality may be missing (a product without a photo, a text query, a photo query): the
graph takes presence flags, so every case lands in the same fused space.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort


class Fusion:
    def __init__(self, model_path: Path, spec: dict[str, Any], text_dim: int, image_dim: int,
                 session_options: ort.SessionOptions | None = None) -> None:
        self.dim: int = spec["dim"]
        self.version: str = spec["version"]
        self.text_dim = text_dim
        self.image_dim = image_dim
        self._session = ort.InferenceSession(
            str(model_path), session_options, providers=["CPUExecutionProvider"])

    def fuse(self, text: np.ndarray | None, image: np.ndarray | None) -> np.ndarray:
        """Fuse row-aligned vectors; a row that is all zeros (or a missing array) counts as absent."""
        rows = len(text) if text is not None else len(image) if image is not None else 0
        text = np.zeros((rows, self.text_dim), np.float32) if text is None else text.astype(np.float32)
        image = np.zeros((rows, self.image_dim), np.float32) if image is None else image.astype(np.float32)
        has_text = np.any(text != 0, axis=1, keepdims=True).astype(np.float32)
        has_image = np.any(image != 0, axis=1, keepdims=True).astype(np.float32)
        (fused,) = self._session.run(["fused"], {
            "text": text, "image": image, "has_text": has_text, "has_image": has_image})
        return fused
