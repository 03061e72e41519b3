"""The tray on a real X desktop: Xvfb + openbox + trayer as the tray host, the app in a subprocess on xcb.

The menu is driven like a person would: xdotool right-clicks the icon inside trayer and presses the menu's
mnemonic keys. Capture is the real `deskscribe capture` child; an xterm that prints the time keeps the
screen changing, so frames keep arriving unless capture is paused.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from deskscribe.storage import queries, state
from deskscribe.storage.db import open_db

pytestmark = pytest.mark.x11


def xdo(*args: str) -> list[str]:
    out = subprocess.run(["xdotool", *args], capture_output=True, text=True)
    return out.stdout.split()


@pytest.fixture
def trayer(xdisplay, wait_until):
    proc = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel",
                             "--width", "100", "--height", "24"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: xdo("search", "--name", "^panel$"), timeout=20, what="trayer's panel")
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def changing_screen(xdisplay):
    proc = subprocess.Popen(["xterm", "-geometry", "90x30+40+60", "-e", "sh", "-c",
                             "while true; do date +%T.%N; sleep 0.1; done"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def tray_app(trayer, deskscribe_home, tmp_path, wait_until):
    """Starts `deskscribe tray` on xcb; yields (process, log path); the process is gone afterwards."""
    deskscribe_home.mkdir(exist_ok=True)
    (deskscribe_home / "config.toml").write_text("[capture]\ninterval_s = 0.5\n")
    log = tmp_path / "tray-stdout.log"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "deskscribe", "-v", "tray"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    wait_until(lambda: "tray icon shown" in log.read_text() or proc.poll() is not None, timeout=30,
               what="the tray icon")
    assert proc.poll() is None, log.read_text()
    yield proc, log
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def icon_window(pid: int, wait_until) -> str:
    """The tray icon's X window: our process's window that trayer embedded (a small square)."""
    def find() -> str | None:
        for win in xdo("search", "--onlyvisible", "--pid", str(pid)):
            geo = subprocess.run(["xdotool", "getwindowgeometry", win], capture_output=True, text=True).stdout
            if "Geometry: 22x22" in geo or "Geometry: 24x24" in geo:
                return win
        return None

    return str(wait_until(find, timeout=20, what="the tray icon window inside trayer"))


def choose_from_menu(pid: int, icon: str, key: str, wait_until) -> None:
    """Right-click the icon, wait for the menu to be on screen, press the item's mnemonic key."""
    before = set(xdo("search", "--onlyvisible", "--pid", str(pid)))
    xdo("mousemove", "--window", icon, "11", "11", "click", "3")
    wait_until(lambda: set(xdo("search", "--onlyvisible", "--pid", str(pid))) - before, timeout=10,
               what="the tray menu")
    xdo("key", key)


def test_tray_icon_menu_pauses_and_resumes_capture(tray_app, changing_screen, deskscribe_home, wait_until):
    proc, log = tray_app
    db = open_db(deskscribe_home / "deskscribe.db")
    frames = lambda: queries.stats(db)["frames"]  # noqa: E731
    icon = icon_window(proc.pid, wait_until)
    wait_until(lambda: frames() >= 3, timeout=30, what="frames from the capture child")

    choose_from_menu(proc.pid, icon, "p", wait_until)  # &Pause
    wait_until(lambda: state.paused_until(db) == float("inf"), timeout=10, what="the pause switch")
    info = wait_until(lambda: (i := state.capture_status(db))["state"] == "paused" and i, timeout=10,
                      what="capture to report paused")
    paused_frames = frames()
    # Four more capture ticks (heartbeats) while the screen keeps changing: still no new frame.
    wait_until(lambda: state.capture_status(db)["heartbeat"] > info["heartbeat"] + 2.0, timeout=15,
               what="capture heartbeats while paused")
    assert frames() == paused_frames
    assert "capture paused until resumed" in log.read_text()

    choose_from_menu(proc.pid, icon, "r", wait_until)  # &Resume
    wait_until(lambda: state.paused_until(db) is None, timeout=10, what="resume")
    wait_until(lambda: frames() > paused_frames, timeout=30, what="frames after resuming")

    xdo("mousemove", "--window", icon, "11", "11", "click", "1")  # a left click opens the review window
    wait_until(lambda: xdo("search", "--onlyvisible", "--name", "deskscribe — review"), timeout=20,
               what="the review window")

    child = state.capture_status(db)["pid"]
    choose_from_menu(proc.pid, icon, "q", wait_until)  # &Quit
    assert proc.wait(timeout=30) == 0
    assert state.capture_status(db)["state"] == "stopped"
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    db.conn.close()


def test_tray_quits_on_sigterm_and_stops_capture(tray_app, deskscribe_home, wait_until):
    proc, log = tray_app
    db = open_db(deskscribe_home / "deskscribe.db")
    child = wait_until(lambda: state.capture_status(db)["pid"], timeout=30, what="the capture child")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "capture exited with 0 (expected: True)" in log.read_text()
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    db.conn.close()
