"""Which windows are never captured: pure rules over the active window's names and title.

The rule, for every monitor at once: while the *focused* window is excluded, nothing is grabbed, encoded or
written on any monitor, and the input events of that time are dropped. A window that is excluded but visible
without focus can still appear in a screenshot of another window's activity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from deskscribe.config import PrivacyConfig


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
