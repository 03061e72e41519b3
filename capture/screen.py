"""Screenshots with mss: monitor enumeration, raw BGRA grabs, reopening after the display went away."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from deskscribe.errors import BackendUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Monitor:
    """One monitor in mss numbering (1 = first); ``left``/``top`` place it on the virtual desktop."""

    index: int
    left: int
    top: int
    width: int
    height: int

    def contains(self, x: int, y: int) -> bool:
        return self.left <= x < self.left + self.width and self.top <= y < self.top + self.height


@dataclass(frozen=True)
class Shot:
    monitor: Monitor
    raw: bytearray  # BGRA, width*height*4 bytes
    width: int
    height: int


def open_mss() -> Any:
    """An mss instance, or BackendUnavailable with one line saying what is missing."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise BackendUnavailable(
            "no X display: DISPLAY is not set (run capture inside your desktop session"
            + (", under XWayland" if os.environ.get("WAYLAND_DISPLAY") else "") + ")"
        )
    import mss

    try:
        return mss.MSS()
    except Exception as exc:  # mss raises ScreenShotError, OSError or ctypes errors depending on the backend
        where = os.environ.get("DISPLAY", "the screen")
        raise BackendUnavailable(f"cannot open display {where}: {str(exc).splitlines()[0] if str(exc) else exc}") from exc


def select(monitors: list[Monitor], wanted: list[int]) -> list[Monitor]:
    """The monitors config ``capture.monitors`` asks for (empty = all); unknown indexes are ignored."""
    return [m for m in monitors if not wanted or m.index in wanted]


class Screen:
    """Owns one mss instance; use it from one thread."""

    def __init__(self) -> None:
        self._sct = open_mss()
        self.monitors = self._enumerate()

    def _enumerate(self) -> list[Monitor]:
        found = self._sct.monitors[1:]
        return [Monitor(i, m["left"], m["top"], m["width"], m["height"]) for i, m in enumerate(found, start=1)]

    def refresh(self) -> bool:
        """Re-read the monitor layout (mss caches it); True when it changed."""
        import mss

        old = self.monitors
        self._sct.close()
        self._sct = mss.MSS()
        self.monitors = self._enumerate()
        return old != self.monitors

    def grab(self, monitor: Monitor) -> Shot:
        shot = self._sct.grab({"left": monitor.left, "top": monitor.top, "width": monitor.width, "height": monitor.height})
        return Shot(monitor, shot.raw, shot.width, shot.height)

    def close(self) -> None:
        self._sct.close()


def black_out(shot: Shot, boxes: list[tuple[int, int, int, int]]) -> None:
    """Paint ``boxes`` (desktop pixels) black in the shot, where they fall on its monitor (in place)."""
    if not boxes:
        return
    import numpy as np

    m = shot.monitor
    pixels = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
    for x, y, w, h in boxes:
        x0, y0 = max(x - m.left, 0), max(y - m.top, 0)
        x1, y1 = min(x - m.left + w, shot.width), min(y - m.top + h, shot.height)
        if x0 < x1 and y0 < y1:
            pixels[y0:y1, x0:x1, :3] = 0
