"""Image encoder: EfficientNet-Lite0 features -> fp32 ONNX -> static QDQ int8 ONNX.

Dynamic int8 ruins this network (cosine 0.81 to fp32): its activations need ranges measured on
real photos, so the int8 model is calibrated on photos run through the very preprocessing the
Lambdas use.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from efficientnet_lite_pytorch import EfficientNet
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from torch import nn
from torch.nn import functional as F

from functions.encoders.image_preprocess import IMAGE_SIZE
from training_job.onnx_export import export_onnx
from training_job.photos import load_pixels

MODEL_NAME = "efficientnet-lite0"
INPUT = "pixels"
OUTPUT = "embedding"
CALIBRATION_BATCH = 16


class ImageEncoder(nn.Module):
    """pixels float32 [batch, 3, 224, 224] -> L2-normalised pooled features [batch, 1280]."""

    def __init__(self, weights: Path) -> None:
        super().__init__()
        self.net = EfficientNet.from_name(MODEL_NAME)
        state = torch.load(weights, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
        missing, unexpected = self.net.load_state_dict(state, strict=False)
        if unexpected or set(missing) != {"_fc.weight", "_fc.bias"}:
            raise ValueError(f"weights do not fit {MODEL_NAME}: missing {missing}, unexpected {unexpected}")

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        pooled = self.net.extract_features(pixels).mean(dim=(2, 3))
        return F.normalize(pooled, p=2.0, dim=-1, eps=1e-12)


def export_image_fp32(weights: Path, path: Path) -> None:
    model = ImageEncoder(weights).eval()
    sample = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    export_onnx(model, (sample,), path, (INPUT,), OUTPUT, {INPUT: {0: "batch"}, OUTPUT: {0: "batch"}})


class PhotoReader(CalibrationDataReader):
    """Feeds the calibration photos in small batches, decoding each batch only when asked."""

    def __init__(self, photos: Sequence[Path]) -> None:
        self._batches: Iterator[Sequence[Path]] = (
            photos[i:i + CALIBRATION_BATCH] for i in range(0, len(photos), CALIBRATION_BATCH))

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {INPUT: load_pixels(batch)}


def _conv_plan(model: onnx.ModelProto) -> tuple[list[str], dict[str, list[dict[str, object]]]]:
    """Which convs stay fp32, and the weight overrides for the rest.

    ORT runs uint8 x int8 convs on AVX2 CPUs without VNNI with an instruction that adds pairs
    of products in int16 and saturates: with 8-bit weights the 1x1 convs overflow and cosine to
    fp32 falls to 0.82 on such a CPU, although the same quantisation evaluated exactly (QDQ in
    fp32) keeps 0.986. Weights of 7 bits cannot overflow (2 * 255 * 64 < 32768), so the dense
    convs get reduce_range and the result no longer depends on the CPU. Depthwise convs use
    another kernel and keep 8 bits. The stem conv (3 input channels) loses most at 7 bits and
    costs little in fp32.
    """
    convs = [node for node in model.graph.node if node.op_type == "Conv"]
    stem = convs[0].name  # ONNX nodes are in topological order
    overrides = {
        node.input[1]: [{"reduce_range": True, "axis": 0}]
        for node in convs
        if node.name != stem and _groups(node) == 1
    }
    return [stem], overrides


def _groups(node: onnx.NodeProto) -> int:
    return next((attr.i for attr in node.attribute if attr.name == "group"), 1)


def quantize_image(fp32_path: Path, int8_path: Path, photos: Sequence[Path], scratch: Path) -> None:
    """Static QDQ int8: uint8 activations with ranges from the calibration photos, int8 weights
    per output channel (7-bit on dense convs, see ``_conv_plan``)."""
    prepared = scratch / "image-prepared.onnx"
    quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
    fp32_convs, overrides = _conv_plan(onnx.load(str(prepared)))
    quantize_static(
        str(prepared), str(int8_path), PhotoReader(photos),
        quant_format=QuantFormat.QDQ, per_channel=True,
        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
        calibrate_method=CalibrationMethod.MinMax,
        nodes_to_exclude=fp32_convs,
        extra_options={"TensorQuantOverrides": overrides},
    )
    prepared.unlink()
