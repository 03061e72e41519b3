"""Which windows are never captured: pure rules over the active window's names and title.

The rule, for every monitor at once: while the *focused* window is excluded, nothing is grabbed, encoded or
written on any monitor, and the input events of that time are dropped. A window that is excluded but shown
without focus is blacked out of every screenshot before it is kept (:func:`hidden_boxes`, where the window
backend can list the windows on screen: X11), frame and title bar included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from deskscribe.capture.window import ShownWindow
from deskscribe.config import PrivacyConfig

Box = tuple[int, int, int, int]  # x, y, w, h


def _norm(name: str) -> str:
    name = name.strip().casefold()
    return name[:-4] if name.endswith(".exe") else name


@dataclass(frozen=True)
class Rules:
    """Compiled exclusion rules (build once with :meth:`from_config`)."""

    apps: frozenset[str]
    titles: tuple[re.Pattern[str], ...]

    @classmethod
    def from_config(cls, cfg: PrivacyConfig) -> Rules:
        return cls(
            apps=frozenset(_norm(a) for a in cfg.exclude_apps if a.strip()),
            titles=tuple(re.compile(p, re.IGNORECASE) for p in cfg.exclude_titles),
        )

    def excluded(self, names: Iterable[str | None], title: str | None) -> str | None:
        """Why a window with these app names (process, WM_CLASS…) and title is excluded, or None.

        App names match whole and case-insensitively ("KeePassXC" matches "keepassxc", "keepassxc.exe");
        title patterns are regular expressions searched case-insensitively anywhere in the title.
        """
        for name in names:
            if name and _norm(name) in self.apps:
                return f"app {name!r} is excluded"
        if title:
            for pattern in self.titles:
                if pattern.search(title):
                    return f"title matches {pattern.pattern!r}"
        return None


def _minus(box: Box, cover: Box) -> list[Box]:
    """``box`` less the part ``cover`` hides: up to four boxes."""
    x, y, w, h = box
    cx0, cy0 = max(x, cover[0]), max(y, cover[1])
    cx1, cy1 = min(x + w, cover[0] + cover[2]), min(y + h, cover[1] + cover[3])
    if cx0 >= cx1 or cy0 >= cy1:
        return [box]
    parts = [(x, y, w, cy0 - y), (x, cy1, w, y + h - cy1),  # above and below the cover, then left and right
             (x, cy0, cx0 - x, cy1 - cy0), (cx1, cy0, x + w - cx1, cy1 - cy0)]
    return [p for p in parts if p[2] > 0 and p[3] > 0]


def hidden_boxes(rules: Rules, shown: Sequence[ShownWindow]) -> list[Box]:
    """The screen areas showing an excluded window (``shown``: bottom to top): its box less the windows above it."""
    out: list[Box] = []
    for i, window in enumerate(shown):
        if rules.excluded(window.names, window.title) is None:
            continue
        parts = [window.where()]
        for above in shown[i + 1:]:
            if rules.excluded(above.names, above.title) is None:
                parts = [q for p in parts for q in _minus(p, above.where())]
        out += parts
    return out
