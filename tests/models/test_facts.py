"""Deterministic episode facts: app names and window titles (steps: tests/models/test_steps.py)."""

from __future__ import annotations

from deskscribe.models import facts
from deskscribe.models.facts import FrameView


def _frame(i: int, ocr: str = "", app=None, title=None) -> FrameView:
    return FrameView(i, float(i), app, title, f"h{i}", caption=ocr.replace("\n", ", "), ocr_text=ocr)


def test_app_names_from_wm_class_and_titles():
    assert facts.app_name("gimp-2.10") == "GIMP"
    assert facts.app_name("firefox-esr") == "Firefox"
    assert facts.app_name("SomeTool") == "SomeTool"
    assert facts.app_from_title("photo.xcf - GIMP") == "GIMP"
    assert facts.app_from_title("(imported)-1.0(RGB color,1layer)800x800-GIMP") == "GIMP"
    assert facts.app_from_title("Untitled1-LibreOfficeCalc") == "LibreOffice Calc"
    assert facts.app_from_title("Untitled 1 — LibreOffice Writer") == "LibreOffice Writer"
    assert facts.app_from_title("just some text") is None
    assert facts.app_from_title("Mozilla Firefox") == "Mozilla Firefox"  # a title that is only the app
    assert facts.app_from_title("TaskManager") == "Task Manager"
    assert facts.app_from_title(None) is None


def test_terminal_and_app_titles_found_anywhere_on_screen():
    assert facts.app_from_title("root@ec16ab750329:~") == "Terminal"
    assert facts.app_from_text("Trash\nHome\nNew Tab - Mozilla Firefox\nSearch") == "Mozilla Firefox"
    assert facts.app_from_text("Trash\nHome - My Folder") is None
    # desktop icons' labels name apps, but no window: the LXDE desktop of the dev set
    assert facts.app_from_text("Firefox W...\nMousepad\nLibreOffic...\n06:45 i") is None
    assert facts.app_from_text("Mousepad\nUntitled 1 - Mousepad") == "Mousepad"


def test_apps_and_titles_in_order_of_first_appearance():
    frames = [_frame(0, "Terminal\n$", app="xterm", title="root@box: ~"),
              _frame(1, "Terminal\n$ ls", app="xterm", title="root@box: ~"),
              _frame(2, "Editor", app="gedit", title="notes.txt - gedit"),
              _frame(3, "Editor", app="gedit", title="notes.txt - gedit")]
    got = facts.extract(frames)
    assert got.apps == ["Terminal", "Text Editor"] and got.titles == ["root@box: ~", "notes.txt - gedit"]
    assert got.app_frames == {"Terminal": 2, "Text Editor": 2}
    assert facts.main_apps(got) == ["Terminal", "Text Editor"]


def test_episode_without_input_lists_the_windows_looked_at():
    frames = [FrameView(i, float(i), "xterm", title, f"h{i}") for i, title in
              enumerate(["build log", "build log", "notes.txt — vim"])]
    assert facts.looked_at_steps(frames) == ["Looked at 'build log' in Terminal",
                                             "Looked at 'notes.txt — vim' in Terminal"]
