"""A second look at a line's glyphs, from its pixels: where the recogniser's symbols sit on a terminal's character
grid, and the few confusable marks that the ink's place on the line decides.

Pure functions on the read-scale grey pixels of one line (what Tesseract read) and Tesseract's symbols (text and
box in those pixels). Nothing here knows the expected text: a symbol is re-decided only inside a confusable set
(',' or '.', ';' or ':', '"' or '*' or '~', 'l' or 'I', 'v' or 'y') by a feature every font shares
(ink below the baseline, a mark at the top of the cell wider than tall, a bar across the middle), and a glyph the
recogniser dropped is put back only on a monospace line, in a cell of its grid that holds ink no symbol covers,
when that ink is one of the marks told apart by shape ('~', '.', ',', '-'); other ink stays unread. On a line
steady enough on its grid to be a terminal's (:func:`steady`), letters of a few confusable sets are re-decided
by their ink too ('c' 'e', 'u' 'w', '*' '#', '@' read as 'l' or 't': :func:`letter`) and a space is a blank
cell, whatever the recogniser read. Only lines read as small bitmap text (engine.py: a read scale above
TESS_SCALE) are looked at again.
"""

from __future__ import annotations

import statistics
from typing import Any

from deskscribe.models.ocr_engine.lines import true_runs

Symbol = tuple[str, int, int, int, int]  # text, x0, y0, x1, y1 in the line's pixels
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 of a cell's ink in the line's pixels

INK = 0.45  # a pixel is ink when it differs from the background by this share of the line's contrast
FIT = 0.2  # a symbol sits on the grid when its left edge is within this share of a cell of a cell's edge
ON_GRID = 0.75  # share of a line's symbols on one grid for the line to be monospace
WIDE = 1.5  # a symbol's box wider than this many cells spans other glyphs (the recogniser's box, not the glyph's)
MIN_SYMBOLS = 6  # fewer symbols do not tell a grid
BELOW = 0.15  # ink this share of the line's body height or more below the baseline is a descender
STEADY = 10  # glyphs on the grid for a line to be a terminal's (steady)
STEADY_SHARE = 0.8
STEADY_OFF = 0.105  # the glyphs' median offset from the grid, in cells
STEADY_WIDTH = 1.2  # the glyphs' median box width, in cells (each in its own cell)
LETTERS = {"c": "ce", "e": "ce", "u": "uw", "w": "uw", "l": "lt@", "t": "lt@", "*": "*#"}  # told by ink on a
# steady line
MARKS = {",": ",.", ".": ",.", ";": ";:", ":": ";:", '"': '"*~', "*": '"*~', "~": '"*~', "l": "lI", "I": "lI",
         "v": "vy", "y": "vy", "]": "]l"}


def ink_mask(pixels: Any) -> Any:
    """The line's ink: pixels far from the background (its median) by ``INK`` of the line's contrast."""
    import numpy as np

    diff = np.abs(pixels.astype(np.int16) - int(np.median(pixels)))
    top = float(np.percentile(diff, 99.5))
    mask = diff > max(24.0, INK * top)
    # only the line's own rows: the run of inked rows holding the most ink (a neighbour line's edge can be in the
    # window when a caret joined the two)
    per_row = mask.sum(axis=1)
    runs = true_runs(per_row)
    if len(runs) > 1:
        a, b = max(runs, key=lambda run: int(per_row[run[0]:run[1]].sum()))
        mask[:a] = False
        mask[b:] = False
    return mask


