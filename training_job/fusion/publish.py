"""Publishing: the trained fusion as ONNX beside the unchanged base encoders, with a manifest.

The encoders and tokenizer are hard-linked (copied across file systems) from the base models folder,
byte-identical: their versions stay the same, so every stored base vector stays valid and a roll-out
only re-fuses. The folder is assembled under a staging name and renamed into place at the end, so a
reader never sees half a model set.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from functions.encoders.artifacts import sha256_of
from training_job.fusion.gate import fuse_with_onnx
from training_job.fusion.model import IMAGE_DIM, TEXT_DIM, TripletFusion
from training_job.onnx_export import export_onnx

FUSION_FILE = "fusion-trained.onnx"
INPUTS = ("text", "image", "has_text", "has_image")
# int8 serves only if it stays this close to fp32 on every catalog row, in every modality view.
INT8_MIN_COSINE = 0.995


def export_fusion(model: TripletFusion, folder: Path, text: np.ndarray, image: np.ndarray) -> tuple[Path, str]:
    """Write the fp32 graph, try dynamic int8 and keep it only if it matches fp32; returns the file
    to serve and what the manifest's ``quantization`` should say."""
    fp32 = folder / "fusion-fp32.onnx"
    sample = (torch.zeros(1, TEXT_DIM), torch.zeros(1, IMAGE_DIM), torch.ones(1, 1), torch.ones(1, 1))
    dynamic = {name: {0: "batch"} for name in (*INPUTS, "fused")}
    export_onnx(model.cpu().eval(), sample, fp32, INPUTS, "fused", dynamic)
    int8 = folder / "fusion-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    cosine = _worst_cosine(fp32, int8, text, image)
    keep_int8 = cosine >= INT8_MIN_COSINE
    chosen, dropped = (int8, fp32) if keep_int8 else (fp32, int8)
    dropped.unlink()
    chosen.rename(folder / FUSION_FILE)
    verdict = "dynamic int8 (QInt8)" if keep_int8 else "fp32 (dynamic int8 rejected)"
    return folder / FUSION_FILE, f"{verdict}: min cosine int8 vs fp32 {cosine:.4f} (threshold {INT8_MIN_COSINE})"


def _worst_cosine(fp32: Path, int8: Path, text: np.ndarray, image: np.ndarray) -> float:
    worst = 1.0
    has_text = np.any(text != 0, axis=1, keepdims=True)
    has_image = np.any(image != 0, axis=1, keepdims=True)
    for keep_text, keep_image in ((True, True), (True, False), (False, True)):
        rows = np.flatnonzero((has_text[:, 0] | ~keep_text) & (has_image[:, 0] | ~keep_image))
        views = (text[rows] * keep_text, image[rows] * keep_image)
        a, b = fuse_with_onnx(fp32, *views), fuse_with_onnx(int8, *views)
        present = np.linalg.norm(a, axis=1) > 0
        if present.any():
            worst = min(worst, float(np.min(np.sum(a[present] * b[present], axis=1))))
    return worst


def publish(staging: Path, artifacts: Path, base_models: Path, base_manifest: dict[str, Any],
            fusion_spec: dict[str, Any]) -> Path:
    """Link the base encoders into ``staging`` (which already holds the fusion file), write the
    manifest and rename the folder to ``artifacts/<version>``; returns that folder."""
    text_spec, image_spec = base_manifest["text_encoder"], base_manifest["image_encoder"]
    for name in (text_spec["file"], text_spec["tokenizer"], image_spec["file"]):
        _link_or_copy(base_models / name, staging / name)
    served = [text_spec["file"], text_spec["tokenizer"], image_spec["file"], FUSION_FILE]
    files = {name: {"sha256": sha256_of(staging / name), "bytes": (staging / name).stat().st_size}
             for name in served}
    fusion_hash = files[FUSION_FILE]["sha256"][:8]
    set_hash = hashlib.sha256("".join(files[name]["sha256"] for name in served).encode()).hexdigest()[:8]
    manifest = {
        "format": base_manifest.get("format", 1),
        "version": f"t-{set_hash}",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "text_encoder": text_spec,
        "image_encoder": image_spec,
        "fusion": {"file": FUSION_FILE, **fusion_spec, "version": f"fusion-t-{fusion_hash}"},
        "files": files,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    target = artifacts / manifest["version"]
    if target.exists():
        # Same version, same bytes: a rerun of an identical training publishes nothing new.
        shutil.rmtree(staging)
    else:
        os.rename(staging, target)
    return target


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
