"""The tray shows capture's health: its real `deskscribe capture` child captures a real Xvfb until the X server
is killed; every tick then fails to grab the screen, and the tray (offscreen here: its state logic, tooltip
and notifications are what is checked) turns unhealthy with the reason, notifying once.
Also: Check setup… opens the report of the real `deskscribe doctor` child."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from deskscribe.app.tray import TrayIcon
from deskscribe.storage import state

from ..capture.conftest import write_config
from ..conftest import _free_display, stop_process, wait_for

pytestmark = pytest.mark.gui
SLOW_MS = 120_000  # generous: the test machines are often heavily loaded


@pytest.fixture
def own_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[bytes]]:
    """An Xvfb of this test's own (the session's display must survive the kill)."""
    display = f":{_free_display()}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x480x24", "+extension", "RECORD",
                             "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0,
             timeout=20, what="Xvfb")
    monkeypatch.setenv("DISPLAY", display)  # the capture child inherits it
    for name in ("DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    yield xvfb
    stop_process(xvfb)


@pytest.mark.x11
def test_tray_turns_unhealthy_with_the_reason_when_ticks_fail(qapp, own_display, deskscribe_home, qtbot, db) -> None:
    write_config(deskscribe_home, {})
    tray = TrayIcon(db, start_capture=True, refresh_ms=200)
    try:
        tray.start()
        qtbot.waitUntil(lambda: tray.current_state == "capturing" and tray.capture.running_for() > 0
                        and "starting" not in tray.toolTip() and _reported(tray), timeout=SLOW_MS)
        assert tray.problems == {} and tray.notifications == []

        own_display.send_signal(signal.SIGKILL)  # the display goes away: every grab fails from now on
        own_display.wait()
        qtbot.waitUntil(lambda: tray.current_state == "unhealthy", timeout=SLOW_MS)
        reason = tray.problems["ticks"]
        assert reason.startswith("capture ticks keep failing: cannot grab the screen ("), reason
        assert tray.toolTip().splitlines()[0] == "deskscribe — Capture has a problem"
        assert f"⚠ {reason}" in tray.toolTip()
        assert tray.notifications == [("Capture has a problem", reason)]
        first = state.capture_status(db)["heartbeat"]
        qtbot.waitUntil(lambda: state.capture_status(db)["heartbeat"] > first, timeout=SLOW_MS)  # a later report
        tray.refresh()
        assert tray.current_state == "unhealthy" and tray.capture.is_running()
        assert len(tray.notifications) == 1  # one notification per problem, not one per tick
    finally:
        tray.shutdown()
        tray.deleteLater()
    log = (deskscribe_home / "logs" / "capture.log").read_text()
    assert "capture is unhealthy: capture ticks keep failing: cannot grab the screen" in log


def _reported(tray: TrayIcon) -> bool:
    return state.capture_status(tray.db)["pid"] == tray.capture.pid()


def test_check_setup_opens_the_doctor_report(qapp, db, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)  # a known problem to see in the report
    tray = TrayIcon(db, start_capture=False)
    try:
        tray.menu.aboutToShow.emit()
        assert "&Check setup…" in [a.text() for a in tray.menu.actions()]
        tray.actions_by_name["doctor"].trigger()
        dialog = tray.dialogs["doctor"]
        with qtbot.waitSignal(dialog.finished_check, timeout=SLOW_MS) as done:
            pass
        assert done.args == [False]
        lines = dialog.report.toPlainText().splitlines()
        assert "PROBLEM  display: no display: DISPLAY is not set → run deskscribe inside your desktop session " \
               "(or set DISPLAY)" in lines
        assert any(ln.startswith("ok       database: ") for ln in lines)
        assert dialog.summary.text().endswith("problems: each line says what to do.")
        dialog.close()
    finally:
        tray.shutdown()
        tray.deleteLater()


def test_silent_capture_child_is_a_problem(qapp, db, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A capture child that runs but never reports (it cannot write the database) is not "capturing"."""
    import sys

    from deskscribe.app import tray as tray_module

    monkeypatch.setattr(tray_module, "SILENT_AFTER_START_S", 0.5)
    tray = TrayIcon(db, start_capture=True, refresh_ms=100,
                    capture_args=[sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)"])
    try:
        tray.start()
        assert tray.current_state == "capturing"  # starting
        qtbot.waitUntil(lambda: tray.current_state == "unhealthy", timeout=SLOW_MS)
        assert tray.problems["silent"].startswith(f"capture runs (pid {tray.capture.pid()}) but has not reported")
        assert len(tray.notifications) == 1
    finally:
        tray.shutdown()
        tray.deleteLater()
