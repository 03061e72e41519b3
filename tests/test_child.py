"""One child-command builder for the tray, the idle runner and the autostart entry (plain install or bundle)."""

from __future__ import annotations

import sys

from deskscribe.child import deskscribe_command, tray_command


def test_from_a_python_install_children_are_python_dash_m(monkeypatch):
    monkeypatch.setattr(sys, "frozen", False, raising=False)
    assert deskscribe_command("describe", "--progress", "json") == [sys.executable, "-m", "deskscribe", "describe",
                                                                     "--progress", "json"]


def test_in_a_bundle_the_console_program_runs_commands_and_the_tray_program_starts_the_tray(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "deskscribe-tray"))
    (tmp_path / "deskscribe-tray").write_text("")
    assert deskscribe_command("export", "jsonl", "out") == [str(tmp_path / "deskscribe"), "export", "jsonl", "out"]
    assert tray_command() == [str(tmp_path / "deskscribe-tray")]
