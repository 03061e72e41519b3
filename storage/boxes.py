"""The stored shape of OCR text: one text line with its box (and its words' boxes), and how a frame's lines are
stored (``captions.ocr_boxes``, migration 002) — one encoder, one decoder, read by describe, export and the OCR
engine.

JSON: ``{"w": …, "h": …, "engine": "<OCR engine key>", "boxes": [[text, x, y, w, h, score], …],
"carried": [indexes]}`` with every box the engine returned, at the stored image's full resolution;
``carried`` lists boxes change-only OCR took over from the previous frame instead of reading these pixels.
A box whose engine knew its words (the hybrid engine: Tesseract's word boxes) has a seventh entry,
``[[word, x, y, w, h], …]``; boxes stored before (and the ``rapidocr`` engine's) have six, and their words are
placed by :func:`words_of`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Word:
    """One word of a text line with its box (pixels of the frame)."""

    text: str
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class TextBox:
    """One OCR'd text line with its box (pixels) and confidence; ``words``: its words' boxes, in order, when
    the engine knew them (empty: unknown, see :func:`words_of`)."""

    text: str
    x: int
    y: int
    w: int
    h: int
    score: float = 1.0
    words: tuple[Word, ...] = ()

    def moved(self, dx: int, dy: int) -> TextBox:
        """The same line ``dx``, ``dy`` px further (a crop's line placed in its frame)."""
        words = tuple(Word(w.text, w.x + dx, w.y + dy, w.w, w.h) for w in self.words)
        return TextBox(self.text, self.x + dx, self.y + dy, self.w, self.h, self.score, words)


def words_of(box: TextBox) -> list[Word]:
    """A line's words with their boxes: the engine's, else the text split at spaces and each word placed by its
    share of the line's characters (the ``rapidocr`` engine and boxes stored before words were kept)."""
    if box.words:
        return list(box.words)
    text = box.text
    n = len(text)
    out: list[Word] = []
    if n == 0:
        return out
    start = 0
    for part in text.split(" "):
        if part:
            x0 = box.x + round(box.w * start / n)
            x1 = box.x + round(box.w * (start + len(part)) / n)
            out.append(Word(part, x0, box.y, max(1, x1 - x0), box.h))
        start += len(part) + 1
    return out


def encode(boxes: list[TextBox], width: int, height: int, engine: str | None, *,
           carried: list[int] | None = None) -> str:
    """Every OCR box, unfiltered and in engine order; ``engine``: the engine key (engine, version, options)."""
    rows: list[list[Any]] = []
    for b in boxes:
        row: list[Any] = [b.text, b.x, b.y, b.w, b.h, round(b.score, 4)]
        if b.words:
            row.append([[w.text, w.x, w.y, w.w, w.h] for w in b.words])
        rows.append(row)
    data: dict[str, Any] = {"w": width, "h": height, "engine": engine, "boxes": rows}
    if carried:
        data["carried"] = carried
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _box(row: list[Any]) -> TextBox:
    t, x, y, bw, bh, s = row[:6]
    words = tuple(Word(str(wt), int(wx), int(wy), int(ww), int(wh)) for wt, wx, wy, ww, wh in row[6]) \
        if len(row) > 6 else ()
    return TextBox(str(t), int(x), int(y), int(bw), int(bh), float(s), words)


def decode(blob: str | None) -> tuple[int, int, list[TextBox]] | None:
    """(width, height, boxes) from :func:`encode` JSON; None when it is absent or not readable."""
    if not blob:
        return None
    try:
        data = json.loads(blob)
        w, h = int(data["w"]), int(data["h"])
        boxes = [_box(row) for row in data["boxes"]]
    except (ValueError, KeyError, TypeError):
        return None
    if w <= 0 or h <= 0:
        return None
    return w, h, boxes
