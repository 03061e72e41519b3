"""The task hotkeys on a real X display (Xvfb): xdotool presses them, pynput receives them and the tray's boxes
open; they follow the settings; a combination another X client has grabbed is reported, not used."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from deskscribe import config, paths
from deskscribe.app.hotkeys import Hotkeys, taken_on_x
from deskscribe.app.settings_dialog import SettingsDialog
from deskscribe.app.task_actions import FinishBox, TaskActions, TextBox
from deskscribe.storage import state, tasks
from deskscribe.storage.db import open_db

pytestmark = [pytest.mark.x11, pytest.mark.gui]


def press(combo: str) -> None:
    subprocess.run(["xdotool", "key", combo], check=True)


@pytest.fixture
def actions(xdisplay, qtbot, deskscribe_home) -> Iterator[tuple[TaskActions, list[tuple[str, str]]]]:
    db = open_db(paths.db_path())
    state.report_capture(db, os.getpid(), "capturing")  # what a running capture says (requests are accepted)
    said: list[tuple[str, str]] = []
    ta = TaskActions(db, lambda title, message: said.append((title, message)))
    yield ta, said
    ta.stop()
    if ta.box is not None:
        ta.box.close()
    db.conn.close()


@pytest.fixture
def other_client(xdisplay) -> Iterator[object]:
    """Another X client holding <ctrl>+<alt>+k, as a desktop's shortcut daemon would."""
    from Xlib import XK, X
    from Xlib import display as xd

    d = xd.Display()
    code = d.keysym_to_keycode(XK.string_to_keysym("k"))
    d.screen().root.grab_key(code, X.ControlMask | X.Mod1Mask, False, X.GrabModeAsync, X.GrabModeAsync)
    d.sync()
    yield d
    d.close()


def test_hotkeys_open_the_boxes_and_send_the_requests(actions, qtbot) -> None:
    ta, said = actions
    assert ta.start_hotkeys(config.Config()) == []
    press("ctrl+alt+t")
    qtbot.waitUntil(lambda: isinstance(ta.box, TextBox) and ta.box.isVisible(), timeout=20_000)
    assert ta.box is not None
    ta.box.edit.setText("Write the meeting notes")  # type: ignore[attr-defined]
    ta.box.accept()
    request = tasks.pending(ta.db)
    assert request is not None and (request.op, request.text) == ("start", "Write the meeting notes")
    press("ctrl+alt+n")
    qtbot.waitUntil(lambda: isinstance(ta.box, TextBox) and "note" in ta.box.windowTitle(), timeout=20_000)
    ta.db.conn.execute("INSERT INTO tasks (text, started_ts) VALUES ('Write the meeting notes', 1)")
    press("ctrl+alt+t")  # a task runs: the same hotkey finishes it
    qtbot.waitUntil(lambda: isinstance(ta.box, FinishBox) and ta.box.isVisible(), timeout=20_000)
    assert ta.box is not None
    ta.box.findChild(object, "finish_gave_up").click()  # type: ignore[union-attr]
    request = tasks.pending(ta.db)
    assert request is not None and (request.op, request.outcome) == ("finish", "gave_up")


def test_hotkeys_follow_the_settings(actions, qtbot, deskscribe_home) -> None:
    ta, _said = actions
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.hotkey_record.setText("<ctrl>+<shift>+y")
    dialog.save()
    assert dialog.error.text() == "" and config.load().task.hotkey_record == "<ctrl>+<shift>+y"
    assert ta.start_hotkeys(config.load()) == []
    press("ctrl+shift+y")
    qtbot.waitUntil(lambda: isinstance(ta.box, TextBox) and ta.box.isVisible(), timeout=20_000)


def test_a_hotkey_already_taken_says_so(actions, other_client, qtbot, deskscribe_home) -> None:
    ta, _said = actions
    assert taken_on_x("<ctrl>+<alt>+k") is True and taken_on_x("<ctrl>+<alt>+j") is False
    problems = Hotkeys().start({"task.hotkey_note": ("<ctrl>+<alt>+k", lambda: None)})
    assert problems == ["the hotkey <ctrl>+<alt>+k is already taken by another program: choose another for "
                        "task.hotkey_note in Settings → Task"]
    assert ta.start_hotkeys(config.from_dict({"task": {"hotkey_note": "<ctrl>+<alt>+k"}})) == problems
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.hotkey_note.setText("<ctrl>+<alt>+k")
    dialog.save()
    assert "already taken by another program" in dialog.error.text()
    assert dialog.isVisible() is False or not (deskscribe_home / "config.toml").exists()
    dialog.hotkey_note.setText("<ctrl>+q")  # fine: saved
    dialog.save()
    assert config.load().task.hotkey_note == "<ctrl>+q"