def grid(symbols: list[Symbol], scale: float, height: int) -> tuple[float, float] | None:
    """The line's character grid (cell width and the left edge of cell 0, in its pixels) when it is monospace: a
    terminal draws every glyph in a cell of a whole number of screen pixels, so the symbols' left edges fall on
    one grid of such a width; None for proportional text or too few symbols."""
    if len(symbols) < MIN_SYMBOLS:
        return None
    boxes = [(s[1], s[3]) for s in symbols if s[3] - s[1] <= 0.8 * height]  # a box over glyphs says nothing
    found: list[tuple[int, float, float]] = []  # per cell width: the most symbols on one grid, width, phase
    for px in range(max(3, int(0.3 * height / scale)), int(height / scale) + 1):
        pitch = px * scale
        # a narrow glyph (':', 'i', '.') sits in the middle of its cell
        lefts = [x0 if x1 - x0 >= pitch / 2 else (x0 + x1 - pitch) / 2 for x0, x1 in boxes]
        best: tuple[int, float, float] | None = None
        for anchor in lefts:
            on = [x for x in lefts if abs((x - anchor) / pitch - round((x - anchor) / pitch)) <= FIT]
            if best is None or len(on) > best[0]:
                # the phase: the mean offset of the symbols on the grid
                phase = anchor + statistics.mean((x - anchor) - round((x - anchor) / pitch) * pitch for x in on)
                best = (len(on), pitch, phase)
        if best is not None:
            found.append(best)
    if not found:
        return None
    most = max(found, key=lambda f: (f[0], f[1]))
    # a grid of half the cell width holds every symbol too: of the grids twice or three times as wide, the widest
    # that holds nearly as many
    wider = [f for f in found if f[0] >= 0.9 * most[0] and any(abs(f[1] - k * most[1]) < 0.5 for k in (2, 3))]
    count, pitch, phase = max([most, *wider], key=lambda f: f[1])
    # a box over glyphs tells nothing against the grid either, once enough glyphs sit on it (a short line whose
    # boxes mostly span glyphs is not told by the few that remain)
    if count < ON_GRID * (len(boxes) if count >= STEADY else len(symbols)):
        return None
    return pitch, phase % pitch


def _offsets(symbols: list[Symbol], pitch: float, phase: float, height: int) -> list[float]:
    """Each symbol's offset from its nearest grid line, in cells (0 to 0.5); boxes over glyphs left out."""
    out = []
    for _t, x0, _y0, x1, _y1 in symbols:
        if x1 - x0 <= 0.8 * height:
            left = x0 if x1 - x0 >= pitch / 2 else (x0 + x1 - pitch) / 2
            f = (left - phase) / pitch
            out.append(abs(f - round(f)))
    return out


def steady(symbols: list[Symbol], pitch: float, phase: float, height: int) -> bool:
    """A terminal's line, not proportional text that happens to fit a grid: at least ``STEADY`` glyphs on it,
    ``STEADY_SHARE`` of them, half of them a tenth of a cell or less off it (the median; measured on 4 recordings
    of xterm's default font: at most 0.094 with 9 to 44 glyphs on the grid; GTK's DejaVu Sans lines that fit a
    grid: 0.122 to 0.129 with 12 to 23, below 0.1 only with 7 or fewer). Only on such a line are letters
    re-decided (:func:`letter`) and the grid's spaces trusted over the recogniser's. And a glyph's box is about a
    cell wide (median at most ``STEADY_WIDTH``: xterm 0.85-1.0; proportional text whose grid is finer than its
    glyphs, DejaVu Sans at 16 px on a grid of 5 px: 1.63)."""
    off = _offsets(symbols, pitch, phase, height)
    on = [o for o in off if o <= FIT]
    widths = [(s[3] - s[1]) / pitch for s in symbols if s[3] - s[1] <= 0.8 * height]
    return len(on) >= STEADY and len(on) >= STEADY_SHARE * len(off) and statistics.median(off) <= STEADY_OFF \
        and statistics.median(widths) <= STEADY_WIDTH


def cell_boxes(mask: Any, pitch: float, phase: float) -> list[Box | None]:
    """The ink box of each grid cell across the line (None: a blank cell). A cell's own columns only, a tenth of a
    cell in from each side (a smoothed neighbour's edge reaches into it)."""
    import numpy as np

    out: list[Box | None] = []
    w = mask.shape[1]
    c = 0
    while phase + c * pitch < w:
        x0 = max(0, int(round(phase + (c + 0.1) * pitch)))
        x1 = min(w, int(round(phase + (c + 0.9) * pitch)))
        part = mask[:, x0:x1]
        if x1 <= x0 or part.sum() < max(2, (pitch / 6) ** 2):
            out.append(None)
        else:
            rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
            out.append((x0 + int(cols[0]), int(rows[0]), x0 + int(cols[-1]) + 1, int(rows[-1]) + 1))
        c += 1
    return out


def body(boxes: list[Box | None]) -> tuple[int, int] | None:
    """The line's top (the most common top of a cell's ink: x-height or capital height) and baseline (the most
    common bottom): most glyphs sit on the baseline."""
    inked = [b for b in boxes if b is not None]
    if len(inked) < 3:
        return None
    base = statistics.mode(b[3] for b in inked)
    top = min(statistics.mode(b[1] for b in inked), min(b[1] for b in inked if b[3] == base))
    return (top, base) if base - top >= 4 else None


