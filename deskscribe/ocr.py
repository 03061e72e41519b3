"""The one OCR engine: which engine, which version, which call options, and how its boxes are stored.

The describe stage (models/ocr.py, captions) and export's redaction (export/images.py) both read pixels
through :class:`OcrEngine`, with the same options, so the boxes describe stores in ``captions.ocr_boxes``
are exactly what export's fresh pass would see; :func:`engine_key` names engine + version + options, and
stored boxes are trusted only under the same key. It lives in the root package because both stages use it
and the layer rule keeps models and export from importing each other.

Two engines (``models.ocr_engine``), picked by measurement (bench/results/ocr_bench.md):
- ``hybrid`` (the default): RapidOCR's text detector finds the lines (it finds them on any background:
  wallpapers, dark themes, coloured bars), Tesseract 5's LSTM recogniser reads each one, in this process
  (tesserocr, whose wheel bundles libtesseract; Debian's English data, ``tesseract-ocr-eng``). Tesseract
  keeps English words apart and reads a line several times faster than RapidOCR's recogniser on 2 cores.
  Tesseract's own page layout was measured too: it found no text at all on a Windows desktop (light text on
  a blue wallpaper) and split ``ls -la`` columns, so only its recogniser is used.
- ``rapidocr``: RapidOCR's PP-OCRv4 detector and recogniser (inside the wheel). Its Chinese-trained
  recogniser drops the spaces between English words, which :func:`split_merged` puts back.

No egress: onnxruntime's native library (1.32 on Linux) ships Microsoft 1DS telemetry that resolves and
posts to a collector every few seconds and keeps a store under ~/.cache/Microsoft; its
``disable_telemetry_events()`` does not stop it, the environment variable ``ORT_DISABLE_TELEMETRY=1`` does
(measured with strace, see tests/test_no_egress.py). It is set before onnxruntime is first imported.
Tesseract makes no network calls.
"""

from __future__ import annotations

import collections
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

ENGINES = ("hybrid", "rapidocr")
DEFAULT_ENGINE = "hybrid"
RAPID_PACKAGE = "rapidocr-onnxruntime"
# use_cls=False: screen text is upright, and the angle classifier costs time and can flip short lines.
CALL_OPTIONS: dict[str, Any] = {"use_cls": False}
SPLIT_VERSION = "split-v1"  # merged English words split back apart (split_merged); part of the key
MIN_RUN = 7  # letter runs shorter than this are left alone: short merges are rare, short words common
TESS_LANG = "eng"
TESS_PSM = 7  # each detected box is one text line
# Screen text is small (11-13 px) and often touches a border: read at 1.5× (Tesseract's page mode, on
# scripted Xvfb screens with known text: word recall 0.71 at 1×, 0.99 at 1.5×), in grey, with a margin.
TESS_SCALE = 1.5
TESS_MARGIN = 2  # px (at the read scale) above and below each line's ink
TESS_MARGIN_X = 4  # px (at the read scale) before and after it
TESS_PAD = 6  # px (read scale) of the line's own background put around it: the room Tesseract needs, no neighbour
LINE_CACHE = 4096  # Tesseract readings kept, by the line's pixels (see OcrEngine._recognise)
ROW_GAP = 1.0  # boxes of one row closer than this many line heights are one line (see merge_rows)
EDGE_SCAN = 8  # px (at the read scale) at each side of a box searched for a window border (see _inner)
EDGE_COVER = 0.85  # a column this much darker or lighter than the box's background from top to bottom is a line
# The hybrid's detector pass (see OcrEngine._detect): RapidOCR's own limits on the image it reads (a short side
# under 736 px is scaled up, a long side over 2000 px down), but padded to the network's stride instead of
# stretched to it, so a crop aligned to the stride is read exactly as that part of the whole frame is.
DET_MIN_SIDE = 736
DET_MAX_SIDE = 2000
DET_STRIDE = 32
DET_VERSION = "pad32"  # part of the key
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
    if engine == "hybrid":
        rapid = engine_version("rapidocr")
        if rapid is None:
            return None
        return (f"det=rapidocr-{rapid}+{DET_VERSION};rec={version};psm={TESS_PSM};scale={TESS_SCALE};"
                f"m={TESS_MARGIN},{TESS_MARGIN_X},{TESS_PAD};edge={EDGE_SCAN};rows={ROW_GAP};ink")
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


