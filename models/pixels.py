"""What a click hit, from the pixels around its point: the element's box and an icon under the point.

OCR reads nothing on an empty part of a list entry, a button beside its label or a toolbar icon; the frame's
pixels still show the element. Pure numpy functions of one crop around the point (:class:`Patch`, made once
per click from the before frame), used by :func:`deskscribe.models.evidence.item_at` (the text inside the
element's box names it) and by the step writer's icon rule.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

TOLERANCE = 10  # a background's colour varies this much per channel (JPEG noise: ±2-6 on flat dev-set panels)
REACH = 4  # an icon's ink lies this many px from the point at most (a toolbar's drop-down arrow 2-3 px away)
ICON_MAX = 64  # px: an icon (its ink, gaps of 1 px closed) fits this square; a grid or a text block does not
ICON_MIN = 3  # px: narrower ink is a line (a border, a separator, a text cursor)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    def holds(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x + self.w and self.y <= y <= self.y + self.h


@dataclass(frozen=True)
class Patch:
    """A crop of a frame around a click's point: RGB pixels (uint8, rows × columns × 3) and where the crop's
    top left corner lies on the frame. It reaches a third of the frame's width and a quarter of its height
    each way, less where the frame ends: a widget is smaller (Firefox's downloads panel at 1024×768 is 510 px
    wide, a dialog's list row a little less)."""

    rgb: np.ndarray
    x0: int
    y0: int
    frame: tuple[int, int]  # the frame's width and height


def crop(data: bytes, x: int, y: int) -> Patch | None:
    """The crop around ``(x, y)`` of an encoded frame; None when the point is off the frame."""
    with Image.open(io.BytesIO(data)) as image:
        w, h = image.size
        if not (0 <= x < w and 0 <= y < h):
            return None
        left, top = max(0, x - w // 3), max(0, y - h // 4)
        part = image.convert("RGB").crop((left, top, min(w, x + w // 3 + 1), min(h, y + h // 4 + 1)))
        return Patch(np.asarray(part, dtype=np.uint8), left, top, (w, h))


def _local(patch: Patch, x: int, y: int) -> tuple[int, int] | None:
    col, row = x - patch.x0, y - patch.y0
    rows, cols = patch.rgb.shape[:2]
    return (col, row) if 0 <= col < cols and 0 <= row < rows else None


def background(patch: Patch, x: int, y: int, radius: int = 4, ring: bool = False) -> np.ndarray:
    """The colour most pixels have within ``radius`` px of the point (a click lands on a letter's edge too);
    ``ring``: on the square ``radius`` px around it only (around an icon, not its own flat inside)."""
    col, row = x - patch.x0, y - patch.y0
    near = patch.rgb[max(0, row - radius): row + radius + 1, max(0, col - radius): col + radius + 1]
    if ring:
        near = np.concatenate([near[0], near[-1], near[:, 0], near[:, -1]])
    colours, counts = np.unique(near.reshape(-1, 3), axis=0, return_counts=True)
    return np.asarray(colours[int(np.argmax(counts))], dtype=np.int16)


def _like(rgb: np.ndarray, colour: np.ndarray, tolerance: int) -> np.ndarray:
    return np.abs(rgb.astype(np.int16) - colour).max(axis=2) <= tolerance


def _spread(mask: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """One sweep of a flood fill: every run of allowed pixels along a row that touches the mask joins it."""
    flat = allowed.ravel()
    starts = flat & ~np.concatenate(([False], flat[:-1]))
    starts.reshape(allowed.shape)[:, 0] = allowed[:, 0]  # a run never continues onto the next row
    ids = np.cumsum(starts) * flat
    hit = np.zeros(int(ids.max()) + 1, dtype=bool)
    hit[ids[mask.ravel() & flat]] = True
    hit[0] = False
    return hit[ids].reshape(allowed.shape)


def _core(allowed: np.ndarray) -> np.ndarray:
    """The pixels whose four neighbours are allowed too: a line one or two px wide (a separator, a border under
    a toolbar) no longer joins a widget to the window around it."""
    core = allowed.copy()
    core[1:] &= allowed[:-1]
    core[:-1] &= allowed[1:]
    core[:, 1:] &= allowed[:, :-1]
    core[:, :-1] &= allowed[:, 1:]
    return core


def fill(allowed: np.ndarray, seed: np.ndarray) -> np.ndarray | None:
    """The pixels of ``allowed`` connected to ``seed`` (4-neighbours), by row and column sweeps; None as soon as
    they reach the array's edge (the region is bigger than the crop: a window's background, not a widget)."""
    mask = seed & allowed
    while True:
        grown = _spread(_spread(mask, allowed).T, allowed.T).T
        if grown[0].any() or grown[-1].any() or grown[:, 0].any() or grown[:, -1].any():
            return None
        if np.array_equal(grown, mask):
            return mask
        mask = grown


def region_at(patch: Patch | None, x: int, y: int, tolerance: int = TOLERANCE) -> Box | None:
    """The element under the point: the box of the connected region of the point's background colour (a list
    entry, a button, a menu item, a table cell). None when that region reaches the crop's edge (a window's
    background or a bar across the screen: no one element), when it covers more than a quarter of the screen,
    or when the point is off the crop."""
    if patch is None or _local(patch, x, y) is None:
        return None
    col, row = x - patch.x0, y - patch.y0
    allowed = _core(_like(patch.rgb, background(patch, x, y), tolerance))
    seed = np.zeros_like(allowed)
    seed[max(0, row - 4): row + 5, max(0, col - 4): col + 5] = True  # the point may sit on a letter's ink
    mask = fill(allowed, seed)
    if mask is None or not mask.any():
        return None
    rows, cols = np.nonzero(mask)  # the core's box, grown back by the px the core lost
    box = Box(int(cols.min()) + patch.x0 - 1, int(rows.min()) + patch.y0 - 1, int(cols.max() - cols.min()) + 3,
              int(rows.max() - rows.min()) + 3)
    return box if 4 * box.w * box.h <= patch.frame[0] * patch.frame[1] else None


def icon_at(patch: Patch | None, x: int, y: int, tolerance: int = 24) -> Box | None:
    """An icon under or beside the point: compact ink (pixels unlike the background around the point, gaps of
    one px closed) within ``REACH`` px of it, fitting an ``ICON_MAX`` px square and at least ``ICON_MIN`` px
    each way. None for a line, a grid, a text block or a flat spot."""
    if patch is None or _local(patch, x, y) is None:
        return None
    col, row = x - patch.x0, y - patch.y0
    half = ICON_MAX
    top, left = max(0, row - half), max(0, col - half)
    window = patch.rgb[top: row + half + 1, left: col + half + 1]
    ink = ~_like(window, background(patch, x, y, radius=ICON_MAX // 2, ring=True), tolerance)
    closed = ink.copy()  # join an icon's strokes one px apart
    closed[1:] |= ink[:-1]
    closed[:, 1:] |= ink[:, :-1]
    r, c = row - top, col - left
    seed = np.zeros_like(ink)
    seed[max(0, r - REACH): r + REACH + 1, max(0, c - REACH): c + REACH + 1] = True
    if not (seed & ink).any():
        return None
    mask = fill(closed, seed)  # None: the ink runs out of the window (a grid, a text block, a border)
    if mask is None:
        return None
    rows, cols = np.nonzero(mask & ink)
    w, h = int(cols.max() - cols.min()) + 1, int(rows.max() - rows.min()) + 1
    if not (ICON_MIN <= w <= ICON_MAX and ICON_MIN <= h <= ICON_MAX):
        return None
    return Box(int(cols.min()) + left + patch.x0, int(rows.min()) + top + patch.y0, w, h)
