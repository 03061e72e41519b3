"""Settings: the keys a person changes most, written to the same config.toml the CLI reads.

Saving validates through ``deskscribe.config.save``; a bad value is shown as the ConfigError line in the
dialog (which stays open), and nothing is written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from deskscribe import config, paths
from deskscribe.errors import ConfigError
from deskscribe.models import registry


def _lines(edit: QPlainTextEdit) -> list[str]:
    return [ln.strip() for ln in edit.toPlainText().splitlines() if ln.strip()]


def parse_monitors(text: str) -> list[int]:
    """``"1, 2"`` → ``[1, 2]``; empty = every monitor."""
    out = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError(f"capture.monitors must be monitor numbers separated by commas (got {part!r})")
        out.append(int(part))
    return out


def _combo(choices: dict[str, registry.Entry[Any]], value: str) -> QComboBox:
    """A choice from a registry: its names, each with its help as the tooltip."""
    box = QComboBox()
    for i, entry in enumerate(choices.values()):
        box.addItem(entry.name)
        box.setItemData(i, entry.help, Qt.ItemDataRole.ToolTipRole)
    box.setCurrentText(value)
    return box


class SettingsDialog(QDialog):
    def __init__(self, path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("deskscribe — settings")
        self.path = path or paths.config_path()
        self.error = QLabel()
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        try:
            self.cfg = config.load(self.path)
        except ConfigError as exc:
            self.cfg = config.Config()
            self.error.setText(f"{exc}\nThe fields show the defaults; saving replaces the file.")
        tabs = QTabWidget()
        tabs.addTab(self._capture_tab(), "&Capture")
        tabs.addTab(self._privacy_tab(), "&Privacy")
        tabs.addTab(self._models_tab(), "&Models")
        tabs.addTab(self._storage_tab(), "&Data")
        tabs.addTab(self._task_tab(), "&Task")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _capture_tab(self) -> QWidget:
        c = self.cfg.capture
        self.interval = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=3600.0, value=c.interval_s, suffix=" s")
        self.monitors = QLineEdit(", ".join(map(str, c.monitors)))
        self.monitors.setPlaceholderText("empty = every monitor; e.g. 1, 2")
        self.typed_text = QCheckBox("Store the text I type (off: only key counts are stored)")
        self.typed_text.setChecked(c.store_typed_text)
        self.idle_describe = QCheckBox("Describe new episodes while I am away from the computer")
        self.idle_describe.setChecked(self.cfg.describe.idle_processing)
        self.idle_after = QDoubleSpinBox(decimals=0, minimum=0.0, maximum=86400.0,
                                         value=self.cfg.describe.idle_after_s, suffix=" s")
        form = QFormLayout()
        form.addRow("Screenshot interval", self.interval)
        form.addRow("Monitors", self.monitors)
        form.addRow(self.typed_text)
        form.addRow(self.idle_describe)
        form.addRow("Away for at least", self.idle_after)
        return self._page(form)

    def _privacy_tab(self) -> QWidget:
        p = self.cfg.privacy
        self.exclude_apps = QPlainTextEdit("\n".join(p.exclude_apps))
        self.exclude_titles = QPlainTextEdit("\n".join(p.exclude_titles))
        form = QFormLayout()
        form.addRow(QLabel("Windows matching these are never captured. One per line."))
        form.addRow("Apps (names)", self.exclude_apps)
        form.addRow("Titles (regular expressions)", self.exclude_titles)
        return self._page(form)

    def _models_tab(self) -> QWidget:
        m = self.cfg.models
        self.captioner = _combo(registry.CAPTIONERS, m.captioner)
        self.summarizer = QLineEdit(m.summarizer)
        self.vlm_model = QLineEdit(m.vlm_model)
        self.vlm_model.setPlaceholderText("preset name or path to a GGUF")
        self.vlm_mmproj = QLineEdit(m.vlm_mmproj)
        self.vlm_mmproj.setPlaceholderText("path to the mmproj GGUF (presets bring their own)")
        self.backend = _combo(registry.BACKENDS, m.backend)
        self.server_url = QLineEdit(m.server_url)
        self.server_url.setPlaceholderText("http://127.0.0.1:8080/v1 (backend openai)")
        self.gpu_layers = QSpinBox(minimum=-1, maximum=1000, value=m.n_gpu_layers)
        self.gpu_layers.setSpecialValueText("all (-1)")
        form = QFormLayout()
        form.addRow("Frame captioner", self.captioner)
        form.addRow("Summarizer model", self.summarizer)
        form.addRow("Vision model", self.vlm_model)
        form.addRow("Vision projector", self.vlm_mmproj)
        form.addRow("Backend", self.backend)
        form.addRow("Server URL", self.server_url)
        form.addRow("GPU layers", self.gpu_layers)
        return self._page(form)

    def _storage_tab(self) -> QWidget:
        r = self.cfg.retention
        self.retention_days = QSpinBox(minimum=0, maximum=36500, value=r.days, suffix=" days")
        self.retention_days.setSpecialValueText("keep forever")
        self.budget = QSpinBox(minimum=0, maximum=10_000_000, value=r.max_image_mb, suffix=" MB")
        self.budget.setSpecialValueText("no limit")
        folder = QLineEdit(str(paths.user_dir()))
        folder.setObjectName("dataFolder")
        folder.setReadOnly(True)
        form = QFormLayout()
        form.addRow("Delete screenshots older than", self.retention_days)
        form.addRow("Image budget", self.budget)
        form.addRow("Data folder", folder)
        form.addRow(QLabel("To use another folder, set the DESKSCRIBE_HOME environment variable\n"
                           "before starting deskscribe (e.g. in ~/.profile), and restart it."))
        return self._page(form)

    def _task_tab(self) -> QWidget:
        t = self.cfg.task
        self.hotkey_record = QLineEdit(t.hotkey_record)
        self.hotkey_record.setObjectName("hotkeyRecord")
        self.hotkey_note = QLineEdit(t.hotkey_note)
        self.hotkey_note.setObjectName("hotkeyNote")
        for edit in (self.hotkey_record, self.hotkey_note):
            edit.setPlaceholderText("e.g. <ctrl>+<alt>+t; empty = no hotkey")
        form = QFormLayout()
        form.addRow(QLabel("Global hotkeys: modifiers in <>, then one key."))
        form.addRow("Record / finish a task", self.hotkey_record)
        form.addRow("Quick note", self.hotkey_note)
        return self._page(form)

    def _check_hotkeys(self, cfg: config.Config) -> None:
        """A combination another program holds is refused here, with the same line the tray would show."""
        from deskscribe.app.hotkeys import taken_message, taken_on_x

        for key in ("hotkey_record", "hotkey_note"):
            combo = getattr(cfg.task, key)
            if combo.strip() and combo != getattr(self.cfg.task, key) and taken_on_x(combo):
                raise ConfigError(taken_message(combo, f"task.{key}"))

    @staticmethod
    def _page(form: QFormLayout) -> QWidget:
        page = QWidget()
        page.setLayout(form)
        return page

    def build_config(self) -> config.Config:
        """The dialog's values applied on top of the loaded config (keys not shown here are kept)."""
        c = self.cfg
        return dataclasses.replace(
            c,
            capture=dataclasses.replace(c.capture, interval_s=self.interval.value(),
                                        monitors=parse_monitors(self.monitors.text()),
                                        store_typed_text=self.typed_text.isChecked()),
            privacy=dataclasses.replace(c.privacy, exclude_apps=_lines(self.exclude_apps),
                                        exclude_titles=_lines(self.exclude_titles)),
            models=dataclasses.replace(c.models, captioner=self.captioner.currentText(),
                                       summarizer=self.summarizer.text().strip(),
                                       vlm_model=self.vlm_model.text().strip(),
                                       vlm_mmproj=self.vlm_mmproj.text().strip(),
                                       backend=self.backend.currentText(),
                                       server_url=self.server_url.text().strip(),
                                       n_gpu_layers=self.gpu_layers.value()),
            describe=dataclasses.replace(c.describe, idle_processing=self.idle_describe.isChecked(),
                                         idle_after_s=self.idle_after.value()),
            retention=dataclasses.replace(c.retention, days=self.retention_days.value(),
                                          max_image_mb=self.budget.value()),
            task=dataclasses.replace(c.task, hotkey_record=self.hotkey_record.text().strip(),
                                     hotkey_note=self.hotkey_note.text().strip()),
        )

    def save(self) -> None:
        try:
            cfg = self.build_config()
            config.from_dict(config.to_dict(cfg), str(self.path))  # a bad value: its line before the X check
            self._check_hotkeys(cfg)
            config.save(cfg, self.path)
        except ConfigError as exc:
            self.error.setText(str(exc))
            return
        self.cfg = cfg
        self.error.setText("")
        self.accept()