def _inner(rows: Any, x0: int, x1: int) -> tuple[int, int]:
    """The box's columns without a window border or frame line at either side: the detector's box around text
    that touches a border takes the border in, and Tesseract reads that line as a character ("[Invite Dana",
    "|Agenda", "Japples"). A column that differs from the box's background in nearly every row is a line, not a
    glyph (a box is taller than its letters)."""
    import numpy as np

    if rows.shape[0] < 4 or x1 - x0 < 4 * EDGE_SCAN:
        return x0, x1
    band = rows[:, x0:x1].astype(np.int16)
    background = int(np.median(band))
    inked = (np.abs(band - background) > 48).mean(axis=0) >= EDGE_COVER
    left = next((i + 1 for i in range(EDGE_SCAN - 1, -1, -1) if inked[i]), 0)
    right = next((i + 1 for i in range(EDGE_SCAN - 1, -1, -1) if inked[-1 - i]), 0)
    return x0 + left, x1 - right


def det_scale(width: int, height: int) -> float:
    """The scale the hybrid's detector reads a frame of this size at (RapidOCR's limits, see DET_MIN_SIDE)."""
    if max(width, height) > DET_MAX_SIDE:
        return DET_MAX_SIDE / max(width, height)
    if min(width, height) < DET_MIN_SIDE:
        return DET_MIN_SIDE / min(width, height)
    return 1.0


def _centre_in(points: Any, box: tuple[int, int, int, int]) -> bool:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return box[0] <= cx < box[2] and box[1] <= cy < box[3]


Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


def _rect(points: Any) -> Rect:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def merge_rows(rects: list[Rect], gap: float = ROW_GAP) -> list[Rect]:
    """Boxes of one visual row less than ``gap`` line heights apart, as one line, top to bottom.

    The detector splits a row into boxes by what surrounds it ("File Edit" + "Search" on one frame, the whole
    menu bar on the next; an ``ls -la`` row in two or three pieces), so the same unchanged row would be read as
    different lines from frame to frame, and on a crop differently than on the whole screen. Words and menu
    items of one row are less than a line height apart; columns of a table usually more.
    """
    out: list[list[float]] = []
    for r in sorted(rects, key=lambda r: r[0]):
        for o in out:
            h = min(r[3] - r[1], o[3] - o[1])
            cy, oy = (r[1] + r[3]) / 2, (o[1] + o[3]) / 2
            if abs(cy - oy) <= h / 2 and r[0] - o[2] <= gap * h and r[2] > o[0]:
                o[0], o[1], o[2], o[3] = min(o[0], r[0]), min(o[1], r[1]), max(o[2], r[2]), max(o[3], r[3])
                break
        else:
            out.append(list(r))
    return [(o[0], o[1], o[2], o[3]) for o in sorted(out, key=lambda o: (o[1], o[0]))]


def _ink(grey: Any, rect: Rect) -> tuple[int, int, int, int] | None:
    """The part of a detected box that holds its line's ink: the run of inked rows around the box's middle, and
    the inked columns over those rows; None for a box with no ink. The detector's box around the same pixels
    moves by a pixel or two with what surrounds it, and Tesseract reads a slightly different box differently
    ("demo’" and "demo!"); the ink does not move."""
    import numpy as np

    h, w = grey.shape
    x0, y0 = max(0, int(rect[0])), max(0, int(rect[1]))
    x1, y1 = min(w, int(np.ceil(rect[2])) + 1), min(h, int(np.ceil(rect[3])) + 1)
    band = grey[y0:y1, x0:x1].astype(np.int16)
    if band.size == 0:
        return None
    bg = int(np.median(band))
    ink = np.abs(band - bg) > 48
    rows = ink.any(axis=1)
    if not rows.any():
        return None
    mid = (y1 - y0) // 2
    if not rows[mid]:
        near = np.flatnonzero(rows)
        mid = int(near[np.argmin(np.abs(near - mid))])
    top = mid
    while top > 0 and rows[top - 1]:
        top -= 1
    bot = mid
    while bot < len(rows) - 1 and rows[bot + 1]:
        bot += 1
    cols = np.flatnonzero(ink[top:bot + 1].any(axis=0))
    return x0 + int(cols[0]), y0 + top, x0 + int(cols[-1]) + 1, y0 + bot + 1


