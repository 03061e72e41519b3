"""macOS backend: NSWorkspace's frontmost app and Quartz's window list, through pyobjc when installed.

Window titles need the Screen Recording permission (macOS hides other apps' titles without it); the app name
always works. Lock detection reads ``CGSessionCopyCurrentDictionary``'s ``CGSSessionScreenIsLocked``.
Install the extras with ``pip install pyobjc-framework-Cocoa pyobjc-framework-Quartz``.
"""

from __future__ import annotations

from typing import Any

from deskscribe.capture.window import BackendMissing, ShownWindow, WindowInfo


class MacBackend:
    name = "macos"

    def __init__(self, modules: tuple[Any, Any] | None = None) -> None:
        # ``modules`` lets tests hand in stand-ins for AppKit/Quartz, which cannot exist off macOS.
        if modules is None:
            try:
                import AppKit  # type: ignore[import-not-found]
                import Quartz  # type: ignore[import-not-found]
            except ImportError as exc:
                raise BackendMissing(
                    "pyobjc is not installed (pip install pyobjc-framework-Cocoa pyobjc-framework-Quartz)"
                ) from exc
            modules = (AppKit, Quartz)
        self._appkit, self._quartz = modules

    def _title(self, pid: int) -> str | None:
        q = self._quartz
        windows = q.CGWindowListCopyWindowInfo(
            q.kCGWindowListOptionOnScreenOnly | q.kCGWindowListExcludeDesktopElements, q.kCGNullWindowID
        ) or []
        for info in windows:  # front to back: the first layer-0 window of the app is its focused one
            if info.get("kCGWindowOwnerPID") == pid and info.get("kCGWindowLayer", 0) == 0:
                return info.get("kCGWindowName") or None
        return None

    def shown_windows(self) -> list[ShownWindow]:
        """Not listed on macOS yet (the platform's list is CGWindowListCopyWindowInfo): an excluded window shown
        beside the focused one is not blacked out there."""
        return []

    def active_window(self) -> WindowInfo | None:
        app = self._appkit.NSWorkspace.sharedWorkspace().frontmostApplication()
        if app is None:
            return None
        name = str(app.localizedName() or "") or None
        pid = int(app.processIdentifier())
        bundle = str(app.bundleIdentifier() or "") or None
        names = tuple(n for n in (name, bundle) if n)
        return WindowInfo(app=name, title=self._title(pid), pid=pid, process=name, names=names)

    def screen_locked(self) -> bool | None:
        session = self._quartz.CGSessionCopyCurrentDictionary()
        if session is None:
            return None
        return bool(session.get("CGSSessionScreenIsLocked", False))

    def idle_seconds(self) -> float | None:
        q = self._quartz
        return float(q.CGEventSourceSecondsSinceLastEventType(q.kCGEventSourceStateHIDSystemState, q.kCGAnyInputEventType))

    def close(self) -> None:
        pass
