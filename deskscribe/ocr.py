"""The one OCR engine: which engine, which version, which call options, and how its boxes are stored.

The describe stage (models/ocr.py, captions) and export's redaction (export/images.py) both read pixels
through :class:`OcrEngine`, with the same options, so the boxes describe stores in ``captions.ocr_boxes``
are exactly what export's fresh pass would see; :func:`engine_key` names engine + version + options, and
stored boxes are trusted only under the same key. It lives in the root package because both stages use it
and the layer rule keeps models and export from importing each other.

Two engines (``models.ocr_engine``), picked by measurement (bench/results/ocr_bench.md):
- ``tesseract`` (the default): Tesseract 5's LSTM recogniser in this process (tesserocr, whose wheel
  bundles libtesseract) with Debian's English data (``tesseract-ocr-eng``). It keeps English words apart
  and is several times faster than RapidOCR on 2 cores.
- ``rapidocr``: RapidOCR's PP-OCRv4 ONNX models (inside the wheel). Its Chinese-trained recogniser drops
  the spaces between English words, which :func:`split_merged` puts back.

No egress: onnxruntime's native library (1.32 on Linux) ships Microsoft 1DS telemetry that resolves and
posts to a collector every few seconds and keeps a store under ~/.cache/Microsoft; its
``disable_telemetry_events()`` does not stop it, the environment variable ``ORT_DISABLE_TELEMETRY=1`` does
(measured with strace, see tests/test_no_egress.py). It is set before onnxruntime is first imported.
Tesseract makes no network calls.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import hashlib
import importlib.metadata
import io
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskscribe.errors import ModelError

ENGINES = ("tesseract", "rapidocr")
DEFAULT_ENGINE = "tesseract"
RAPID_PACKAGE = "rapidocr-onnxruntime"
# use_cls=False: screen text is upright, and the angle classifier costs time and can flip short lines.
CALL_OPTIONS: dict[str, Any] = {"use_cls": False}
SPLIT_VERSION = "split-v1"  # merged English words split back apart (split_merged); part of the key
MIN_RUN = 7  # letter runs shorter than this are left alone: short merges are rare, short words common
TESS_LANG = "eng"
TESS_PSM = 3  # fully automatic page segmentation (no OSD): a screen has columns, menus and dialogs
# Screen text is small (11-13 px) and often touches a border; read at 1.5× it is found whole. Measured on
# scripted Xvfb screens with known text (bench/ocr_bench.py): word recall 0.71 at 1× and 0.99 at 1.5×.
TESS_SCALE = 1.5
# Where Debian/Ubuntu (4.x and 5.x), Fedora and Homebrew put the language data, after $TESSDATA_PREFIX.
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata")


@dataclass(frozen=True)
class TextBox:
    """One OCR'd text line with its box (pixels) and confidence."""

    text: str
    x: int
    y: int
    w: int
    h: int
    score: float


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ModelError(f"unknown models.ocr_engine {engine!r} (use {' or '.join(ENGINES)})")
    return engine


def tessdata_dir() -> Path | None:
    """The folder holding Tesseract's English data (``eng.traineddata``), or None when it is not installed."""
    env = os.environ.get("TESSDATA_PREFIX")
    for folder in ([env, str(Path(env) / "tessdata")] if env else []) + list(TESSDATA_DIRS):
        if (Path(folder) / f"{TESS_LANG}.traineddata").is_file():
            return Path(folder)
    return None


@functools.lru_cache(maxsize=4)
def _data_digest(path: str, size: int, mtime: float) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def engine_version(engine: str = DEFAULT_ENGINE) -> str | None:
    """The engine's version (Tesseract's: library + language data digest), None when it is not installed."""
    if check_engine(engine) == "rapidocr":
        try:
            return importlib.metadata.version(RAPID_PACKAGE)
        except importlib.metadata.PackageNotFoundError:
            return None
    folder = tessdata_dir()
    if folder is None:
        return None
    try:
        import tesserocr
    except ImportError:
        return None
    lib = tesserocr.tesseract_version().split()[1]  # "tesseract 5.5.4\n leptonica-…"
    data = folder / f"{TESS_LANG}.traineddata"
    st = data.stat()
    digest = _data_digest(str(data), st.st_size, st.st_mtime)
    return f"tesseract-{lib}+tesserocr-{tesserocr.__version__}+{TESS_LANG}-{digest}"


def engine_key(engine: str = DEFAULT_ENGINE) -> str | None:
    """Engine version + options: stored boxes are reused only when they were made under this key."""
    version = engine_version(engine)
    if version is None:
        return None
    if engine == "tesseract":
        return f"{version};psm={TESS_PSM};scale={TESS_SCALE}"
    opts = ",".join(f"{k}={int(v) if isinstance(v, bool) else v}" for k, v in sorted(CALL_OPTIONS.items()))
    return f"{version};{opts};{SPLIT_VERSION}"