def shape(box: Box, top: int, base: int, pitch: float, scale: float = 1.0) -> str | None:
    """A lone mark told by where its ink sits: at the top of the cell and wider than tall '~'; on the baseline and
    small '.', through it ',', across the middle and flat '-'; anything else None (not told by shape)."""
    x0, y0, x1, y1 = box
    w, h, height = x1 - x0, y1 - y0, base - top
    below = _below(box, top, base, scale)
    if h <= 0.45 * height and w <= 0.45 * pitch and y0 >= top + 0.6 * height:
        return "," if below else "."
    if h <= 0.4 * height and w >= 1.4 * h and y1 <= top + 0.45 * height:
        return "~"
    if h <= 0.2 * height and w >= 0.5 * pitch and top + 0.3 * height <= y0 and y1 <= base - 0.2 * height:
        return "-"
    return None


def _below(box: Box, top: int, base: int, scale: float) -> bool:
    """Ink reaching below the baseline by ``BELOW`` of the line's body and at least 1.5 screen pixels (a bold
    dot's smoothed edge reaches a little past it)."""
    return box[3] - base > max(BELOW * (base - top), 1.5 * scale)


def decide(text: str, box: Box, top: int, base: int, pitch: float, mask: Any, scale: float = 1.0) -> str:
    """A symbol of a confusable set re-decided by its ink; any other symbol as read."""
    group = MARKS.get(text)
    if group is None:
        return text
    below = _below(box, top, base, scale)
    if group in (",.", ";:"):
        return group[0] if below else group[1]
    if group == '"*~':
        return "~" if shape(box, top, base, pitch, scale) == "~" else text
    if group == "vy":
        return "y" if below else "v"
    if group == "]l":
        return _bracket_or_l(mask, box, scale)
    return _stem_letter(mask, box)  # "lI"


