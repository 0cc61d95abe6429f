"""The built models folder: manifest integrity, graph contracts, int8 quality against fp32.

Runs in the runtime environment (onnxruntime, tokenizers, numpy, pillow; no torch). The folder
is ``$VITRINA_MODELS_DIR`` or ``models`` at the repo root, built by
``python -m training_job.build_models --out models``; the real texts and photos come from
``../shared/data/hm``.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from functions.encoders.image_preprocess import PREPROCESSING, preprocess_photo

from tests.support import HM as HM_DIR
from tests.support import MODELS_DIR

N_TEXTS = 10  # English texts from the catalog; as many Russian ones below
N_PHOTOS = 20

RUSSIAN = (
    "Хлопковая рубашка оверсайз с длинными рукавами и нагрудным карманом.",
    "Трикотажное платье миди с короткими рукавами, тёмно-синее.",
    "Спортивные брюки из футера с эластичным поясом на кулиске.",
    "Кожаные ботинки на шнуровке с рифлёной подошвой.",
    "Детская пижама из органического хлопка с принтом.",
    "Пуховик с капюшоном и водоотталкивающей пропиткой.",
    "Льняные шорты с завышенной талией и поясом.",
    "Сумка через плечо из экокожи с регулируемым ремнём.",
    "Купальник слитный с открытой спиной, чёрный.",
    "Шапка бини из мягкой пряжи с отворотом.",
)

needs_hm = pytest.mark.skipif(not HM_DIR.is_dir(), reason=f"no evaluation data in {HM_DIR}")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def manifest(models) -> dict:
    return json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sessions(manifest: dict) -> dict[str, ort.InferenceSession]:
    names = {
        "text": manifest["text_encoder"]["file"], "text_fp32": manifest["text_encoder"]["reference"],
        "image": manifest["image_encoder"]["file"], "image_fp32": manifest["image_encoder"]["reference"],
        "fusion": manifest["fusion"]["file"],
    }
    return {key: ort.InferenceSession(str(MODELS_DIR / name), providers=["CPUExecutionProvider"])
            for key, name in names.items()}


@pytest.fixture(scope="module")
def tokenizer(manifest: dict) -> Tokenizer:
    return Tokenizer.from_file(str(MODELS_DIR / manifest["text_encoder"]["tokenizer"]))


def _embed_texts(session: ort.InferenceSession, tokenizer: Tokenizer, texts: list[str]) -> np.ndarray:
    encodings = tokenizer.encode_batch(texts)
    return session.run(None, {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
    })[0]


def _hm_texts() -> list[str]:
    """Titles and descriptions of the first catalog products that have a description."""
    texts = []
    with (HM_DIR / "catalog.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            product = json.loads(line)
            if product.get("description"):
                texts.append(f"{product['title']}. {product['description']}")
            if len(texts) == N_TEXTS:
                return texts
    return texts


def _hm_photos() -> np.ndarray:
    photos = sorted((HM_DIR / "images").rglob("*.jpg"))
    chosen = photos[:: max(1, len(photos) // N_PHOTOS)][:N_PHOTOS]
    return np.stack([preprocess_photo(p.read_bytes()) for p in chosen])


def test_every_file_matches_its_sha256(manifest: dict) -> None:
    assert manifest["files"], "manifest lists no files"
    for name, entry in manifest["files"].items():
        data = (MODELS_DIR / name).read_bytes()
        assert len(data) == entry["bytes"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name


def test_manifest_names_every_model_file(manifest: dict) -> None:
    named = {manifest["text_encoder"]["file"], manifest["text_encoder"]["tokenizer"],
             manifest["text_encoder"]["reference"], manifest["image_encoder"]["file"],
             manifest["image_encoder"]["reference"], manifest["fusion"]["file"]}
    assert named <= set(manifest["files"])
    assert manifest["format"] == 1
    assert manifest["image_encoder"]["preprocessing"] == json.loads(json.dumps(PREPROCESSING))
    assert manifest["text_encoder"]["query_prefix"] == "query: "
    assert manifest["text_encoder"]["passage_prefix"] == "passage: "


def test_graph_contracts(manifest: dict, sessions: dict[str, ort.InferenceSession]) -> None:
    text_dim, image_dim = manifest["text_encoder"]["dim"], manifest["image_encoder"]["dim"]
    expected = {
        "text": ({"input_ids": "tensor(int64)", "attention_mask": "tensor(int64)"}, "embedding", text_dim),
        "text_fp32": ({"input_ids": "tensor(int64)", "attention_mask": "tensor(int64)"}, "embedding", text_dim),
        "image": ({"pixels": "tensor(float)"}, "embedding", image_dim),
        "image_fp32": ({"pixels": "tensor(float)"}, "embedding", image_dim),
        "fusion": ({name: "tensor(float)" for name in ("text", "image", "has_text", "has_image")},
                   "fused", manifest["fusion"]["dim"]),
    }
    for key, (inputs, output, dim) in expected.items():
        session = sessions[key]
        assert {i.name: i.type for i in session.get_inputs()} == inputs, key
        (out,) = session.get_outputs()
        assert (out.name, out.type, out.shape[1]) == (output, "tensor(float)", dim), key


def test_tokenizer_follows_xlmr_conventions(manifest: dict, tokenizer: Tokenizer) -> None:
    assert [tokenizer.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    ids = tokenizer.encode("query: красное платье").ids
    assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids
    assert len(tokenizer.encode("word " * 1000).ids) == manifest["text_encoder"]["max_length"]


@needs_hm
def test_text_int8_is_close_to_fp32(manifest: dict, sessions: dict, tokenizer: Tokenizer) -> None:
    texts = _hm_texts() + list(RUSSIAN)
    encoder = manifest["text_encoder"]
    prefixed = [encoder[p] + t for p in ("query_prefix", "passage_prefix") for t in texts]
    int8 = _embed_texts(sessions["text"], tokenizer, prefixed)
    fp32 = _embed_texts(sessions["text_fp32"], tokenizer, prefixed)
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    cosines = _cosines(int8, fp32)
    assert cosines.mean() >= 0.98 and cosines.min() >= 0.95, cosines


@needs_hm
def test_image_int8_is_close_to_fp32(sessions: dict) -> None:
    pixels = _hm_photos()
    int8 = sessions["image"].run(None, {"pixels": pixels})[0]
    fp32 = sessions["image_fp32"].run(None, {"pixels": pixels})[0]
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    cosines = _cosines(int8, fp32)
    assert cosines.mean() >= 0.96 and cosines.min() >= 0.85, cosines


def test_translation_is_closer_than_an_unrelated_query(manifest: dict, sessions: dict, tokenizer: Tokenizer) -> None:
    prefix = manifest["text_encoder"]["query_prefix"]
    dress, dress_ru, wallet = _embed_texts(
        sessions["text"], tokenizer,
        [prefix + "red summer dress", prefix + "красное летнее платье", prefix + "leather wallet"])
    # e5 cosines bunch together (unrelated texts near 0.78): compare, never use a fixed level.
    assert dress @ dress_ru > dress @ wallet + 0.01


def test_fusion_weights_and_missing_modalities(manifest: dict, sessions: dict) -> None:
    rng = np.random.default_rng(0)
    text = rng.normal(size=(3, manifest["text_encoder"]["dim"])).astype(np.float32)
    image = rng.normal(size=(3, manifest["image_encoder"]["dim"])).astype(np.float32)
    has_text = np.array([[1.0], [1.0], [0.0]], dtype=np.float32)
    has_image = np.array([[1.0], [0.0], [0.0]], dtype=np.float32)
    (fused,) = sessions["fusion"].run(None, {"text": text, "image": image, "has_text": has_text,
                                            "has_image": has_image})
    tw, iw = manifest["fusion"]["text_weight"], manifest["fusion"]["image_weight"]
    both = np.concatenate([tw * text[0] / np.linalg.norm(text[0]), iw * image[0] / np.linalg.norm(image[0])])
    np.testing.assert_allclose(fused[0], both / np.linalg.norm(both), atol=1e-5)
    text_only = np.concatenate([text[1] / np.linalg.norm(text[1]), np.zeros(image.shape[1])])
    np.testing.assert_allclose(fused[1], text_only, atol=1e-5)
    np.testing.assert_array_equal(fused[2], 0.0)
