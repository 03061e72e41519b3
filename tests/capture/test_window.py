"""The window-backend dispatcher, the real X11 backend, and the Windows/macOS backends on stand-in APIs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from deskscribe.capture.window import NullBackend, WindowInfo, get_backend, is_wayland
from deskscribe.capture.window.macos import MacBackend
from deskscribe.capture.window.windows import WindowsBackend, base_name

from .conftest import xdo


@pytest.mark.parametrize("platform,why", [
    ("win32", "runs only on Windows"), ("darwin", "pyobjc is not installed"), ("sunos5", "on this platform (sunos5)"),
])
def test_unavailable_platforms_say_why(platform, why):
    backend = get_backend(platform)
    assert isinstance(backend, NullBackend) and "not available" in backend.reason and why in backend.reason
    assert backend.active_window() is None and backend.screen_locked() is None and backend.idle_seconds() is None


def test_no_x_display_says_so(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    backend = get_backend("linux")
    assert isinstance(backend, NullBackend) and "DISPLAY is not set" in backend.reason


@pytest.mark.parametrize("env,expected", [
    ({"WAYLAND_DISPLAY": "wayland-0"}, True), ({"XDG_SESSION_TYPE": "wayland"}, True),
    ({"XDG_SESSION_TYPE": "x11"}, False), ({}, False),
])
def test_wayland_detection(monkeypatch, env, expected):
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert is_wayland() is expected


@pytest.mark.x11
def test_x11_backend_on_a_real_window(xdisplay, xterm):
    wid = xterm("backend probe", "cat", "40x10+50+50", wm_class="Probe")
    xdo("windowactivate", "--sync", wid)
    backend = get_backend()
    try:
        assert backend.name == "x11"
        win = backend.active_window()
        assert win.title == "backend probe" and win.app == "Probe"
        assert win.process == "xterm" and "xterm" in win.names and win.pid
        assert backend.screen_locked() is False
        assert backend.idle_seconds() >= 0
    finally:
        backend.close()


class FakeUser32:
    """Stand-in for Windows' user32.dll (cannot exist on Linux)."""

    def __init__(self, title, pid, idle_ms=0):
        self.title, self.pid, self.idle_ms = title, pid, idle_ms

    def GetForegroundWindow(self):  # noqa: N802 - Windows API names
        return 42 if self.title is not None else 0

    def GetWindowTextLengthW(self, hwnd):  # noqa: N802
        return len(self.title)

    def GetWindowTextW(self, hwnd, buf, n):  # noqa: N802
        buf.value = self.title[: n - 1]
        return len(buf.value)

    def GetWindowThreadProcessId(self, hwnd, ref):  # noqa: N802
        ref._obj.value = self.pid
        return 1

    def GetLastInputInfo(self, ref):  # noqa: N802
        ref._obj.dwTime = 10_000 - self.idle_ms
        return 1


class FakeKernel32:
    """Stand-in for Windows' kernel32.dll."""

    def __init__(self, path):
        self.path = path

    def OpenProcess(self, access, inherit, pid):  # noqa: N802
        return 7

    def QueryFullProcessImageNameW(self, handle, flags, buf, size):  # noqa: N802
        buf.value = self.path
        return 1

    def CloseHandle(self, handle):  # noqa: N802
        return 1

    def GetTickCount(self):  # noqa: N802
        return 10_000


def test_windows_backend_logic_on_stand_in_apis():
    assert base_name(r"C:\Program Files\KeePassXC\KeePassXC.exe") == "KeePassXC"
    b = WindowsBackend((FakeUser32("Inbox - Outlook", 99, idle_ms=2500), FakeKernel32(r"C:\x\OUTLOOK.EXE")))
    assert b.active_window() == WindowInfo("OUTLOOK", "Inbox - Outlook", 99, "OUTLOOK", ("OUTLOOK",))
    assert b.screen_locked() is False and b.idle_seconds() == 2.5
    locked = WindowsBackend((FakeUser32("", 5), FakeKernel32(r"C:\Windows\SystemApps\LockApp.exe")))
    assert locked.screen_locked() is True
    assert WindowsBackend((FakeUser32(None, 0), FakeKernel32(""))).active_window() is None


def test_macos_backend_logic_on_stand_in_apis():
    app = SimpleNamespace(localizedName=lambda: "Safari", processIdentifier=lambda: 12,
                          bundleIdentifier=lambda: "com.apple.Safari")
    appkit = SimpleNamespace(NSWorkspace=SimpleNamespace(sharedWorkspace=lambda: SimpleNamespace(
        frontmostApplication=lambda: app)))
    quartz = SimpleNamespace(
        kCGWindowListOptionOnScreenOnly=1, kCGWindowListExcludeDesktopElements=16, kCGNullWindowID=0,
        kCGEventSourceStateHIDSystemState=1, kCGAnyInputEventType=~0,
        CGWindowListCopyWindowInfo=lambda opts, wid: [
            {"kCGWindowOwnerPID": 3, "kCGWindowLayer": 0, "kCGWindowName": "other"},
            {"kCGWindowOwnerPID": 12, "kCGWindowLayer": 25, "kCGWindowName": "menu"},
            {"kCGWindowOwnerPID": 12, "kCGWindowLayer": 0, "kCGWindowName": "Private Browsing"}],
        CGSessionCopyCurrentDictionary=lambda: {"CGSSessionScreenIsLocked": True},
        CGEventSourceSecondsSinceLastEventType=lambda state, kind: 4.0,
    )
    b = MacBackend((appkit, quartz))
    assert b.active_window() == WindowInfo("Safari", "Private Browsing", 12, "Safari", ("Safari", "com.apple.Safari"))
    assert b.screen_locked() is True and b.idle_seconds() == 4.0
