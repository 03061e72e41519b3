"""AT-SPI (Linux accessibility bus) over D-Bus with jeepney: pure Python, so it works inside the venv.

Why jeepney and not pyatspi: pyatspi comes only from Debian (GObject introspection, a system-site-packages
venv); jeepney is a maintained, dependency-free D-Bus client on PyPI with blocking calls that take a timeout.

The accessibility bus is a private D-Bus bus; its address comes from ``AT_SPI_BUS_ADDRESS`` or the session
bus's ``org.a11y.Bus.GetAddress`` (at-spi2-core starts it on demand). The lookup: every application the
registry lists → its top-level windows whose extents hold the point (the active one first) → repeated
``Component.GetAccessibleAtPoint`` down to the deepest element. Each D-Bus call gets what is left of one
deadline, so a hung application cannot stall capture.

A lost connection to the bus, or a registry that does not answer (killed, crashed, restarted: "Message
recipient disconnected from message bus without replying"), raises :class:`BusLost`; the lookup thread then
opens a fresh probe with backoff (capture/lookup.py). An application's own errors are only that lookup's.
"""

from __future__ import annotations

import os
import time
from typing import Any

from deskscribe.capture.accessibility import BusLost, Hit, ProbeMissing
from deskscribe.storage.events import Element

REGISTRY = ("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root")
NULL_PATH = "/org/a11y/atspi/null"
ACCESSIBLE, COMPONENT = "org.a11y.atspi.Accessible", "org.a11y.atspi.Component"
SCREEN_COORDS = 0
STATE_ACTIVE, STATE_SHOWING = 1, 25
MAX_DEPTH = 24
MAX_CHILDREN = 64  # children looked at by extents, where GetAccessibleAtPoint finds nothing
DEADLINE_S = 0.5  # one whole lookup (a busy app answers late); a click without element beats a late one


def _jeepney() -> Any:
    try:
        import jeepney
        from jeepney.io import blocking
    except ImportError as exc:
        raise ProbeMissing("the jeepney package is not installed") from exc
    return jeepney, blocking


def bus_address(enable: bool = True) -> str:
    """The accessibility bus address; with ``enable`` also switch accessibility on for the session
    (``org.a11y.Status.IsEnabled``, what screen readers set), so that toolkits that wait for it publish."""
    if os.environ.get("AT_SPI_BUS_ADDRESS"):
        return os.environ["AT_SPI_BUS_ADDRESS"]
    jeepney, blocking = _jeepney()
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        raise ProbeMissing("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)")
    bus = jeepney.DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
    try:
        with blocking.open_dbus_connection(bus="SESSION") as conn:
            if enable:
                props = jeepney.DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus",
                                            interface="org.freedesktop.DBus.Properties")
                conn.send_and_get_reply(jeepney.new_method_call(
                    props, "Set", "ssv", ("org.a11y.Status", "IsEnabled", ("b", True))), timeout=2)
            reply = conn.send_and_get_reply(jeepney.new_method_call(bus, "GetAddress"), timeout=2)
    except Exception as exc:  # noqa: BLE001 - jeepney raises DBusErrorResponse, OSError, TimeoutError
        raise ProbeMissing(f"the accessibility bus is not available (install at-spi2-core): {exc}") from exc
    if reply.header.message_type.name == "error":
        raise ProbeMissing(f"the accessibility bus is not available (install at-spi2-core): {reply.body}")
    return str(reply.body[0])


def _error_text(reply: Any) -> str:
    """An error reply as one line: its D-Bus error name and message."""
    name = reply.header.fields.get(4, "")  # jeepney.HeaderFields.error_name
    return f"{name}: {', '.join(map(str, reply.body))}" if name else str(reply.body)


