"""Encoding a raw BGRA screenshot for storage (format, quality and size from config)."""

from __future__ import annotations

from PIL import Image

from deskscribe.storage.frames import EncodedImage
from deskscribe.storage.patches import encode


def to_image(raw: bytes | bytearray | memoryview, width: int, height: int) -> Image.Image:
    return Image.frombuffer("RGB", (width, height), bytes(raw), "raw", "BGRX", 0, 1)


def scaled(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink so the longer side is at most ``max_side`` (0 = keep the native size)."""
    if max_side <= 0 or max(image.size) <= max_side:
        return image
    factor = max_side / max(image.size)
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def encode_image(image: Image.Image, fmt: str = "jpeg", quality: int = 80, max_side: int = 0) -> EncodedImage:
    image = scaled(image, max_side)
    return EncodedImage(encode(image, fmt, quality), fmt, image.width, image.height)


def encode_raw(
    raw: bytes | bytearray | memoryview, width: int, height: int, fmt: str = "jpeg", quality: int = 80, max_side: int = 0
) -> EncodedImage:
    return encode_image(to_image(raw, width, height), fmt, quality, max_side)