VOCAB_SIZE = 30_000  # pieces must be among the most common English words of wordninja's list
_WORD_SHAPE = re.compile(r"[A-Z]?[a-z]+(?:[A-Z][a-z]+)*")  # prose and Capitalised words, not KEYS or aBcD noise


@functools.lru_cache(maxsize=1)
def _ninja() -> tuple[Any, frozenset[str]]:
    import wordninja

    model = wordninja.DEFAULT_LANGUAGE_MODEL
    vocab = frozenset(itertools.islice(model._wordcost, VOCAB_SIZE))  # ordered by frequency
    return model, vocab


def _split_segment(segment: str) -> list[str]:
    """One Capitalised or lower-case segment as common words, or as itself when it does not read as such."""
    model, vocab = _ninja()
    parts = model.split(segment)
    if len(parts) < 2 or "".join(parts) != segment:
        return [segment]
    for part in parts:
        if len(part) < 2 and part not in ("a", "A", "I") or part.lower() not in vocab:
            return [segment]
    return parts


def _split_run(run: str) -> str:
    if not _WORD_SHAPE.fullmatch(run):
        return run
    segments = re.findall(r"[A-Z]?[a-z]+", run)  # "InviteDanaandLuis" → Invite, Danaand, Luis
    split = [_split_segment(seg) for seg in segments]
    if all(len(parts) == 1 for parts in split):
        # no segment reads as run-together words: camelCase identifiers stay whole, but three or more
        # Capitalised common words in a row are a menu bar or a title read as one ("FileEditViewHelp")
        _model, vocab = _ninja()
        if len(segments) >= 3 and all(seg[0].isupper() and seg.lower() in vocab for seg in segments):
            return " ".join(segments)
        return run
    return " ".join(p for parts in split for p in parts)


def split_merged(text: str) -> str:
    """Put back the spaces RapidOCR's (Chinese-trained) recogniser drops between English words.

    Only runs of ``MIN_RUN`` or more letters shaped like prose ("reviewmoved", "toFriday") are looked at, and
    they are split only where an English unigram model (wordninja) reads them as common words of two letters
    or more ("a" and "I" excepted). Digits, punctuation, upper-case runs and random-looking letters (keys,
    tokens: redaction must see them whole) and camelCase identifiers stay as they are; three or more
    Capitalised common words in a row ("FileEditViewHelp", a menu bar) are split at their capitals.
    "BudgetreviewmovedtoFriday10am" → "Budget review
    moved to Friday10am"; "notes.txt", "Levels" and "AKIAZ7QK3M9XW2PLR4TB" are unchanged.
    """
    return re.sub(rf"[A-Za-z]{{{MIN_RUN},}}", lambda m: _split_run(m.group(0)), text)


def _no_telemetry() -> None:
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # "0" or unset: the native 1DS client runs


def _quiet_leptonica() -> None:
    """Leptonica (under Tesseract) prints "Error in boxClipToRectangle" lines on stderr for harmless edge
    cases of screen layouts; its own switch turns them off. Only the copy bundled in tesserocr's wheel."""
    import tesserocr

    site = Path(tesserocr.__file__).resolve().parent
    for lib in glob.glob(str(site.parent / "tesserocr.libs" / "libleptonica*.so*")) + \
            glob.glob(str(site / ".dylibs" / "libleptonica*.dylib")):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(lib).setMsgSeverity(6)  # L_SEVERITY_NONE


ROW_GAP = 2.0  # line heights: segments of one visual row closer than this are one line


def _tsv_lines(tsv: str) -> list[TextBox]:
    """Tesseract's TSV (one row per word, with its block, paragraph and line numbers) as text lines.

    Tesseract's layout analysis splits aligned columns (``ls -la`` output, a menu bar and its Help) into
    blocks, and splits them differently on a crop than on the whole screen; so its lines are joined again
    into the visual rows a person reads: segments on one baseline less than ``ROW_GAP`` heights apart.
    """
    segments: dict[tuple[str, str, str], list[list[str]]] = {}
    for row in tsv.splitlines():
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        segments.setdefault((cols[2], cols[3], cols[4]), []).append(cols)
    parts: list[tuple[TextBox, list[float]]] = []
    for words in segments.values():
        x0 = min(int(w[6]) for w in words)
        y0 = min(int(w[7]) for w in words)
        x1 = max(int(w[6]) + int(w[8]) for w in words)
        y1 = max(int(w[7]) + int(w[9]) for w in words)
        conf = [float(w[10]) / 100 for w in words if float(w[10]) >= 0]
        text = " ".join(w[11].strip() for w in words)
        parts.append((TextBox(text, x0, y0, x1 - x0, y1 - y0, 0.0), conf))
    rows: list[list[tuple[TextBox, list[float]]]] = []
    for part in sorted(parts, key=lambda p: p[0].x):
        box = part[0]
        for row in rows:
            last = row[-1][0]
            same_line = abs((box.y + box.h / 2) - (last.y + last.h / 2)) <= min(box.h, last.h) / 2
            if same_line and 0 <= box.x - (last.x + last.w) <= ROW_GAP * max(box.h, last.h):
                row.append(part)
                break
        else:
            rows.append([part])
    out = []
    for row in sorted(rows, key=lambda r: (r[0][0].y, r[0][0].x)):
        boxes = [b for b, _c in row]
        conf = [c for _b, cs in row for c in cs]
        x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
        x1, y1 = max(b.x + b.w for b in boxes), max(b.y + b.h for b in boxes)
        out.append(TextBox(" ".join(b.text for b in boxes), x0, y0, x1 - x0, y1 - y0,
                           sum(conf) / len(conf) if conf else 0.0))
    return out


