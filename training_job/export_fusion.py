"""Fusion v0, the fixed fusion that serves before any training: weighted concatenation.

fused = L2(concat(text_weight * L2(text) * has_text, image_weight * L2(image) * has_image))

A missing modality contributes zeros; a row with neither comes out as zeros, not NaN.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from training_job.onnx_export import export_onnx

TEXT_DIM = 384
IMAGE_DIM = 1280
FUSED_DIM = TEXT_DIM + IMAGE_DIM
INPUTS = ("text", "image", "has_text", "has_image")
OUTPUT = "fused"
EPS = 1e-12


class WeightedConcat(nn.Module):
    def __init__(self, text_weight: float, image_weight: float) -> None:
        super().__init__()
        self.text_weight = text_weight
        self.image_weight = image_weight

    def forward(self, text: torch.Tensor, image: torch.Tensor, has_text: torch.Tensor,
                has_image: torch.Tensor) -> torch.Tensor:
        text_part = F.normalize(text, p=2.0, dim=-1, eps=EPS) * (has_text * self.text_weight)
        image_part = F.normalize(image, p=2.0, dim=-1, eps=EPS) * (has_image * self.image_weight)
        return F.normalize(torch.cat([text_part, image_part], dim=-1), p=2.0, dim=-1, eps=EPS)


def export_fusion(path: Path, text_weight: float, image_weight: float) -> None:
    sample = (torch.zeros(1, TEXT_DIM), torch.zeros(1, IMAGE_DIM), torch.ones(1, 1), torch.ones(1, 1))
    dynamic = {name: {0: "batch"} for name in (*INPUTS, OUTPUT)}
    export_onnx(WeightedConcat(text_weight, image_weight).eval(), sample, path, INPUTS, OUTPUT, dynamic)
