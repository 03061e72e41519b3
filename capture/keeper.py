"""The frames capture holds and stores: the latest grab of each monitor (in memory, never stored by itself),
and the last stored frame of each monitor, so an unchanged screen is never stored twice.

Used by the capture thread only. A stored frame is named by a *token* (an int) until the writer gives it a
database id; actions refer to their before/after frames by token.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np

from deskscribe.capture.change import ChangeDetector, Verdict, grid_hash, thumbnail
from deskscribe.capture.encode import encode_raw
from deskscribe.capture.screen import Shot
from deskscribe.capture.writer import Captured, NewFrame, Writer
from deskscribe.config import CaptureConfig

log = logging.getLogger(__name__)


@dataclass
class Grab:
    """One screenshot of one monitor, with the window that had focus when it was taken."""

    shot: Shot
    ts: float
    app: str | None
    title: str | None
    token: int | None = None  # set once stored

    @property
    def monitor(self) -> int:
        return self.shot.monitor.index


class FrameKeeper:
    def __init__(self, cfg: CaptureConfig, writer: Writer) -> None:
        self.cfg, self.writer = cfg, writer
        self.latest: dict[int, Grab] = {}
        self.stored: dict[int, int] = {}  # monitor → token of its last stored frame
        self.detectors: dict[int, ChangeDetector] = {}
        self._tokens = itertools.count(1)
        self.dropped = 0

    def reset(self) -> None:
        """The monitors changed or the display came back: compare with nothing, hold nothing."""
        self.latest, self.stored, self.detectors = {}, {}, {}

    def remember(self, grab: Grab) -> None:
        self.latest[grab.monitor] = grab

    def store(self, grabs: list[Grab], trigger: str, threshold: float = 0.0) -> dict[int, int | None]:
        """Store the grabs that differ (by at least ``threshold``) from their monitor's last stored frame, in
        one write; returns each monitor's frame token: the new frame, or the stored one it equals."""
        tokens: dict[int, int | None] = {}
        new: list[tuple[Grab, NewFrame, ChangeDetector, Verdict]] = []
        for g in grabs:
            if g.token is not None:
                tokens[g.monitor] = g.token
                continue
            detector = self.detectors.setdefault(g.monitor, ChangeDetector())
            verdict = detector.check(g.shot.raw, g.shot.width, g.shot.height, threshold)
            if not verdict.changed:
                tokens[g.monitor] = self.stored.get(g.monitor)
                continue
            c = self.cfg
            image = encode_raw(g.shot.raw, g.shot.width, g.shot.height, c.image_format, c.quality, c.max_side)
            frame = NewFrame(next(self._tokens), g.shot.monitor, image, grid_hash(verdict.grid), trigger)
            new.append((g, frame, detector, verdict))
        if not new:
            return tokens
        first = new[0][0]
        if not self.writer.submit(Captured(first.ts, first.app, first.title, [f for _, f, _, _ in new])):
            self.dropped += len(new)
            log.warning("the writer is behind: dropped a frame")
            return {**tokens, **{g.monitor: self.stored.get(g.monitor) for g, _, _, _ in new}}
        for g, frame, detector, verdict in new:
            detector.commit(verdict)
            g.token = self.stored[g.monitor] = tokens[g.monitor] = frame.token
        return tokens



def same_screen(a: Grab | None, b: Grab) -> bool:
    """True when two grabs of a monitor show the same thing (on the sampled grid the change test uses)."""
    if a is None or (a.shot.width, a.shot.height) != (b.shot.width, b.shot.height):
        return False
    return bool(np.array_equal(thumbnail(a.shot.raw, a.shot.width, a.shot.height),
                               thumbnail(b.shot.raw, b.shot.width, b.shot.height)))
