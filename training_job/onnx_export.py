"""One way to export every torch module: the TorchScript exporter, opset 17, one file."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch

# torch 2.13 defaults to the dynamo exporter, which needs onnxscript, raises the opset and writes
# .onnx.data side files; the TorchScript exporter writes a single opset-17 file.
OPSET = 17


def export_onnx(model: torch.nn.Module, sample: tuple[torch.Tensor, ...], path: Path,
                input_names: tuple[str, ...], output_name: str,
                dynamic_axes: dict[str, dict[int, str]]) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        # The exporter cannot fold strided Slice ops; harmless, and printed once per op.
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")
        torch.onnx.export(
            model, sample, str(path),
            input_names=list(input_names), output_names=[output_name],
            dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True, dynamo=False,
        )
