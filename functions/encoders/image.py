"""Image encoder: EfficientNet-Lite0 pooled features, static int8 ONNX."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnxruntime as ort


class ImageEncoder:
    """Embeds preprocessed photos (see ``image_preprocess``) into L2-normalised vectors."""

    def __init__(self, model_path: Path, spec: dict[str, Any],
                 session_options: ort.SessionOptions | None = None) -> None:
        self.dim: int = spec["dim"]
        self.version: str = spec["version"]
        self._session = ort.InferenceSession(
            str(model_path), session_options, providers=["CPUExecutionProvider"])

    def encode(self, tensors: Sequence[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """Embed CHW float32 tensors from ``image_preprocess.preprocess_photo``."""
        out = np.zeros((len(tensors), self.dim), dtype=np.float32)
        for start in range(0, len(tensors), batch_size):
            batch = np.stack(tensors[start:start + batch_size]).astype(np.float32, copy=False)
            (vectors,) = self._session.run(["embedding"], {"pixels": batch})
            out[start:start + len(batch)] = vectors
        return out
