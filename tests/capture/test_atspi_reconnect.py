"""The accessibility bus goes away during a live capture and comes back: clicks get their element again.

A real desktop (Xvfb + openbox), a private D-Bus session on which at-spi2-core's bus and registry are
activated on demand, mousepad (GTK, publishes its widgets), `deskscribe capture` as a subprocess and xdotool
clicks on mousepad's File menu. The registry daemon or the whole accessibility bus is killed with SIGKILL,
as a crash would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..conftest import stop_process
from ..export.test_trajectory_live import _published
from .conftest import CaptureDB, capdb, focus, poll, start_capture, write_config, xdo  # noqa: F401

pytestmark = pytest.mark.x11
SLOW = 120  # seconds: generous, the test machines are often heavily loaded
MENU = (18, 12)  # mousepad's File menu, in window coordinates


@pytest.fixture
def session_bus() -> Iterator[dict[str, str]]:
    """A private D-Bus session bus (its environment)."""
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    assert address.startswith("unix:"), address
    env = {"DBUS_SESSION_BUS_ADDRESS": address}
    yield env
    stop_process(proc)
    proc.stdout.close()
    for pid in _processes(env, lambda cmd: "at-spi" in cmd):  # activated, they outlive the bus: stop them too
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def _processes(session: dict[str, str], match: Callable[[str], bool]) -> list[int]:
    """Processes of this D-Bus session (the bus's activations fork twice: they are children of init, with the
    session's address in their environment) whose command line matches."""
    mark = f"DBUS_SESSION_BUS_ADDRESS={session['DBUS_SESSION_BUS_ADDRESS']}".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if mark in env and match(cmdline):
            found.append(int(proc.name))
    return found


def _kill(pids: list[int]) -> None:
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    poll(lambda: not any(Path(f"/proc/{p}/cmdline").exists() and Path(f"/proc/{p}/cmdline").read_bytes()
                         for p in pids), what=f"processes {pids} gone", timeout=SLOW)


class Desk:
    """mousepad on the display, in the session; clicks on its File menu through xdotool."""

    def __init__(self, env: dict[str, str], tmp_path: Path, db: CaptureDB) -> None:
        self.env, self.capdb, self.notes = env, db, tmp_path / "notes.txt"
        self.notes.write_text("first line\n")
        self.pad: subprocess.Popen[bytes] | None = None
        self.window = ""

    def open(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pad = subprocess.Popen(["mousepad", str(self.notes)], env=self.env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        search = ["xdotool", "search", "--onlyvisible", "--name", "notes.txt"]  # GTK also maps hidden windows
        self.window = poll(lambda: subprocess.run(search, capture_output=True, text=True).stdout.split()[:1],
                           what="the mousepad window", timeout=SLOW)[0]
        xdo("windowmove", "--sync", self.window, "0", "0")
        focus(self.window)
        _published({"DBUS_SESSION_BUS_ADDRESS": self.env["DBUS_SESSION_BUS_ADDRESS"]}, monkeypatch, [(300, 200)])

    def close(self) -> None:
        if self.pad is not None:
            stop_process(self.pad)

    def clicks(self) -> list[dict[str, object]]:
        return [json.loads(d) for (d,) in self.capdb.rows("SELECT details FROM events WHERE kind = 'click'"
                                                           " ORDER BY id")]

    def click_menu(self) -> dict[str, object]:
        """Click File, wait until capture stored the click with its lookup done, close the menu; its details."""
        n = len(self.clicks()) + 1
        xdo("mousemove", "--window", self.window, str(MENU[0]), str(MENU[1]), "click", "1")
        poll(lambda: len(self.clicks()) >= n, what=f"click {n} stored", timeout=SLOW)
        xdo("key", "Escape")
        return self.clicks()[n - 1]


def has_file_menu(details: dict[str, object]) -> bool:
    element = details.get("element")
    return isinstance(element, dict) and (element["role"], element["name"]) == ("menu", "File")


@pytest.fixture
def desk(xdisplay: str, session_bus, tmp_path: Path, capdb: CaptureDB) -> Iterator[Desk]:  # noqa: F811
    # mousepad keeps a session (and asks to restore it) in dconf and XDG data: give it folders of its own
    xdg = {f"XDG_{k}_HOME": str(tmp_path / "xdg" / k.lower()) for k in ("CONFIG", "DATA", "CACHE", "STATE")}
    d = Desk({**os.environ, **session_bus, **xdg}, tmp_path, capdb)
    yield d
    d.close()


def test_killed_registry_is_activated_again_and_clicks_get_their_element(
        desk: Desk, session_bus, start_capture, deskscribe_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    write_config(deskscribe_home, {"capture": {"interval_s": 2.0}})
    desk.open(monkeypatch)
    proc = start_capture("--duration", "600", env=session_bus)
    poll(lambda: desk.capdb.frames(), what="a frame", timeout=SLOW)
    assert has_file_menu(desk.click_menu())

    _kill(_processes(session_bus, lambda cmd: "at-spi2-registryd" in cmd))
    poll(lambda: has_file_menu(desk.click_menu()), what="a click with its element after the registry died",
         timeout=SLOW)
    assert proc.stop(signal.SIGTERM) == 0, proc.stderr()


def test_lost_accessibility_bus_is_reconnected(desk: Desk, session_bus, start_capture, deskscribe_home: Path,  # noqa: F811
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The bus itself dies (its launcher and its dbus-daemon): capture's connection is dead. The session bus
    starts a new one on demand; an app started after joins it, and capture's clicks find it there."""
    write_config(deskscribe_home, {"capture": {"interval_s": 2.0}})
    desk.open(monkeypatch)
    proc = start_capture("--duration", "600", env=session_bus)
    poll(lambda: desk.capdb.frames(), what="a frame", timeout=SLOW)
    assert has_file_menu(desk.click_menu())

    _kill(_processes(session_bus, lambda cmd: "at-spi-bus-launcher" in cmd or "at-spi2" in cmd))
    lost = desk.click_menu()  # the dead connection: this click goes without element (not looked up)
    assert "element" not in lost, lost
    log = deskscribe_home / "logs" / "capture.log"
    poll(lambda: "accessibility bus reconnected" in log.read_text(), what="capture reconnected", timeout=SLOW)
    desk.close()
    desk.open(monkeypatch)  # mousepad again: it finds the new bus (the new launcher announced it on the display)
    poll(lambda: has_file_menu(desk.click_menu()), what="a click with its element on the new bus", timeout=SLOW)
    assert proc.stop(signal.SIGTERM) == 0, proc.stderr()
    text = log.read_text()
    assert "accessibility bus lost (lost the connection to the accessibility bus" in text, text[-3000:]
    assert "capture is unhealthy: the accessibility bus is lost" in text
    assert "capture recovered: no longer the accessibility bus is lost" in text
