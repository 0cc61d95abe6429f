"""The photos of the int8 image calibration, read as the runtime reads them."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from functions.encoders.image_preprocess import preprocess_photo

# Every n-th photo is held out of the calibration to measure the int8 model on unseen photos.
HOLDOUT_EVERY = 10


def list_photos(folder: Path) -> list[Path]:
    """The folder's JPEG photos, sorted; enough of them to calibrate and to hold some out."""
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    if len(photos) < 2 * HOLDOUT_EVERY:
        raise ValueError(f"{folder}: {len(photos)} photos, need at least {2 * HOLDOUT_EVERY} to calibrate")
    return photos


def split_photos(photos: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(calibration, held out)."""
    held_out = set(photos[HOLDOUT_EVERY - 1::HOLDOUT_EVERY])
    return [p for p in photos if p not in held_out], [p for p in photos if p in held_out]


def load_pixels(photos: Sequence[Path]) -> np.ndarray:
    """Photos -> float32 [n, 3, 224, 224], exactly as the runtime preprocesses them."""
    return np.stack([preprocess_photo(p.read_bytes()) for p in photos])
