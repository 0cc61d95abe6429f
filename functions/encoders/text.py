"""Text encoder: multilingual-e5-small, int8 ONNX, with a ``tokenizers`` Unigram tokenizer."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

TextKind = Literal["query", "passage"]


class TextEncoder:
    """Embeds texts into L2-normalised vectors; batched, shortest-first to waste little padding."""

    def __init__(self, model_path: Path, tokenizer_path: Path, spec: dict[str, Any],
                 session_options: ort.SessionOptions | None = None) -> None:
        self.dim: int = spec["dim"]
        self.version: str = spec["version"]
        self._prefix = {"query": spec["query_prefix"], "passage": spec["passage_prefix"]}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=spec["max_length"])
        pad_id = self._tokenizer.token_to_id("<pad>")
        self._tokenizer.enable_padding(pad_id=pad_id, pad_token="<pad>")
        self._session = ort.InferenceSession(
            str(model_path), session_options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], kind: TextKind = "passage", batch_size: int = 32) -> np.ndarray:
        """Embed ``texts`` as queries or passages (e5 is trained with these prefixes)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        prefixed = [self._prefix[kind] + text for text in texts]
        order = sorted(range(len(prefixed)), key=lambda i: len(prefixed[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            encodings = self._tokenizer.encode_batch([prefixed[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (vectors,) = self._session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
            out[rows] = vectors
        return out
