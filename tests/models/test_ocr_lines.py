"""Where a terminal's lines are when the detector boxed them badly (models/ocr_engine/lines.py): a row it left out
between two it boxed, a row it cut short before a dot. Grey frames drawn
with numpy: ink is dark on a light background, as xterm's default colours, in 6×13 cells."""

from __future__ import annotations

import numpy as np

from deskscribe.models.ocr_engine.lines import ink_of, missed_rows

PITCH = 13


def _terminal(rows: list[str]) -> np.ndarray:
    """A light frame with one "line" per row: each non-space character the outline of a 5×9 box in its 6×13 cell,
    a '-' a 4×1 bar at mid-height, a '.' a 2×2 dot on the baseline."""
    grey = np.full((20 + PITCH * len(rows), 400), 230, np.uint8)
    for r, text in enumerate(rows):
        top = 10 + r * PITCH
        for c, ch in enumerate(text):
            x = 10 + 6 * c
            if ch == "-":
                grey[top + 5, x + 1:x + 5] = 20
            elif ch == ".":
                grey[top + 7:top + 9, x + 2:x + 4] = 20
            elif ch != " ":  # a letter's outline (a solid cell would be a block caret)
                grey[top:top + 9, x:x + 5] = 20
                grey[top + 2:top + 7, x + 1:x + 4] = 230
    return grey


def _inks(grey: np.ndarray, rows: list[int], width: int = 200) -> list[tuple[int, int, int, int]]:
    found = [ink_of(grey, (8.0, 10.0 + r * PITCH - 2, float(width), 10.0 + r * PITCH + 11)) for r in rows]
    return [i for i in found if i is not None]


def test_a_row_the_detector_left_out_between_two_it_boxed_is_found() -> None:
    grey = _terminal(["$ grep -c error app.log", "2", "$ head -n 1 app.log", "error 1", "$ ls"])
    rects = missed_rows(grey, _inks(grey, [0, 2, 3, 4]))  # row 1, the lone "2", was not boxed
    assert len(rects) == 1
    x0, y0, x1, y1 = rects[0]
    assert y0 <= 10 + PITCH <= 10 + PITCH + 9 <= y1 and x0 <= 10
    assert missed_rows(grey, _inks(grey, [0, 1, 2, 3, 4])) == []  # every row boxed: nothing to add


def test_an_empty_row_or_a_column_without_one_pitch_adds_nothing() -> None:
    grey = _terminal(["$ clear", "", "$ ls", "a.txt", "$ pwd"])
    assert missed_rows(grey, _inks(grey, [0, 2, 3, 4])) == []  # the left-out row holds no ink
    panel = np.full((200, 300), 230, np.uint8)
    for top in (10, 40, 60, 110):  # a GTK panel's labels: small, aligned, but not one pitch apart
        panel[top:top + 9, 10:80] = 20
    panel[80:100, 10:30] = 20  # a slider's knob between two of them
    inks = [(10, t, 80, t + 9) for t in (10, 40, 60, 110)]
    assert missed_rows(panel, inks) == []


def test_a_small_line_cut_before_its_last_dot_reaches_it_but_not_a_block_caret() -> None:
    grey = _terminal(["16:53 .."])
    cut = ink_of(grey, (8.0, 8.0, 48.0, 22.0))  # the box ends after the first dot
    assert cut is not None and cut[2] == 10 + 6 * 7 + 4  # the second dot's right edge
    caret = _terminal(["$ ls"])
    caret[10:23, 10 + 6 * 5: 10 + 6 * 6] = 20  # a block caret one cell after "ls"
    line = ink_of(caret, (8.0, 8.0, 36.0, 22.0))
    assert line is not None and line[2] == 10 + 6 * 3 + 5  # ends at "s"
