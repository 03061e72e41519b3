"""The first-run dialog, driven through its buttons: stay offline; download (a real `deskscribe models pull`
child against the hub-layout server on 127.0.0.1); a failed download; a cancelled one. Results are checked in
config.toml, the marker file and the models folder."""

from __future__ import annotations

import json
import threading
import tomllib

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from deskscribe import paths
from deskscribe.app.first_run import FirstRunDialog, marker_path, needs_first_run
from deskscribe.models import manager
from deskscribe.models.hardware import Hardware
from deskscribe.models.recommend import recommend

from ..hubserver import write_gguf

pytestmark = pytest.mark.gui
PRESET = manager.PRESETS["qwen3-vl-2b"]


@pytest.fixture
def dialog(qtbot, deskscribe_home):
    # the recommendation for this machine, detected for real (no GPU here: the CPU setup)
    d = FirstRunDialog()
    qtbot.addWidget(d)
    d.show()
    return d


@pytest.fixture
def hub_with_qwen(local_hub, tmp_path):
    files = {PRESET.file: write_gguf(tmp_path / "m.gguf", arch="qwen3vl", mb=3.0).read_bytes(),
             PRESET.mmproj: write_gguf(tmp_path / "p.gguf", arch="clip", mb=1.0, seed=1).read_bytes()}
    local_hub.add(PRESET.repo, files)
    return local_hub


def _config() -> dict:
    return tomllib.loads(paths.config_path().read_text())


def test_a_fresh_folder_asks_once(deskscribe_home) -> None:
    assert needs_first_run()
    deskscribe_home.mkdir()
    paths.config_path().write_text("[capture]\ninterval_s = 1.0\n")
    assert not needs_first_run()  # an existing setup is not asked


def test_it_says_what_is_captured_and_what_is_recommended(dialog) -> None:
    text = " ".join(label.text() for label in dialog.findChildren(type(dialog.status)))
    for expected in ("What is captured", "keepassxc", "password", "qwen3-vl-2b", "1.6 GB download", "Apache-2.0",
                     "per captured hour", "40 s per image request", "Offline, OCR"):
        assert expected in text, expected
    assert dialog.download_button.isVisible() and dialog.offline_button.isVisible()


def test_stay_offline(qtbot, dialog) -> None:
    dialog.typed_text.setChecked(True)
    qtbot.mouseClick(dialog.offline_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.choice == "offline"
    cfg = _config()
    assert cfg["capture"]["store_typed_text"] is True
    assert cfg["models"]["summarizer"] == "smollm2-135m" and cfg["models"]["vlm_model"] == ""
    assert json.loads(marker_path().read_text())["choice"] == "offline"
    assert not needs_first_run()


def test_download_the_recommended_model(qtbot, dialog, hub_with_qwen) -> None:
    seen: list[int] = []
    dialog.progress.valueChanged.connect(seen.append)
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isVisible() and not dialog.offline_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=60_000)
    assert dialog.choice == "download"
    assert dialog.progress.value() == dialog.progress.maximum() > 0 and len(set(seen)) >= 2
    cfg = _config()["models"]
    assert (cfg["vlm_model"], cfg["summarizer"], cfg["n_gpu_layers"], cfg["vlm_image_max_tokens"]) == (
        "qwen3-vl-2b", "qwen3-vl-2b", 0, 1024)
    assert manager.is_installed(PRESET)
    assert json.loads(marker_path().read_text())["model"] == "qwen3-vl-2b"


def test_a_failed_download_keeps_the_offline_default_and_says_why(qtbot, dialog, hub_with_qwen) -> None:
    hub_with_qwen.wrong_sha.add(PRESET.file)
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.offline_button.isEnabled(), timeout=60_000)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    status = dialog.status.text()
    assert status.startswith(f"Download failed: {PRESET.file} failed its checksum") and "offline default" in status
    assert "\n" not in status
    assert not paths.config_path().exists() and not marker_path().exists()
    qtbot.mouseClick(dialog.offline_button, Qt.MouseButton.LeftButton)
    assert dialog.choice == "offline" and _config()["models"]["summarizer"] == "smollm2-135m"


def test_cancel_keeps_the_partial_for_later(qtbot, dialog, hub_with_qwen) -> None:
    gate = threading.Event()
    hub_with_qwen.on_body = lambda _name: gate.wait(30)  # the server holds the rest of the file back
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    part = manager.preset_dir(PRESET.name) / (PRESET.file + ".part")
    qtbot.waitUntil(lambda: part.exists() and part.stat().st_size > 0, timeout=60_000)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.offline_button.isEnabled(), timeout=30_000)
    gate.set()
    assert dialog.status.text().startswith("Download cancelled")
    assert part.exists() and not manager.is_installed(PRESET) and not paths.config_path().exists()


def test_with_too_little_memory_it_offers_only_offline(qtbot, deskscribe_home) -> None:
    d = FirstRunDialog(recommend(Hardware(cores=2, ram_mb=2048, offload=False)))
    qtbot.addWidget(d)
    d.show()
    text = " ".join(label.text() for label in d.findChildren(type(d.status)))
    assert not d.download_button.isVisible() and "too little" in text
