"""The first start on a fresh data folder: one dialog that says what is captured and asks two things.

What is captured and what never is (the exclusions), whether typed text is stored, and the model: the
download recommended for this machine (size, licence, estimated speed) or staying offline. The download
runs as a ``deskscribe models pull --progress json`` child (resumable, checked against the hub's sha256);
any failure leaves the offline default in place and says why in one line. The choices go to config.toml
and a marker file, so the dialog shows once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskscribe import config, paths
from deskscribe.app.jobs import JsonProgressProcess
from deskscribe.child import deskscribe_command
from deskscribe.errors import ConfigError
from deskscribe.fileio import write_json_atomic
from deskscribe.models import recommend as rec_mod
from deskscribe.models.presets import PRESETS, QWEN3_VL_2B_CPU_S, QWEN3_VL_2B_GPU_S, licence_text

log = logging.getLogger(__name__)
MARKER = "first-run.json"
TITLE = "Welcome to deskscribe"


def marker_path() -> Any:
    return paths.user_dir() / MARKER


def needs_first_run() -> bool:
    """A fresh data folder: no marker, no settings and no database yet (an existing user is not asked)."""
    return not (marker_path().exists() or paths.config_path().exists() or paths.db_path().exists())


def _captured_text(cfg: config.Config) -> str:
    c = cfg.capture
    when = f"every {c.interval_s:g} s" + (" and at each click" if c.frame_on_click else "")
    return (f"<b>What is captured</b>: a screenshot {when} while something changes; the app and window title "
            "in front; your clicks, scrolls and key presses (which keys, not the text you type, unless you "
            "choose below; what you type shows in the screenshots, and describe reads it from there, never after "
            f"a password field). It stays in <tt>{paths.user_dir()}</tt>; nothing is sent anywhere. Pause, or "
            "forget the last minutes, from the tray icon at any time.")


def _exclusions_text(cfg: config.Config) -> str:
    apps = ", ".join(cfg.privacy.exclude_apps)
    titles = ", ".join(cfg.privacy.exclude_titles)
    return (f"<b>Never captured</b>: these apps — {apps}; windows whose title matches {titles}; the screen "
            "while it is locked. Change the lists in Settings.")


def _model_text(rec: rec_mod.Recommendation) -> str:
    if rec.offline:
        return ("<b>Model</b>: " + "; ".join(rec.reasons) + ". deskscribe describes what you did from OCR and "
                "the recorded steps, with the bundled SmolLM2-135M; nothing is downloaded.")
    p = PRESETS[rec.preset]
    published = (f"published: ~{QWEN3_VL_2B_CPU_S:.0f} s per image request on a laptop CPU, "
                 f"~{QWEN3_VL_2B_GPU_S:.0f} s on a laptop RTX 4070")
    return (f"<b>Model</b>: recommended for this machine — <b>{p.name}</b> ({p.quant}), a "
            f"{p.approx_mb / 1000:.1f} GB download, licence {licence_text(p)}. On {rec.device}: about "
            f"{rec.seconds_per_call:.0f} s per screenshot it reads, ~{rec_mod.hours(rec.describe_s_per_hour)} of "
            f"describe per captured hour ({published}; see <tt>deskscribe models recommend</tt>)."
            + "".join(f" {r[0].upper()}{r[1:]}." for r in rec.reasons if "working day" in r)
            + " Offline, OCR and the recorded steps describe what you did, with the bundled SmolLM2-135M.")


class FirstRunDialog(QDialog):
    def __init__(self, rec: rec_mod.Recommendation | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        if rec is None:
            from deskscribe.models.hardware import detect

            rec = rec_mod.recommend(detect())
        self.rec = rec
        self.job: JsonProgressProcess | None = None
        self.cancelled = False
        self.choice = ""
        cfg = self._config()
        layout = QVBoxLayout(self)
        layout.addWidget(self._label(f"<h3>{TITLE}</h3>"))
        layout.addWidget(self._label(_captured_text(cfg)))
        layout.addWidget(self._label(_exclusions_text(cfg)))
        self.typed_text = QCheckBox("Also store the text I type (off: only which keys; passwords are never read)")
        self.typed_text.setChecked(cfg.capture.store_typed_text)
        layout.addWidget(self.typed_text)
        box = QGroupBox()
        inner = QVBoxLayout(box)
        inner.addWidget(self._label(_model_text(rec)))
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        inner.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        inner.addWidget(self.status)
        layout.addWidget(box)
        buttons = QHBoxLayout()
        self.download_button = QPushButton(f"&Download {rec.preset} and start")
        self.download_button.setVisible(not rec.offline)
        self.offline_button = QPushButton("&Stay offline and start")
        self.cancel_button = QPushButton("&Cancel download")
        self.cancel_button.setVisible(False)
        for b in (self.download_button, self.cancel_button, self.offline_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.download_button.clicked.connect(self.download)
        self.offline_button.clicked.connect(self.stay_offline)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.setMinimumWidth(640)

    @staticmethod
    def _label(html: str) -> QLabel:
        label = QLabel(html)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        return label

    @staticmethod
    def _config() -> config.Config:
        try:
            return config.load()
        except ConfigError as exc:
            log.warning("%s; using the defaults", exc)
            return config.Config()

    def download(self) -> None:
        self.cancelled = False
        self.status.setText(f"Downloading {self.rec.preset}…")
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self._busy(True)
        self.job = JsonProgressProcess(deskscribe_command("models", "pull", self.rec.preset, "--progress", "json"),
                                       self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.start()

    def cancel_download(self) -> None:
        if self.job is not None and self.job.is_running():
            self.cancelled = True
            self.job.cancel()

    def _busy(self, busy: bool) -> None:
        self.download_button.setEnabled(not busy)
        self.offline_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total > 1:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.status.setText(message)

    def _on_finished(self, code: int, error: str) -> None:
        self._busy(False)
        self.job = None
        if code == 0:
            self.progress.setValue(self.progress.maximum())
            self._finish("download")
            return
        if self.cancelled:
            why = "Download cancelled; the part already fetched is kept, and the next download resumes it."
        else:
            why = f"Download failed: {error or 'the download stopped'}."
        self.status.setText(why + " The offline default stays in place: retry, or stay offline.")
        log.warning("first-run download ended with %s: %s", code, error)

    def stay_offline(self) -> None:
        self._finish("offline")

    def _finish(self, choice: str) -> None:
        cfg = self._config()
        cfg.capture.store_typed_text = self.typed_text.isChecked()
        if choice == "download":
            cfg.models = rec_mod.apply(self.rec, cfg.models)
        try:
            config.save(cfg)
        except (ConfigError, OSError) as exc:
            self.status.setText(f"Cannot save the settings: {exc}")
            return
        write_json_atomic(marker_path(), {"choice": choice, "model": self.rec.preset if choice == "download" else "",
                                          "store_typed_text": cfg.capture.store_typed_text,
                                          "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        self.choice = choice
        log.info("first run: %s", choice)
        self.accept()

    def reject(self) -> None:
        self.cancel_download()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.cancel_download()
        super().closeEvent(event)


def run_first_run() -> bool:
    """Show the dialog; True when the person chose (download or offline), False when they closed it."""
    dialog = FirstRunDialog()
    log.info("first-run dialog shown")
    return dialog.exec() == QDialog.DialogCode.Accepted
