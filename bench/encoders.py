"""Per-item encode time for text and photo, int8 against fp32, and the int8-vs-fp32 cosine.

Real texts and photos from ``../shared/data/hm``; the models from ``models/`` (the int8 files the
runtime serves, the fp32 references the builder keeps). One thread per session, as on a Lambda
with about one vCPU. Run: ``.venv/bin/python bench/encoders.py [--items 200]``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from functions.encoders.artifacts import read_manifest
from functions.encoders.image import ImageEncoder
from functions.encoders.image_preprocess import preprocess_photo
from functions.encoders.text import TextEncoder

ROOT = Path(__file__).resolve().parents[1]
HM = ROOT.parent / "shared" / "data" / "hm"


def sample_products(count: int) -> list[dict]:
    products = []
    with open(HM / "catalog.jsonl", encoding="utf-8") as lines:
        for line in lines:
            product = json.loads(line)
            if product.get("image"):
                products.append(product)
    rng = np.random.default_rng(0)
    return [products[i] for i in rng.choice(len(products), count, replace=False)]


def per_item_ms(encode, items: list) -> tuple[np.ndarray, float]:
    encode(items[:2])  # warm-up
    vectors, started = [], time.perf_counter()
    for item in items:
        vectors.append(encode([item])[0])
    return np.stack(vectors), (time.perf_counter() - started) * 1000 / len(items)


def batched_ms(encode, items: list) -> float:
    started = time.perf_counter()
    encode(items)
    return (time.perf_counter() - started) * 1000 / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    manifest = read_manifest(args.models)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    text_spec, image_spec = manifest["text_encoder"], manifest["image_encoder"]
    tokenizer = args.models / text_spec["tokenizer"]
    text = {"int8": TextEncoder(args.models / text_spec["file"], tokenizer, text_spec, options),
            "fp32": TextEncoder(args.models / "reference/text-e5-small-fp32.onnx", tokenizer, text_spec, options)}
    image = {"int8": ImageEncoder(args.models / image_spec["file"], image_spec, options),
             "fp32": ImageEncoder(args.models / "reference/image-efficientnet-lite0-fp32.onnx", image_spec, options)}

    products = sample_products(args.items)
    texts = [" ".join(filter(None, [p["title"], p.get("category"), p.get("description")])) for p in products]
    photos = [(HM / p["image"]).read_bytes() for p in products]
    sizes = {name: (args.models / path).stat().st_size / 2**20 for name, path in {
        "text int8": text_spec["file"], "text fp32": "reference/text-e5-small-fp32.onnx",
        "image int8": image_spec["file"], "image fp32": "reference/image-efficientnet-lite0-fp32.onnx"}.items()}

    def encode_photos(encoder: ImageEncoder):
        return lambda batch: encoder.encode([preprocess_photo(photo) for photo in batch])

    print(f"{args.items} real H&M items, {args.threads} thread(s); per item includes tokenizing / decoding")
    print(f"{'model':<12} {'MB':>7} {'per item ms':>12} {'batched ms/item':>16} {'cos int8/fp32':>14}")
    for kind, encoders, items, wrap in (
            ("text", text, texts, lambda e: (lambda batch: e.encode(batch, kind="passage"))),
            ("image", image, photos, encode_photos)):
        results = {}
        for precision, encoder in encoders.items():
            vectors, single = per_item_ms(wrap(encoder), items)
            results[precision] = (vectors, single, batched_ms(wrap(encoder), items))
        cosine = np.sum(results["int8"][0] * results["fp32"][0], axis=1)
        for precision, (_, single, batched) in results.items():
            shown = f"{cosine.mean():.4f} (min {cosine.min():.3f})" if precision == "int8" else ""
            print(f"{kind + ' ' + precision:<12} {sizes[kind + ' ' + precision]:>7.1f} {single:>12.2f} "
                  f"{batched:>16.2f} {shown:>14}")


if __name__ == "__main__":
    main()