def registry_apps(address: str | None = None, timeout: float = 2.0) -> int:
    """How many applications the accessibility registry lists (`deskscribe doctor`); ProbeMissing says why it
    cannot be asked. Does not switch accessibility on for the session."""
    jeepney, blocking = _jeepney()
    addr = address or bus_address(enable=False)
    call = jeepney.new_method_call(jeepney.DBusAddress(REGISTRY[1], bus_name=REGISTRY[0], interface=ACCESSIBLE),
                                   "GetChildren")
    try:
        with blocking.open_dbus_connection(bus=addr) as conn:
            reply = conn.send_and_get_reply(call, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, jeepney's own errors
        raise ProbeMissing(f"the accessibility registry does not answer on {addr} ({type(exc).__name__}: {exc})") \
            from exc
    if reply.header.message_type.name == "error":
        raise ProbeMissing(f"the accessibility registry does not answer ({_error_text(reply)})")
    return len(reply.body[0])


def _has(states: list[int], bit: int) -> bool:
    return len(states) > bit // 32 and bool(states[bit // 32] >> (bit % 32) & 1)


def _inside(box: tuple[int, int, int, int], x: int, y: int) -> bool:
    bx, by, bw, bh = box
    return bw > 0 and bh > 0 and bx <= x < bx + bw and by <= y < by + bh


class XWindows:
    """The X top-level window at a point and its process id (``_NET_WM_PID``).

    AT-SPI alone cannot tell which window is on top at a point: a window behind another also holds it. So
    the probe asks X which top-level is at the point (root's children, top of the stack first) and keeps
    only the application with that process id. A top-level without pid is an app that publishes nothing
    (xterm, xcalc): no element.
    """

    def __init__(self) -> None:
        from Xlib import X, Xatom, display

        self._d = display.Display()
        self._X, self._Xatom = X, Xatom
        self._root = self._d.screen().root
        self._pid, self._state = self._d.intern_atom("_NET_WM_PID"), self._d.intern_atom("WM_STATE")

    def pid_at(self, x: int, y: int) -> int | None | bool:
        """The pid of the top-level window at (x, y); None: a window without pid; False: no window."""
        for frame in reversed(self._root.query_tree().children):  # stacking order: last is on top
            try:
                attrs = frame.get_attributes()
                if attrs.map_state != self._X.IsViewable:
                    continue
                g = frame.get_geometry()
                if not (g.x <= x < g.x + g.width and g.y <= y < g.y + g.height):
                    continue
                client = self._client(frame)
                prop = client.get_full_property(self._pid, self._Xatom.CARDINAL) if client else None  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - the window closed while we looked (BadWindow)
                continue
            return int(prop.value[0]) if prop is not None and len(prop.value) else None
        return False

    def _client(self, window: object, depth: int = 3) -> object | None:
        """The window manager's frame holds the app's window (the one with WM_STATE)."""
        if window.get_full_property(self._state, self._X.AnyPropertyType) is not None:  # type: ignore[attr-defined]
            return window
        if depth == 0:
            return None
        for child in window.query_tree().children:  # type: ignore[attr-defined]
            found = self._client(child, depth - 1)
            if found is not None:
                return found
        return None

    def close(self) -> None:
        self._d.close()


class AtspiProbe:
    name = "at-spi"

    def __init__(self, address: str | None = None) -> None:
        try:
            self._x: XWindows | None = XWindows() if os.environ.get("DISPLAY") else None
        except Exception:  # noqa: BLE001 - no X (a Wayland session): fall back on the windows' states
            self._x = None
        self._pids: dict[str, int | None] = {}
        self._jeepney, blocking = _jeepney()
        addr = address or bus_address()
        try:
            self._conn = blocking.open_dbus_connection(bus=addr)
        except Exception as exc:  # noqa: BLE001
            raise ProbeMissing(f"cannot connect to the accessibility bus {addr}: {exc}") from exc
        self._deadline = 0.0
        self.last_miss = ""  # why the last lookup found no element (the lookup thread counts these)

    def close(self) -> None:
        for closer in (self._conn.close, self._x.close if self._x is not None else None):
            try:
                if closer:
                    closer()
            except Exception:  # noqa: BLE001 - closing what was lost may fail; nothing to keep
                pass

    def check(self, timeout: float = 2.0) -> int:
        """The number of applications the registry lists; BusLost when the bus or the registry is gone."""
        self._deadline = time.monotonic() + timeout
        try:
            return len(self._apps())
        except TimeoutError as exc:
            raise BusLost(f"the accessibility registry does not answer ({exc})") from exc

    def _apps(self) -> list[tuple[str, str]]:
        """The applications on the bus; an error reply means the registry is gone (a slow one only times out)."""
        try:
            return self._children(REGISTRY)
        except LookupError as exc:
            raise BusLost(f"the accessibility registry does not answer ({exc})") from exc

    def _pid_of(self, bus_name: str) -> int | None:
        if bus_name not in self._pids:
            try:
                body = self._call(("org.freedesktop.DBus", "/org/freedesktop/DBus"), "org.freedesktop.DBus",
                                  "GetConnectionUnixProcessID", "s", (bus_name,))
                self._pids[bus_name] = int(body[0])
            except LookupError:
                self._pids[bus_name] = None
        return self._pids[bus_name]

    # --- D-Bus calls, each bounded by the current lookup's deadline ---------------------------------------
    def _call(self, ref: tuple[str, str], interface: str, method: str, sig: str | None = None,
              args: tuple[Any, ...] = ()) -> Any:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("accessibility lookup ran out of time")
        jeepney = self._jeepney
        addr = jeepney.DBusAddress(ref[1], bus_name=ref[0], interface=interface)
        try:
            reply = self._conn.send_and_get_reply(jeepney.new_method_call(addr, method, sig, args), timeout=left)
        except TimeoutError:
            raise
        except (OSError, EOFError) as exc:  # the bus itself went away (BrokenPipeError, ConnectionResetError…)
            raise BusLost(f"lost the connection to the accessibility bus ({type(exc).__name__}: {exc})") from exc
        if reply.header.message_type.name == "error":
            raise LookupError(f"{interface}.{method}: {_error_text(reply)}")
        return reply.body

    def _prop(self, ref: tuple[str, str], name: str) -> Any:
        return self._call(ref, "org.freedesktop.DBus.Properties", "Get", "ss", (ACCESSIBLE, name))[0][1]

    def _children(self, ref: tuple[str, str]) -> list[tuple[str, str]]:
        return [tuple(c) for c in self._call(ref, ACCESSIBLE, "GetChildren")[0]]

    def _extents(self, ref: tuple[str, str]) -> tuple[int, int, int, int]:
        return tuple(self._call(ref, COMPONENT, "GetExtents", "u", (SCREEN_COORDS,))[0])

    # --- the lookup ----------------------------------------------------------------------------------------
    def element_at(self, x: int, y: int, deadline_s: float = DEADLINE_S) -> Hit | None:
        self._deadline = time.monotonic() + deadline_s
        pid = self._x.pid_at(x, y) if self._x is not None else True
        if pid is None or pid is False:
            self.last_miss = "no X window" if pid is False else "a window without pid"
            return None  # no window there, or one whose app publishes nothing
        found = self._window_at(x, y, None if pid is True else pid)
        if found is None:
            self.last_miss = "no accessible window there"
            return None
        app, window = found
        node = window
        for _ in range(MAX_DEPTH):
            child: tuple[str, str] | None = tuple(
                self._call(node, COMPONENT, "GetAccessibleAtPoint", "iiu", (x, y, SCREEN_COORDS))[0])
            if child is None or child[1] in ("", NULL_PATH) or child == node:
                child = self._child_by_extents(node, x, y)
            if child is None:
                break
            node = child
        role = str(self._call(node, ACCESSIBLE, "GetRoleName")[0])
        name = str(self._prop(node, "Name") or "")
        title = str(self._prop(window, "Name") or "") or None
        return Hit(Element(role, name, self._extents(node), app), title)

    def _child_by_extents(self, node: tuple[str, str], x: int, y: int) -> tuple[str, str] | None:
        """GTK's notebook answers GetAccessibleAtPoint with nothing: its page tab has no extents (-1) though
        the page inside it has. Look at the children's (and such extent-less children's children's) boxes."""
        kids = self._children(node)[:MAX_CHILDREN]
        for depth in range(2):
            hollow = []
            for kid in kids:
                box = self._extents(kid)
                if _inside(box, x, y):
                    return kid
                if box[2] <= 0 and depth == 0:
                    hollow += self._children(kid)[:MAX_CHILDREN]
            kids = hollow
        return None

    def _window_at(self, x: int, y: int, pid: int | None) -> tuple[str, tuple[str, str]] | None:
        """(application name, top-level window) holding the point, of the process ``pid`` when X told it;
        active windows first, then showing ones."""
        best: tuple[int, str, tuple[str, str]] | None = None
        for app_ref in self._apps():
            if pid is not None and self._pid_of(app_ref[0]) != pid:
                continue
            try:
                windows = self._children(app_ref)
                app = str(self._prop(app_ref, "Name") or "")
            except LookupError:  # an application that went away between the two calls
                continue
            for win in windows:
                try:
                    if not _inside(self._extents(win), x, y):
                        continue
                    states = list(self._call(win, ACCESSIBLE, "GetState")[0])
                except LookupError:
                    continue
                rank = 2 if _has(states, STATE_ACTIVE) else 1 if _has(states, STATE_SHOWING) else 0
                if rank and (best is None or rank > best[0]):
                    best = (rank, app, win)
        return (best[1], best[2]) if best else None