class OcrEngine:
    """The configured engine with the one set of options; its models load once, at first use."""

    def __init__(self, engine: str = DEFAULT_ENGINE, *, split_words: bool = True, threads: int = 0) -> None:
        self.engine = check_engine(engine)
        self._engine: Any = None
        self.split_words = split_words  # False only to measure RapidOCR's raw text (bench/ocr_bench.py)
        self.threads = threads  # onnxruntime intra-op threads, 0 = its default; not provenance (same text)

    @property
    def key(self) -> str | None:
        return engine_key(self.engine)

    def _rapid(self) -> Any:
        if self._engine is None:
            _no_telemetry()
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:  # opencv needs libGL.so.1 on Linux
                raise ModelError(f"RapidOCR cannot be loaded ({exc}); install rapidocr-onnxruntime and libgl1") from exc
            self._engine = RapidOCR(**({"intra_op_num_threads": self.threads} if self.threads > 0 else {}))
        return self._engine

    def _tesseract(self) -> Any:
        if self._engine is None:
            try:
                import tesserocr
            except ImportError as exc:
                raise ModelError(f"Tesseract cannot be loaded ({exc}); install tesserocr, or set "
                                 "models.ocr_engine = \"rapidocr\"") from exc
            folder = tessdata_dir()
            if folder is None:
                raise ModelError("Tesseract's English data (eng.traineddata) is not installed: apt install "
                                 "tesseract-ocr-eng (or set TESSDATA_PREFIX, or models.ocr_engine = \"rapidocr\")")
            _quiet_leptonica()
            try:
                self._engine = tesserocr.PyTessBaseAPI(path=str(folder) + os.sep, lang=TESS_LANG,
                                                       psm=TESS_PSM)
            except RuntimeError as exc:
                raise ModelError(f"Tesseract cannot load {folder}/{TESS_LANG}.traineddata ({exc})") from exc
        return self._engine

    def read(self, image: Any) -> list[TextBox]:
        """Every text line the engine finds (in its order) in a PIL image, an RGB array or encoded bytes."""
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
        if self.engine == "tesseract":
            return self._read_tesseract(image)
        # RapidOCR reads arrays as BGR (OpenCV order)
        return self._read_array(np.ascontiguousarray(image[:, :, ::-1]))

    def read_region(self, rgb: Any) -> list[TextBox]:
        """OCR a crop (an RGB array) at its own scale, as it is seen inside the full frame.

        RapidOCR's detector default (``limit_type="min"``, 736) scales any image whose short side is under
        736 px up to 736 px: a full 1024×768 frame is read at its own scale, but a 60 px tall crop would be
        blown up twelvefold. For crops the limit applies to the long side instead, so they are read at frame
        scale. Tesseract reads every image at its own scale.
        """
        import numpy as np

        if self.engine == "tesseract":
            return self._read_tesseract(np.asarray(rgb))
        det = self._rapid().text_det
        saved = det.limit_type
        det.limit_type = "max"
        try:
            return self._read_array(np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1]))
        finally:
            det.limit_type = saved

    def _read_tesseract(self, rgb: Any) -> list[TextBox]:
        from PIL import Image

        api = self._tesseract()
        img = Image.fromarray(rgb).convert("RGB")
        img = img.resize((round(img.width * TESS_SCALE), round(img.height * TESS_SCALE)), Image.Resampling.LANCZOS)
        api.SetImage(img)
        return [TextBox(b.text, round(b.x / TESS_SCALE), round(b.y / TESS_SCALE), round(b.w / TESS_SCALE),
                        round(b.h / TESS_SCALE), b.score) for b in _tsv_lines(api.GetTSVText(0))]

    def _read_array(self, bgr: Any) -> list[TextBox]:
        result, _ = self._rapid()(bgr, **CALL_OPTIONS)
        out = []
        for points, text, score in result or []:
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            text = split_merged(str(text)) if self.split_words else str(text)
            out.append(TextBox(text, int(min(xs)), int(min(ys)), int(max(xs) - min(xs)),
                               int(max(ys) - min(ys)), float(score)))
        return out

    __call__ = read

    def close(self) -> None:
        if self.engine == "tesseract" and self._engine is not None:
            self._engine.End()
        self._engine = None


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
