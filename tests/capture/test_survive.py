"""Capture outlives its display and runs without pynput (an X server without RECORD)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from ..conftest import stop_process
from .conftest import poll, write_config

pytestmark = pytest.mark.x11


def _free_display() -> str:
    for n in range(300, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    raise RuntimeError("no free X display number")


def _xvfb(display: str) -> subprocess.Popen[bytes]:
    # No RECORD extension: pynput cannot listen on this server.
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x480x24", "-extension", "RECORD",
                             "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    poll(lambda: subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0,
         what=f"Xvfb {display}")
    return proc


def test_no_record_and_display_loss(xdisplay, xterm, start_capture, capdb, deskscribe_home):
    assert shutil.which("Xvfb")
    name = _free_display()
    server = _xvfb(name)
    try:
        write_config(deskscribe_home, {"capture": {"change_threshold": 0.0}})
        xterm("ticker", "while sleep 0.1; do date +%N; done", "40x10+0+0", display=name)
        proc = start_capture(env={"DISPLAY": name})
        poll(lambda: capdb.frames() >= 2, what="frames without pynput")
        poll(lambda: "lacks the RECORD extension" in proc.stderr(), what="the pynput notice")
        stop_process(server)
        poll(lambda: "cannot grab the screen" in proc.stderr() or "lost the window backend" in proc.stderr(),
             what="the display-lost notice")
        assert proc.proc.poll() is None, proc.stderr()
        server = _xvfb(name)
        xterm("ticker2", "while sleep 0.1; do date +%N; done", "40x10+0+0", display=name)
        before = capdb.frames()
        poll(lambda: capdb.frames() > before, timeout=40, what="frames after the display came back")
        assert proc.stop(signal.SIGTERM) == 0
        log = proc.stderr()
        assert log.count("lacks the RECORD extension") == 1
        assert "display is back" in log and "Traceback" not in log
    finally:
        stop_process(server)