def _bracket_or_l(mask: Any, box: Box, scale: float) -> str:
    """']' is a stem whose bars reach left of it at the top and the bottom; an 'l' read as ']' (xterm's 6×13:
    `wc -]` for `wc -l`) has its bottom bar on both sides of the stem. Ink at the bottom reaching right of the
    stem by 0.4 screen px or more (the same smoothing widens both) makes it 'l'."""
    import numpy as np

    x0, y0, x1, y1 = box
    part = mask[y0:y1, x0:x1]
    h = y1 - y0
    middle = part[h // 3: h - h // 3]
    low = np.flatnonzero(part[h - max(1, h // 8):].any(axis=0)) if h >= 6 else np.empty(0, dtype=int)
    if not middle.any() or not len(low):
        return "]"
    right = int(np.flatnonzero(middle.any(axis=0))[-1])
    return "l" if int(low[-1]) - right >= 0.4 * scale else "]"


def _stem_letter(mask: Any, box: Box) -> str:
    """'I' has a bar on both sides of its stem at the top; 'l' a flag to the left only (a font whose 'l' and 'I'
    are both a plain stem is not told apart: 'l', the more common letter)."""
    import numpy as np

    x0, y0, x1, y1 = box
    part = mask[y0:y1, x0:x1]
    h = y1 - y0
    middle = part[h // 3: h - h // 3]
    if middle.shape[0] == 0 or not middle.any():
        return "l"
    cols = np.flatnonzero(middle.any(axis=0))
    left, right, width = int(cols[0]), int(cols[-1]), int(cols[-1] - cols[0]) + 1
    top = np.flatnonzero(part[: max(1, h // 8)].any(axis=0))
    if not len(top):
        return "l"
    # a smoothed stem is wide, a bitmap font's bar only a screen pixel past it on each side; a flag to the left and
    # the smoothing's pixel to the right is an 'l'
    out_left, out_right = left - int(top[0]), int(top[-1]) - right
    bar = max(1.0, width / 4)
    return "I" if min(out_left, out_right) >= max(bar, max(out_left, out_right) / 2) else "l"


def letter(text: str, glyph: Any, pitch: float) -> str:
    """A letter of a confusable set re-decided by its ink (``glyph``: the cell's ink box, a boolean array), for a
    terminal's font: 'e' has a bar across the middle of its body that reaches its right side, 'c' is open there;
    'w' has a middle stroke rising from the baseline, 'u' is open above its bowl; '@' (read 'l' or 't') is a ring
    as wide as the cell, ink down both its sides; a '#' (read '*') has two stems, apart at its top and bottom, a
    '*' one. Any other symbol as read."""
    group = LETTERS.get(text)
    if group is None or glyph.size == 0:
        return text
    if group == "ce":
        return "e" if _bar(glyph) else "c"
    if group == "uw":
        return "w" if _middle_stroke(glyph) else "u"
    if group == "*#":
        return "#" if _two_stems(glyph) else "*"
    return "@" if _ring(glyph, pitch) else text


def _bar(glyph: Any) -> bool:
    """A row in the middle of the glyph (a quarter to three fifths down) inked across 80 % of its width, right
    side included."""
    h, w = glyph.shape
    rows = glyph[h // 4: max(h // 4 + 1, (3 * h) // 5)]
    return bool(any(r.mean() >= 0.8 and r[-max(1, w // 6):].any() for r in rows))


def _middle_stroke(glyph: Any) -> bool:
    """Ink in the glyph's middle fifth on half the rows from a third to seven tenths down (a 'u' is open there;
    a 'w''s middle stroke need not reach its bottom row, where the font may draw two feet)."""
    h, w = glyph.shape
    band = glyph[int(0.35 * h): max(int(0.35 * h) + 1, int(0.7 * h)), (2 * w) // 5: max((2 * w) // 5 + 1, (3 * w) // 5)]
    return float(band.any(axis=1).mean()) >= 0.5


def _two_stems(glyph: Any) -> bool:
    """Two runs of ink apart on the glyph's top row and on its bottom row."""
    import numpy as np

    def runs(row: Any) -> int:
        return int(np.count_nonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])) == 1))

    return glyph.shape[0] >= 3 and runs(glyph[0]) >= 2 and runs(glyph[-1]) >= 2


def _ring(glyph: Any, pitch: float) -> bool:
    """As wide as 60 % of the cell, with ink in its left and right fifths on most of its rows."""
    h, w = glyph.shape
    side = max(1, w // 5)
    return w >= 0.6 * pitch and float(glyph[:, :side].any(axis=1).mean()) >= 0.7 \
        and float(glyph[:, w - side:].any(axis=1).mean()) >= 0.5


SKIP = 2.0  # alignment cost of an inked cell no symbol is put in (a dropped glyph)
SKIP_MARK = 0.3  # of one whose ink is a mark told by its shape (the recogniser drops those most)
BLANK = 0.6  # of a symbol put in a blank cell
NEAR = 3.0  # of a symbol per cell its box's nearer edge is from the cell's (at most 2)
WIDE_NEAR = 1.0  # at most this for a symbol whose box is wider than WIDE cells (its place is its order's)
SHARED = 0.8  # of a symbol put in the cell of the symbol before it (one glyph read as two marks: ",.")


def _cells(symbols: list[Symbol], inked: list[bool], marks: list[bool], pitch: float, phase: float) -> list[int]:
    """Each symbol's cell: the symbols in their order laid on the cells (dynamic programming), each near the cell
    its box's left or right edge marks (the recogniser's box is often a word's, not its glyph's), on ink, with as
    few inked cells left over as can be (``marks``: the inked cells whose ink is a mark its shape tells, cheaper
    to leave over)."""
    import numpy as np

    n = len(inked)
    left = phase + np.arange(n) * pitch
    ink = np.asarray(inked, dtype=float)
    skip = np.where(marks, SKIP_MARK, SKIP) * ink
    before = np.concatenate([[0.0], np.cumsum(skip)])  # the cost of leaving over the first k cells
    cost = np.empty((len(symbols), n))
    for i, s in enumerate(symbols):
        edge = np.minimum(np.abs(s[1] - left), np.abs(s[3] - (left + pitch))) / pitch
        # a box wider than WIDE cells is a word's or a run's, its edges mark its glyph's cell less
        most = WIDE_NEAR if s[3] - s[1] > WIDE * pitch else 2.0
        cost[i] = np.minimum(NEAR * edge, most) + BLANK * (1 - ink)
    dp = cost[0].copy()
    back = np.zeros((len(symbols), n), dtype=int)
    for i in range(1, len(symbols)):
        reach = dp - before[1:]  # from cell c' to c: the inked cells strictly between are skipped
        best = np.minimum.accumulate(reach)
        arg = np.zeros(n, dtype=int)
        for c in range(1, n):
            arg[c] = c if reach[c] < best[c - 1] else arg[c - 1]
        prev = np.full(n, np.inf)
        prev[1:] = best[:-1] + before[1:-1]
        stay = dp + SHARED
        back[i] = np.where(stay < prev, np.arange(n), np.concatenate([[0], arg[:-1]]))
        dp = cost[i] + np.minimum(stay, prev)
    out = [int(np.argmin(dp))]
    for i in range(len(symbols) - 1, 0, -1):
        out.append(int(back[i][out[-1]]))
    return out[::-1]


def reread(symbols: list[Symbol], pixels: Any, scale: float,
           read_text: str = "") -> tuple[str, list[tuple[str, Box]]] | None:
    """A monospace line's text (``read_text``: as the recogniser read it) rebuilt cell by cell from the
    recogniser's symbols and the line's ink: a blank cell is a space, a cell's confusable symbol is re-decided by
    its ink (:func:`decide`), an inked cell without a symbol is the mark its ink's shape tells (:func:`shape`) or
    stays unread. With its words and their boxes; None when the line is not monospace or the rebuild lost a space
    the recogniser read (the line stays as read)."""
    mask = ink_mask(pixels)
    found = grid(symbols, scale, pixels.shape[0])
    if found is None:
        return None
    pitch, phase = found
    boxes = cell_boxes(mask, pitch, phase)
    line = body(boxes)
    if line is None:
        return None
    top, base = line
    terminal = steady(symbols, pitch, phase, pixels.shape[0])
    marks = [b is not None and shape(b, top, base, pitch, scale) is not None for b in boxes]
    cells = _cells(symbols, [b is not None for b in boxes], marks, pitch, phase)
    by_cell: dict[int, list[str]] = {}
    for s, c in zip(symbols, cells):
        by_cell.setdefault(c, []).append(s[0])
    words: list[tuple[str, Box]] = []
    word: list[str] = []
    span: list[int] = []
    last = max(cells)  # ink past the symbols is no part of the reading (a caret), but for marks the recogniser
    while last + 1 < len(boxes) and (mark := boxes[last + 1]) is not None \
            and shape(mark, top, base, pitch, scale) is not None:  # dropped at the line's end: "..")
        last += 1
    for c in range(min(cells), last + 1):
        box = boxes[c] if 0 <= c < len(boxes) else None
        read = by_cell.get(c, [])
        if read and box is not None:
            chars = _cell_text(read, box, (top, base, pitch, scale), mask, terminal)
        elif read:  # a dot or colon read where the cell holds no ink at all is not there
            chars = "" if all(t in ",.;:" for t in read) and not _inked(mask, c, pitch, phase) else "".join(read)
        elif box is not None:
            # a dropped glyph that is no mark stays unread (no text is made up)
            chars = shape(box, top, base, pitch, scale) or ""
            if not chars:
                word.append("")
                span.append(c)
                continue
        else:
            chars = ""
        if chars:
            word.append(chars)
            span.append(c)
        elif word:
            words.append(("".join(word), _word_box(span, pitch, phase, top, base, mask.shape[1])))
            word, span = [], []
    if word:
        words.append(("".join(word), _word_box(span, pitch, phase, top, base, mask.shape[1])))
    if not terminal and len(words) < len(read_text.split()):  # a space the recogniser saw gone: the grid may
        return None  # not be the line's (on a terminal's line a space is a blank cell, whatever was read)
    return " ".join(w for w, _ in words), words


def _inked(mask: Any, c: int, pitch: float, phase: float) -> bool:
    return bool(mask[:, max(0, round(phase + c * pitch)):max(0, round(phase + (c + 1) * pitch))].any())


def _cell_text(read: list[str], box: Box, line: tuple[int, int, float, float], mask: Any, terminal: bool) -> str:
    """The text of an inked cell the recogniser put ``read`` in (``line``: top, baseline, cell width, scale):
    one symbol (or several of one confusable set of marks) re-decided by the ink, several others as read."""
    top, base, pitch, scale = line
    group = MARKS.get(read[0])
    if len(read) > 1 and (group is None or any(MARKS.get(t) != group for t in read)):
        return "".join(read)
    if terminal and read[0] in LETTERS:
        told = letter(read[0], mask[box[1]:box[3], box[0]:box[2]], pitch)
        if told != read[0] or read[0] not in MARKS:
            return told
    return decide(read[0], box, top, base, pitch, mask, scale)


def _word_box(span: list[int], pitch: float, phase: float, top: int, base: int, width: int) -> Box:
    return max(0, round(phase + span[0] * pitch)), top, min(width, round(phase + (span[-1] + 1) * pitch)), base
