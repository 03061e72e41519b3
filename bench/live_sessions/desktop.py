"""The live benchmark's desktop: Xvfb at a given size with a wallpaper, openbox, a D-Bus session bus (so GTK
apps publish their widgets on AT-SPI), and a driver that works real apps with xdotool.

Clicks on named widgets (a menu, a menu item, a dialog's button) find the widget on the accessibility bus and
click its centre, so each session knows what was clicked and where (``Desktop.clicked``): the truth the steps
are scored against. Whether capture itself may ask AT-SPI is the session's choice (run.py): without it, the
step must name the widget from the screen alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TYPE_DELAY_MS = 150  # between keystrokes: about a person's typing speed (≈ 70 words a minute)


def wait(predicate: Any, timeout: float, what: str) -> Any:
    """Poll a condition of another process (X server, capture database): nothing to block on."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


@dataclass
class Clicked:
    """A widget the script clicked: its accessible role and name, its box (x, y, w, h) and the point."""

    role: str
    name: str
    box: tuple[int, int, int, int]
    point: tuple[int, int]


class Desktop:
    """Drives real apps on one X display with xdotool; waits for capture to store a frame after each action."""

    def __init__(self, display: str, home: Path, work: Path, bus: str | None = None) -> None:
        # the apps get a fresh home (no session to restore, no config of the person running the bench)
        self.env = {**os.environ, "DISPLAY": display, "HOME": str(work), "XDG_CONFIG_HOME": str(work / ".config"),
                    "XDG_DATA_HOME": str(work / ".local"), "XDG_CACHE_HOME": str(work / ".cache")}
        self.env.pop("AT_SPI_BUS_ADDRESS", None)
        if bus:
            self.env["DBUS_SESSION_BUS_ADDRESS"] = bus
        self.home, self.work = home, work
        self.procs: list[subprocess.Popen[bytes]] = []
        self.no_frame = 0  # actions after which capture stored no frame
        self.clicked: list[Clicked] = []
        self.terms: dict[str, int] = {}  # xterm window → the xterm's pid (its shell is its child)

    def xdo(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, check=True).stdout

    def _start(self, argv: list[str], search: list[str]) -> str:
        t0 = time.time()
        self.procs.append(subprocess.Popen(argv, env=self.env, cwd=self.work, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))
        win = self.xdo("search", "--sync", *search).split()[0]
        self.xdo("windowactivate", "--sync", win)
        self.settle(t0)
        return win

    def frames_after(self, ts: float) -> int:
        import sqlite3

        try:
            conn = sqlite3.connect(f"file:{self.home / 'deskscribe.db'}?mode=ro", uri=True, timeout=10)
            try:
                return conn.execute("SELECT count(*) FROM frames WHERE ts > ?", (ts,)).fetchone()[0]
            finally:
                conn.close()
        except sqlite3.OperationalError:
            return 0

    def settle(self, since: float) -> None:
        """Wait until capture stored a frame taken after an action began (what it left on screen); an action
        that changed nothing stores none, so after a bounded wait the script goes on."""
        try:
            wait(lambda: self.frames_after(since + 0.2), 10, "a frame after the action")
        except TimeoutError:
            self.no_frame += 1

    def xterm(self, title: str, default_font: bool = False, geometry: str = "100x30+20+20") -> str:
        """An xterm running bash; ``default_font``: xterm's own (the core bitmap font "fixed", 6×13), as a
        person gets it with no settings, else DejaVu Sans Mono 12."""
        font = [] if default_font else ["-fa", "DejaVu Sans Mono", "-fs", "12"]
        win = self._start(["xterm", "-T", title, "-geometry", geometry, *font, "-e", "bash"],
                          ["--name", f"^{title}$"])
        self.terms[win] = self.procs[-1].pid
        return win

    def mousepad(self) -> str:
        return self._start(["mousepad", "--disable-server"], ["--onlyvisible", "--class", "mousepad"])

    def xcalc(self) -> str:
        return self._start(["xcalc"], ["--class", "xcalc"])

    def type(self, win: str, text: str) -> None:
        t0 = time.time()
        self.xdo("windowactivate", "--sync", win)
        self.xdo("type", "--delay", str(TYPE_DELAY_MS), text)
        self.settle(t0)

    def key(self, win: str, combo: str) -> None:
        t0 = time.time()
        self.xdo("windowactivate", "--sync", win)
        self.xdo("key", combo)
        self.settle(t0)

    def type_line(self, win: str, text: str) -> None:
        """A line and Enter, without waiting in between (as a person types a command)."""
        t0 = time.time()
        self.xdo("windowactivate", "--sync", win)
        self.xdo("type", "--delay", str(TYPE_DELAY_MS), text)
        self.xdo("key", "Return")
        if win in self.terms:  # a person types the next command once this one has printed its output
            wait(lambda: shell_idle(self.terms[win]), 30, f"the shell after {text!r}")
        self.settle(t0)

    def save_as(self, win: str, name: str) -> None:
        """Ctrl+S, type the file name into the "Save As" dialog (it opens in the working folder), Enter."""
        self.key(win, "ctrl+s")
        self.name_file(name, enter=True)

    def name_file(self, name: str, enter: bool) -> None:
        """Type a file name into the open "Save As" dialog; ``enter``: then press Enter until it is saved."""
        dialog = self.xdo("search", "--sync", "--name", "^Save As$").split()[0]
        t0 = time.time()
        self.xdo("windowactivate", "--sync", dialog)
        self.xdo("key", "ctrl+a")
        self.xdo("type", "--delay", str(TYPE_DELAY_MS), name)
        self.settle(t0)
        if not enter:
            return
        t0 = time.time()
        for _ in range(3):  # GTK's name completion can swallow the first Enter
            self.xdo("key", "Return")
            try:
                wait(lambda: (self.work / name).exists(), 5, f"{name} to be saved")
                break
            except TimeoutError:
                continue
        self.settle(t0)

    def saved(self, name: str) -> None:
        wait(lambda: (self.work / name).exists(), 20, f"{name} to be saved")

    def click(self, role: str, name: str, app: str, timeout: float = 20) -> Clicked:
        """Click the centre of the showing widget of ``app`` with this role and name, found on AT-SPI."""
        found = wait(lambda: find_element(self.env["DBUS_SESSION_BUS_ADDRESS"], app, role, name), timeout,
                     f"the {role} {name!r} of {app} on the accessibility bus")
        x, y, w, h = found
        point = (x + w // 2, y + h // 2)
        t0 = time.time()
        # held as a person holds it (~0.1 s): xdotool's own click releases at once, and a button that closes its
        # window on release is gone before a screenshot of what was clicked can be taken
        self.xdo("mousemove", str(point[0]), str(point[1]), "mousedown", "1", "sleep", "0.1", "mouseup", "1")
        self.clicked.append(Clicked(role, name, found, point))
        self.settle(t0)
        return self.clicked[-1]

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    except OSError:
        return []


def shell_idle(xterm_pid: int) -> bool:
    """The xterm's shell runs no command and waits for input (read(2) on the terminal)."""
    shells = _children(xterm_pid)
    if not shells or _children(shells[0]):
        return False
    try:
        # read, poll, select, pselect6, ppoll (x86-64; bash's readline waits in pselect6), read on arm64
        return Path(f"/proc/{shells[0]}/syscall").read_text().split()[0] in ("0", "7", "23", "270", "271", "63")
    except (OSError, IndexError):
        return False


def find_element(bus: str, app: str, role: str, name: str, deadline_s: float = 5.0) -> tuple[int, int, int, int] | None:
    """The box (x, y, w, h) of the first showing widget with ``role`` and ``name`` in the application ``app``
    (breadth first), or None. Uses deskscribe's own AT-SPI client (capture/accessibility/atspi.py)."""
    from deskscribe.capture.accessibility.atspi import ACCESSIBLE, REGISTRY, STATE_SHOWING, AtspiProbe, _has

    old = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus
    try:
        probe = AtspiProbe()
    except Exception:  # noqa: BLE001 - the bus is not up yet: try again
        return None
    finally:
        if old is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = old
    probe._deadline = time.monotonic() + deadline_s
    try:
        roots = [r for r in probe._children(REGISTRY) if str(probe._prop(r, "Name")).lower() == app.lower()]
        queue = list(roots)
        while queue:
            node = queue.pop(0)
            if str(probe._call(node, ACCESSIBLE, "GetRoleName")[0]) == role and \
                    str(probe._prop(node, "Name")).strip() == name:  # GTK pads menu items' names
                states = list(probe._call(node, ACCESSIBLE, "GetState")[0])
                box = probe._extents(node)
                if _has(states, STATE_SHOWING) and box[2] > 0 and box[3] > 0:
                    return box
            queue.extend(probe._children(node)[:200])
    except (LookupError, TimeoutError):
        return None
    finally:
        probe.close()
    return None


def session_bus() -> tuple[str, subprocess.Popen[str]]:
    """A private D-Bus session bus with accessibility switched on (at-spi2-core starts its bus on demand)."""
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    old = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    try:  # switch accessibility on before any app starts: GTK registers on the bus only when it is on at start
        from deskscribe.capture.accessibility.atspi import bus_address

        bus_address(enable=True)
    finally:
        if old is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = old
    return address, bus


def wallpaper(display: str, width: int, height: int) -> None:
    """A wallpaper on the root window (as a desktop has one): a vertical gradient with a few lighter shapes,
    set as the root's background pixmap (and _XROOTPMAP_ID, where compositing apps look for it)."""
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        screen = d.screen()
        root = screen.root
        pixmap = root.create_pixmap(width, height, screen.root_depth)
        gc = root.create_gc()
        bands = 48
        for i in range(bands):  # deep blue to teal, top to bottom
            r, g, b = 20 + i, 40 + 2 * i, 90 + i
            gc.change(foreground=(r << 16) | (g << 8) | b)
            y0 = height * i // bands
            pixmap.fill_rectangle(gc, 0, y0, width, height * (i + 1) // bands - y0)
        gc.change(foreground=0x5A8FB0)
        for k in range(5):  # hills
            cx = width * (2 * k + 1) // 10
            pixmap.fill_arc(gc, cx - width // 6, height * 3 // 4, width // 3, height // 2, 0, 180 * 64)
        root.change_attributes(background_pixmap=pixmap)
        atom = d.intern_atom("_XROOTPMAP_ID")
        root.change_property(atom, Xatom.PIXMAP, 32, [pixmap.id])
        root.clear_area(0, 0, width, height)
        d.sync()
        d.set_close_down_mode(X.RetainPermanent)  # the pixmap outlives this connection
    finally:
        d.close()


def x_server(width: int = 1280, height: int = 800) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """Xvfb on a display number it picks itself (-displayfd: never someone else's display), a wallpaper and
    openbox."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
                             "+extension", "RECORD", "-nolisten", "tcp"], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        display = ":" + fh.readline().strip()
    env = {**os.environ, "DISPLAY": display}
    wait(lambda: subprocess.run(["xdpyinfo"], env=env, capture_output=True).returncode == 0, 20, "Xvfb")
    wallpaper(display, width, height)
    wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def managed() -> bool:
        nonlocal wm
        if wm.poll() is not None:  # openbox can exit at start on a loaded machine: say why, start it again
            print(f"openbox exited ({wm.returncode}): {wm.stderr.read().decode(errors='replace')[-300:] if wm.stderr else ''}",
                  file=sys.stderr)
            wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True,
                              text=True).stdout.count("window id") > 0

    wait(managed, 60, "openbox")
    return display, [wm, xvfb]
