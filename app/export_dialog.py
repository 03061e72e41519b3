"""Export…: pick a format and a folder, run ``deskscribe export`` in a child process, show its progress."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskscribe.app.jobs import JsonProgressProcess
from deskscribe.child import deskscribe_command
from deskscribe.export import registry


def export_formats() -> list[str]:
    """The formats ``deskscribe export`` accepts (its FORMAT choices read the same registry)."""
    return registry.names()


class ExportDialog(QDialog):
    def __init__(self, default_dir: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("deskscribe — export")
        self.job: JsonProgressProcess | None = None
        self.format = QComboBox()
        formats = export_formats()
        self.format.addItems(formats)
        self.format.setEditable(not formats)
        self.folder = QLineEdit(str(default_dir or Path.home() / "deskscribe-export"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        # --force only ever replaces a folder holding an earlier deskscribe export, so it is safe to offer
        self.replace = QCheckBox("Replace an earlier export in this folder")
        self.replace.setChecked(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message = QLabel("Accepted and edited episodes are exported; see the README for the formats.")
        self.message.setObjectName("exportMessage")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.start_btn = self.buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_btn = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.start_btn.clicked.connect(self.start)
        self.close_btn.clicked.connect(self.close_or_cancel)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Folder", row)
        form.addRow("", self.replace)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def command(self) -> list[str]:
        force = ["--force"] if self.replace.isChecked() else []
        return deskscribe_command("export", self.format.currentText().strip(), self.folder.text().strip(),
                                  "--progress", "json", *force)

    def start(self, args: list[str] | None = None) -> None:
        if self.job is not None and self.job.is_running():
            return
        if not self.format.currentText().strip() or not self.folder.text().strip():
            self.message.setText("Choose a format and a folder.")
            return
        self.job = JsonProgressProcess(args or self.command(), self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.start_btn.setEnabled(False)
        self.close_btn.setText("Cancel")
        self.progress.setRange(0, 0)  # busy until the first progress line gives a total
        self.message.setText("Exporting…")
        self.job.start()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.message.setText(message or f"{done} of {total}")

    def _on_finished(self, code: int, error: str) -> None:
        self.start_btn.setEnabled(True)
        self.close_btn.setText("Close")
        self.progress.setRange(0, max(self.job.total if self.job else 1, 1))
        if code == 0:
            self.progress.setValue(self.progress.maximum())
            self.message.setText(f"Exported to {self.folder.text()}")
        elif code == 1:
            self.message.setText(f"Exported with problems: {error or 'some episodes failed'}")
        else:
            self.message.setText(f"Export failed: {error or f'exit code {code}'}")

    def close_or_cancel(self) -> None:
        if self.job is not None and self.job.is_running():
            self.job.cancel()
            self.message.setText("Cancelling…")
            return
        self.reject()
