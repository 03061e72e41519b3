"""`deskscribe autostart`, and the GUI commands as real processes (offscreen: quit on SIGTERM, no-tray fallback)."""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from deskscribe.cli import main

REPO = Path(__file__).resolve().parents[2]


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read(path)
    return dict(parser["Desktop Entry"])


def test_autostart_on_off_honours_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    runner = CliRunner()
    entry = tmp_path / "cfg" / "autostart" / "deskscribe.desktop"
    assert runner.invoke(main, ["autostart", "status"]).output.strip() == "off"
    result = runner.invoke(main, ["autostart", "on"])
    assert result.exit_code == 0 and str(entry) in result.output
    written, packaged = read_entry(entry), read_entry(REPO / "packaging" / "deskscribe.desktop")
    assert {k: v for k, v in written.items() if k != "Exec"} == {k: v for k, v in packaged.items() if k != "Exec"}
    exec_line = written["Exec"]
    assert exec_line.endswith("deskscribe-tray") or exec_line.endswith("-m deskscribe tray")
    assert runner.invoke(main, ["autostart", "status"]).output.startswith("on")
    assert runner.invoke(main, ["autostart", "off"]).exit_code == 0 and not entry.exists()
    assert "was off" in runner.invoke(main, ["autostart", "off"]).output


def test_autostart_defaults_to_dot_config(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert CliRunner().invoke(main, ["autostart", "on"]).exit_code == 0
    assert (tmp_path / ".config" / "autostart" / "deskscribe.desktop").exists()


def test_review_without_a_display_is_one_error_line(monkeypatch):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(main, ["review"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no display: start deskscribe from a desktop session (DISPLAY is not set)"


def _start(args: list[str], home: Path) -> subprocess.Popen:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DESKSCRIBE_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "deskscribe", "-v", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdout.close()


def _read_until(proc: subprocess.Popen, text: str) -> list[str]:
    """Read the child's log lines until one contains ``text`` (the child exiting first fails the test)."""
    lines = []
    for line in proc.stdout:  # blocks on the real process; bounded by the test timeout
        lines.append(line)
        if text in line:
            return lines
    pytest.fail(f"exited ({proc.wait()}) before printing {text!r}:\n{''.join(lines)}")


@pytest.mark.gui
def test_review_quits_cleanly_on_sigterm(deskscribe_home):
    proc = _start(["review"], deskscribe_home)
    try:
        _read_until(proc, "review window shown")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        _stop(proc)


@pytest.mark.gui
def test_tray_without_a_system_tray_opens_the_review_window(deskscribe_home):
    from deskscribe.app.first_run import marker_path

    marker_path().parent.mkdir(parents=True, exist_ok=True)
    marker_path().write_text("{}")  # not a first start (tests/app/test_first_run*.py drive that dialog)
    proc = _start(["tray", "--no-capture", "--tray-wait", "0"], deskscribe_home)
    try:
        lines = _read_until(proc, "review window shown")
        assert any(line.startswith("deskscribe: no system tray is available") for line in lines)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        _stop(proc)
    assert "no system tray available" in (deskscribe_home / "logs" / "tray.log").read_text()
