"""The encoders and fusion of one manifest, loaded together."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime as ort

from functions.encoders.artifacts import fetch_models
from functions.encoders.fusion import Fusion
from functions.encoders.image import ImageEncoder
from functions.encoders.text import TextEncoder


@dataclass
class ModelSet:
    manifest: dict[str, Any]
    text: TextEncoder
    image: ImageEncoder
    fusion: Fusion

    @property
    def version(self) -> str:
        """The model version: fused vectors are stored and indexed under it."""
        return self.manifest["version"]


def load_model_set(location: str, cache_dir: Path, threads: int | None = None) -> ModelSet:
    """Fetch and verify the artifacts at ``location``, then load all three sessions."""
    folder, manifest = fetch_models(location, cache_dir)
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    text_spec, image_spec = manifest["text_encoder"], manifest["image_encoder"]
    return ModelSet(
        manifest=manifest,
        text=TextEncoder(folder / text_spec["file"], folder / text_spec["tokenizer"], text_spec, options),
        image=ImageEncoder(folder / image_spec["file"], image_spec, options),
        fusion=Fusion(folder / manifest["fusion"]["file"], manifest["fusion"],
                      text_spec["dim"], image_spec["dim"], options),
    )
