"""An OCR text line and how a frame's lines are stored (``captions.ocr_boxes``): one encoder, one decoder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from deskscribe.models.ocr_engine.options import DEFAULT_ENGINE, engine_key


@dataclass(frozen=True)
class TextBox:
    """One OCR'd text line with its box (pixels) and confidence."""

    text: str
    x: int
    y: int
    w: int
    h: int
    score: float


def encode_boxes(boxes: list[TextBox], width: int, height: int, *, carried: list[int] | None = None,
                 engine: str = DEFAULT_ENGINE) -> str:
    """Every OCR box, unfiltered and in engine order, at the image's full resolution (captions.ocr_boxes).

    ``carried``: indexes of boxes taken over from the previous frame by change-only OCR (models/ocr_diff.py)
    instead of being read from these pixels — their pixels did not change since they were read.
    """
    data: dict[str, Any] = {"w": width, "h": height, "engine": engine_key(engine),
                            "boxes": [[b.text, b.x, b.y, b.w, b.h, round(b.score, 4)] for b in boxes]}
    if carried:
        data["carried"] = carried
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode_boxes(blob: str) -> tuple[int, int, list[TextBox]] | None:
    """(width, height, boxes) from :func:`encode_boxes` JSON; None when it is not readable."""
    try:
        data = json.loads(blob)
        w, h = int(data["w"]), int(data["h"])
        boxes = [TextBox(str(t), int(x), int(y), int(bw), int(bh), float(s)) for t, x, y, bw, bh, s in data["boxes"]]
    except (ValueError, KeyError, TypeError):
        return None
    if w <= 0 or h <= 0:
        return None
    return w, h, boxes
