"""The engine itself: RapidOCR's detector finds the lines, Tesseract (or RapidOCR's recogniser) reads them.

Its models load once, at first use. No egress: onnxruntime's native library (1.32 on Linux) ships Microsoft 1DS
telemetry that resolves and posts to a collector every few seconds and keeps a store under ~/.cache/Microsoft;
its ``disable_telemetry_events()`` does not stop it, the environment variable ``ORT_DISABLE_TELEMETRY=1`` does
(measured with strace, see tests/test_no_egress.py). It is set before RapidOCR (and so onnxruntime) is first
imported. Tesseract makes no network calls.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import glob
import hashlib
import io
import os
from pathlib import Path
from typing import Any

from deskscribe.errors import ModelError
from deskscribe.models.ocr_engine.boxes import TextBox, Word
from deskscribe.models.ocr_engine.glyphs import reread
from deskscribe.models.ocr_engine.lines import (
    centre_in,
    det_scale,
    ink_of,
    merge_rows,
    missed_rows,
    read_scale,
    rect_of,
    scaled_band,
    split_lines,
    without_borders,
)
from deskscribe.models.ocr_engine.options import (
    CALL_OPTIONS,
    DEFAULT_ENGINE,
    DET_STRIDE,
    LINE_CACHE,
    MISSED_ALIGN,
    TESS_BLACKLIST,
    TESS_LANG,
    TESS_MARGIN,
    TESS_MARGIN_X,
    TESS_PAD,
    TESS_PSM,
    TESS_SCALE,
    check_engine,
    tessdata_dir,
)
from deskscribe.models.ocr_engine.words import prompt_home, split_merged


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


Words = tuple[tuple[str, int, int, int, int], ...]  # a line's words as Tesseract read them: text, x0, y0, x1, y1


def _line_words(api: Any) -> Words:
    """The words Tesseract read on its current image (one line, psm 7), each with its box in that image."""
    from tesserocr import RIL, iterate_level

    found = api.GetIterator()
    if found is None:
        return ()
    out = []
    for word in iterate_level(found, RIL.WORD):
        try:
            text = word.GetUTF8Text(RIL.WORD).strip()
        except RuntimeError:  # "No text returned": an empty word (a line Tesseract read as nothing)
            continue
        box = word.BoundingBox(RIL.WORD)
        if text and box:
            out.append((text, *box))
    return tuple(out)


def _line_symbols(api: Any) -> list[tuple[str, int, int, int, int]]:
    """The symbols Tesseract read on its current image, each with its box in the line's own pixels (the padding
    taken off)."""
    from tesserocr import RIL, iterate_level

    found = api.GetIterator()
    if found is None:
        return []
    out = []
    for symbol in iterate_level(found, RIL.SYMBOL):
        try:
            text = symbol.GetUTF8Text(RIL.SYMBOL)
        except RuntimeError:
            continue
        box = symbol.BoundingBox(RIL.SYMBOL)
        if text and text.strip() and box:
            out.append((text.strip(), box[0] - TESS_PAD, box[1] - TESS_PAD, box[2] - TESS_PAD, box[3] - TESS_PAD))
    return out


def _glyph_look(api: Any, pixels: Any, scale: float, text: str, words: Words) -> tuple[str, Words]:
    """The line as its glyphs' second look reads it (glyphs.reread: a monospace line rebuilt cell by cell), with
    its words' boxes in the padded image as Tesseract's are; the line as read when it is not monospace."""
    again = reread(_line_symbols(api), pixels, scale, text)
    if again is None or not again[0]:
        return text, words
    return again[0], tuple((w, x0 + TESS_PAD, y0 + TESS_PAD, x1 + TESS_PAD, y1 + TESS_PAD)
                           for w, (x0, y0, x1, y1) in again[1])


def _frame_words(words: Words, origin: tuple[float, float], scale: float) -> tuple[Word, ...]:
    """A line's words placed in the frame: Tesseract's boxes are in the read window (at ``scale``, with
    ``TESS_PAD`` px around it) whose corner is ``origin`` in the scaled frame."""
    ox, oy = origin[0] - TESS_PAD, origin[1] - TESS_PAD
    return tuple(Word(t, round((ox + x0) / scale), round((oy + y0) / scale), max(1, round((x1 - x0) / scale)),
                      max(1, round((y1 - y0) / scale))) for t, x0, y0, x1, y1 in words)


class OcrEngine:
    """The configured engine with the one set of options; its models load once, at first use."""

    def __init__(self, engine: str = DEFAULT_ENGINE, *, split_words: bool = True, threads: int = 0,
                 line_cache: int = LINE_CACHE, line_scales: bool = True, prompt_fix: bool = True,
                 glyph_look: bool = True) -> None:
        self.engine = check_engine(engine)
        self._engine: Any = None  # RapidOCR (both engines use its detector)
        self._tess: Any = None  # tesserocr's API (hybrid)
        self.line_cache = line_cache  # readings kept by their pixels; 0: read every line (bench/ocr_bench.py)
        self.hits = self.misses = 0  # line readings taken from the cache / read by Tesseract
        self._lines: collections.OrderedDict[bytes, tuple[str, float, Words]] = collections.OrderedDict()
        self.split_words = split_words  # False only to measure RapidOCR's raw text (bench/ocr_bench.py)
        # False only to measure the reading before per-line scales (every line at TESS_SCALE, Lanczos, curly
        # quotes allowed: bench/ocr_bench.py); not in the engine key
        self.line_scales = line_scales
        # False only to measure the raw reading (bench/ocr_xterm_bench.py): a prompt's '"' for "~" left as read
        self.prompt_fix = prompt_fix and line_scales
        # False only to measure the reading without the glyphs' second look (bench/ocr_xterm_bench.py)
        self.glyph_look = glyph_look and line_scales
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
                if self.line_scales:
                    self._tess.SetVariable("tessedit_char_blacklist", TESS_BLACKLIST)
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
            boxes = [b for b in self._detect(bgr, det_scale(fw, fh)) if centre_in(b, keep)]
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
        (:func:`merge_rows`), each cut to its ink (:func:`ink_of`), read on the grey image at the scale its ink's
        height asks for (:func:`read_scale`: small bitmap fonts larger). A line's box is its ink's. The same
        pixels give the same reading, so a line whose pixels were read before (an unchanged menu bar, a terminal
        line that scrolled up) is taken from the last ``LINE_CACHE`` readings instead of being read again."""
        import numpy as np
        from PIL import Image

        if not len(boxes):
            return []
        grey1 = np.asarray(Image.fromarray(rgb).convert("L"))
        rects = [r for row in merge_rows([rect_of(p) for p in boxes]) for r in split_lines(grey1, row)]
        lines = [line for line in (self._line(grey1, rect) for rect in rects) if line is not None]
        if self.line_scales:  # a terminal's rows between two boxed lines that the detector left out
            for rect in missed_rows(grey1, [ln[0] for ln in lines]):
                line = self._line(grey1, rect)
                if line is not None:  # read in its place: after the line above it in its column
                    at = max((i for i, ln in enumerate(lines) if ln[0][1] < line[0][1]
                              and abs(ln[0][0] - line[0][0]) <= MISSED_ALIGN + 6), default=len(lines) - 1)
                    lines.insert(at + 1, line)
        out = []
        for (rx0, ry0, rx1, ry1), pixels, scale, origin in lines:
            read = self._read_line(pixels, scale)
            if read[0]:
                out.append(TextBox(read[0], int(rx0), int(ry0), int(rx1 - rx0), int(ry1 - ry0), read[1],
                                   _frame_words(read[2], origin, scale)))
        return out

    def _line(self, grey1: Any, rect: Any) -> tuple[tuple[int, int, int, int], Any, float, tuple[float, float]] | None:
        """A row's ink (frame pixels), the pixels Tesseract reads for it (at its read scale), that scale and
        the pixels' corner in the frame scaled by it (where the words Tesseract finds are placed from)."""
        import math

        ink = ink_of(grey1, rect)
        if ink is None:
            return None
        scale = read_scale(ink[3] - ink[1]) if self.line_scales else TESS_SCALE
        band, (ox, oy) = scaled_band(grey1, ink, scale)
        window = self._window(band, ink, scale=scale, origin=(ox, oy))
        if window[0] > max(0, int((ink[0] - ox) * scale) - TESS_MARGIN_X) or \
                window[2] < min(band.shape[1], int((ink[2] - ox) * scale) + TESS_MARGIN_X):
            # a window border was the box's first or last ink: the line's own ink lies inside it
            left, right = ox + window[0] / scale, ox + window[2] / scale
            ink = ink_of(grey1, (float(math.ceil(left)), ink[1], right, ink[3] - 1))
            if ink is None:
                return None
            scale = read_scale(ink[3] - ink[1]) if self.line_scales else TESS_SCALE
            band, (ox, oy) = scaled_band(grey1, ink, scale)
            within = (int((left - ox) * scale), int((right - ox) * scale))
            window = self._window(band, ink, scale=scale, origin=(ox, oy), within=within)
        x0, y0, x1, y1 = window
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return ink, band[y0:y1, x0:x1], scale, (ox * scale + x0, oy * scale + y0)

    def _read_line(self, pixels: Any, scale: float) -> tuple[str, float, Words]:
        """Tesseract's text, mean confidence (0-1) and words for one line's pixels, from the cache when read
        before."""
        import numpy as np
        from PIL import Image

        opts = f"{pixels.shape}{scale}{self.prompt_fix}{self.glyph_look}"
        key = hashlib.blake2b(opts.encode("ascii") + pixels.tobytes(), digest_size=16).digest()
        read = self._lines.get(key)
        if read is not None:
            self._lines.move_to_end(key)
            self.hits += 1
            return read
        api = self._tesseract()
        api.SetImage(Image.fromarray(np.pad(pixels, TESS_PAD, constant_values=int(np.median(pixels)))))
        text = " ".join(api.GetUTF8Text().split())  # recognises: the words are there after it
        words = _line_words(api)
        if self.glyph_look and scale > TESS_SCALE:  # small bitmap text (a terminal's) only: GTK's read lower
            text, words = _glyph_look(api, pixels, scale, text, words)
        if self.prompt_fix and words:
            words = ((prompt_home(words[0][0]), *words[0][1:]), *words[1:])
        read = prompt_home(text) if self.prompt_fix else text, api.MeanTextConf() / 100, words
        self._lines[key] = read
        self.misses += 1
        if len(self._lines) > self.line_cache:
            self._lines.popitem(last=False)
        return read

    @staticmethod
    def _window(grey: Any, ink: tuple[int, int, int, int], within: tuple[int, int] | None = None,
                scale: float = TESS_SCALE, origin: tuple[int, int] = (0, 0)) -> tuple[int, int, int, int]:
        """The part of the read-scale image ``grey`` (the frame from ``origin`` on, at ``scale``) Tesseract reads
        for a line: its ink and a margin, without a window border at either end. A border is told from a glyph
        over rows half a line above and below the ink, where a border still runs and a letter does not; it is
        looked for in the pixels, not the detector's box (which moves with what surrounds the line), so the same
        line gives the same window on every frame."""
        h, w = grey.shape
        ox, oy = origin
        x0 = max(0, int((ink[0] - ox) * scale) - TESS_MARGIN_X)
        x1 = min(w, int((ink[2] - ox) * scale) + TESS_MARGIN_X)
        y0 = max(0, int((ink[1] - oy) * scale) - TESS_MARGIN)
        y1 = min(h, int((ink[3] - oy) * scale) + TESS_MARGIN)
        if within is not None:
            return max(x0, within[0]), y0, min(x1, within[1]), y1
        reach = (y1 - y0) // 2
        x0, x1 = without_borders(grey[max(0, y0 - reach):min(h, y1 + reach)], x0, x1)
        return x0, y0, x1, y1

    __call__ = read

    def close(self) -> None:
        if self._tess is not None:
            self._tess.End()
        self._tess = None
        self._engine = None
        self._lines.clear()
