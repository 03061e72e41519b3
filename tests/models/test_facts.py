"""Deterministic episode facts: app names, what clicks opened, typed text and shortcuts as steps."""

from __future__ import annotations

from deskscribe.models import facts
from deskscribe.models.facts import FrameView


def _frame(i: int, ocr: str = "", events=(), app=None, title=None) -> FrameView:
    return FrameView(i, float(i), app, title, f"h{i}", caption=ocr.replace("\n", ", "), ocr_text=ocr,
                     events=[{"kind": k, "details": d} for k, d in events])


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


def test_new_lines_are_what_a_click_opened():
    before = _frame(0, "File Edit Colors\nCanvas")
    after = _frame(1, "File Edit Colors\nCanvas\nBrightness-Contrast...\nLevels...\nx\nCurves...\nInvert")
    assert facts.new_lines(before, after) == ["Brightness-Contrast", "Levels"]
    assert facts.new_lines(before, after, limit=3) == ["Brightness-Contrast", "Levels", "Curves"]
    spaced = _frame(2, "FileEditColors\nTaskManager")  # OCR joins words differently in each frame
    assert facts.new_lines(before, spaced) == ["Task Manager"]


def test_terminal_and_app_titles_found_anywhere_on_screen():
    assert facts.app_from_title("root@ec16ab750329:~") == "Terminal"
    assert facts.app_from_text("Trash\nHome\nNew Tab - Mozilla Firefox\nSearch") == "Mozilla Firefox"
    assert facts.app_from_text("Trash\nHome - My Folder") is None


def test_typed_text_shortcuts_and_enter_become_steps():
    frames = [
        _frame(0, "Terminal\n$", [("click", {"button": "left"})], app="xterm"),
        _frame(1, "Terminal\n$ ls Documents", [("keys", {"count": 2}), ("text", {"text": "rm old.txt"}),
                                       ("keys", {"count": 1, "special": ["Return"]}),
                                       ("shortcut", {"combo": "ctrl+s"})], app="xterm"),
        _frame(2, "Editor", [("keys", {"count": 2}), ("text", {"text": "=SUM(A1:A3)"})], app="gedit"),
    ]
    got = facts.extract(frames)
    assert got.apps == ["Terminal", "Text Editor"]
    assert got.typed == ["rm old.txt", "=SUM(A1:A3)"]
    assert got.shortcuts == ["Ctrl+S (save)"]
    assert got.clicks == 1 and got.keys == 5
    assert got.steps == [
        "Clicked, which opened '$ ls Documents'",
        "Ran the command 'rm old.txt' to delete",
        "Pressed Ctrl+S (save)",
        "Switched to Text Editor",
        "Entered the formula '=SUM(A1:A3)' to calculate a result",
    ]
    assert facts.main_apps(got) == ["Terminal", "Text Editor"]


def test_select_all_then_typing_is_a_changed_value():
    frames = [_frame(0, "Size", [("shortcut", {"combo": "ctrl+a"}), ("keys", {"count": 2}),
                                 ("text", {"text": "70"}), ("click", {"button": "left"})])]
    assert facts.extract(frames).steps == ["Changed the value to '70'", "Clicked"]


def test_unparsed_double_click_and_repeats():
    frames = [
        _frame(0, "Desktop", [("other", {"action": "mouse double_click left"})]),
        _frame(1, "Desktop\nUntitled 1 - LibreOffice Writer", [("click", {"button": "right"})]),
        _frame(2, "Desktop\nUntitled 1 - LibreOffice Writer", [("click", {"button": "right"})]),
    ]
    got = facts.extract(frames)
    assert got.steps[0] == "Double-clicked, which opened 'Untitled 1 - LibreOffice Writer'"
    assert got.steps[1:] == ["Switched to LibreOffice Writer", "Right-clicked"]  # identical steps merged
    assert got.opened == ["Untitled 1 - LibreOffice Writer"]


def test_episode_without_input_lists_the_windows_looked_at():
    from deskscribe.models.facts import FrameView, extract

    frames = [FrameView(i, float(i), "xterm", title, f"h{i}") for i, title in
              enumerate(["build log", "build log", "notes.txt — vim"])]
    assert extract(frames).steps == ["Looked at 'build log' in Terminal", "Looked at 'notes.txt — vim' in Terminal"]