class OcrEngine:
    """The configured engine with the one set of options; its models load once, at first use."""

    def __init__(self, engine: str = DEFAULT_ENGINE, *, split_words: bool = True, threads: int = 0,
                 line_cache: int = LINE_CACHE) -> None:
        self.engine = check_engine(engine)
        self._engine: Any = None  # RapidOCR (both engines use its detector)
        self._tess: Any = None  # tesserocr's API (hybrid)
        self.line_cache = line_cache  # readings kept by their pixels; 0: read every line (bench/ocr_bench.py)
        self.hits = self.misses = 0  # line readings taken from the cache / read by Tesseract
        self._lines: collections.OrderedDict[bytes, tuple[str, float]] = collections.OrderedDict()
        self.split_words = split_words  # False only to measure RapidOCR's raw text (bench/ocr_bench.py)
        self.threads = threads  # onnxruntime intra-op threads, 0 = its default; not provenance (same text)

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
        if self._tess is None:
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
                self._tess = tesserocr.PyTessBaseAPI(path=str(folder) + os.sep, lang=TESS_LANG, psm=TESS_PSM)
            except RuntimeError as exc:
                raise ModelError(f"Tesseract cannot load {folder}/{TESS_LANG}.traineddata ({exc})") from exc
        return self._tess

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
        # RapidOCR reads arrays as BGR (OpenCV order)
        return self._read_array(np.ascontiguousarray(image[:, :, ::-1]), image)

    def read_region(self, rgb: Any, keep: tuple[int, int, int, int] | None = None,
                    frame: tuple[int, int] | None = None) -> list[TextBox]:
        """OCR a crop (an RGB array) of a frame as it is seen inside the whole frame.

        ``keep`` (x0, y0, x1, y1 in the crop): only the lines whose centre lies inside are read and returned —
        the rest of the crop is context for the detector. ``frame`` (width, height): the whole frame's size,
        whose detector scale the crop is read at. For the hybrid engine a crop whose origin in the frame is a
        multiple of :data:`DET_STRIDE` is then read exactly as the whole frame's pass reads it, away from the
        crop's edges. RapidOCR's own pass (the ``rapidocr`` engine) scales a short image up to 736 px; for
        crops its limit applies to the long side instead, so they are read near frame scale.
        """
        import numpy as np

        rgb = np.asarray(rgb)
        h, w = rgb.shape[:2]
        keep = keep or (0, 0, w, h)
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        if self.engine == "hybrid":
            fw, fh = frame or (w, h)
            boxes = [b for b in self._detect(bgr, det_scale(fw, fh)) if _centre_in(b, keep)]
            return self._recognise(rgb, boxes)
        det = self._rapid().text_det
        saved = det.limit_type
        det.limit_type = "max"
        try:
            lines = self._read_array(bgr, rgb)
        finally:
            det.limit_type = saved
        return [b for b in lines if keep[0] <= b.x + b.w / 2 < keep[2] and keep[1] <= b.y + b.h / 2 < keep[3]]

    def _read_array(self, bgr: Any, rgb: Any) -> list[TextBox]:
        if self.engine == "hybrid":
            h, w = bgr.shape[:2]
            return self._recognise(rgb, self._detect(bgr, det_scale(w, h)))
        result, _ = self._rapid()(bgr, **CALL_OPTIONS)
        out = []
        for points, text, score in result or []:
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            text = split_merged(str(text)) if self.split_words else str(text)
            out.append(TextBox(text, int(min(xs)), int(min(ys)), int(max(xs) - min(xs)),
                               int(max(ys) - min(ys)), float(score)))
        return out

    def _detect(self, bgr: Any, scale: float) -> list[Any]:
        """RapidOCR's DB text detector on a BGR image at ``scale``: each line's corner points, in reading order.

        RapidOCR's own pass stretches the image to a multiple of the network's stride (1080 rows become 1088);
        here it is padded instead (edge pixels repeated), so every pixel keeps its place on the stride grid.
        """
        import cv2
        import numpy as np

        rapid = self._rapid()
        det = rapid.text_det
        h, w = bgr.shape[:2]
        img = bgr if scale == 1 else cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))))
        sh, sw = img.shape[:2]
        ph, pw = -(-sh // DET_STRIDE) * DET_STRIDE, -(-sw // DET_STRIDE) * DET_STRIDE
        if (ph, pw) != (sh, sw):
            img = cv2.copyMakeBorder(img, 0, ph - sh, 0, pw - sw, cv2.BORDER_REPLICATE)
        x = ((img.astype(np.float32) / 255.0 - np.asarray(det.mean)) / np.asarray(det.std)).transpose(2, 0, 1)
        preds = det.infer(x[None].astype(np.float32))[0]
        boxes, _scores = det.postprocess_op(preds, (ph / scale, pw / scale))
        if not len(boxes):
            return []
        boxes = det.filter_tag_det_res(boxes, (h, w))
        return list(rapid.sorted_boxes(boxes)) if len(boxes) else []

    def _recognise(self, rgb: Any, boxes: list[Any]) -> list[TextBox]:
        """Tesseract's reading of each line: the detected boxes (corner points) joined into rows
        (:func:`merge_rows`), each cut to its ink (:func:`_ink`), read on the grey image at ``TESS_SCALE``.
        A line's box is its ink's. The same pixels give the same reading, so a line whose pixels were read
        before (an unchanged menu bar, a terminal line that scrolled up) is taken from the last ``LINE_CACHE``
        readings instead of being read again."""
        import numpy as np
        from PIL import Image

        if not len(boxes):
            return []
        api = self._tesseract()
        img = Image.fromarray(rgb).convert("L")
        grey1 = np.asarray(img)
        img = img.resize((round(img.width * TESS_SCALE), round(img.height * TESS_SCALE)), Image.Resampling.LANCZOS)
        grey = np.asarray(img)
        out = []
        for rect in merge_rows([_rect(p) for p in boxes]):
            ink = _ink(grey1, rect)
            if ink is None:
                continue
            window = self._window(grey, ink)
            if window[0] > max(0, int(ink[0] * TESS_SCALE) - TESS_MARGIN_X) or \
                    window[2] < min(grey.shape[1], int(ink[2] * TESS_SCALE) + TESS_MARGIN_X):
                # a window border was the box's first or last ink: the line's own ink lies inside it
                ink = _ink(grey1, (float(np.ceil(window[0] / TESS_SCALE)), ink[1], window[2] / TESS_SCALE, ink[3] - 1))
                if ink is None:
                    continue
                window = self._window(grey, ink, within=(window[0], window[2]))
            rx0, ry0, rx1, ry1 = ink
            x0, y0, x1, y1 = window
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            pixels = grey[y0:y1, x0:x1]
            key = hashlib.blake2b(bytes(str(pixels.shape), "ascii") + pixels.tobytes(), digest_size=16).digest()
            read = self._lines.get(key)
            if read is None:
                api.SetImage(Image.fromarray(np.pad(pixels, TESS_PAD, constant_values=int(np.median(pixels)))))
                read = " ".join(api.GetUTF8Text().split()), api.MeanTextConf() / 100
                self._lines[key] = read
                self.misses += 1
                if len(self._lines) > self.line_cache:
                    self._lines.popitem(last=False)
            else:
                self._lines.move_to_end(key)
                self.hits += 1
            if read[0]:
                out.append(TextBox(read[0], int(rx0), int(ry0), int(rx1 - rx0), int(ry1 - ry0), read[1]))
        return out

    @staticmethod
    def _window(grey: Any, ink: tuple[int, int, int, int],
                within: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
        """The part of the read-scale image Tesseract reads for a line: its ink and a margin, without a window
        border at either end. A border is told from a glyph over rows half a line above and below the ink,
        where a border still runs and a letter does not; it is looked for in the pixels, not the detector's box
        (which moves with what surrounds the line), so the same line gives the same window on every frame."""
        h, w = grey.shape
        x0, x1 = max(0, int(ink[0] * TESS_SCALE) - TESS_MARGIN_X), min(w, int(ink[2] * TESS_SCALE) + TESS_MARGIN_X)
        y0, y1 = max(0, int(ink[1] * TESS_SCALE) - TESS_MARGIN), min(h, int(ink[3] * TESS_SCALE) + TESS_MARGIN)
        if within is not None:
            return max(x0, within[0]), y0, min(x1, within[1]), y1
        reach = (y1 - y0) // 2
        x0, x1 = _inner(grey[max(0, y0 - reach):min(h, y1 + reach)], x0, x1)
        return x0, y0, x1, y1

    __call__ = read

    def close(self) -> None:
        if self._tess is not None:
            self._tess.End()
        self._tess = None
        self._engine = None
        self._lines.clear()


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
