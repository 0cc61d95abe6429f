"""Checkpoints every epoch, resumed after an interruption (a spot instance reclaimed mid-run).

One file, replaced atomically, holding the model, the optimizer, the finished epoch, the RNG state
and the hash of the run's configuration: a checkpoint of a different configuration or export is
ignored rather than silently continued.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

FILE = "fusion-last.pt"


def default_folder() -> Path:
    """SageMaker syncs /opt/ml/checkpoints to S3 and back on a restarted spot job."""
    sagemaker = Path("/opt/ml/checkpoints")
    return sagemaker if sagemaker.is_dir() else Path("checkpoints")


def save(folder: Path, state: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (FILE + ".part")
    torch.save(state, partial)
    os.replace(partial, folder / FILE)


def load(folder: Path, config_hash: str) -> dict[str, Any] | None:
    """The last checkpoint if it belongs to this configuration, else None."""
    path = folder / FILE
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("config_hash") != config_hash:
        print(f"ignoring checkpoint {path}: it was written for another configuration", flush=True)
        return None
    return state
