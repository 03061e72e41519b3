"""Encoding a raw BGRA screenshot for storage (format, quality and size from config)."""

from __future__ import annotations

import io

from PIL import Image

from deskscribe.storage.frames import EncodedImage

_PIL_FORMAT = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG"}


def to_image(raw: bytes | bytearray | memoryview, width: int, height: int) -> Image.Image:
    return Image.frombuffer("RGB", (width, height), bytes(raw), "raw", "BGRX", 0, 1)


def scaled(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink so the longer side is at most ``max_side`` (0 = keep the native size)."""
    if max_side <= 0 or max(image.size) <= max_side:
        return image
    factor = max_side / max(image.size)
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def save_options(fmt: str, quality: int, webp_method: int = 0) -> dict[str, object]:
    if fmt == "jpeg":
        return {"quality": quality}
    if fmt == "webp":
        return {"quality": quality, "method": webp_method}
    if fmt == "png":
        return {"compress_level": 1}
    raise ValueError(f"unknown image format {fmt!r}")


def encode_image(image: Image.Image, fmt: str = "jpeg", quality: int = 80, max_side: int = 0) -> EncodedImage:
    image = scaled(image, max_side)
    buf = io.BytesIO()
    image.save(buf, _PIL_FORMAT[fmt], **save_options(fmt, quality))
    return EncodedImage(buf.getvalue(), fmt, image.width, image.height)


def encode_raw(
    raw: bytes | bytearray | memoryview, width: int, height: int, fmt: str = "jpeg", quality: int = 80, max_side: int = 0
) -> EncodedImage:
    return encode_image(to_image(raw, width, height), fmt, quality, max_side)
