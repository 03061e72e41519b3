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
    # 'c' read as 'e' (no bar across its middle reaching its right side), '~' read as '"'
    ("xterm_wc", 'dana@desk:"/demo# we -c notes.txt', "dana@desk:~/demo# wc -c notes.txt"),
    # 'w' read as 'u' (its middle stroke), a '-' whose box spans the dashes and the '5' put in the last dash cell
    ("xterm_drwx", "drux------ 5 root root 4096 Dec 5 16:53 ..", "drwx------ 5 root root 4096 Dec 5 16:53 .."),
    # the same on another minute's listing: 3 of its 29 glyph boxes off the grid, still a terminal's line
    ("xterm_drwx_late", "drux------ 3 root root 4096 Dec 5 17:08 ..", "drwx------ 3 root root 4096 Dec 5 17:08 .."),
    # a space read between two adjacent inked cells ('k' and ':') is no space; the dropped '~' put back
    ("xterm_prompt_space", "dana@desk :/demo#", "dana@desk:~/demo#"),
    # '@' read as 'l': a ring as wide as the cell
    ("xterm_at", 'danaldesk:"#', "dana@desk:~#"),
    # '#' read as '*' (two stems apart at its top and bottom)
    ("xterm_hash", 'dana@desk:"* cd demo', "dana@desk:~# cd demo"),
    # 'I' whose smoothed stem is wide: its bar is past the stem by as much on both sides (an 'l' has a flag left)
    ("xterm_invite", 'dana@desk:"/demo# echo Invite Dana and Luis', "dana@desk:~/demo# echo Invite Dana and Luis"),
    # a '.' read on a cell that holds no ink at all (between the time and '..') is not there
    ("xterm_ls_dotdot", "drwx------ 3 root root 4096 Dec 5 17:13...", "drwx------ 3 root root 4096 Dec 5 17:13 .."),
    # many boxes spanning glyphs: the grid told by the boxes that tell; ',' without ink below the baseline is '.'
    ("xterm_grep_words", "dana@desk:/demo# grep -n beta words,txt", "dana@desk:~/demo# grep -n beta words.txt"),
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


XTERM = ("xterm_cat_notes", "xterm_prompt_demo", "xterm_ls_dot", "xterm_wc", "xterm_drwx", "xterm_prompt_space",
         "xterm_at", "xterm_grep_words", "xterm_drwx_late", "xterm_hash", "xterm_invite",
         "xterm_ls_dotdot")


@pytest.mark.parametrize("name", XTERM)
def test_the_grid_is_the_fonts_cell_in_screen_pixels_and_the_line_a_terminals(name: str) -> None:
    pixels, meta = _line(name)
    found = glyphs.grid(meta["symbols"], meta["scale"], pixels.shape[0])
    assert found is not None and found[0] == pytest.approx(6 * meta["scale"])  # the 6×13 font
    assert glyphs.steady(meta["symbols"], *found, pixels.shape[0])


@pytest.mark.parametrize("name", [
    # DejaVu Sans at 11 px (bench/ocr_textset.py): 12 of its 13 glyph boxes fall on a grid, further off it than a
    # terminal's
    "gtk_sans_find",
    # DejaVu Sans at 16 px (test_ocr_engine.py's screen): 18 of 22 on a grid of 5 px, finer than its glyphs
    "gtk_sans_book",
])
def test_proportional_text_that_fits_a_grid_is_no_terminals_line(name: str) -> None:
    meta = json.loads((DATA / f"{name}.json").read_text())  # the symbols Tesseract read
    symbols = [tuple(s) for s in meta["symbols"]]
    found = glyphs.grid(symbols, meta["scale"], meta["height"])
    assert found is not None
    assert not glyphs.steady(symbols, *found, meta["height"])


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
    smeared = ell.copy()
    smeared[0:4, 12:13] = True  # the smoothing's pixel right of the flag's stem: still an 'l'
    assert glyphs.decide("I", (0, 0, 20, 40), 0, 40, 24.0, smeared, 4.0) == "l"


