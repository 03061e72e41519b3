"""Windows backend: the foreground window through user32/kernel32 with ctypes (no pywin32, no psutil).

Lock detection: while the lock screen is up the foreground window belongs to LockApp.exe, or there is no
foreground window at all; ``GetLastInputInfo`` gives the idle time.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from deskscribe.capture.window import BackendMissing, ShownWindow, WindowInfo

PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
LOCK_PROCESSES = frozenset({"lockapp", "logonui"})


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]


def _load_apis() -> tuple[Any, Any]:
    if sys.platform != "win32":
        raise BackendMissing("the Windows backend runs only on Windows")
    from ctypes import wintypes  # noqa: F401 - loads the Windows type definitions

    return ctypes.WinDLL("user32", use_last_error=True), ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]


def base_name(path: str) -> str:
    """'C:\\Program Files\\KeePassXC\\KeePassXC.exe' → 'KeePassXC'."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:-4] if name.lower().endswith(".exe") else name


class WindowsBackend:
    name = "windows"

    def __init__(self, apis: tuple[Any, Any] | None = None) -> None:
        # ``apis`` lets tests hand in stand-ins for user32/kernel32, which cannot exist off Windows.
        self._user32, self._kernel32 = apis or _load_apis()

    def _process_path(self, pid: int) -> str | None:
        handle = self._kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return None
        try:
            buf = ctypes.create_unicode_buffer(1024)
            size = ctypes.c_uint(len(buf))
            if not self._kernel32.QueryFullProcessImageNameW(handle, 0, buf, ctypes.byref(size)):
                return None
            return buf.value
        finally:
            self._kernel32.CloseHandle(handle)

    def shown_windows(self) -> list[ShownWindow]:
        """Not listed on Windows yet (the platform's list is EnumWindows): an excluded window shown
        beside the focused one is not blacked out there."""
        return []

    def active_window(self) -> WindowInfo | None:
        hwnd = self._user32.GetForegroundWindow()
        if not hwnd:
            return None
        length = self._user32.GetWindowTextLengthW(hwnd)
        buf = ctypes.create_unicode_buffer(length + 1)
        self._user32.GetWindowTextW(hwnd, buf, length + 1)
        pid = ctypes.c_uint(0)
        self._user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        path = self._process_path(pid.value) if pid.value else None
        proc = base_name(path) if path else None
        return WindowInfo(app=proc, title=buf.value or None, pid=pid.value or None, process=proc,
                          names=(proc,) if proc else ())

    def screen_locked(self) -> bool | None:
        win = self.active_window()
        if win is None:
            return True
        return (win.process or "").lower() in LOCK_PROCESSES

    def idle_seconds(self) -> float | None:
        info = _LastInputInfo(ctypes.sizeof(_LastInputInfo), 0)
        if not self._user32.GetLastInputInfo(ctypes.byref(info)):
            return None
        return float(max(0, (self._kernel32.GetTickCount() - info.dwTime) & 0xFFFFFFFF) / 1000.0)

    def close(self) -> None:
        pass
