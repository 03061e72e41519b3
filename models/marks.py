"""The click marked on a frame for a vision-language model: a circle on the point, a crop around it, and every
image sized to the model's image token cap (models.vlm_image_max_tokens).

Computer-use data pipelines show a VLM the screen before an action with the target marked, plus a close-up,
so the model reads what was hit instead of guessing from a 1/4-megapixel thumbnail of the whole screen.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

RING = (255, 0, 64)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def mark_point(image: bytes, x: int, y: int, *, radius: int = 18, crop: int = 256) -> tuple[bytes, bytes]:
    """(the frame with a ring around (x, y), a ``crop``-pixel square around the point, also ringed) as PNG.

    Points outside the image are clamped to its edge; the crop shifts inward to stay inside the frame.
    """
    img = Image.open(io.BytesIO(image)).convert("RGB")
    x = min(max(int(x), 0), img.width - 1)
    y = min(max(int(y), 0), img.height - 1)
    width = max(2, radius // 6)
    ImageDraw.Draw(img).ellipse((x - radius, y - radius, x + radius, y + radius), outline=RING, width=width)
    side = min(crop, img.width, img.height)
    left = min(max(x - side // 2, 0), img.width - side)
    top = min(max(y - side // 2, 0), img.height - side)
    return _png(img), _png(img.crop((left, top, left + side, top + side)))


def token_unit(patch_size: int, merge: int) -> int:
    """Pixels along one side of the square an image token covers: the encoder's patch times its merge factor
    (Qwen2.5-VL: 14 px patches, Qwen3-VL: 16 px, both merged 2×2 into one token → 28 or 32 px)."""
    return max(1, patch_size) * max(1, merge)


def image_tokens(width: int, height: int, unit: int) -> int:
    """Image tokens a ``width``×``height`` image costs: one per ``unit``-pixel square, edges rounded up."""
    return -(-width // unit) * -(-height // unit)


def fit_to_tokens(image: bytes, max_tokens: int, unit: int) -> bytes:
    """The image scaled down (aspect kept) so that it costs at most ``max_tokens`` image tokens, as PNG; the
    image itself when it already fits or ``max_tokens`` is 0 (no cap).

    The rule: scale s = sqrt(max_tokens · unit² / (w · h)), then each side is cut down to a whole number of
    units, so the image is (⌊w·s/unit⌋ · ⌊h·s/unit⌋) ≤ max_tokens tokens. A 1920×1080 screenshot with Qwen3-VL
    (unit 32 px) is 60 × 34 = 2,040 tokens; capped at 1,024 it becomes 1344×768, 42 × 24 = 1,008 tokens.
    """
    img = Image.open(io.BytesIO(image))
    if max_tokens <= 0 or image_tokens(img.width, img.height, unit) <= max_tokens:
        return image
    scale = (max_tokens * unit * unit / (img.width * img.height)) ** 0.5
    width = max(unit, int(img.width * scale / unit) * unit)
    height = max(unit, int(img.height * scale / unit) * unit)
    while image_tokens(width, height, unit) > max_tokens and max(width, height) > unit:  # a long thin image
        if width >= height:
            width -= unit
        else:
            height -= unit
    return _png(img.convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
