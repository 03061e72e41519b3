"""The last check before an export is moved into place: read back everything that was written.

Redaction works field by field while the export is built; this scan reads the finished folder as a stranger
would and runs the same detectors over all of it: every string in JSON and JSON Lines files (keys too),
every other text file as it is, every cell of every Parquet file (image bytes inside Parquet and base64 data
URIs included), the metadata of every image (EXIF, text chunks, comments, XMP, ICC profiles must be gone)
and the OCR of every image's pixels. Any hit refuses the export, naming the kind and the place (file, line or
row, field); values are never shown. Each distinct image is read once, however many files hold it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from deskscribe.export.images import OcrLines, secret_lines
from deskscribe.export.redact import find_secrets

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
TEXT_SUFFIXES = {".md", ".txt", ".csv", ".tsv", ".yaml", ".yml"}
# Image metadata that may carry personal data (PNG text chunks show up in .info as plain str keys too).
_META_KEYS = {"exif", "comment", "xmp", "icc_profile", "XML:com.adobe.xmp", "photoshop", "iptc"}
_DATA_URI = re.compile(r"data:image/[a-z]+;base64,([A-Za-z0-9+/=]+)")
Ocr = Callable[[Image.Image], OcrLines]


@dataclass(frozen=True)
class Finding:
    kind: str
    place: str

    def __str__(self) -> str:
        return f"{self.kind} in {self.place}"


class Scanner:
    def __init__(self, root: Path, ocr: Ocr | None) -> None:
        self.root = root
        self.ocr = ocr
        self.findings: list[Finding] = []
        self._images: dict[str, list[str]] = {}  # sha256 -> kinds found (so a shared image is read once)
        self.stats = {"files": 0, "strings": 0, "images": 0}

    def text(self, value: str, place: str) -> None:
        """A string; images inside it as ``data:image/…;base64,`` URIs (the openai format) are read as images."""
        self.stats["strings"] += 1
        if "base64," in value:
            for m in _DATA_URI.finditer(value):
                try:
                    self.image(base64.b64decode(m.group(1), validate=True), f"{place} (data URI)")
                except binascii.Error:
                    self.findings.append(Finding("unreadable_data_uri", place))
            value = _DATA_URI.sub(" ", value)
        for h in find_secrets(value):
            self.findings.append(Finding(h.kind, place))

    def value(self, obj: Any, place: str) -> None:
        """Every string (keys too) and every byte string (as an image) inside a JSON-like value."""
        if isinstance(obj, str):
            self.text(obj, place)
        elif isinstance(obj, (bytes, bytearray)):
            self.image(bytes(obj), place)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                self.text(str(k), f"{place} key")
                self.value(v, f"{place}.{k}")
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                self.value(v, f"{place}[{i}]")

    def image(self, data: bytes, place: str) -> None:
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._images:
            self._images[digest] = self._image_kinds(data)
        for kind in self._images[digest]:
            self.findings.append(Finding(kind, f"{place} ({'metadata' if kind == 'metadata' else 'pixels'})"))

    def _image_kinds(self, data: bytes) -> list[str]:
        try:
            img = Image.open(io.BytesIO(data))
            img.load()
        except (OSError, SyntaxError, ValueError):
            return []  # not an image (a Parquet byte column of something else): its strings were scanned
        self.stats["images"] += 1
        kinds = []
        meta = {k: v for k, v in img.info.items() if k in _META_KEYS or isinstance(v, str)}
        if meta or getattr(img, "text", None):
            kinds.append("metadata")
        if self.ocr is not None:
            kinds += [kind for _i, kind, _v in secret_lines(self.ocr(img))]
        return kinds

    def file(self, path: Path) -> None:
        rel = path.relative_to(self.root).as_posix()
        suffix = path.suffix.lower()
        self.stats["files"] += 1
        if suffix in IMAGE_SUFFIXES:
            self.image(path.read_bytes(), rel)
        elif suffix == ".json":
            self._json(path.read_text(encoding="utf-8", errors="replace"), rel)
        elif suffix == ".jsonl":
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                self._json(line, f"{rel} line {n}")
        elif suffix == ".parquet":
            for row_place, row in _parquet_rows(path, rel):
                self.value(row, row_place)
        else:
            # Text files, and anything unknown read as text: a format may add files this scan does not know.
            self.text(path.read_bytes().decode("utf-8", errors="replace"), rel)

    def _json(self, text: str, place: str) -> None:
        if not text.strip():
            return
        try:
            self.value(json.loads(text), place)
        except json.JSONDecodeError:
            self.text(text, place)


def _parquet_rows(path: Path, rel: str) -> Iterator[tuple[str, dict[str, Any]]]:
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=64):
        for record in batch.to_pylist():
            yield f"{rel} row {row}", record
            row += 1


def scan_output(root: Path, ocr: Ocr | None) -> tuple[list[Finding], dict[str, int]]:
    """Findings in every file under ``root`` (``ocr`` None: pixels are not read), and what was read."""
    scanner = Scanner(root, ocr)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        scanner.file(path)
    return scanner.findings, scanner.stats


def refusal(findings: list[Finding]) -> str:
    """One line: the kinds found per place (five places at most), never a value."""
    by_place: dict[str, list[str]] = {}
    for f in findings:
        kinds = by_place.setdefault(f.place, [])
        if f.kind not in kinds:
            kinds.append(f.kind)
    shown = "; ".join(f"{place}: {', '.join(kinds)}" for place, kinds in list(by_place.items())[:5])
    more = f"; and {len(by_place) - 5} more places" if len(by_place) > 5 else ""
    return (f"export refused: reading back the written files found {len(findings)} item(s) that redaction missed "
            f"({shown}{more}); nothing was written — delete those frames or edit those descriptions and export again")
