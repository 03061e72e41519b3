"""Change-only OCR: read only the parts of a frame that differ from the previous frame of its episode.

Consecutive frames of one episode usually differ in a small region (a typed line, a menu, a dialog). The two
images are compared on a grid of ``CELL``-pixel cells; changed cells are grouped into regions, each region is
grown to cover every previous text line it crosses (so lines are read whole), and only those regions are OCR'd
(with a margin of context). The previous frame's lines outside every region are carried over, flagged as carried
in the stored boxes. When more than ``FULL_FRACTION`` of the cells changed, or the sizes differ, the frame gets
a full pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deskscribe.models.ocr_engine import DET_STRIDE, OcrEngine, TextBox

CELL = 16  # grid cell, px
CELL_DIFF = 6.0  # mean absolute difference (0-255) above which a cell counts as changed (JPEG noise is ~1-3)
EDGE = 2  # px a changed region is padded by before it is grown over the lines it crosses
PAD = DET_STRIDE  # px of context around each region when it is read; lines read there whose centre lies
# outside the region are the neighbours' (carried), and are dropped. The detector draws a line's box from what
# surrounds it too: with 8 px it found the dashes of `drwx------` and the trailing `.` of `ls -la` rows that it
# misses on the whole screen, and the lines read differently from a full pass (agreement 0.905 on the scripted
# sessions); with a stride of context on every side they read as the full pass reads them (bench/ocr_bench.py)
STRIDE = DET_STRIDE  # crops start on the detector's stride grid of the whole frame (see OcrEngine.read_region)
FULL_FRACTION = 0.5  # above this share of changed cells, a full pass is cheaper than regions
Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass
class DiffResult:
    boxes: list[TextBox]
    carried: list[int]  # indexes into boxes of the lines taken over from the previous frame
    regions: list[Box]  # what was OCR'd; [] with full=True for a full pass
    full: bool


def changed_cells(prev: np.ndarray, cur: np.ndarray, cell: int = CELL, threshold: float = CELL_DIFF) -> np.ndarray:
    """A boolean grid (rows × cols) of the cells whose mean absolute difference exceeds ``threshold``."""
    h, w = cur.shape[:2]
    rows, cols = -(-h // cell), -(-w // cell)
    diff = np.abs(prev.astype(np.int16) - cur.astype(np.int16))
    if diff.ndim == 3:
        diff = diff.max(axis=2)
    padded = np.zeros((rows * cell, cols * cell), np.float32)
    padded[:h, :w] = diff  # edge cells are averaged with zeros: a change there still shows
    return padded.reshape(rows, cell, cols, cell).mean(axis=(1, 3)) > threshold


def cell_regions(grid: np.ndarray, cell: int = CELL) -> list[Box]:
    """Bounding boxes (px) of the bands of consecutive changed cell rows, each over its changed columns."""
    regions: list[Box] = []
    changed_rows = np.flatnonzero(grid.any(axis=1))
    start = prev = None
    for r in list(changed_rows) + [None]:
        if start is not None and prev is not None and (r is None or r != prev + 1):
            cols = np.flatnonzero(grid[start:prev + 1].any(axis=0))
            regions.append((int(cols[0]) * cell, start * cell, (int(cols[-1]) + 1) * cell, (int(prev) + 1) * cell))
            start = None
        if r is not None and start is None:
            start = int(r)
        prev = r
    return regions


def _touches(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _crosses(region: Box, line: Box) -> bool:
    """The region covers a real part of the line: they overlap across, and by a quarter of the line's height
    (at least 2 px) down. Detector boxes of neighbouring lines often overlap by a pixel or two; a region that
    merely grazes a line must not swallow it, or one typed line would grow over a whole terminal."""
    if not (region[0] < line[2] and line[0] < region[2]):
        return False
    down = min(region[3], line[3]) - max(region[1], line[1])
    return down >= max(2, (line[3] - line[1]) / 4)


def grow_regions(regions: list[Box], lines: list[TextBox], size: tuple[int, int], pad: int = EDGE) -> list[Box]:
    """Pad each changed region a little, grow it over the whole of every previous line it crosses (so lines are
    read whole, and every line is either read again or carried, never cut), merge regions that then overlap."""
    w, h = size
    boxes = [(b.x, b.y, b.x + b.w, b.y + b.h) for b in lines]
    out: list[Box] = []
    for x0, y0, x1, y1 in regions:
        region = (max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad))
        grown = True
        while grown:
            grown = False
            for box in boxes:
                if not _crosses(region, box):
                    continue
                u = _union(region, box)
                clipped = (max(0, u[0]), max(0, u[1]), min(w, u[2]), min(h, u[3]))
                if clipped != region:  # compare after clipping: a line at the edge must not grow it forever
                    region, grown = clipped, True
        out.append(region)
    merged = True
    while merged:  # grown regions can overlap: OCR the union once
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if _touches(out[i], out[j]):
                    out[i] = _union(out[i], out.pop(j))
                    merged = True
                    break
            if merged:
                break
    return out


def read_changed(engine: OcrEngine, prev: np.ndarray, prev_lines: list[TextBox], cur: np.ndarray) -> DiffResult:
    """The text lines of ``cur`` given the previous frame and its lines, OCR'ing only what changed."""
    if prev.shape != cur.shape:
        return DiffResult(engine.read(cur), [], [], True)
    grid = changed_cells(prev, cur)
    if grid.mean() > FULL_FRACTION:
        return DiffResult(engine.read(cur), [], [], True)
    h, w = cur.shape[:2]
    regions = grow_regions(cell_regions(grid), prev_lines, (w, h))
    area = sum((r[2] - r[0]) * (r[3] - r[1]) for r in regions)
    if area > FULL_FRACTION * w * h:
        return DiffResult(engine.read(cur), [], [], True)
    kept = [b for b in prev_lines if not any(_crosses(r, (b.x, b.y, b.x + b.w, b.y + b.h)) for r in regions)]
    fresh: list[TextBox] = []
    for r in regions:
        x0, y0, x1, y1 = _aligned(r, (w, h))
        keep = (r[0] - x0, r[1] - y0, r[2] - x0, r[3] - y0)
        for b in engine.read_region(cur[y0:y1, x0:x1], keep, (w, h)):
            fresh.append(b.moved(x0, y0))
    boxes = kept + fresh
    return DiffResult(boxes, list(range(len(kept))), regions, False)


def _aligned(region: Box, size: tuple[int, int], pad: int = PAD, stride: int = STRIDE) -> Box:
    """The region with ``pad`` px of context, widened to the detector's stride grid of the whole frame."""
    w, h = size
    x0, y0 = max(0, region[0] - pad) // stride * stride, max(0, region[1] - pad) // stride * stride
    x1 = min(w, -(-(region[2] + pad) // stride) * stride)
    y1 = min(h, -(-(region[3] + pad) // stride) * stride)
    return x0, y0, x1, y1


def lost_lines(full: list[TextBox], change: list[TextBox]) -> list[TextBox]:
    """The lines of a full pass (pass only those describe keeps) with no line of the change-only pass of the same
    frame over them: what change-only OCR lost. A line read differently, or split into two boxes, is not lost
    (bench/ocr_bench.py counts those apart); a line with nothing read in its place is."""
    def over(a: TextBox, b: TextBox) -> bool:
        return _touches((a.x, a.y, a.x + a.w, a.y + a.h), (b.x, b.y, b.x + b.w, b.y + b.h))
    return [line for line in full if not any(over(line, other) for other in change)]
