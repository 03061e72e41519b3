"""Process-level Qt plumbing: the QApplication, clean quit on SIGINT/SIGTERM, and the bug report dialog."""

from __future__ import annotations

import logging
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger(__name__)


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setApplicationName("deskscribe")
    app.setApplicationDisplayName("deskscribe")
    app.setDesktopFileName("deskscribe")
    return app


class SignalWatcher(QObject):
    """Lets Python handle SIGINT/SIGTERM while Qt's event loop runs, then calls ``on_signal``.

    Python runs signal handlers only between bytecodes; inside ``app.exec()`` none run. The C-level
    handler writes to a socket (``signal.set_wakeup_fd``), a ``QSocketNotifier`` wakes the loop, and
    returning to Python lets the queued handler run — no polling timer needed.
    """

    def __init__(self, on_signal: Callable[[int], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_signal = on_signal
        self._rsock, self._wsock = socket.socketpair()
        self._rsock.setblocking(False)
        self._wsock.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._wsock.fileno())
        self._old = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        self._notifier = QSocketNotifier(self._rsock.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _drain(self) -> None:
        try:
            while self._rsock.recv(64):
                pass
        except BlockingIOError:
            pass

    def _handle(self, signum: int, _frame: object) -> None:
        log.info("received signal %d; quitting", signum)
        # Act from the event loop, not from wherever the handler interrupted us (and a signal that arrives
        # before app.exec() started must still quit it, which QApplication.quit() alone would not).
        QTimer.singleShot(0, lambda: self._on_signal(signum))

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        signal.set_wakeup_fd(self._old_fd)
        self._notifier.setEnabled(False)
        self._rsock.close()
        self._wsock.close()


def install_excepthook() -> None:
    """Bugs in slots are logged with their traceback and shown in a report dialog instead of vanishing."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        import sqlite3

        from deskscribe.errors import DeskscribeError

        if isinstance(exc, sqlite3.Error):  # a damaged page or a full disk met mid-session: not a bug
            from deskscribe import paths
            from deskscribe.storage.db import translate

            known = translate(exc, paths.db_path())
            exc = known if isinstance(known, DeskscribeError) else exc
        if isinstance(exc, DeskscribeError):  # a known problem: one line that says what to do
            log.warning("%s", exc)
            if QApplication.instance() is not None:
                QMessageBox.warning(None, "deskscribe", str(exc))
            return
        text = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unexpected error:\n%s", text)
        if QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "deskscribe: unexpected error",
                          f"Something went wrong: {exc}\n\nThis is a bug; the details are in the log.")
        box.setDetailedText(text)
        box.exec()

    sys.excepthook = hook
