"""Which engine, which version, which options: the key under which stored OCR boxes are trusted.

:func:`engine_key` names engine + version + every option that changes what is read; describe stores it with
each frame's boxes (``captions.ocr_boxes``) and export reuses stored boxes only under the same key.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
from pathlib import Path
from typing import Any

from deskscribe import choices
from deskscribe.errors import ModelError

ENGINES = tuple(choices.OCR_ENGINES)  # the names: deskscribe/choices.py (config reads them there)
DEFAULT_ENGINE = choices.DEFAULT_OCR_ENGINE
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
# Small text is read larger (lines.read_scale): a line whose ink is under SMALL_INK px (xterm's default bitmap
# font 6×13 inks 9-12 px; GTK's default UI font 13 px and more) is enlarged to about SMALL_TARGET px of ink,
# pixel for pixel, then smoothed by a Gaussian of SMALL_BLUR frame px. Measured on a real default-font xterm
# at 1920×1080 (bench/ocr_bench.py --part xterm): targets 24-44 px × Lanczos/nearest/bicubic/bilinear ×
# blur 0-0.7 × thresholding; Lanczos alone at any scale gained < 0.03 word accuracy, nearest + blur 0.6 at 44 px
# the most. Text at 13 px and up reads as before.
SMALL_INK = 13
SMALL_TARGET = 44
SMALL_MAX_SCALE = 5.0
SMALL_BLUR = 0.6
# A terminal's block caret (lines._blocks): a solid rectangle at least CARET_MIN px tall and CARET_WIDTH of its
# height wide (xterm's 6×13 cell: 6×13); a glyph's stem is narrower.
CARET_MIN = 8
CARET_WIDTH = 0.35
BAND_PAD = 8  # frame px around a line's ink cut out before scaling: margins, border search and the filter's reach
# Screen text is typed in ASCII quotes; Tesseract's LSTM read a bitmap font's ' as ‘ and ~ as “ (and the curly
# quotes a GTK dialog shows read as straight ones, which changes no word a person reads).
TESS_BLACKLIST = "‘’“”®©™"  # and xterm's small '#' read as '®' (a held-out session's every prompt)
# Terminal rows the detector boxed none of (lines.missed_rows): lines whose ink starts within MISSED_ALIGN px are
# one column; two of its lines further apart than MISSED_GAP of their ink's height have rows between them looked
# at; a run of inked rows MISSED_MIN px tall there is a line. xterm's 6×13: 9-12 px of ink, 1-4 px between
# lines; a missed line leaves 14-17 px.
MISSED_ALIGN = 2
MISSED_GAP = 0.8
MISSED_MIN = 4
# A small line's ink past the detector's box (lines.ink_of): ink less than REACH_GAP of the line's ink height after
# its last ink is still the line's (xterm's 6×13 spaces words by one 6 px cell: 0.5-0.7 of 9-12 px of ink).
REACH_GAP = 0.9
# part of the key; "split": boxes holding two lines are cut between them (lines.split_lines)
READING_VERSION = (f"lines{SMALL_INK},{SMALL_TARGET},{SMALL_MAX_SCALE},{SMALL_BLUR},{BAND_PAD};bl2;split;"
                   f"caret{CARET_MIN},{CARET_WIDTH};home;glyphs1;missed{MISSED_ALIGN},{MISSED_GAP},{MISSED_MIN};reach{REACH_GAP}")
TESS_MARGIN = 2  # px (at the read scale) above and below each line's ink
TESS_MARGIN_X = 4  # px (at the read scale) before and after it
TESS_PAD = 6  # px (read scale) of the line's own background put around it: the room Tesseract needs, no neighbour
LINE_CACHE = 4096  # Tesseract readings kept, by the line's pixels (see OcrEngine._recognise)
ROW_GAP = 1.0  # boxes of one row closer than this many line heights are one line (see merge_rows)
EDGE_SCAN = 8  # px (at the read scale) at each side of a box searched for a window border (see lines.without_borders)
EDGE_COVER = 0.85  # a column this much darker or lighter than the box's background from top to bottom is a line
# The hybrid's detector pass (see OcrEngine._detect): RapidOCR's own limits on the image it reads (a short side
# under 736 px is scaled up, a long side over 2000 px down), but padded to the network's stride instead of
# stretched to it, so a crop aligned to the stride is read exactly as that part of the whole frame is.
DET_MIN_SIDE = 736
DET_MAX_SIDE = 2000
DET_STRIDE = 32
DET_VERSION = "pad32"  # part of the key
WORDS_VERSION = "words"  # the hybrid keeps each line's word boxes (storage/boxes.py): boxes stored without are re-read
# Where Debian/Ubuntu (4.x and 5.x), Fedora and Homebrew put the language data, after $TESSDATA_PREFIX.
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata")


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
                f"m={TESS_MARGIN},{TESS_MARGIN_X},{TESS_PAD};edge={EDGE_SCAN};rows={ROW_GAP};ink;{READING_VERSION};"
                f"{WORDS_VERSION}")
    opts = ",".join(f"{k}={int(v) if isinstance(v, bool) else v}" for k, v in sorted(CALL_OPTIONS.items()))
    return f"{version};{opts};{SPLIT_VERSION}"
