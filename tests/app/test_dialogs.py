"""Settings and export dialogs, driven through their widgets; results checked in config.toml / on disk."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from deskscribe import config
from deskscribe.app.export_dialog import ExportDialog, export_formats
from deskscribe.app.settings_dialog import SettingsDialog
from deskscribe.storage import review

pytestmark = pytest.mark.gui


@pytest.fixture
def settings(qtbot, deskscribe_home):
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def click_save(qtbot, dialog: SettingsDialog) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)


def test_settings_are_saved_to_config_toml(qtbot, settings, deskscribe_home):
    d = settings
    assert d.findChild(type(d.monitors), "dataFolder").text() == str(deskscribe_home)
    d.interval.setValue(5.0)
    qtbot.keyClicks(d.monitors, "1, 2")
    d.typed_text.setChecked(True)
    d.exclude_apps.appendPlainText("signal")
    d.exclude_titles.setPlainText("bank\nmy secret project")
    d.captioner.setCurrentText("vlm")
    qtbot.keyClicks(d.vlm_model, "/models/smolvlm.gguf")
    qtbot.keyClicks(d.vlm_mmproj, "/models/mmproj.gguf")
    d.gpu_layers.setValue(20)
    d.idle_describe.setChecked(True)
    d.retention_days.setValue(7)
    d.budget.setValue(900)
    with qtbot.waitSignal(d.accepted):
        click_save(qtbot, d)
    cfg = config.load(deskscribe_home / "config.toml")
    assert cfg.capture.interval_s == 5.0 and cfg.capture.monitors == [1, 2] and cfg.capture.store_typed_text
    assert cfg.privacy.exclude_apps[-1] == "signal" and cfg.privacy.exclude_titles == ["bank", "my secret project"]
    assert (cfg.models.captioner, cfg.models.vlm_model, cfg.models.vlm_mmproj, cfg.models.n_gpu_layers) == (
        "vlm", "/models/smolvlm.gguf", "/models/mmproj.gguf", 20)
    assert cfg.describe.idle_processing and (cfg.retention.days, cfg.retention.max_image_mb) == (7, 900)
    assert cfg.capture.quality == 80  # keys the dialog does not show are kept


@pytest.mark.parametrize("change,message", [
    (lambda d: d.interval.setValue(0.0), "capture.interval_s must be > 0 (got 0.0)"),
    (lambda d: d.monitors.setText("1, left"), "capture.monitors must be monitor numbers separated by commas"),
    (lambda d: d.backend.setCurrentText("openai"), "models.server_url must be set when models.backend is 'openai'"),
    (lambda d: d.exclude_titles.setPlainText("(unclosed"), "privacy.exclude_titles has a bad pattern '(unclosed'"),
])
def test_bad_settings_show_the_error_and_write_nothing(qtbot, settings, deskscribe_home, change, message):
    change(settings)
    click_save(qtbot, settings)
    assert message in settings.error.text()
    assert settings.isVisible() and not (deskscribe_home / "config.toml").exists()


def test_a_broken_config_file_is_reported(qtbot, deskscribe_home):
    deskscribe_home.mkdir()
    (deskscribe_home / "config.toml").write_text("[capture]\ninterval_s = 'fast'\n")
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    assert "capture.interval_s must be a number (got 'fast')" in dialog.error.text()
    assert dialog.interval.value() == 2.0


def test_export_dialog_shows_progress_of_a_job(qtbot, tmp_path: Path):
    dialog = ExportDialog(tmp_path / "out")
    qtbot.addWidget(dialog)
    assert dialog.command()[-6:] == ["export", dialog.format.currentText(), str(tmp_path / "out"), "--progress", "json",
                                     "--force"]
    dialog.replace.setChecked(False)
    assert dialog.command()[-1] == "json"
    script = ("import json\n"
              "for i in range(1, 5): print(json.dumps({'done': i, 'total': 4, 'message': f'episode {i}'}), flush=True)")
    dialog.start([sys.executable, "-c", script])
    with qtbot.waitSignal(dialog.job.finished, timeout=10_000):
        pass
    assert (dialog.progress.value(), dialog.progress.maximum()) == (4, 4)
    assert dialog.message.text() == f"Exported to {tmp_path / 'out'}"
    assert dialog.start_btn.isEnabled() and dialog.close_btn.text() == "Close"


def test_export_dialog_runs_the_real_export(qtbot, tmp_path: Path, imported, db):
    """`deskscribe export jsonl` really runs in the child process (its formats fill the combo box)."""
    assert "jsonl" in export_formats()
    review.review(db, imported, "accepted")
    dialog = ExportDialog(tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.format.setCurrentText("jsonl")
    qtbot.mouseClick(dialog.start_btn, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.job.finished, timeout=120_000) as done:
        pass
    assert done.args[0] == 0, dialog.message.text()
    assert dialog.message.text() == f"Exported to {tmp_path / 'out'}"
    assert any((tmp_path / "out").iterdir())
    # exporting again into the same folder replaces the earlier export (the box is ticked by default) ...
    qtbot.mouseClick(dialog.start_btn, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.job.finished, timeout=120_000) as again:
        pass
    assert again.args[0] == 0, dialog.message.text()
    # ... and is refused with the CLI's one line when the person unticks it
    dialog.replace.setChecked(False)
    qtbot.mouseClick(dialog.start_btn, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.job.finished, timeout=120_000) as refused:
        pass
    assert refused.args[0] != 0 and "--force" in dialog.message.text(), dialog.message.text()
