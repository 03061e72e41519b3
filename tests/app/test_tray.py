"""The tray's logic in-process (offscreen: no tray host, but the icon object, its menu and its child
processes are real). Child commands are small real Python processes that speak the same protocol as
`deskscribe capture` / `deskscribe describe --progress json`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QProcess

from deskscribe.app.tray import TrayIcon
from deskscribe.storage import queries, state

pytestmark = pytest.mark.gui


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture
def make_tray(qapp, db):
    trays = []

    def make(**kw) -> TrayIcon:
        kw.setdefault("start_capture", False)
        tray = TrayIcon(db, **kw)
        trays.append(tray)
        return tray

    yield make
    for tray in trays:
        tray.shutdown()
        tray.deleteLater()


def menu_texts(tray: TrayIcon) -> list[str]:
    tray.menu.aboutToShow.emit()  # what Qt does right before showing it
    return [a.text() for a in tray.menu.actions() if not a.isSeparator()]


def mnemonics(texts: list[str]) -> list[str]:
    return [t[t.index("&") + 1].lower() for t in texts if "&" in t]


def test_menu_pauses_and_resumes_through_storage(make_tray, db):
    tray = make_tray()
    texts = menu_texts(tray)
    assert texts[0] == "Capture is not running"
    assert texts[1:3] == ["&Pause", "Pause for &15 minutes"] and "&Resume" not in texts
    assert texts[-6:] == ["&Describe backlog now", "Open re&view window", "&Export…", "&Settings…",
                          "&Check setup…", "&Quit"]
    assert len(set(mnemonics(texts))) == len(mnemonics(texts))  # one key, one item: a person can type it

    tray.actions_by_name["pause"].trigger()
    assert state.paused_until(db) == float("inf")
    texts = menu_texts(tray)
    assert texts[0] == "Paused" and "&Resume" in texts and "&Pause" not in texts
    assert len(set(mnemonics(texts))) == len(mnemonics(texts))
    assert tray.current_state == "paused" and "Paused" in tray.toolTip()

    tray.actions_by_name["resume"].trigger()
    assert state.paused_until(db) is None
    tray.actions_by_name["pause15"].trigger()
    assert abs(state.paused_until(db) - (time.time() + 900)) < 5
    assert menu_texts(tray)[0].startswith("Paused until ")


def test_tooltip_counts_and_state_icon(make_tray, db, imported):
    state.report_capture(db, 4242, "capturing")
    tray = make_tray()
    s = queries.stats(db)
    assert tray.current_state == "capturing"
    assert tray.toolTip().splitlines() == [
        "deskscribe — Capturing",
        f"Today: {s['frames_today']} frames in {s['episodes_today']} episodes",
        "1 episodes to review",
    ]
    assert not tray.icon().isNull()
    state.report_capture(db, 4242, "disk_full", "the disk holding deskscribe.db is full: free some space")
    tray.refresh()
    assert tray.current_state == "disk_full"
    assert tray.notifications[-1] == ("Disk full", "the disk holding deskscribe.db is full: free some space")
    tray.refresh()
    assert len(tray.notifications) == 1  # once per problem, not on every refresh


def test_describe_progress_then_partial_failure(make_tray, qtbot, db):
    script = (
        "import json, sys\n"
        "print(json.dumps({'done': 1, 'total': 3, 'episode': 7, 'message': 'episode 7 described'}), flush=True)\n"
        "sys.stdin.readline()\n"
        "print(json.dumps({'done': 3, 'total': 3, 'episode': 9, 'message': 'episode 9 failed'}), flush=True)\n"
        "print('Error: 1 of 3 episodes failed: model file smollm.gguf is missing', file=sys.stderr)\n"
        "sys.exit(1)\n"
    )
    tray = make_tray(describe_args=py(script))
    tray.actions_by_name["describe"].trigger()
    job = tray.describe_job
    qtbot.waitUntil(lambda: job.done == 1)
    assert tray.current_state == "describing"
    assert "Describing 1/3" in tray.toolTip() and "episode 7 described" in tray.toolTip()
    assert "Stop &describing" in menu_texts(tray)
    with qtbot.waitSignal(job.finished, timeout=10_000) as finished:
        job.proc.write(b"go\n")
    assert finished.args == [1, "1 of 3 episodes failed: model file smollm.gguf is missing"]
    assert tray.notifications[-1] == ("Some episodes could not be described",
                                      "1 of 3 episodes failed: model file smollm.gguf is missing")
    assert tray.current_state != "describing"


def test_describe_that_cannot_run_is_reported(make_tray, qtbot):
    tray = make_tray(describe_args=py("import sys; print('Error: no summarizer model: run deskscribe models pull',"
                                      " file=sys.stderr); sys.exit(2)"))
    tray.describe_backlog()
    with qtbot.waitSignal(tray.describe_job.finished, timeout=10_000):
        pass
    assert tray.notifications[-1] == ("Describing failed", "no summarizer model: run deskscribe models pull")


def test_capture_that_dies_is_reported(make_tray, qtbot, db):
    tray = make_tray(start_capture=True, capture_args=py(
        "import sys; print('Error: no display: start capture inside a desktop session', file=sys.stderr); sys.exit(1)"))
    with qtbot.waitSignal(tray.capture.exited, timeout=10_000):
        tray.start()
    title, message = tray.notifications[-1]
    assert title == "Capture stopped unexpectedly"
    assert message.startswith("no display: start capture inside a desktop session")
    assert "S&tart capture" in menu_texts(tray)


def test_quit_stops_the_capture_child_with_sigterm(make_tray, qtbot, tmp_path: Path, db):
    marker = tmp_path / "child.txt"
    child = py(
        "import signal, sys, time, pathlib\n"
        f"p = pathlib.Path({str(marker)!r})\n"
        "def stop(*_):\n"
        "    p.write_text('sigterm'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "p.write_text('running')\n"
        "while True: time.sleep(0.05)\n"
    )
    tray = make_tray(start_capture=True, capture_args=child)
    tray.start()
    qtbot.waitUntil(lambda: marker.exists() and marker.read_text() == "running", timeout=10_000)
    assert tray.capture.is_running() and tray.current_state == "capturing"
    assert tray.shutdown()
    assert marker.read_text() == "sigterm"
    assert tray.capture.proc.state() == QProcess.ProcessState.NotRunning
    assert tray.capture.proc.exitCode() == 0 and tray.notifications == []


def test_a_running_capture_is_not_started_twice(make_tray, db):
    state.report_capture(db, 999_999, "capturing")
    tray = make_tray(start_capture=True, capture_args=py("raise SystemExit(3)"))
    tray.start()
    assert not tray.capture.is_running()


def test_idle_time_describing(make_tray, qtbot, synthetic, deskscribe_home):
    """With describe.idle_processing on, the backlog is described once the person has been away a while."""
    (deskscribe_home / "config.toml").write_text("[describe]\nidle_processing = true\nidle_after_s = 0.2\n")
    script = "import json; print(json.dumps({'done': 27, 'total': 27, 'message': 'all described'}))"
    tray = make_tray(describe_args=py(script), refresh_ms=50)
    tray.start()
    state.report_capture(synthetic, 4242, "capturing")
    for _ in range(6):  # 6 refreshes (> idle_after_s) while the person is active: nothing starts
        with qtbot.waitSignal(tray.timer.timeout, timeout=5_000):
            pass
    assert tray.describe_job is None
    state.report_capture(synthetic, 4242, "idle")
    qtbot.waitUntil(lambda: tray.describe_job is not None and not tray.describe_job.is_running(), timeout=10_000)
    assert tray.describe_job.done == 27
    assert tray.notifications[-1] == ("Described", "27 episodes are ready to review.")


def test_forget_the_last_minutes(make_tray, db, tmp_path: Path):
    """The tray's Forget submenu removes what was captured in the span, and only that."""
    from PIL import Image

    from deskscribe.storage.frames import EncodedImage, FrameIn, add_frame, close_episode, create_episode

    def frame(ts: float, colour: int) -> FrameIn:
        import io

        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (colour, 0, 0)).save(buf, "PNG")
        return FrameIn(ts, EncodedImage(buf.getvalue(), "png", 8, 8), app="xterm", window_title=f"t{colour}")

    now = time.time()
    old_ep, new_ep = create_episode(db, now - 3600), create_episode(db, now - 600)
    add_frame(db, old_ep, frame(now - 3600, 1))
    add_frame(db, new_ep, frame(now - 600, 2))
    add_frame(db, new_ep, frame(now - 60, 3))
    close_episode(db, old_ep)
    close_episode(db, new_ep)
    tray = make_tray()
    tray.menu.aboutToShow.emit()
    [sub] = [a.menu() for a in tray.menu.actions() if a.menu() is not None]
    assert [a.text() for a in sub.actions()] == ["&5 minutes", "&15 minutes", "&60 minutes"]
    tray.actions_by_name["forget5"].trigger()
    assert [r[0] for r in db.conn.execute("SELECT ts FROM frames ORDER BY ts")] == [now - 3600, now - 600]
    tray.actions_by_name["forget15"].trigger()
    assert db.conn.execute("SELECT count(*) FROM frames").fetchone()[0] == 1
    assert db.conn.execute("SELECT count(*) FROM episodes WHERE id = ?", (new_ep,)).fetchone()[0] == 0
    assert tray.notifications[-1][0] == "Forgotten" and "1 frames" in tray.notifications[-1][1]


def test_task_mode_in_the_menu(make_tray, db, qtbot):
    """Record a task… opens the box; with a task running the menu offers Finish task… instead (the hotkeys
    themselves: tests/app/test_hotkeys_x11.py)."""
    from deskscribe.app.task_actions import FinishBox, TextBox

    tray = make_tray()
    texts = menu_texts(tray)
    assert "Record a tas&k…" in texts and "Quick &note…" in texts and "Finish tas&k…" not in texts
    assert len(set(mnemonics(texts))) == len(mnemonics(texts))
    tray.actions_by_name["record_task"].trigger()
    assert isinstance(tray.tasks.box, TextBox) and tray.tasks.box.isVisible()
    tray.tasks.box.edit.setText("Write the meeting notes")
    tray.tasks.box.accept()  # capture is not running: said, nothing sent
    assert tray.notifications[-1][1].startswith("capture is not running")
    db.conn.execute("INSERT INTO tasks (text, started_ts) VALUES ('Write the meeting notes', 1)")
    texts = menu_texts(tray)
    assert "Finish tas&k…" in texts and "Record a tas&k…" not in texts
    tray.actions_by_name["finish_task"].trigger()
    assert isinstance(tray.tasks.box, FinishBox)
    tray.tasks.box.close()
