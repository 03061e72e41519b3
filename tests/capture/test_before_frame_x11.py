"""Frames around a click at the edges: the frame before a click shows the window the click was made in, even
when that window closes as the button is released: xmessage's OK button (an Xaw command button) ends xmessage on release, and xdotool's click releases
at once — before capture's before-frame job runs, focus is back on the window beneath; and a click right
before capture stops still gets its after frame. A real
`deskscribe capture` subprocess, a real xmessage and xterm on Xvfb + openbox, xdotool input that pynput receives.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from ..conftest import stop_process
from .conftest import focus, poll, window_id, write_config, xdo

pytestmark = pytest.mark.x11


def test_a_click_that_closes_its_window_keeps_that_window_as_its_before_frame(
        xdisplay: str, xterm, start_capture, capdb, deskscribe_home: Path) -> None:
    if shutil.which("xmessage") is None:
        pytest.fail("xmessage is not installed: run packaging/install.sh --dev (x11-utils)")
    # a long tick: the frames that matter are those taken around the click, not a tick's
    write_config(deskscribe_home, {"capture": {"interval_s": 5.0}})
    xterm("beneath", geometry="100x40+0+0")
    message = subprocess.Popen(["xmessage", "-title", "confirm", "-buttons", "OK", "-geometry", "+300+200",
                                "Delete the draft?"])
    try:
        box = poll(lambda: window_id("confirm"), what="xmessage")
        focus(box)
        cap = start_capture()
        poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title = 'confirm'"), timeout=60,
             what="a frame of the xmessage window")
        # OK sits under the message at the window's left; xdotool clicks with no hold, like a quick tap
        xdo("mousemove", "--window", box, "20", "50")
        xdo("click", "1")
        poll(lambda: message.poll() is not None, what="xmessage to end on OK")
        click = poll(lambda: capdb.rows(
            "SELECT f.window_title FROM events e JOIN frames f ON f.id = e.before_frame_id WHERE e.kind = 'click'"),
            timeout=60, what="the click stored with its before frame")
        assert click[0][0] == "confirm", click
        cap.stop()
    finally:
        stop_process(message)


def test_an_action_still_waiting_for_its_after_frame_gets_one_when_capture_stops(
        xdisplay: str, xterm, start_capture, capdb, deskscribe_home: Path) -> None:
    """The session's last click (a Save button) or command is followed at once by the end of capture: its after
    frame, due once the screen settles, is taken as capture stops instead of being lost. The click is a double
    click selecting a word (the screen changes: a tick stores it, so capture has seen the click)."""
    write_config(deskscribe_home, {"capture": {"debounce_s": 60.0}})  # no settle within the test
    win = xterm("last", command="echo selectable-word; cat", geometry="60x10+0+0")
    focus(win)
    cap = start_capture()
    poll(lambda: capdb.frames(), timeout=60, what="capture's first frame")
    seen = capdb.frames()
    xdo("mousemove", "--window", win, "30", "8", "click", "--repeat", "2", "--delay", "80", "1")
    poll(lambda: capdb.frames() > seen, timeout=60, what="the selected word's frame")
    assert cap.stop(signal.SIGTERM) == 0, cap.stderr()
    click = capdb.rows("SELECT before_frame_id, after_frame_id FROM events WHERE kind = 'click'")
    assert click and click[0][0] and click[0][1], click