def _cell(name: str, text: str) -> tuple[np.ndarray, float]:
    """The ink box of the cell the recogniser put ``text`` in (its first such symbol) on a saved line."""
    pixels, meta = _line(name)
    pitch, phase = glyphs.grid(meta["symbols"], meta["scale"], pixels.shape[0]) or (0.0, 0.0)
    mask = glyphs.ink_mask(pixels)
    boxes = glyphs.cell_boxes(mask, pitch, phase)
    x0 = next(s[1] for s in meta["symbols"] if s[0] == text)
    box = boxes[round((x0 - phase) / pitch)]
    assert box is not None
    return mask[box[1]:box[3], box[0]:box[2]], pitch


def test_c_and_e_w_and_u_at_by_their_ink_on_real_cells() -> None:
    wc_w, pitch = _cell("xterm_wc", "w")  # read 'w' (right)
    assert glyphs.letter("u", wc_w, pitch) == "w"
    cee, _ = _cell("xterm_wc", "c")  # the 'c' of "-c", read right
    assert glyphs.letter("e", cee, pitch) == "c"
    ee, _ = _cell("xterm_wc", "e")  # the first 'e' read: the 'e' of "desk"
    assert glyphs.letter("c", ee, pitch) == "e"
    ring, _ = _cell("xterm_at", "l")  # the '@' read as 'l'
    assert glyphs.letter("l", ring, pitch) == "@"
    assert glyphs.letter("t", ring, pitch) == "@"
    you, _ = _cell("xterm_drwx", "u")  # the 'w' of drwx read as 'u'
    assert glyphs.letter("u", you, pitch) == "w"


def _drawn(rows: list[str], px: int = 4) -> np.ndarray:
    return np.kron(np.array([[c == "#" for c in r] for r in rows], dtype=bool), np.ones((px, px), dtype=bool))


def test_letters_told_on_drawn_glyphs() -> None:
    pitch = 24.0  # 6 px cells at 4x
    u = _drawn(["#...#", "#...#", "#...#", "#...#", "#..##", ".##.#"])
    w = _drawn(["#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."])
    c = _drawn([".###.", "#...#", "#....", "#....", "#...#", ".###."])
    e = _drawn([".###.", "#...#", "#####", "#....", "#...#", ".###."])
    ell = _drawn(["##.", ".#.", ".#.", ".#.", ".#.", ".#.", ".#.", "###"])
    tee = _drawn([".#...", ".#...", "####.", ".#...", ".#...", ".#..#", "..##."])
    assert glyphs.letter("w", u, pitch) == "u" and glyphs.letter("u", w, pitch) == "w"
    assert glyphs.letter("e", c, pitch) == "c" and glyphs.letter("c", e, pitch) == "e"
    assert glyphs.letter("l", ell, pitch) == "l" and glyphs.letter("t", tee, pitch) == "t"  # no ring: as read
    hash_ = _drawn([".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."])
    star = _drawn(["..#..", "#.#.#", ".###.", "#.#.#", "..#.."])
    assert glyphs.letter("*", hash_, pitch) == "#" and glyphs.letter("*", star, pitch) == "*"
    assert glyphs.letter("a", e, pitch) == "a"  # in no confusable set


def _bitmap(rows: list[str], scale: int = 4) -> np.ndarray:
    return np.kron(np.array([[c == "#" for c in r] for r in rows]), np.ones((scale, scale), dtype=bool))


def test_an_l_read_as_a_closing_bracket_is_told_by_its_bottom_bar() -> None:
    """xterm's 6×13 'l' (a held-out live session, 2026-12-05: `wc -l` read as `wc -]`) has a bar on both sides of
    its stem at the bottom; ']' only to the left. Drawn at a read scale of 4."""
    ell = _bitmap(["##.", ".#.", ".#.", ".#.", ".#.", ".#.", ".#.", "###"])
    bracket = _bitmap(["###", "..#", "..#", "..#", "..#", "..#", "..#", "###"])
    for mask, want in ((ell, "l"), (bracket, "]")):
        assert glyphs.decide("]", (0, 0, mask.shape[1], mask.shape[0]), 0, mask.shape[0], 24.0, mask, 4.0) == want
