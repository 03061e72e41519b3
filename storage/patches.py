"""Region frames: a stored image may be only the part of the screen that changed, over a recent whole frame.

Typing a line, opening a menu or a tooltip changes a small part of the screen; storing that part (a *patch*)
over the last whole frame (its *base*) instead of the whole screenshot is what keeps a day of capture small.
A patch row in ``images`` names its base (``base_hash``) and where it goes (``x``, ``y``); a base is always
a whole image, so reading one is one paste. Readers never see patches: :func:`compose` gives the whole frame.

Pure functions over pixels and encoded bytes; the SQL that uses them is in :mod:`deskscribe.storage.frames`.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np
from PIL import Image

PAD = 8  # pixels of unchanged screen kept around a change, so a patch's edge never cuts a glyph
ALIGN = 16  # patch edges on the JPEG block grid, so the paste joins without a visible seam
COMPOSE_QUALITY = 92  # a composed frame is encoded once more: nearly lossless on top of the stored quality
_PIL = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG"}


class Box(NamedTuple):
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def area(self) -> int:
        return (self.x1 - self.x0) * (self.y1 - self.y0)


def changed_box(a: np.ndarray, b: np.ndarray) -> Box | None:
    """The smallest box (padded by ``PAD``, on the ``ALIGN`` grid, inside the image) holding every pixel where
    ``a`` and ``b`` (same-shape arrays, H×W or H×W×C) differ; None when they are equal."""
    diff = a != b
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if rows.size == 0:
        return None
    h, w = diff.shape
    x0, y0 = max(0, int(cols[0]) - PAD) // ALIGN * ALIGN, max(0, int(rows[0]) - PAD) // ALIGN * ALIGN
    x1 = min(w, -(-(int(cols[-1]) + 1 + PAD) // ALIGN) * ALIGN)
    y1 = min(h, -(-(int(rows[-1]) + 1 + PAD) // ALIGN) * ALIGN)
    return Box(x0, y0, x1, y1)


def save_options(fmt: str, quality: int) -> dict[str, object]:
    """Pillow's options for a stored image: the quality for JPEG and WebP (WebP at its fastest method, 0),
    the fastest compression for PNG."""
    if fmt == "jpeg":
        return {"quality": quality}
    if fmt == "webp":
        return {"quality": quality, "method": 0}
    if fmt == "png":
        return {"compress_level": 1}
    raise ValueError(f"unknown image format {fmt!r}")


def encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    """``image`` encoded as a stored image is (capture's frames, region frames, composed frames)."""
    options = save_options(fmt, quality)
    buf = io.BytesIO()
    image.save(buf, _PIL[fmt], **options)
    return buf.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    return image.convert("RGB")


def compose(base: bytes, patch: bytes, x: int, y: int, fmt: str) -> bytes:
    """The whole frame: the base with the patch pasted at (x, y), encoded in the base's format (the same bytes
    every time for the same inputs)."""
    image = decode(base)
    image.paste(decode(patch), (x, y))
    return encode(image, fmt, COMPOSE_QUALITY)


class Rebased(NamedTuple):
    data: bytes
    base: str | None  # None: a whole image
    x: int
    y: int


def rebase(new_base: Image.Image, new_base_hash: str, frame: Image.Image, fmt: str, max_fraction: float) -> Rebased:
    """A frame whose base is going: its patch over ``new_base`` (another whole frame), or itself whole when
    the two differ over more than ``max_fraction`` of the screen (or differ in size)."""
    if new_base.size == frame.size:
        box = changed_box(np.asarray(new_base), np.asarray(frame))
        if box is None:
            box = Box(0, 0, min(ALIGN, frame.width), min(ALIGN, frame.height))  # equal: a token patch
        if box.area <= max_fraction * frame.width * frame.height:
            return Rebased(encode(frame.crop(box), fmt, COMPOSE_QUALITY), new_base_hash, box.x0, box.y0)
    return Rebased(encode(frame, fmt, COMPOSE_QUALITY), None, 0, 0)
