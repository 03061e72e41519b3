"""Exported images: resized to a maximum side, OCR-checked, secrets blacked out, re-encoded without any
metadata, written once per export.

Each distinct image (by content hash) is processed once and written to the export's media folder; the
result (path, size, findings) is cached by hash, so an image shared by many frames or pair kinds costs one
OCR pass. Only metadata is cached in memory, never pixels or bytes.

Redaction draws an opaque black box over every OCR line whose text (compared with spaces removed, since
OCR drops them) matches a secret or personal-data detector, and over the body of a private-key block. An
image that was changed is OCR'd again; whatever is still found there is reported as remaining, which blocks
the export unless the person allows it.

OCR reuse: the describe stage already OCR'd every frame at full resolution with the same engine and kept
every box (captions.ocr_boxes). When such a result exists under the same engine key (version + options,
deskscribe.models.ocr_engine), its lines (boxes
scaled to the export size) go through the same secret detection as fresh OCR lines. No hit: the image is
exported without OCR. A hit: those boxes are blacked out and the image is then OCR'd fresh, exactly as a
fresh-OCR export would do it (found → blacked out and checked again; still found → remaining), so an
image with secrets always gets at least one fresh OCR pass over the exported pixels.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from deskscribe.errors import ExportError
from deskscribe.export.redact import Report, find_secrets
from deskscribe.models.ocr_engine import DEFAULT_ENGINE, decode_boxes, engine_key
from deskscribe.models.ocr_engine import OcrEngine as OcrReader

_EXT = {"jpeg": "jpg", "png": "png", "webp": "webp"}
_B64ISH = re.compile(r"^[A-Za-z0-9+/=]{16,}$")
PAD = 4


@dataclass(frozen=True)
class ExportImage:
    hash: str
    path: Path  # the file inside the export folder
    format: str  # jpeg | png | webp
    width: int
    height: int
    size: int
    source_size: int

    @property
    def mime(self) -> str:
        return f"image/{self.format}"


OcrLines = list[tuple[list[list[float]], str]]


class OcrEngine(OcrReader):
    """The one OCR engine (deskscribe.models.ocr_engine: same engine, version and options as describe's captions), giving
    lines as (corner points, text) for the redaction code."""

    def __call__(self, img: Image.Image) -> OcrLines:  # type: ignore[override]
        return [(_quad(b.x, b.y, b.w, b.h), b.text) for b in self.read(img)]


def _quad(x: float, y: float, w: float, h: float) -> list[list[float]]:
    return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]


def _secret_lines(lines: OcrLines) -> list[tuple[int, str, str]]:
    """(line index, kind, matched text) for every OCR line to black out."""
    out: list[tuple[int, str, str]] = []
    in_key = False
    for i, (_box, text) in enumerate(lines):
        compact = re.sub(r"\s+", "", text)
        hits = find_secrets(text, ocr=True) + find_secrets(compact, ocr=True)
        kinds = {h.kind for h in hits}
        if "private_key" in kinds and re.search(r"(?i)BEGIN", compact):
            in_key = True
        if hits:
            out.append((i, hits[0].kind, hits[0].value))
        elif in_key and (_B64ISH.match(compact) or re.search(r"(?i)END.*PRIVATE", compact)):
            out.append((i, "private_key", compact))
        if in_key and re.search(r"(?i)END.*PRIVATE", compact):
            in_key = False
    return out


secret_lines = _secret_lines  # the post-export scan reads pixels by the same rules


def _black_out(img: Image.Image, boxes: list[list[list[float]]]) -> Image.Image:
    img = img.convert("RGB")
    draw = ImageDraw.Draw(img)
    for box in boxes:
        xs = [p[0] for p in box]
        ys = [p[1] for p in box]
        draw.rectangle(
            [max(0, min(xs) - PAD), max(0, min(ys) - PAD), min(img.width, max(xs) + PAD), min(img.height, max(ys) + PAD)],
            fill=(0, 0, 0),
        )
    return img


def reencode(img: Image.Image, fmt: str, quality: int, tables: dict[str, Any] | None = None) -> tuple[bytes, str]:
    """Fresh pixels in a fresh file: no EXIF, text chunks, comments, ICC profile or XMP of the source survive.

    Every exported image goes through here, changed or not: a stored PNG may carry tEXt/iTXt chunks and a
    JPEG EXIF (camera, GPS, user comments) that a byte-for-byte copy would export. PNG stays lossless; an
    unchanged JPEG is written with its own quantization tables and subsampling (``tables``), so it keeps
    its quality and about its size.
    """
    mode = img.mode if fmt == "png" and img.mode in ("RGB", "RGBA", "L", "LA") else "RGB"
    if fmt == "jpeg" and tables and img.mode == "L":
        mode = "L"
    clean = Image.frombytes(mode, img.size, img.convert(mode).tobytes())  # a new image has an empty .info
    buf = io.BytesIO()
    if fmt == "png":
        clean.save(buf, "PNG")
    elif fmt == "webp":
        clean.save(buf, "WEBP", quality=quality)
    elif tables:
        clean.save(buf, "JPEG", **tables)
    else:
        clean.save(buf, "JPEG", quality=quality)
    return buf.getvalue(), "jpeg" if fmt not in ("png", "webp") else fmt


def _jpeg_tables(img: Image.Image) -> dict[str, Any] | None:
    """The quantization tables and chroma subsampling of a decoded JPEG (None for anything else)."""
    from PIL import JpegImagePlugin

    if img.format != "JPEG" or not getattr(img, "quantization", None):
        return None
    return {"qtables": img.quantization, "subsampling": JpegImagePlugin.get_sampling(img)}


def ocr_engine_version(engine: str = DEFAULT_ENGINE) -> str | None:
    """The OCR engine key (version + options): stored OCR boxes are reused only when made under this key."""
    return engine_key(engine)


def stored_lines(blob: str, size: tuple[int, int]) -> OcrLines | None:
    """captions.ocr_boxes JSON as OCR lines, boxes scaled from the OCR'd resolution to ``size``.

    None (so the image is OCR'd fresh) when the JSON is unreadable or its aspect ratio does not match: then
    the stored boxes may not describe these pixels.
    """
    decoded = decode_boxes(blob)
    if decoded is None:
        return None
    w, h, boxes = decoded
    if abs(w * size[1] - h * size[0]) > w + h:
        return None
    sx, sy = size[0] / w, size[1] / h
    return [(_quad(b.x * sx, b.y * sy, b.w * sx, b.h * sy), b.text) for b in boxes]


class ImageProcessor:
    """Turns a stored image hash into a file in the export, once per export."""

    def __init__(
        self,
        fetch: Callable[[str], tuple[bytes, str]],
        media_dir: Path,
        report: Report,
        *,
        max_side: int = 1024,
        redact_images: bool = True,
        ocr: OcrEngine | None = None,
        quality: int = 90,
        stored_ocr: Callable[[str], str | None] | None = None,
    ) -> None:
        self.fetch = fetch
        self.media_dir = media_dir
        self.report = report
        self.max_side = max_side
        self.redact_images = redact_images
        self.ocr = ocr or OcrEngine()
        self.quality = quality
        self.stored_ocr = stored_ocr  # image hash -> captions.ocr_boxes JSON (same engine version) or None
        self._done: dict[str, ExportImage] = {}
        # ocr_runs: fresh OCR passes; ocr_reused: images checked with the describe stage's stored OCR boxes
        self.stats = {"images": 0, "source_bytes": 0, "written_bytes": 0, "ocr_runs": 0, "ocr_reused": 0,
                      "redacted_images": 0}

    def get(self, image_hash: str, where: dict[str, Any]) -> ExportImage:
        done = self._done.get(image_hash)
        if done is None:
            done = self._process(image_hash, where)
            self._done[image_hash] = done
        return done

    def _process(self, image_hash: str, where: dict[str, Any]) -> ExportImage:
        data, fmt = self.fetch(image_hash)
        source_size = len(data)
        try:
            img = Image.open(io.BytesIO(data))
            img.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise ExportError(f"stored image {image_hash[:12]} (episode {where.get('episode')}) cannot be decoded ({exc}); delete that "
                              "frame and export again") from exc
        tables = _jpeg_tables(img)
        changed = False
        if self.max_side and max(img.size) > self.max_side:
            img.draft("RGB", (self.max_side, self.max_side))
            img = img.convert("RGB")
            img.thumbnail((self.max_side, self.max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
            changed = True
        if self.redact_images:
            img, redacted = self._redact(img, image_hash, where)
            changed = changed or redacted
        data, fmt = reencode(img, "jpeg" if changed else fmt, self.quality, None if changed else tables)
        path = self.media_dir / f"{image_hash[:32]}.{_EXT.get(fmt, fmt)}"
        path.write_bytes(data)
        self.stats["images"] += 1
        self.stats["source_bytes"] += source_size
        self.stats["written_bytes"] += len(data)
        return ExportImage(image_hash, path, fmt, img.width, img.height, len(data), source_size)

    def _redact(self, img: Image.Image, image_hash: str, where: dict[str, Any]) -> tuple[Image.Image, bool]:
        place = {**where, "image": image_hash[:12]}
        blob = self.stored_ocr(image_hash) if self.stored_ocr is not None else None
        lines = stored_lines(blob, img.size) if blob else None
        if lines is None:
            return self._fresh_redact(img, place)
        self.stats["ocr_reused"] += 1
        redacted = self._black_out_hits(img, lines, place)
        if redacted is None:
            return img, False
        self.stats["redacted_images"] += 1
        # Verify on the exported pixels with a fresh pass, the same one a fresh-OCR export runs.
        img, _more = self._fresh_redact(redacted, place, count=False)
        return img, True

    def _black_out_hits(self, img: Image.Image, lines: list[Any], place: dict[str, Any]) -> Image.Image | None:
        """Report and black out the OCR lines that hold a secret; None when none does."""
        hits = _secret_lines(lines)
        if not hits:
            return None
        for _i, kind, value in hits:
            self.report.add(kind, value, {**place, "in": "image pixels"})
        return _black_out(img, [lines[i][0] for i, _k, _v in hits])

    def _fresh_redact(self, img: Image.Image, place: dict[str, Any], *,
                      count: bool = True) -> tuple[Image.Image, bool]:
        """OCR, black out what is found, OCR again; what is still there is reported as remaining."""
        self.stats["ocr_runs"] += 1
        redacted = self._black_out_hits(img, self.ocr(img), place)
        if redacted is None:
            return img, False
        img = redacted
        self.stats["redacted_images"] += int(count)
        self.stats["ocr_runs"] += 1
        for _i, kind, value in _secret_lines(self.ocr(img)):
            self.report.add(kind, value, {**place, "in": "image pixels"}, action="remains")
        return img, True
