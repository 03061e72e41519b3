"""The default frame captioner: OCR text (RapidOCR's detector + Tesseract by default, or RapidOCR) plus the
frame's app and window title.

Works offline (Debian's English Tesseract data; RapidOCR's ONNX models ship inside its wheel). The caption is short and
condensed — the window title, the top-of-screen menu/title lines, then the rest of the visible text,
de-duplicated and capped — because it goes into a small model's prompt; the full OCR text (one line per text
box, in reading order) is returned beside it for search, facts and export. Pixels are read through the one
OCR engine (models/ocr_engine) that export's redaction uses too; given the episode's previous frame, only what
changed is OCR'd (models/ocr_diff.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from deskscribe.errors import ModelError
from deskscribe.models import readable
from deskscribe.models.base import ModelInfo
from deskscribe.models.ocr_diff import read_changed
from deskscribe.models.ocr_engine import (
    DEFAULT_ENGINE,
    OcrEngine,
    TextBox,
    decode_boxes,
    encode_boxes,
    engine_key,
    engine_version,
)

CAPTION_VERSION = "ocr-caption-v3"  # v3: a line is kept when it reads as text (kept()), whatever its score
MIN_SCORE = 0.6  # the recogniser's score the caption once cut at (bench/ocr_bench.py compares with it)
MAX_CAPTION_CHARS = 320
TOP_FRACTION = 0.08  # lines in the top 8 % of the screen: title bar, menu bar, tabs


__all__ = ["OcrCaptioner", "TextBox", "condense", "reading_order"]


def _useful(text: str) -> bool:
    """Drop OCR noise: single glyphs and strings with no Latin letter or digit (icons read as CJK glyphs)."""
    t = text.strip()
    return len(t) >= 2 and re.search(r"[A-Za-z0-9]", t) is not None


def kept(box: TextBox) -> bool:
    """A line a person reads: one that reads as text by its characters (models/readable.py), or whose ends are
    an icon beside a label ('@ New Tab'), whatever the recogniser's score. Small bitmap fonts (xterm's default
    6×13) come out at low confidence although they read right — ``root@box:~/work# cat notes.txt`` at 0.31,
    ``84`` at 0.0 — while icons read as text ('Bog)', 'gt tS 351IB', 'Oo') can score high."""
    return bool(readable.reading_part(box.text))


def reading_order(boxes: list[TextBox]) -> list[TextBox]:
    """Top to bottom, then left to right, with lines whose centres are within half a line merged into a row."""
    rows: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.y + b.h / 2, b.x)):
        if rows:
            last = rows[-1][0]
            if abs((box.y + box.h / 2) - (last.y + last.h / 2)) <= max(4, last.h / 2):
                rows[-1].append(box)
                continue
        rows.append([box])
    return [b for row in rows for b in sorted(row, key=lambda b: b.x)]


def condense(boxes: list[TextBox], screen_h: int, *, app: str | None, title: str | None,
             limit: int = MAX_CAPTION_CHARS) -> str:
    """A short frame description: "[app — title] top: … | text: …", de-duplicated and capped."""
    head = " — ".join(p for p in (app, title) if p)
    seen: set[str] = set()
    top: list[str] = []
    rest: list[str] = []
    for box in reading_order([b for b in boxes if kept(b)]):
        key = re.sub(r"\W+", "", box.text.lower())
        if not key or key in seen or (title and key in re.sub(r"\W+", "", title.lower())):
            continue
        seen.add(key)
        (top if box.y < screen_h * TOP_FRACTION else rest).append(box.text.strip())
    parts = [f"[{head}]"] if head else []
    if top:
        parts.append("top: " + _join(top, limit * 2 // 5))
    if rest:
        parts.append("visible text: " + _join(rest, limit - sum(len(p) + 1 for p in parts) - 15))
    text = " ".join(parts) if parts else "(no text visible)"
    if len(text) > limit:
        text = text[: limit - 1].rsplit(",", 1)[0].rstrip() + "…"
    return text


def _join(items: list[str], room: int, item_max: int = 48) -> str:
    """Comma-joined items, each cut to ``item_max`` chars, as many as fit in ``room``."""
    out: list[str] = []
    used = 0
    for item in items:
        item = item if len(item) <= item_max else item[: item_max - 1] + "…"
        if out and used + len(item) + 2 > room:
            out.append("…")
            break
        out.append(item)
        used += len(item) + 2
    return ", ".join(out)


def _decode(image: bytes) -> Any:
    """An encoded frame as an RGB array; a file that is not an image is a ModelError."""
    import io

    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as img:
            return np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ModelError(f"frame image cannot be decoded ({exc.__class__.__name__})") from exc


class OcrCaptioner:
    """Captioner (see models.base.Captioner) built on the OCR engine; the engine is created once, at first use."""

    def __init__(self, *, max_chars: int = MAX_CAPTION_CHARS,
                 change_only: bool = True, threads: int = 0, engine: str = DEFAULT_ENGINE) -> None:
        self._engine = OcrEngine(engine, threads=threads)
        self.engine = engine
        self.change_only = change_only
        self.max_chars = max_chars
        self.info = ModelInfo(
            backend="ocr",
            model=f"rapidocr-{engine_version('rapidocr') or '?'} detector + {engine_version(engine) or 'tesseract'}"
            if engine == "hybrid" else f"rapidocr-onnxruntime-{engine_version(engine) or 'unknown'} PP-OCRv4",
            sha256=None,
            params={"max_chars": max_chars, "caption": CAPTION_VERSION,
                    "ocr": engine_key(engine)},
        )

    def _ocr(self, image: bytes) -> tuple[list[TextBox], int, int]:
        """OCR one encoded image: every text box the engine returned (in its order), and the image size."""
        rgb = _decode(image)
        return self._engine.read(rgb), rgb.shape[1], rgb.shape[0]

    def boxes(self, image: bytes) -> tuple[list[TextBox], int]:
        """OCR one encoded image: its text boxes and the image height."""
        out, _width, height = self._ocr(image)
        return out, height

    def caption(self, image: bytes, *, app: str | None = None, title: str | None = None) -> tuple[str, str | None]:
        text, ocr_text, _boxes = self.caption_with_boxes(image, app=app, title=title)
        return text, ocr_text

    def caption_with_boxes(self, image: bytes, *, app: str | None = None, title: str | None = None,
                           previous: tuple[bytes, str] | None = None) -> tuple[str, str, str]:
        """Caption, OCR text and the full OCR result as JSON (:func:`ocr_engine.encode_boxes`), from one pass.

        ``previous``: the episode's previous frame (encoded image, its boxes JSON). Then only what changed
        since is OCR'd and the other lines are carried over (models/ocr_diff.py); the JSON lists them.
        """
        rgb = _decode(image)
        height, width = rgb.shape[:2]
        prev = self._previous(previous) if self.change_only else None
        if prev is None:
            boxes, carried = self._engine.read(rgb), []
        else:
            diff = read_changed(self._engine, prev[0], prev[1], rgb)
            boxes, carried = diff.boxes, diff.carried
        ocr_text = "\n".join(b.text for b in reading_order(boxes) if kept(b))
        caption = condense(boxes, height, app=app, title=title, limit=self.max_chars)
        return caption, ocr_text, encode_boxes(boxes, width, height, carried=carried, engine=self.engine)

    def _previous(self, previous: tuple[bytes, str] | None) -> tuple[Any, list[TextBox]] | None:
        """The previous frame's pixels and lines, when its boxes came from this engine key."""
        if previous is None:
            return None
        decoded = decode_boxes(previous[1])
        if decoded is None or json.loads(previous[1]).get("engine") != engine_key(self.engine):
            return None
        rgb = _decode(previous[0])
        if (rgb.shape[1], rgb.shape[0]) != decoded[:2]:
            return None
        return rgb, decoded[2]

    def close(self) -> None:
        self._engine.close()
