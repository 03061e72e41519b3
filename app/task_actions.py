"""Task mode in the tray: "Record a task…", "Finish task…", "Quick note…" and their global hotkeys.

A box asks for the words; the request goes to the running capture through the database (storage/tasks.py)
and its answer is polled with a timer, so the GUI thread never waits on capture. Hotkeys arrive on pynput's
thread and reach the GUI thread through a queued signal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import sqlite_utils
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from deskscribe.app.hotkeys import Hotkeys
from deskscribe.config import Config
from deskscribe.errors import DeskscribeError
from deskscribe.storage import tasks

log = logging.getLogger(__name__)
POLL_MS = 100


class TextBox(QDialog):
    """One line of text (the task, or a note), Enter to send, Esc to drop."""

    def __init__(self, title: str, prompt: str, send: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"deskscribe — {title}")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(prompt)
        self.edit.setMinimumWidth(420)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        layout.addWidget(self.edit)
        layout.addWidget(buttons)
        self.accepted.connect(lambda: send(self.edit.text()) if self.edit.text().strip() else None)


class FinishBox(QDialog):
    """Done, gave up, or cancel the task (its marks only)."""

    def __init__(self, text: str, send: Callable[[str, str | None], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("deskscribe — finish task")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Finish “{text}”:"))
        for label, op, outcome in (("&Done", "finish", "done"), ("&Gave up", "finish", "gave_up"),
                                   ("&Cancel the task (keep what was captured)", "cancel", None)):
            button = QPushButton(label)
            button.setObjectName(f"finish_{outcome or op}")
            button.clicked.connect(lambda _=False, op=op, outcome=outcome: self._chose(op, outcome))
            layout.addWidget(button)
        self.send = send

    def _chose(self, op: str, outcome: str | None) -> None:
        self.send(op, outcome)
        self.accept()


class TaskActions(QObject):
    """Owns the boxes, the hotkeys and the pending request; ``notify(title, message)`` reports the answer."""

    hotkey = Signal(str)  # "record" | "note", emitted on pynput's thread

    def __init__(self, db: sqlite_utils.Database, notify: Callable[[str, str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db, self.notify = db, notify
        self.box: QDialog | None = None
        self.hotkeys = Hotkeys()
        self.problems: list[str] = []
        self.hotkey.connect(self._on_hotkey, Qt.ConnectionType.QueuedConnection)
        self._pending: tuple[str, float] | None = None  # request id, deadline
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)

    def start_hotkeys(self, cfg: Config) -> list[str]:
        """(Re)register the configured hotkeys; one line per hotkey that could not be."""
        t = cfg.task
        self.problems = self.hotkeys.start({
            "task.hotkey_record": (t.hotkey_record, lambda: self.hotkey.emit("record")),
            "task.hotkey_note": (t.hotkey_note, lambda: self.hotkey.emit("note")),
        })
        return self.problems

    def stop(self) -> None:
        self.hotkeys.stop()
        self.timer.stop()
        self._pending = None

    def running(self) -> dict[str, object] | None:
        try:
            return tasks.running(self.db)
        except Exception:  # noqa: BLE001 - a database from before task mode: no task runs
            return None

    def _on_hotkey(self, which: str) -> None:
        if which == "note":
            self.note()
        elif self.running() is not None:
            self.finish()
        else:
            self.record()

    def _show(self, box: QDialog) -> QDialog:
        if self.box is not None and self.box.isVisible():
            self.box.close()
        self.box = box
        box.show()
        box.raise_()
        box.activateWindow()
        return box

    def record(self) -> QDialog:
        return self._show(TextBox("record a task", "What are you about to do?",
                                  lambda text: self.send("start", text)))

    def finish(self) -> QDialog:
        text = str((self.running() or {}).get("text") or "the task")
        return self._show(FinishBox(text, lambda op, outcome: self.send(op, outcome=outcome)))

    def note(self) -> QDialog:
        return self._show(TextBox("quick note", "What I'm doing:", lambda text: self.send("note", text)))

    def send(self, op: str, text: str = "", outcome: str | None = None) -> None:
        try:
            request_id = tasks.send(self.db, op, text, outcome)
        except DeskscribeError as exc:
            self.notify("Task", str(exc))
            return
        self._pending = (request_id, time.monotonic() + tasks.REPLY_TIMEOUT_S)
        self.timer.start()

    def _poll(self) -> None:
        if self._pending is None:
            self.timer.stop()
            return
        request_id, deadline = self._pending
        got = tasks.answer(self.db, request_id)
        if got is None and time.monotonic() < deadline:
            return
        self._pending = None
        self.timer.stop()
        self.notify("Task", got[1] if got else "capture did not answer: is it paused or stuck?")
