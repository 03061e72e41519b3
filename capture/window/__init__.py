"""The active window (app and title), screen lock and idle time, behind one dispatcher.

:func:`get_backend` imports the platform's backend lazily (``x11``, ``windows``, ``macos``). Where none can
run it returns a :class:`NullBackend` whose ``reason`` says why, and capture goes on without window metadata.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from deskscribe.errors import BackendUnavailable


@dataclass(frozen=True)
class WindowInfo:
    """The focused window. ``app`` is what frames store; ``names`` are every name exclusion rules match."""

    app: str | None
    title: str | None
    pid: int | None = None
    process: str | None = None
    names: tuple[str, ...] = ()
    id: int | None = field(default=None, compare=False)  # the window system's id, where it has one (X11)


@dataclass(frozen=True)
class ShownWindow:
    """A top-level window on screen: what exclusion rules match and where it is (desktop pixels, the window
    manager's frame included: its title bar shows the title). ``box`` None: ``locate`` asks the window system,
    only when it is needed (an excluded window is shown), not on every grab."""

    names: tuple[str, ...]
    title: str | None
    box: tuple[int, int, int, int] | None = None  # x, y, w, h
    locate: Callable[[], tuple[int, int, int, int]] | None = field(default=None, compare=False, repr=False)
    id: int | None = field(default=None, compare=False)  # as WindowInfo.id

    def where(self) -> tuple[int, int, int, int]:
        if self.box is not None:
            return self.box
        return self.locate() if self.locate is not None else (0, 0, 0, 0)


class WindowBackend(Protocol):
    name: str

    def active_window(self) -> WindowInfo | None:
        """The focused window, or None when no window has focus (or it vanished)."""

    def shown_windows(self) -> list[ShownWindow]:
        """The windows on screen, bottom to top ([] where this cannot be told)."""

    def screen_locked(self) -> bool | None:
        """True while the screen is locked or the screen saver is on; None when this cannot be told."""

    def idle_seconds(self) -> float | None:
        """Seconds since the last keyboard or mouse input, or None when this cannot be told."""

    def close(self) -> None: ...


class NullBackend:
    """No window metadata on this platform/session; ``reason`` is the one line to log."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def active_window(self) -> WindowInfo | None:
        return None

    def shown_windows(self) -> list[ShownWindow]:
        return []

    def screen_locked(self) -> bool | None:
        return None

    def idle_seconds(self) -> float | None:
        return None

    def close(self) -> None:
        pass


def is_wayland() -> bool:
    return bool(os.environ.get("WAYLAND_DISPLAY")) or os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"


WAYLAND_NOTE = (
    "this is a Wayland session: only XWayland windows are visible to capture, and screenshots of native "
    "Wayland windows may be black; log in to an X11 session for full capture"
)


def get_backend(platform: str | None = None) -> WindowBackend:
    """The backend for ``platform`` (default ``sys.platform``), or a NullBackend saying why there is none."""
    platform = platform or sys.platform
    try:
        if platform.startswith("linux") or platform.startswith("freebsd"):
            from deskscribe.capture.window.x11 import X11Backend

            return X11Backend()
        if platform == "win32":
            from deskscribe.capture.window.windows import WindowsBackend

            return WindowsBackend()
        if platform == "darwin":
            from deskscribe.capture.window.macos import MacBackend

            return MacBackend()
    except BackendMissing as exc:
        return NullBackend(f"active-window metadata is not available: {exc}")
    return NullBackend(f"active-window metadata is not available on this platform ({platform})")


class BackendMissing(BackendUnavailable):
    """Raised by a backend's constructor when it cannot run here; the message says why."""
