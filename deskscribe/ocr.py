"""The one OCR engine: which engine, which version, which call options, and how its boxes are stored.

The describe stage (models/ocr.py, captions) and export's redaction (export/images.py) both read pixels
through :class:`OcrEngine`, with the same options, so the boxes describe stores in ``captions.ocr_boxes``
are exactly what export's fresh pass would see; :func:`engine_key` names engine + version + options, and
stored boxes are trusted only under the same key. It lives in the root package because both stages use it
and the layer rule keeps models and export from importing each other.

No egress: onnxruntime's native library (1.32 on Linux) ships Microsoft 1DS telemetry that resolves and
posts to a collector every few seconds and keeps a store under ~/.cache/Microsoft; its
``disable_telemetry_events()`` does not stop it, the environment variable ``ORT_DISABLE_TELEMETRY=1`` does
(measured with strace, see tests/test_no_egress.py). It is set before onnxruntime is first imported.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from deskscribe.errors import ModelError

ENGINE = "rapidocr-onnxruntime"
# use_cls=False: screen text is upright, and the angle classifier costs time and can flip short lines.
CALL_OPTIONS: dict[str, Any] = {"use_cls": False}
SPLIT_VERSION = "split-v1"  # merged English words split back apart (split_merged); part of the key
MIN_RUN = 7  # letter runs shorter than this are left alone: short merges are rare, short words common


@dataclass(frozen=True)
class TextBox:
    """One OCR'd text line with its box (pixels) and confidence."""

    text: str
    x: int
    y: int
    w: int
    h: int
    score: float


def engine_version() -> str | None:
    try:
        return importlib.metadata.version(ENGINE)
    except importlib.metadata.PackageNotFoundError:
        return None


def engine_key() -> str | None:
    """Engine version + options: stored boxes are reused only when they were made under this key."""
    version = engine_version()
    if version is None:
        return None
    opts = ",".join(f"{k}={int(v) if isinstance(v, bool) else v}" for k, v in sorted(CALL_OPTIONS.items()))
    return f"{version};{opts};{SPLIT_VERSION}"


def _splitter() -> Any:
    import wordninja

    return wordninja


def split_merged(text: str) -> str:
    """Put back the spaces RapidOCR's (Chinese-trained) recogniser drops between English words.

    Only runs of letters of ``MIN_RUN`` or more are looked at, and only split where an English unigram model
    (wordninja) reads them as several words of two letters or more ("a" and "I" excepted); digits, punctuation
    and everything else in the line stay as they are. "BudgetreviewmovedtoFriday10am" → "Budget review moved
    to Friday10am"; "notes.txt" and "Levels" are unchanged.
    """
    ninja = _splitter()

    def fix(m: re.Match[str]) -> str:
        run = m.group(0)
        parts = ninja.split(run)
        if len(parts) < 2 or "".join(parts) != run:
            return run
        if any(len(p) < 2 and p not in ("a", "A", "I") for p in parts):
            return run
        return " ".join(parts)

    return re.sub(rf"[A-Za-z]{{{MIN_RUN},}}", fix, text)


def _no_telemetry() -> None:
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # "0" or unset: the native 1DS client runs


class OcrEngine:
    """RapidOCR with the one set of options; the ONNX sessions are created once, at first use."""

    def __init__(self) -> None:
        self._engine: Any = None

    def _rapid(self) -> Any:
        if self._engine is None:
            _no_telemetry()
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:  # opencv needs libGL.so.1 on Linux
                raise ModelError(f"RapidOCR cannot be loaded ({exc}); install rapidocr-onnxruntime and libgl1") from exc
            self._engine = RapidOCR()
        return self._engine

    def read(self, image: Any) -> list[TextBox]:
        """Every text line RapidOCR finds (in its order) in a PIL image, an RGB array or encoded bytes."""
        import numpy as np
        from PIL import Image, UnidentifiedImageError

        if isinstance(image, (bytes, bytearray)):
            try:
                with Image.open(io.BytesIO(image)) as img:
                    image = np.asarray(img.convert("RGB"))
            except (UnidentifiedImageError, OSError) as exc:
                raise ModelError(f"frame image cannot be decoded ({exc.__class__.__name__})") from exc
        elif isinstance(image, Image.Image):
            image = np.asarray(image.convert("RGB"))
        # RapidOCR reads arrays as BGR (OpenCV order)
        result, _ = self._rapid()(np.ascontiguousarray(image[:, :, ::-1]), **CALL_OPTIONS)
        out = []
        for points, text, score in result or []:
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            out.append(TextBox(split_merged(str(text)), int(min(xs)), int(min(ys)), int(max(xs) - min(xs)),
                               int(max(ys) - min(ys)), float(score)))
        return out

    __call__ = read

    def close(self) -> None:
        self._engine = None


def encode_boxes(boxes: list[TextBox], width: int, height: int, *, carried: list[int] | None = None) -> str:
    """Every OCR box, unfiltered and in engine order, at the image's full resolution (captions.ocr_boxes).

    ``carried``: indexes of boxes taken over from the previous frame by change-only OCR (models/ocr_diff.py)
    instead of being read from these pixels — their pixels did not change since they were read.
    """
    data: dict[str, Any] = {"w": width, "h": height, "engine": engine_key(),
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
