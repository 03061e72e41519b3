"""The click marked on a frame for a vision-language model: a circle on the point, and a crop around it.

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
