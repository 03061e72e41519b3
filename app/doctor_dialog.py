"""Check setup…: the report of ``deskscribe doctor``, run as a child process so the GUI never waits on it."""

from __future__ import annotations

import json
import logging
from typing import Any

from PySide6.QtCore import QProcess, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from deskscribe.app.jobs import last_error_line
from deskscribe.child import deskscribe_command

log = logging.getLogger(__name__)


def report_lines(report: dict[str, Any]) -> list[str]:
    """The lines `deskscribe doctor` prints, from its --json output (each check carries its line)."""
    return [str(c["line"]) for c in report["checks"]]


class DoctorDialog(QDialog):
    finished_check = Signal(bool)  # True when every check is ok

    def __init__(self, args: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("deskscribe — check setup")
        self.resize(820, 420)
        self.args = args or deskscribe_command("doctor", "--json")
        self.summary = QLabel("Checking…")
        self.summary.setWordWrap(True)
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.report.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox()
        self.again = buttons.addButton("Check &again", QDialogButtonBox.ButtonRole.ActionRole)
        self.again.clicked.connect(self.run)
        buttons.addButton(QDialogButtonBox.StandardButton.Close).clicked.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.report, 1)
        layout.addWidget(buttons)
        self.proc = QProcess(self)
        self.proc.finished.connect(self._finished)
        self.proc.errorOccurred.connect(self._error)
        self.run()

    def run(self) -> None:
        if self.proc.state() != QProcess.ProcessState.NotRunning:
            return
        self.again.setEnabled(False)
        self.summary.setText("Checking…")
        self.proc.start(self.args[0], self.args[1:])

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        out = bytes(self.proc.readAllStandardOutput().data()).decode("utf-8", "replace")
        err = bytes(self.proc.readAllStandardError().data()).decode("utf-8", "replace")
        self.again.setEnabled(True)
        try:
            report = json.loads(out)
            lines = report_lines(report)
        except (ValueError, KeyError, TypeError):
            log.warning("deskscribe doctor failed (exit %s): %s", code, err.strip()[-2000:])
            self._show(False, f"The check could not run: {last_error_line(err) or f'exit code {code}'}", [])
            return
        problems = sum(not c["ok"] for c in report["checks"])
        text = "Everything checked is fine." if not problems else \
            f"{problems} problem{'s' if problems > 1 else ''}: each line says what to do."
        self._show(bool(report["ok"]), text, lines)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.again.setEnabled(True)
            self._show(False, f"The check could not start: {self.proc.errorString()}", [])

    def _show(self, ok: bool, summary: str, lines: list[str]) -> None:
        self.summary.setText(summary)
        self.report.setPlainText("\n".join(lines))
        self.finished_check.emit(ok)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if self.proc.state() != QProcess.ProcessState.NotRunning:
            self.proc.kill()
            self.proc.waitForFinished(2000)
        super().closeEvent(event)
