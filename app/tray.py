"""The tray icon: shows what capture is doing, and is the menu for everything else.

It supervises the ``deskscribe capture`` child process and runs describe jobs in child processes, so the
GUI thread only ever reads small rows from SQLite (WAL lets it read while capture writes).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import sqlite_utils
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from deskscribe import config, paths
from deskscribe.app.icons import state_icon
from deskscribe.app.jobs import CaptureProcess, JsonProgressProcess
from deskscribe.child import deskscribe_command
from deskscribe.errors import ConfigError
from deskscribe.models import idle
from deskscribe.storage import episodes, queries, state

log = logging.getLogger(__name__)

FORGET_MINUTES = (5, 15, 60)
STATE_TEXT = {
    "capturing": "Capturing",
    "idle": "Capturing (you are away)",
    "paused": "Paused",
    "describing": "Describing",
    "disk_full": "Disk full: capture paused",
    "stopped": "Capture is not running",
    "unhealthy": "Capture has a problem",
}
SILENT_AFTER_START_S = state.STALE_AFTER_S  # a capture child this young that has not reported yet is starting


class TrayIcon(QSystemTrayIcon):
    def __init__(self, db: sqlite_utils.Database, *, start_capture: bool = True,
                 capture_args: list[str] | None = None, describe_args: list[str] | None = None,
                 refresh_ms: int = 5000) -> None:
        """``capture_args`` / ``describe_args`` replace the child commands (default: ``python -m deskscribe
        capture`` and ``… describe --progress json``)."""
        super().__init__()
        self.db = db
        self.describe_args = describe_args or deskscribe_command("describe", "--progress", "json")
        self.start_capture_on_launch = start_capture
        self.cfg = self._load_config()
        self.capture = CaptureProcess(paths.logs_dir() / "capture-output.log", capture_args, self)
        self.capture.exited.connect(self._on_capture_exit)
        self.describe_job: JsonProgressProcess | None = None
        self.review_window: Any = None
        self.dialogs: dict[str, Any] = {}
        self.notifications: list[tuple[str, str]] = []  # (title, message), newest last; also logged
        self.current_state = ""
        self.problems: dict[str, str] = {}  # what is wrong with capture now (kind → reason), shown in the tooltip
        self._capture_state = ""
        self._idle_since: float | None = None
        self._idle_ran = False
        self._quitting = False
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.setContextMenu(self.menu)
        self.activated.connect(self._on_activated)
        from deskscribe.app.task_actions import TaskActions

        self.tasks = TaskActions(db, lambda title, message: self.notify(
            title, message, QSystemTrayIcon.MessageIcon.Information), self)
        self.actions_by_name = self._make_actions()
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.rebuild_menu()
        self.refresh()

    @staticmethod
    def _load_config() -> config.Config:
        try:
            return config.load()
        except ConfigError as exc:
            log.warning("%s; using the defaults", exc)
            return config.Config()

    def _make_actions(self) -> dict[str, QAction]:
        spec = [
            ("pause", "&Pause", lambda: self.pause(None)),
            ("pause15", "Pause for &15 minutes", lambda: self.pause(15)),
            ("resume", "&Resume", self.resume),
            ("start_capture", "S&tart capture", self.start_capture),
            ("record_task", "Record a tas&k…", lambda: self.tasks.record()),
            ("finish_task", "Finish tas&k…", lambda: self.tasks.finish()),
            ("note", "Quick &note…", lambda: self.tasks.note()),
            ("describe", "&Describe backlog now", self.describe_backlog),
            ("stop_describe", "Stop &describing", self.stop_describe),
            ("review", "Open re&view window", self.open_review),
            ("export", "&Export…", self.open_export),
            ("settings", "&Settings…", self.open_settings),
            ("doctor", "&Check setup…", self.open_doctor),
            ("quit", "&Quit", self.quit),
            *[(f"forget{m}", f"&{m} minutes", lambda _=False, m=m: self.forget_last(m)) for m in FORGET_MINUTES],
        ]
        actions = {}
        for name, text, slot in spec:
            action = QAction(text, self)
            action.triggered.connect(slot)
            actions[name] = action
        return actions

    # --- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start supervising: the refresh timer, and the capture child unless one already runs."""
        self.timer.start()
        for line in self.tasks.start_hotkeys(self.cfg):
            self.notify("Hotkey not set", line)
        if self.start_capture_on_launch:
            self.start_capture()
        self.refresh()

    def start_capture(self) -> None:
        info = state.capture_status(self.db)
        if self.capture.is_running():
            return
        if info["state"] != "stopped":
            log.info("capture already runs as pid %s; not starting another", info["pid"])
            return
        self.capture.start()

    def quit(self) -> None:
        """Stop everything (see :meth:`shutdown`) and leave the event loop."""
        if self.shutdown():
            QApplication.quit()

    def shutdown(self) -> bool:
        """Stop the capture child (SIGTERM) and any job, close windows; False if already done."""
        if self._quitting:
            return False
        self._quitting = True
        log.info("quitting")
        self.timer.stop()
        self.tasks.stop()
        if self.describe_job is not None and self.describe_job.is_running():
            self.describe_job.cancel()
            self.describe_job.wait(5000)
        self.capture.stop(wait_ms=8000)
        if self.review_window is not None:
            if self.review_window.editor.dirty:  # quitting keeps unsaved edits as a revision
                self.review_window.editor.save()
            self.review_window.loader.shutdown()
            self.review_window.close()
        self.hide()
        return True

    # --- state ---------------------------------------------------------------------------------------------
    def compute_state(self) -> tuple[str, dict[str, Any]]:
        info = state.capture_status(self.db)
        if info["state"] == "stopped" and self.capture.is_running():
            if self.capture.running_for() < SILENT_AFTER_START_S:
                return "capturing", {**info, "message": "starting"}  # the child has not reported yet
            info = {**info, "problems": {"silent": (
                f"capture runs (pid {self.capture.pid()}) but has not reported for {state.STALE_AFTER_S:.0f} s: "
                "it cannot write its database? See logs/capture.log; Check setup… tells what is wrong")}}
        if info["state"] == "disk_full":
            return "disk_full", info
        if info["problems"]:
            return "unhealthy", info
        if self.describe_job is not None and self.describe_job.is_running():
            return "describing", info
        if state.paused_until(self.db) is not None:
            return "paused", info
        return info["state"], info

    def refresh(self) -> None:
        """Icon, tooltip, notifications and idle-time describing; runs on a timer (cheap queries only)."""
        new_state, info = self.compute_state()
        if info["state"] == "disk_full" and self._capture_state != "disk_full":
            self.notify("Disk full", info.get("message") or "Capture is paused until you free some space.",
                        QSystemTrayIcon.MessageIcon.Critical)
        self._capture_state = info["state"]
        self._note_problems(info["problems"])
        if new_state != self.current_state:
            self.current_state = new_state
            self.setIcon(state_icon(new_state))
        self.setToolTip(self.tooltip_text(new_state))
        self._maybe_describe_when_idle(info["state"])

    def _note_problems(self, problems: dict[str, str]) -> None:
        """One notification per new problem (a disk full has its own, above), none while it lasts."""
        for kind, reason in problems.items():
            if kind not in self.problems and kind != "disk_full":
                self.notify("Capture has a problem", reason, QSystemTrayIcon.MessageIcon.Critical)
        self.problems = dict(problems)

    def status_line(self, current: str | None = None) -> str:
        current = current or self.current_state
        text = STATE_TEXT.get(current, current)
        until = state.paused_until(self.db)
        if current == "paused" and until is not None and until != float("inf"):
            text += f" until {dt.datetime.fromtimestamp(until):%H:%M}"
        if current == "describing" and self.describe_job is not None and self.describe_job.total:
            text += f" {self.describe_job.done}/{self.describe_job.total}"
        return text

    def tooltip_text(self, current: str) -> str:
        s = queries.stats(self.db)
        lines = [f"deskscribe — {self.status_line(current)}",
                 f"Today: {s['frames_today']} frames in {s['episodes_today']} episodes",
                 f"{s['unreviewed']} episodes to review"]
        if current == "describing" and self.describe_job is not None and self.describe_job.message:
            lines.append(self.describe_job.message)
        lines += [f"⚠ {reason}" for reason in self.problems.values()]
        return "\n".join(lines)

    def rebuild_menu(self) -> None:
        """Rebuilt every time the menu opens, so it always matches the current state."""
        self.refresh()
        a = self.actions_by_name
        self.menu.clear()
        status = self.menu.addAction(self.status_line())
        status.setEnabled(False)
        self.menu.addSeparator()
        if self.current_state == "paused" or state.paused_until(self.db) is not None:
            self.menu.addAction(a["resume"])
        else:
            self.menu.addAction(a["pause"])
            self.menu.addAction(a["pause15"])
        if not self.capture.is_running() and state.capture_status(self.db)["state"] == "stopped":
            self.menu.addAction(a["start_capture"])
        self.menu.addAction(a["finish_task"] if self.tasks.running() is not None else a["record_task"])
        self.menu.addAction(a["note"])
        forget_menu = self.menu.addMenu("&Forget the last…")
        for m in FORGET_MINUTES:
            forget_menu.addAction(a[f"forget{m}"])
        self.menu.addSeparator()
        running = self.describe_job is not None and self.describe_job.is_running()
        self.menu.addAction(a["stop_describe"] if running else a["describe"])
        self.menu.addAction(a["review"])
        self.menu.addAction(a["export"])
        self.menu.addAction(a["settings"])
        self.menu.addAction(a["doctor"])
        self.menu.addSeparator()
        self.menu.addAction(a["quit"])

    def notify(self, title: str, message: str,
               icon: QSystemTrayIcon.MessageIcon = QSystemTrayIcon.MessageIcon.Warning) -> None:
        """A desktop notification (and a log line, so nothing depends on the notification being seen)."""
        log.warning("%s: %s", title, message)
        self.notifications.append((title, message))
        if self.isVisible() and self.supportsMessages():
            self.showMessage(f"deskscribe: {title}", message, icon, 10_000)

    # --- menu actions --------------------------------------------------------------------------------------
    def pause(self, minutes: float | None) -> None:
        state.pause(self.db, minutes)
        log.info("capture paused %s", "until resumed" if minutes is None else f"for {minutes:g} minutes")
        self.refresh()

    def resume(self) -> None:
        state.resume(self.db)
        log.info("capture resumed")
        self.refresh()

    def forget_last(self, minutes: int) -> None:
        """Forget the last minutes of capture for good (storage.forget: rows, search index, WAL)."""
        from deskscribe.errors import DeskscribeError
        from deskscribe.storage import forget

        try:
            _what, done = forget.forget(self.db, last=f"{minutes}m")
        except DeskscribeError as exc:
            self.notify("Could not forget", str(exc), QSystemTrayIcon.MessageIcon.Critical)
            return
        self.notify("Forgotten", f"The last {minutes} minutes are gone: {done}.",
                    QSystemTrayIcon.MessageIcon.Information)
        if self.review_window is not None and self.review_window.isVisible():
            self.review_window.refresh()
        self.refresh()

    def describe_backlog(self) -> None:
        if self.describe_job is not None and self.describe_job.is_running():
            return
        job = JsonProgressProcess(self.describe_args, self)
        job.progress.connect(lambda *_: self.refresh())
        job.finished.connect(self._on_describe_finished)
        self.describe_job = job
        job.start()
        self.refresh()

    def stop_describe(self) -> None:
        if self.describe_job is not None:
            self.describe_job.cancel()

    def _on_describe_finished(self, code: int, error: str) -> None:
        job = self.describe_job
        done = job.done if job else 0
        if code == 0:
            log.info("described %d episodes", done)
            if done:
                self.notify("Described", f"{done} episodes are ready to review.",
                            QSystemTrayIcon.MessageIcon.Information)
        elif code == 1:
            self.notify("Some episodes could not be described", error or "see logs/tray.log")
        else:
            self.notify("Describing failed", error or f"the describe job exited with code {code}",
                        QSystemTrayIcon.MessageIcon.Critical)
        self.refresh()
        if self.review_window is not None and self.review_window.isVisible():
            self.review_window.refresh()

    def _maybe_describe_when_idle(self, capture_state: str) -> None:
        if capture_state != "idle":
            self._idle_since, self._idle_ran = None, False
            return
        now = time.time()
        self._idle_since = self._idle_since or now
        if self._idle_ran or not self.cfg.describe.idle_processing:  # once per time away
            return
        if idle.should_run(now, self._idle_since, episodes.backlog(self.db), self.cfg.describe):
            self._idle_ran = True
            log.info("you are away: describing the backlog")
            self.describe_backlog()

    def _on_capture_exit(self, code: int, expected: bool, error: str) -> None:
        if not expected and not self._quitting:
            self.notify("Capture stopped unexpectedly",
                        (error or f"exit code {code}")
                        + " — see logs/capture.log and logs/capture-output.log; the menu can start it again.",
                        QSystemTrayIcon.MessageIcon.Critical)
        self.refresh()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_review()

    def open_review(self) -> None:
        from deskscribe.app.review_window import ReviewWindow

        if self.review_window is None:
            self.review_window = ReviewWindow(self.db)
        else:
            self.review_window.refresh()
        self.review_window.show()
        self.review_window.raise_()
        self.review_window.activateWindow()

    def _open_dialog(self, name: str, factory: Any) -> Any:
        dialog = self.dialogs.get(name)
        if dialog is None or not dialog.isVisible():
            dialog = factory()
            self.dialogs[name] = dialog
            if name == "settings":
                dialog.accepted.connect(self._settings_saved)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def open_export(self) -> Any:
        from deskscribe.app.export_dialog import ExportDialog

        return self._open_dialog("export", ExportDialog)

    def open_settings(self) -> Any:
        from deskscribe.app.settings_dialog import SettingsDialog

        return self._open_dialog("settings", SettingsDialog)

    def open_doctor(self) -> Any:
        from deskscribe.app.doctor_dialog import DoctorDialog

        return self._open_dialog("doctor", DoctorDialog)

    def _settings_saved(self) -> None:
        self.cfg = self._load_config()
        if self.timer.isActive():  # started: the hotkeys follow the settings at once
            for line in self.tasks.start_hotkeys(self.cfg):
                self.notify("Hotkey not set", line)
        if self.capture.is_running():  # capture reads its settings at start: restart our child
            log.info("settings changed: restarting capture")
            self.capture.restart()
