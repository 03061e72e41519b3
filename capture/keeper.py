"""The frames capture holds and stores: the latest grab of each monitor (in memory, never stored by itself),
and the last stored frame of each monitor, so an unchanged screen is never stored twice; and the last few
whole frames of each monitor (*keys*), so a frame that differs from one of them in a small region is stored
as that region only (storage/patches.py: a region frame).

Used by the capture thread only. A stored frame is named by a *token* (an int) until the writer gives it a
database id; actions refer to their before/after frames by token.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deskscribe.capture.change import ChangeDetector, Verdict, changed_fraction, grid_hash, thumbnail
from deskscribe.capture.encode import encode_raw
from deskscribe.capture.screen import Shot
from deskscribe.capture.writer import Captured, NewFrame, Writer
from deskscribe.config import CaptureConfig
from deskscribe.storage.frames import EncodedImage
from deskscribe.storage.patches import changed_box

log = logging.getLogger(__name__)
KEYS = 3  # whole frames kept per monitor to store region frames over (a few apps switched between)


@dataclass
class Grab:
    """One screenshot of one monitor, with the window that had focus when it was taken."""

    shot: Shot
    ts: float
    app: str | None
    title: str | None
    token: int | None = None  # set once stored
    window: int | None = None  # the focused window's id (WindowInfo.id), where the window system has one

    @property
    def monitor(self) -> int:
        return self.shot.monitor.index


@dataclass(eq=False)
class Key:
    """A stored whole frame, in memory: its sampled grid, its pixels and its encoded image."""

    grid: np.ndarray
    pixels: np.ndarray  # H×W uint32 (BGRA words), a view of the grab
    image: EncodedImage


def pixels_of(shot: Shot) -> np.ndarray:
    return np.frombuffer(shot.raw, dtype=np.uint32, count=shot.width * shot.height).reshape(shot.height, shot.width)


class FrameKeeper:
    def __init__(self, cfg: CaptureConfig, writer: Writer) -> None:
        self.cfg, self.writer = cfg, writer
        self.latest: dict[int, Grab] = {}
        self.stored: dict[int, int] = {}  # monitor → token of its last stored frame
        self.detectors: dict[int, ChangeDetector] = {}
        self.keys: dict[int, list[Key]] = {}
        self._tokens = itertools.count(1)
        self.dropped = 0

    def reset(self) -> None:
        """The monitors changed or the display came back: compare with nothing, hold nothing."""
        self.latest, self.stored, self.detectors, self.keys = {}, {}, {}, {}

    def remember(self, grab: Grab) -> None:
        self.latest[grab.monitor] = grab

    def store(self, grabs: list[Grab], trigger: str, threshold: float = 0.0) -> dict[int, int | None]:
        """Store the grabs that differ (by at least ``threshold``) from their monitor's last stored frame, in
        one write; returns each monitor's frame token: the new frame, or the stored one it equals."""
        tokens: dict[int, int | None] = {}
        new: list[tuple[Grab, NewFrame, ChangeDetector, Verdict, Key | None]] = []
        for g in grabs:
            if g.token is not None:
                tokens[g.monitor] = g.token
                continue
            detector = self.detectors.setdefault(g.monitor, ChangeDetector())
            verdict = detector.check(g.shot.raw, g.shot.width, g.shot.height, threshold)
            if not verdict.changed:
                tokens[g.monitor] = self.stored.get(g.monitor)
                continue
            image, key = self._encode(g, verdict)
            frame = NewFrame(next(self._tokens), g.shot.monitor, image, grid_hash(verdict.grid), trigger)
            new.append((g, frame, detector, verdict, key))
        if not new:
            return tokens
        first = new[0][0]
        if not self.writer.submit(Captured(first.ts, first.app, first.title, [n[1] for n in new])):
            self.dropped += len(new)
            log.warning("the writer is behind: dropped a frame")
            self.writer.status.health.store_failed("the database writer is behind, so frames are dropped")
            return {**tokens, **{n[0].monitor: self.stored.get(n[0].monitor) for n in new}}
        for g, frame, detector, verdict, key in new:
            detector.commit(verdict)
            g.token = self.stored[g.monitor] = tokens[g.monitor] = frame.token
            if key is not None:
                self.keys[g.monitor] = [*self.keys.get(g.monitor, []), key][-KEYS:]
        return tokens

    def _encode(self, g: Grab, verdict: Verdict) -> tuple[EncodedImage, Key | None]:
        """The image to store for a changed grab: the region that differs from the closest key (on the sampled
        grid) when it covers at most ``capture.region_max`` of the screen, else the whole frame, a new key."""
        c, s = self.cfg, g.shot

        def whole() -> EncodedImage:
            return encode_raw(s.raw, s.width, s.height, c.image_format, c.quality, c.max_side)

        if c.region_max <= 0 or (c.max_side and max(s.width, s.height) > c.max_side):
            return whole(), None
        try:
            return self._region(g, verdict, whole)
        except Exception:  # noqa: BLE001 - a region frame is an economy: never lose the frame over it
            log.exception("could not store a region frame: storing the whole frame")
            return whole(), None

    def _region(self, g: Grab, verdict: Verdict, whole: Callable[[], EncodedImage]) -> tuple[EncodedImage, Key | None]:
        c, s = self.cfg, g.shot
        pixels = pixels_of(s)
        keys = [k for k in self.keys.get(g.monitor, []) if k.pixels.shape == pixels.shape]
        if keys:
            best = min(keys, key=lambda k: changed_fraction(k.grid, verdict.grid))
            # the key in use is the last to go (least recently used first): one per app switched between
            self.keys[g.monitor] = [*(k for k in keys if k is not best), best]
            box = changed_box(best.pixels, pixels)
            if box is None:
                return best.image, None  # the same screen as a key: the same image
            if box.area <= c.region_max * s.width * s.height:
                crop = np.ascontiguousarray(pixels[box.y0:box.y1, box.x0:box.x1])
                part = encode_raw(crop.data, box.x1 - box.x0, box.y1 - box.y0, c.image_format, c.quality)
                return EncodedImage(part.data, part.format, s.width, s.height, best.image.sha256, box.x0, box.y0,
                                    whole=whole), None
        image = whole()
        return image, Key(verdict.grid, pixels, image)



def same_screen(a: Grab | None, b: Grab) -> bool:
    """True when two grabs of a monitor show the same thing (on the sampled grid the change test uses)."""
    if a is None or (a.shot.width, a.shot.height) != (b.shot.width, b.shot.height):
        return False
    return bool(np.array_equal(thumbnail(a.shot.raw, a.shot.width, a.shot.height),
                               thumbnail(b.shot.raw, b.shot.width, b.shot.height)))
