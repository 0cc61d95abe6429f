"""Turn photo bytes into the image encoder's input tensor.

The same function serves ingest, search by photo and the calibration set of the static int8
quantization in ``training_job``: the quantized model is only as good as the match between its
calibration inputs and what it sees at run time.
"""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from functions.errors import InvalidImage

IMAGE_SIZE = 224
# TF-style EfficientNet-Lite input scaling: (x - 127) / 128.
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0
# A catalog photo is a few megapixels at most; anything larger is refused before it is decoded,
# so a decompression bomb never allocates its full bitmap.
MAX_PIXELS = 40_000_000
PAD_FILL = (255, 255, 255)


def decode_photo(data: bytes) -> Image.Image:
    """Decode photo bytes into an RGB image, refusing what is not a photo or is too large."""
    try:
        with warnings.catch_warnings():
            # PIL warns of bombs above its own, higher limit; ours is checked just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise InvalidImage(f"image of {width}x{height} pixels exceeds the limit of {MAX_PIXELS}")
        # JPEG can decode straight at a reduced scale: far less work for large photos.
        image.draft("RGB", (IMAGE_SIZE * 2, IMAGE_SIZE * 2))
        return image.convert("RGB")
    except InvalidImage:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage(f"cannot decode image: {exc}") from exc


def photo_to_tensor(image: Image.Image) -> np.ndarray:
    """Pad to a square with white, resize to 224x224, scale; returns float32 CHW."""
    width, height = image.size
    side = max(width, height)
    square = Image.new("RGB", (side, side), PAD_FILL)
    square.paste(image, ((side - width) // 2, (side - height) // 2))
    resized = square.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(resized, dtype=np.float32)
    return ((pixels - PIXEL_MEAN) / PIXEL_STD).transpose(2, 0, 1)


def preprocess_photo(data: bytes) -> np.ndarray:
    """Photo bytes → the encoder's float32 CHW input; raises InvalidImage on a bad photo."""
    return photo_to_tensor(decode_photo(data))


PREPROCESSING = {
    "decode": "RGB",
    "fit": "pad-to-square",
    "pad_fill": list(PAD_FILL),
    "size": [IMAGE_SIZE, IMAGE_SIZE],
    "resample": "bilinear",
    "scale": {"mean": PIXEL_MEAN, "std": PIXEL_STD},
    "layout": "NCHW",
}
