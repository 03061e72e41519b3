"""The one OCR engine: which engine, which version, which call options, and how its boxes are stored.

The describe stage (models/ocr.py, captions) and export's redaction (export/images.py) both read pixels
through :class:`OcrEngine`, with the same options, so the boxes describe stores in ``captions.ocr_boxes``
are exactly what export's fresh pass would see; :func:`engine_key` names engine + version + options, and
stored boxes are trusted only under the same key. It is the one part of the models stage that export may
import (tests/test_layers.py): redaction must read pixels exactly as describe did. So it imports nothing of
models outside this package.

Modules: ``options`` (engines, versions, options, the key), ``engine`` (detection and reading), ``lines``
(where a line's pixels are), ``words`` (RapidOCR's merged words split), ``boxes`` (the stored shape).

Two engines (``models.ocr_engine``, names in deskscribe/choices.py), picked by measurement
(bench/results/ocr_bench.md):
- ``hybrid`` (the default): RapidOCR's text detector finds the lines (it finds them on any background:
  wallpapers, dark themes, coloured bars), Tesseract 5's LSTM recogniser reads each one, in this process
  (tesserocr, whose wheel bundles libtesseract; Debian's English data, ``tesseract-ocr-eng``). Tesseract
  keeps English words apart and reads a line several times faster than RapidOCR's recogniser on 2 cores.
  Tesseract's own page layout was measured too: it found no text at all on a Windows desktop (light text on
  a blue wallpaper) and split ``ls -la`` columns, so only its recogniser is used.
- ``rapidocr``: RapidOCR's PP-OCRv4 detector and recogniser (inside the wheel). Its Chinese-trained
  recogniser drops the spaces between English words, which :func:`split_merged` puts back.
"""

from deskscribe.models.ocr_engine.boxes import TextBox, Word, decode_boxes, encode_boxes, words_of
from deskscribe.models.ocr_engine.engine import OcrEngine
from deskscribe.models.ocr_engine.options import DEFAULT_ENGINE, DET_STRIDE, ENGINES, engine_key, engine_version
from deskscribe.models.ocr_engine.words import split_merged

__all__ = ["DEFAULT_ENGINE", "DET_STRIDE", "ENGINES", "OcrEngine", "TextBox", "Word", "decode_boxes", "encode_boxes",
           "engine_key", "engine_version", "split_merged", "words_of"]
