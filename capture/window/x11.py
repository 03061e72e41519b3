"""X11 backend: EWMH ``_NET_ACTIVE_WINDOW`` with python-xlib, process names from /proc, MIT-SCREEN-SAVER.

Needs a window manager that sets ``_NET_ACTIVE_WINDOW`` (every common one does; bare X has none).
Lock detection: the X screen saver extension reports when the screen saver is active, which is what
xscreensaver/light-locker/xss-lock based lockers turn on. GNOME and KDE lock screens are reported over
D-Bus only, which this backend does not query.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from deskscribe.capture.window import BackendMissing, ShownWindow, WindowInfo


def process_name(pid: int | None) -> str | None:
    if not pid:
        return None
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


class X11Backend:
    name = "x11"

    def __init__(self, display_name: str | None = None) -> None:
        try:
            from Xlib import X, Xatom, display, error
        except ImportError as exc:  # python-xlib is a dependency on Linux; this is a broken install
            raise BackendMissing(f"python-xlib is not installed ({exc})") from exc
        display_name = display_name or os.environ.get("DISPLAY")
        if not display_name:
            raise BackendMissing("no X display (DISPLAY is not set)")
        try:
            self._d = display.Display(display_name)
        except (error.DisplayError, OSError, Exception) as exc:  # Xlib raises several unrelated types here
            raise BackendMissing(f"cannot open X display {display_name} ({exc})") from exc
        self._X, self._Xatom, self._error = X, Xatom, error
        self._root = self._d.screen().root
        atom = self._d.intern_atom
        self._active = atom("_NET_ACTIVE_WINDOW")
        self._net_name = atom("_NET_WM_NAME")
        self._utf8 = atom("UTF8_STRING")
        self._pid = atom("_NET_WM_PID")
        self._stacking = atom("_NET_CLIENT_LIST_STACKING")
        self._wm_state = atom("_NET_WM_STATE")
        self._hidden = atom("_NET_WM_STATE_HIDDEN")
        self._has_ss = bool(self._d.has_extension("MIT-SCREEN-SAVER"))

    def _prop(self, window: Any, atom: int, kind: int) -> Any:
        prop = window.get_full_property(atom, kind)
        return None if prop is None else prop.value

    def active_window(self) -> WindowInfo | None:
        value = self._prop(self._root, self._active, self._X.AnyPropertyType)
        if value is None or len(value) == 0 or not value[0]:
            return None
        try:
            return self._info(self._d.create_resource_object("window", int(value[0])))
        except (self._error.BadWindow, self._error.BadDrawable):
            return None  # the window closed between the two requests

    def _info(self, window: Any) -> WindowInfo:
        raw = self._prop(window, self._net_name, self._utf8)
        title = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if title is None:
            title = window.get_wm_name()
            title = title.decode("latin-1") if isinstance(title, bytes) else title
        wm_class = window.get_wm_class()
        pids = self._prop(window, self._pid, self._Xatom.CARDINAL)
        pid = int(pids[0]) if pids is not None and len(pids) else None
        proc = process_name(pid)
        names = tuple(n for n in (proc, *(wm_class or ())) if n)
        app = wm_class[1] if wm_class else proc
        return WindowInfo(app=app, title=title or None, pid=pid, process=proc, names=names, id=int(window.id))

    def shown_windows(self) -> list[ShownWindow]:
        """EWMH's stacking list (bottom to top), mapped and not minimised, each with its frame's box."""
        value = self._prop(self._root, self._stacking, self._Xatom.WINDOW)
        out = []
        for wid in value if value is not None else ():
            window = self._d.create_resource_object("window", int(wid))
            try:
                if window.get_attributes().map_state != self._X.IsViewable:
                    continue
                states = self._prop(window, self._wm_state, self._Xatom.ATOM)
                if states is not None and self._hidden in states:
                    continue
                info = self._info(window)
                out.append(ShownWindow(info.names, info.title, locate=functools.partial(self._frame_box, window),
                                       id=info.id))
            except (self._error.BadWindow, self._error.BadDrawable, self._error.BadMatch):
                continue  # closed meanwhile
        return out

    def _frame_box(self, window: Any) -> tuple[int, int, int, int]:
        """The box of the window manager's frame around ``window`` (the window's own where it has none); an
        empty box when it closed meanwhile."""
        try:
            return self._outer_box(window)
        except (self._error.BadWindow, self._error.BadDrawable, self._error.BadMatch):
            return 0, 0, 0, 0

    def _outer_box(self, window: Any) -> tuple[int, int, int, int]:
        top = window
        while True:
            parent = top.query_tree().parent
            if parent is None or parent.id == self._root.id:
                break
            top = parent
        geo = top.get_geometry()
        pos = top.translate_coords(self._root, 0, 0)
        border = int(geo.border_width)
        return -int(pos.x) - border, -int(pos.y) - border, int(geo.width) + 2 * border, int(geo.height) + 2 * border

    def _ss_info(self) -> Any:
        if not self._has_ss:
            return None
        return self._root.screensaver_query_info()

    def screen_locked(self) -> bool | None:
        info = self._ss_info()
        if info is None:
            return None
        from Xlib.ext import screensaver

        return bool(info.state == screensaver.StateOn)

    def idle_seconds(self) -> float | None:
        info = self._ss_info()
        return None if info is None else info.idle / 1000.0

    def close(self) -> None:
        try:
            self._d.close()
        except Exception:  # noqa: BLE001 - closing a dead connection must not fail a shutdown
            pass
