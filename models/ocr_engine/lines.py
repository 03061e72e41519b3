"""Where a text line's pixels are: detected boxes joined into rows, cut to their ink, without window borders.

Pure functions on numpy arrays (grey images) and rectangles; the engine (engine.py) reads what they cut out.
"""

from __future__ import annotations

from typing import Any

from deskscribe.models.ocr_engine.options import (
    BAND_PAD,
    CARET_MIN,
    CARET_WIDTH,
    DET_MAX_SIDE,
    DET_MIN_SIDE,
    EDGE_COVER,
    EDGE_SCAN,
    MISSED_ALIGN,
    MISSED_GAP,
    MISSED_MIN,
    REACH_GAP,
    ROW_GAP,
    SMALL_BLUR,
    SMALL_INK,
    SMALL_MAX_SCALE,
    SMALL_TARGET,
    TESS_SCALE,
)


def without_borders(rows: Any, x0: int, x1: int) -> tuple[int, int]:
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


def centre_in(points: Any, box: tuple[int, int, int, int]) -> bool:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return box[0] <= cx < box[2] and box[1] <= cy < box[3]


Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


def rect_of(points: Any) -> Rect:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def merge_rows(rects: list[Rect], gap: float = ROW_GAP) -> list[Rect]:
    """Boxes of one visual row less than ``gap`` line heights apart, as one line, top to bottom.

    The detector splits a row into boxes by what surrounds it ("File Edit" + "Search" on one frame, the whole
    menu bar on the next; an ``ls -la`` row in two or three pieces), so the same unchanged row would be read as
    different lines from frame to frame, and on a crop differently than on the whole screen. Words and menu
    items of one row are less than a line height apart; columns of a table usually more. (Measuring the gap on
    the frame's ink instead joined xterm's ``drwx------`` to the rest of its row, but also GIMP's rulers and
    sliders to its labels: the dev set's typed '65' was no longer read back.)
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


def ink_of(grey: Any, rect: Rect) -> tuple[int, int, int, int] | None:
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
    for c0, c1, r0, r1 in _blocks(ink):  # a terminal's block caret is no part of the line's ink
        ink[r0:r1, c0:c1] = False
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
    box = x0 + int(cols[0]), y0 + top, x0 + int(cols[-1]) + 1, y0 + bot + 1
    return _reach_right(grey, box, bg) if box[3] - box[1] < SMALL_INK else box


def _reach_right(grey: Any, box: tuple[int, int, int, int], bg: int) -> tuple[int, int, int, int]:
    """A small line's ink carried on past the detector's box: xterm's `..` at a line's end was cut after its
    first dot. Ink over the line's rows less than ``REACH_GAP`` of its height after the last ink is the line's
    (a next word, a dot); a block caret there is not."""
    import numpy as np

    x0, y0, x1, y1 = box
    reach = max(2, int(REACH_GAP * (y1 - y0)))
    while True:
        wide = np.abs(grey[y0:y1, x1:min(grey.shape[1], x1 + 2 * reach)].astype(np.int16) - bg) > 48
        cols = np.flatnonzero(wide[:, :reach].any(axis=0))
        if not len(cols):
            return x0, y0, x1, y1
        end = int(cols[0])
        while end < wide.shape[1] and wide[:, end].any():
            end += 1
        solid = wide[:, int(cols[0]):end]  # the run of inked columns the next ink starts: a caret is solid
        if solid.shape[1] >= 3 and solid.mean() > 0.8:
            return x0, y0, x1, y1
        x1 += int(cols[-1]) + 1


def _blocks(ink: Any) -> list[tuple[int, int, int, int]]:
    """Solid rectangles (c0, c1, r0, r1 in ``ink``'s columns and rows) as wide as a character cell: a terminal's
    block caret. It is as tall as the cell, so it touches the line above and joins the two into one run of inked
    rows, makes the line taller than its letters (read at the wrong scale) and reads as a letter ("If", "ff").
    A column of one is inked in one run of at least ``CARET_MIN`` px; ``CARET_WIDTH`` of the run's height and more
    side by side, from the same top to the same bottom, are one. A glyph's stem is narrower than that."""
    n = ink.sum(axis=0)
    first = ink.argmax(axis=0)
    last = ink.shape[0] - 1 - ink[::-1].argmax(axis=0)
    solid = (n >= CARET_MIN) & (n == last - first + 1)
    out = []
    c = 0
    while c < len(solid):
        if not solid[c]:
            c += 1
            continue
        e = c
        while e + 1 < len(solid) and solid[e + 1] and abs(int(first[e + 1]) - int(first[c])) <= 1 and \
                abs(int(last[e + 1]) - int(last[c])) <= 1:
            e += 1
        top, bot = int(first[c:e + 1].max()), int(last[c:e + 1].min()) + 1
        if e + 1 - c >= CARET_WIDTH * (bot - top):
            out.append((c, e + 1, int(first[c:e + 1].min()), int(last[c:e + 1].max()) + 1))
        c = e + 1
    return out


def read_scale(ink_height: int) -> float:
    """The scale Tesseract reads a line at, from the height of its ink (frame pixels). Text as tall as a desktop's
    default UI fonts reads at ``TESS_SCALE``; a line under ``SMALL_INK`` px (xterm's default bitmap font 6×13
    inks 9-12 px) is brought to about ``SMALL_TARGET`` px, in half steps (see :func:`scaled_band`)."""
    if ink_height >= SMALL_INK:
        return TESS_SCALE
    return min(SMALL_MAX_SCALE, max(2.0, round(2 * SMALL_TARGET / max(1, ink_height)) / 2))


def scaled_band(grey: Any, ink: tuple[int, int, int, int], scale: float) -> tuple[Any, tuple[int, int]]:
    """The frame around a line's ink (room for the margins and the border search) at ``scale``, and the band's
    origin in the frame. The origin lies on an even pixel, so with a scale in half steps each pixel of the band
    is the pixel a resize of the whole frame would give (the filter's reach is inside the band): a line reads
    the same whether the frame or a crop of it is read, wherever it lies.

    Small text (a scale above ``TESS_SCALE``) is enlarged pixel for pixel and then smoothed (a Gaussian of
    ``SMALL_BLUR`` frame pixels): a bitmap font's one-pixel strokes become the rounded strokes of the fonts
    Tesseract was trained on. Lanczos there rings around each pixel step, and Tesseract read the 6×13 font's
    ``84`` as ``Ia4`` and ``y`` as ``u`` (bench/results/ocr_xterm.md)."""
    import numpy as np
    from PIL import Image, ImageFilter

    h, w = grey.shape
    pad_y = (ink[3] - ink[1]) // 2 + BAND_PAD
    x0, y0 = max(0, ink[0] - BAND_PAD) // 2 * 2, max(0, ink[1] - pad_y) // 2 * 2
    x1, y1 = min(w, ink[2] + BAND_PAD), min(h, ink[3] + pad_y)
    x1, y1 = min(w, x0 + -(-(x1 - x0) // 2) * 2), min(h, y0 + -(-(y1 - y0) // 2) * 2)
    band = Image.fromarray(np.ascontiguousarray(grey[y0:y1, x0:x1]))
    size = (round(band.width * scale), round(band.height * scale))
    if scale <= TESS_SCALE:
        band = band.resize(size, Image.Resampling.LANCZOS)
    else:
        band = band.resize(size, Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(SMALL_BLUR * scale))
    return np.asarray(band), (x0, y0)


LINE_INK = 0.15  # share of the fullest row's ink a row of a line's body holds (see split_lines)


def split_lines(grey: Any, rect: Rect) -> list[Rect]:
    """A detected box that holds two or more text lines, cut between them; else the box as it is.

    The detector boxes lines set with no leading together: xterm's default font (6×13) fills its 13 px rows
    with nothing but one blank row between lines, and "root@vm:~# mkdir -p demo" above the next prompt came
    as one box, of which :func:`ink_of` kept only the line at its middle — the other was never read. Rows are
    told apart by how much ink they hold (a block caret or a descender can join two lines with no blank row
    between them, but holds far less ink than a line's body): a line is a run of rows holding at least
    ``LINE_INK`` of the fullest row's ink and at least half as tall as the tallest such run; the cut lies in
    the middle of the rows between two such runs (a smaller run — an 'i' dot, an underline — stays with its
    neighbours). A sliver of another line's body at the box's top or bottom edge is cut off the same way."""
    import numpy as np

    h, w = grey.shape
    x0, y0 = max(0, int(rect[0])), max(0, int(rect[1]))
    x1, y1 = min(w, int(np.ceil(rect[2])) + 1), min(h, int(np.ceil(rect[3])) + 1)
    band = grey[y0:y1, x0:x1].astype(np.int16)
    if band.size == 0:
        return [rect]
    ink = (np.abs(band - int(np.median(band))) > 48).mean(axis=1)
    rows = ink >= LINE_INK * ink.max() if ink.max() > 0 else ink > 0
    runs = true_runs(rows)  # [start, end) of each run of inked rows
    tall = max((b - a for a, b in runs), default=0)
    lines = [r for r in runs if r[1] - r[0] >= max(5, tall / 2)]
    inner = [r for r in lines if r[0] > 0 and r[1] < len(rows)]  # a run the box's edge cuts is another's line
    lines = inner or lines[:1] if len(lines) > 1 else lines
    if not lines:
        return [rect]
    cuts = [y0 + (a[1] + b[0]) / 2 for a, b in zip(lines, lines[1:])]
    top, bottom = float(rect[1]), float(rect[3])
    # a sliver of the next or the last line's body at the box's edge (the box cut it): not this line's
    if runs[0] != lines[0] and runs[0][0] == 0:
        top = y0 + (runs[0][1] + lines[0][0]) / 2
    if runs[-1] != lines[-1] and runs[-1][1] == len(rows):
        bottom = y0 + (lines[-1][1] + runs[-1][0]) / 2
    tops, bottoms = [top, *cuts], [*cuts, bottom]
    return [(rect[0], t, rect[2], b) for t, b in zip(tops, bottoms)]


def _row_pitch(col: list[tuple[int, int, int, int]]) -> float | None:
    """The row pitch of a column of lines (their centres' most common distance, px) when at least three lines
    and most of the distances are one pitch or a whole number of pitches; else None."""
    import statistics

    if len(col) < 3:
        return None
    gaps = [((b[1] + b[3]) - (a[1] + a[3])) / 2 for a, b in zip(col, col[1:])]
    pitch = statistics.mode(round(g) for g in gaps)
    if pitch < 6:
        return None
    whole = [g for g in gaps if abs(g / pitch - round(g / pitch)) <= 0.15]
    return float(pitch) if len(whole) >= 0.8 * len(gaps) else None


def missed_rows(grey: Any, inks: list[tuple[int, int, int, int]]) -> list[Rect]:
    """Rows of a terminal's text the detector boxed none of, between two lines it did: a one-glyph output
    line (`grep -c`'s "2") or a line of `ls -la` was left out while its neighbours were boxed.

    A terminal's lines are small (ink under ``SMALL_INK`` px) and start at one column: lines whose ink starts
    within ``MISSED_ALIGN`` px of each other are one column, a terminal's when most of its lines are one row
    pitch apart (:func:`_row_pitch`; a GTK panel's rows are not). Where two lines next to each other in a column
    are further apart than ``MISSED_GAP`` of their ink's height, the rows between them, over the column's
    widest line, are looked at; each run of inked rows at least ``MISSED_MIN`` px tall there is a line to read
    (an empty row of the terminal has no ink, and nothing is added). Pure: ink rectangles (x0, y0, x1, y1,
    frame pixels) in, rectangles out."""
    import numpy as np

    small = sorted((i for i in inks if i[3] - i[1] < SMALL_INK), key=lambda i: (i[1], i[0]))
    columns: list[list[tuple[int, int, int, int]]] = []
    for ink in small:
        col = next((c for c in columns if abs(c[0][0] - ink[0]) <= MISSED_ALIGN), None)
        if col is None:
            columns.append([ink])
        else:
            col.append(ink)
    out: list[Rect] = []
    for col in columns:
        pitch = _row_pitch(col)
        if pitch is None:
            continue
        right = max(i[2] for i in col)
        for above, below in zip(col, col[1:]):
            height = max(above[3] - above[1], below[3] - below[1])
            rows_apart = ((below[1] + below[3]) - (above[1] + above[3])) / 2 / pitch
            if below[1] - above[3] <= MISSED_GAP * height or abs(rows_apart - round(rows_apart)) > 0.2:
                continue
            y0, y1, x0 = above[3] + 2, below[1] - 1, min(above[0], below[0])
            band = grey[y0:y1, x0:right + 1].astype(np.int16)
            if band.size == 0:
                continue
            rows = (np.abs(band - int(np.median(band))) > 48).any(axis=1)
            out += [(float(x0), float(y0 + a - 1), float(right), float(y0 + b))
                    for a, b in true_runs(rows) if b - a >= MISSED_MIN]
    return out


def true_runs(flags: Any) -> list[tuple[int, int]]:
    """The runs of consecutive true values in a sequence, each as [start, end)."""
    runs: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if flag and runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        elif flag:
            runs.append((i, i + 1))
    return runs
