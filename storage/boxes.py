"""The stored shape of OCR text: one text line with its box, and how a frame's lines are stored
(``captions.ocr_boxes``, migration 002) — one encoder, one decoder, read by describe, export and the OCR engine.

JSON: ``{"w": …, "h": …, "engine": "<OCR engine key>", "boxes": [[text, x, y, w, h, score], …],
"carried": [indexes]}`` with every box the engine returned, at the stored image's full resolution;
``carried`` lists boxes change-only OCR took over from the previous frame instead of reading these pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TextBox:
    """One OCR'd text line with its box (pixels) and confidence."""

    text: str
    x: int
    y: int
    w: int
    h: int
    score: float = 1.0


def encode(boxes: list[TextBox], width: int, height: int, engine: str | None, *,
           carried: list[int] | None = None) -> str:
    """Every OCR box, unfiltered and in engine order; ``engine``: the engine key (engine, version, options)."""
    data: dict[str, Any] = {"w": width, "h": height, "engine": engine,
                            "boxes": [[b.text, b.x, b.y, b.w, b.h, round(b.score, 4)] for b in boxes]}
    if carried:
        data["carried"] = carried
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode(blob: str | None) -> tuple[int, int, list[TextBox]] | None:
    """(width, height, boxes) from :func:`encode` JSON; None when it is absent or not readable."""
    if not blob:
        return None
    try:
        data = json.loads(blob)
        w, h = int(data["w"]), int(data["h"])
        boxes = [TextBox(str(t), int(x), int(y), int(bw), int(bh), float(s)) for t, x, y, bw, bh, s in data["boxes"]]
    except (ValueError, KeyError, TypeError):
        return None
    if w <= 0 or h <= 0:
        return None
    return w, h, boxes
