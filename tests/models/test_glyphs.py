"""The glyphs' second look (models/ocr_engine/glyphs.py) on real line crops: three lines of a default-font xterm
(the bitmap font "fixed" 6×13, JPEG q80) as Tesseract was given them (read scale, smoothed), with the symbols it
read on them (tests/models/data/xterm_*.png and .json, saved from bench/ocr_xterm_bench.py's frames)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deskscribe.models.ocr_engine import glyphs

DATA = Path(__file__).parent / "data"


def _line(name: str) -> tuple[np.ndarray, dict]:
    meta = json.loads((DATA / f"{name}.json").read_text())
    meta["symbols"] = [tuple(s) for s in meta["symbols"]]
    return np.asarray(Image.open(DATA / f"{name}.png").convert("L")), meta


@pytest.mark.parametrize(("name", "read", "rebuilt"), [
    # '~' read as '"' (its ink: a mark at the top of the cell, wider than tall), '.' read as ',' (no ink below
    # the baseline)
    ("xterm_cat_notes", 'dana@desk:"# cat demo/notes,txt', "dana@desk:~# cat demo/notes.txt"),
    # '~' dropped: an inked cell no symbol covers, whose ink is a tilde
    ("xterm_prompt_demo", "dana@desk:/demo#", "dana@desk:~/demo#"),
    # a space dropped before ls's "." entry: a blank cell between the time and the dot
    ("xterm_ls_dot", "drwxr-xr-x 2 root root 4096 Dec 5 16:26.", "drwxr-xr-x 2 root root 4096 Dec 5 16:26 ."),
])
def test_a_terminal_line_is_rebuilt_on_its_character_grid(name: str, read: str, rebuilt: str) -> None:
    pixels, meta = _line(name)
    assert meta["read"] == read
    again = glyphs.reread(meta["symbols"], pixels, meta["scale"], read)
    assert again is not None
    assert again[0] == rebuilt
    assert [w for w, _box in again[1]] == rebuilt.split()
    boxes = [box for _w, box in again[1]]
    assert all(b[0] < b[2] <= pixels.shape[1] and b[1] < b[3] <= pixels.shape[0] for b in boxes)
    assert all(a[2] <= b[0] for a, b in zip(boxes, boxes[1:]))  # words in order, apart


def test_the_grid_is_the_fonts_cell_in_screen_pixels() -> None:
    for name in ("xterm_cat_notes", "xterm_prompt_demo", "xterm_ls_dot"):
        pixels, meta = _line(name)
        found = glyphs.grid(meta["symbols"], meta["scale"], pixels.shape[0])
        assert found is not None and found[0] == pytest.approx(6 * meta["scale"]), name  # the 6×13 font


def test_proportional_text_has_no_grid() -> None:
    scale, x, symbols = 4.0, 0.0, []
    for ch, width in zip("Preferences Keyboard", [7, 4, 6, 4, 6, 4, 6, 6, 5, 6, 5, 3, 7, 6, 6, 7, 6, 6, 4, 7]):
        if ch != " ":
            symbols.append((ch, round(x), 8, round(x + (width - 1) * scale), 48))
        x += width * scale
    assert glyphs.grid(symbols, scale, 52) is None


def test_an_inked_cell_whose_shape_is_no_mark_stays_unread() -> None:
    pixels, meta = _line("xterm_cat_notes")
    without_k = [s for s in meta["symbols"] if s[0] != "k"]  # the recogniser dropped a letter
    again = glyphs.reread(without_k, pixels, meta["scale"], meta["read"])
    assert again is not None and again[0] == "dana@des:~# cat demo/notes.txt"  # nothing made up in its place


def test_marks_are_told_by_where_their_ink_sits() -> None:
    top, base, pitch, scale = 3, 43, 27.0, 4.5
    assert glyphs.shape((275, 6, 295, 15), top, base, pitch, scale) == "~"  # top of the cell, wider than tall
    assert glyphs.shape((739, 34, 749, 44), top, base, pitch, scale) == "."  # small, on the baseline
    assert glyphs.shape((739, 36, 749, 52), top, base, pitch, scale) == ","  # through it
    assert glyphs.shape((275, 22, 297, 26), top, base, pitch, scale) == "-"  # flat, across the middle
    assert glyphs.shape((275, 4, 297, 43), top, base, pitch, scale) is None  # a letter
    mask = np.zeros((50, 30), bool)
    assert glyphs.decide(",", (739, 34, 749, 44), top, base, pitch, mask, scale) == "."
    assert glyphs.decide(";", (739, 10, 749, 53), top, base, pitch, mask, scale) == ";"
    assert glyphs.decide("v", (0, 16, 20, 56), top, base, pitch, mask, scale) == "y"
    assert glyphs.decide('"', (275, 6, 295, 15), top, base, pitch, mask, scale) == "~"
    assert glyphs.decide("*", (275, 14, 295, 30), top, base, pitch, mask, scale) == "*"  # mid-line: a star
    assert glyphs.decide("a", (0, 16, 20, 43), top, base, pitch, mask, scale) == "a"  # in no confusable set


def test_l_and_capital_i_by_the_bar_at_the_top_of_the_stem() -> None:
    ell = np.zeros((40, 20), bool)
    ell[0:4, 4:10] = True  # the flag to the left
    ell[:, 8:12] = True  # the stem
    ell[36:40, 4:16] = True  # the foot
    eye = ell.copy()
    eye[0:4, 4:16] = True  # a bar on both sides
    assert glyphs.decide("I", (0, 0, 20, 40), 0, 40, 24.0, ell, 4.0) == "l"
    assert glyphs.decide("l", (0, 0, 20, 40), 0, 40, 24.0, eye, 4.0) == "I"
