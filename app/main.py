"""Running the GUI: ``deskscribe tray`` and ``deskscribe review`` (called by the thin commands in cli.py)."""

from __future__ import annotations

import logging
import os
import sys
import time

from deskscribe import paths
from deskscribe.errors import BackendUnavailable

log = logging.getLogger(__name__)

NO_TRAY_MESSAGE = ("deskscribe: no system tray is available (is a panel with a notification area running?); "
                   "opening the review window instead — closing it quits")


def check_display() -> None:
    """Fail with one sentence instead of Qt aborting the process when there is no display."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise BackendUnavailable("no display: start deskscribe from a desktop session (DISPLAY is not set)")


def log_to_file(name: str) -> None:
    """Keep a log in the data folder's logs/, so problems are on record even when nobody saw the message."""
    try:
        paths.logs_dir().mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(paths.logs_dir() / name, encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write the log file: %s", exc)
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    console_level = root.level
    for existing in root.handlers:  # the console keeps the level -v chose; the file always gets INFO
        if existing.level == logging.NOTSET:
            existing.setLevel(console_level)
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    root.setLevel(min(console_level, logging.INFO) if console_level else logging.INFO)


def run_review() -> int:
    """The review window alone (no tray, no capture); returns the exit code."""
    check_display()
    log_to_file("review.log")
    from deskscribe.app.qtutil import SignalWatcher, application, install_excepthook
    from deskscribe.app.review_window import ReviewWindow
    from deskscribe.storage.db import open_user_db as open_db

    app = application()
    install_excepthook()
    # A data folder nobody may write (a read-only mount, a backup copy) is browsed read-only.
    readonly = paths.db_path().exists() and not os.access(paths.user_dir(), os.W_OK)
    db = open_db(readonly=readonly)
    window = ReviewWindow(db)
    if readonly:
        window.statusBar().showMessage(f"{paths.user_dir()} is read-only: browsing only, changes cannot be saved")
    def on_signal(_sig: int) -> None:
        if window.editor.dirty:  # a signal is no time for a question: keep the edit as a revision
            window.editor.save()
            window.editor.dirty = False
        window.close()
        app.quit()

    watcher = SignalWatcher(on_signal)
    window.show()
    log.info("review window shown")
    code = app.exec()
    watcher.restore()
    window.loader.shutdown()
    db.conn.close()
    return int(code)


def run_tray(start_capture: bool = True, tray_wait_s: float = 10.0) -> int:
    """The tray icon (which supervises capture); falls back to the review window when there is no tray."""
    check_display()
    log_to_file("tray.log")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QSystemTrayIcon

    from deskscribe.app.qtutil import SignalWatcher, application, install_excepthook
    from deskscribe.app.tray import TrayIcon
    from deskscribe.storage.db import open_user_db as open_db

    app = application()
    install_excepthook()
    from deskscribe.app.first_run import needs_first_run, run_first_run

    if needs_first_run() and not run_first_run():
        log.info("first-run dialog closed without a choice: nothing captured, quitting")
        return 0
    app.setQuitOnLastWindowClosed(False)
    db = open_db()
    tray = TrayIcon(db, start_capture=start_capture)
    watcher = SignalWatcher(lambda _sig: tray.quit())
    app.aboutToQuit.connect(tray.quit)
    deadline = time.monotonic() + tray_wait_s

    def show_when_available() -> None:
        # At login the panel may start after us: wait for it a little before falling back.
        if QSystemTrayIcon.isSystemTrayAvailable():
            tray.show()
            if tray.isVisible():
                log.info("tray icon shown")
        elif time.monotonic() < deadline:
            QTimer.singleShot(250, show_when_available)
        else:
            log.warning("no system tray available; opening the review window instead")
            print(NO_TRAY_MESSAGE, file=sys.stderr, flush=True)
            tray.open_review()
            log.info("review window shown")
            app.lastWindowClosed.connect(tray.quit)

    tray.start()
    show_when_available()
    code = app.exec()
    watcher.restore()
    db.conn.close()
    return int(code)
