"""Cheap change test per monitor, on a sampled grid of the raw BGRA screenshot.

Every ``STEP``-th pixel of every ``STEP``-th row is compared, as one 32-bit word per pixel, with the frame
last *stored* for that monitor (not the last grabbed), so slow changes add up until they count. An
unchanged 1920×1080 frame costs ~0.2 ms here on top of the grab (see bench/results/capture_bench.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

STEP = 4


def thumbnail(raw: bytes | bytearray | memoryview, width: int, height: int, step: int = STEP) -> np.ndarray:
    """The sampled grid (a copy), one uint32 per BGRA pixel."""
    pixels = np.frombuffer(raw, dtype=np.uint32, count=width * height).reshape(height, width)
    return np.ascontiguousarray(pixels[::step, ::step])


def changed_fraction(previous: np.ndarray | None, current: np.ndarray) -> float:
    """Fraction of grid pixels that differ (1.0 when there is nothing to compare with)."""
    if previous is None or previous.shape != current.shape:
        return 1.0
    return float(np.count_nonzero(previous != current)) / current.size


def grid_hash(grid: np.ndarray) -> str:
    """A short content hash of the grid, stored as the frame's change_hash."""
    return hashlib.blake2b(grid.tobytes(), digest_size=8).hexdigest()


@dataclass
class Verdict:
    changed: bool
    fraction: float
    grid: np.ndarray


class ChangeDetector:
    """Remembers the grid of the last stored frame of one monitor."""

    def __init__(self) -> None:
        self.last: np.ndarray | None = None

    def check(self, raw: bytes | bytearray | memoryview, width: int, height: int, threshold: float) -> Verdict:
        """Changed when at least ``threshold`` of the grid differs; ``threshold=0`` means any difference."""
        grid = thumbnail(raw, width, height)
        fraction = changed_fraction(self.last, grid)
        changed = fraction > 0 if threshold <= 0 else fraction >= threshold
        return Verdict(changed, fraction, grid)

    def commit(self, verdict: Verdict) -> None:
        """The frame was stored: later frames compare with it."""
        self.last = verdict.grid

    def reset(self) -> None:
        self.last = None
