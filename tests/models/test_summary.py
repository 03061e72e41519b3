"""The task sentence (models.summary, models.commands): one verb and its object, in done and request form, written
from real step lists — the frames and input of recorded sessions, through the one pairing and the step writer."""

from __future__ import annotations

import re

from deskscribe.models import commands, evidence, steps, summary
from deskscribe.models.facts import FrameView
from deskscribe.storage.actions import pair_actions
from deskscribe.storage.boxes import TextBox

PROMPT = "root@box:~#"


def _frame(i: int, ocr: str, app: str | None = "XTerm", title: str | None = "root@box: ~", events=(), boxes=()):
    """A captioned frame and the event rows stored with it (as storage returns them)."""
    view = FrameView(i, float(i), app, title, f"h{i}", caption=ocr.replace("\n", ", "), ocr_text=ocr,
                     boxes=[TextBox(*b) for b in boxes])
    return view, [{"kind": k, "details": d, "ts": i - 0.5, "frame_id": i} for k, d in events]


def _task(session, events_on: str = "after", apps=("Terminal",)) -> tuple[str, str, list[str]]:
    """(done, request, step texts) as describe writes them: pairing, evidence, steps, then the summary."""
    frames = [view for view, _rows in session]
    rows = [{**row, "id": 100 + n} for n, row in enumerate(r for _view, rows in session for r in rows)]
    refs = [{"id": f.id, "ts": f.ts, "monitor": 0, "app": f.app} for f in frames]
    acts = evidence.actions(pair_actions(refs, rows, events_on), frames, events_on)
    written = steps.episode_steps(acts, frames)
    did, request = summary.summarize(written, acts, list(apps))
    return did, request, [s.text for s in written]


def _run(i: int, screen: str, chars: int) -> tuple[FrameView, list]:
    return _frame(i, screen, events=[("keys", {"count": chars, "special": {"enter": 1}})])


def _mousepad_session():
    """The live issue session's editor part, as capture links it: two lines typed, Ctrl+S, a name, Enter."""
    return [
        _frame(0, "Untitled 1\nFile Edit Search", "Mousepad", "Untitled 1 - Mousepad"),
        _frame(1, "*Untitled 1\nFile Edit Search\nBudget review moved to Friday 10am", "Mousepad",
               "*Untitled 1 - Mousepad", [("keys", {"count": 34, "special": {"enter": 1}})]),
        _frame(2, "*Untitled 1\nFile Edit Search\nBudget review moved to Friday 10am\nInvite Dana and Luis",
               "Mousepad", "*Untitled 1 - Mousepad", [("keys", {"count": 20})]),
        _frame(3, "Save As\nName: Untitled 1", "Mousepad", "Save As", [("shortcut", {"keys": "ctrl+s"})]),
        _frame(4, "Save As\nName: meeting.txt", "Mousepad", "Save As", [("shortcut", {"keys": "ctrl+a"})]),
        _frame(5, "meeting.txt\nFile Edit Search\nBudget review moved to Friday 10am\nInvite Dana and Luis",
               "Mousepad", "/root/work/meeting.txt - Mousepad", [("keys", {"count": 11, "special": {"enter": 1}})]),
    ]


def _terminal_session():
    """The live issue session's terminal part: a folder made, a file written, listed, the screen cleared."""
    return [
        _frame(0, PROMPT),
        _run(1, f"{PROMPT} mkdir -p demo && cd demo\nroot@box:~/demo#", 25),
        _run(2, "root@box:~/demo# echo 'quarterly report draft' > notes.txt\nroot@box:~/demo#", 46),
        _run(3, "root@box:~/demo# ls -la\ntotal 12\n-rw-r--r-- 1 root root 23 notes.txt\nroot@box:~/demo#", 7),
        _frame(4, "root@box:~/demo#", events=[("shortcut", {"keys": "ctrl+l"})]),
    ]


def _one_main_verb(sentence: str) -> bool:
    """One clause: no second sentence, no list of steps glued with commas or 'and' + a past-tense verb."""
    return (sentence.count(".") == 1 + sentence.count(".txt") and "," not in sentence
            and not re.search(r"\band (?:\w+ed|ran|typed|pressed|clicked)\b", sentence, re.I))


def test_the_issue_sessions_task_is_one_verb_naming_the_saved_file():
    did, request, written = _task(_mousepad_session(), apps=["Mousepad"])
    assert written[-1] == "Saved meeting.txt from the 'Save As' dialog in Mousepad"  # the step keeps the detail
    assert did == "Saved meeting.txt in Mousepad after typing two lines."
    assert request == "Save meeting.txt in Mousepad with two lines typed."
    assert _one_main_verb(did) and _one_main_verb(request)


def test_the_whole_issue_session_as_one_episode_still_names_the_save_first():
    session = _terminal_session() + [(FrameView(v.id + 5, v.ts + 5, v.app, v.title, f"h{v.id + 5}", v.caption,
                                                v.ocr_text), [{**r, "ts": r["ts"] + 5, "frame_id": r["frame_id"] + 5}
                                                              for r in rows]) for v, rows in _mousepad_session()]
    did, request, written = _task(session, apps=["Terminal", "Mousepad"])
    assert len(written) >= 8 and written[0].startswith("Ran `mkdir -p demo")
    assert did == "Saved meeting.txt in Mousepad after typing two lines."
    assert request.startswith("Save meeting.txt in Mousepad")


def test_commands_that_made_something_are_the_task_of_a_terminal_episode():
    did, request, written = _task(_terminal_session())
    assert written[:3] == ["Ran `mkdir -p demo && cd demo` in the terminal",
                           "Ran `echo 'quarterly report draft' > notes.txt` in the terminal",
                           "Ran `ls -la` in the terminal, which printed 'total 12' and "
                           "'-rw-r--r-- 1 root root 23 notes.txt'"]
    assert did == "Created the folder demo and wrote notes.txt in the terminal."
    assert request == "Create the folder demo and write notes.txt in the terminal."


def test_a_file_deleted_after_cd_names_the_folder_it_was_in():
    session = [_frame(0, PROMPT), _run(1, f"{PROMPT} cd ~/Desktop\nroot@box:~/Desktop#", 12),
               _run(2, "root@box:~/Desktop# rm orange.jpeg\nroot@box:~/Desktop#", 15),
               _run(3, "root@box:~/Desktop# ls\nroot@box:~/Desktop#", 3)]
    did, request, _written = _task(session)
    assert (did, request) == ("Deleted orange.jpeg from the Desktop in the terminal.",
                              "Delete orange.jpeg from the Desktop in the terminal.")


def test_a_command_that_changes_nothing_is_the_task_when_nothing_else_happened():
    session = [_frame(0, PROMPT), _run(1, f"{PROMPT} cd demo\nroot@box:~/demo#", 8),
               _run(2, "root@box:~/demo# grep beta words.txt\nbeta\nroot@box:~/demo#", 21)]
    assert _task(session)[:2] == ("Ran `grep beta words.txt` in the terminal.",
                                  "Run `grep beta words.txt` in the terminal.")
    python = [_frame(0, PROMPT), _run(1, f"{PROMPT} python3\nPython 3.11.2\n>>>", 8)]
    assert _task(python)[:2] == ("Started the Python interpreter in the terminal.",
                                 "Start the Python interpreter in the terminal.")


def test_an_imported_screenshot_without_a_title_is_read_by_its_title_bar():
    """Imported screenshots (the dev set) have no window title: the title bar's OCR line names the saved file."""
    doc = "File Edit View Insert Format"
    save = ("Save", 500, 300, 60, 20)
    session = [_frame(0, f"6\nUntitled 1 — LibreOffice Writer\n{doc}", None, None,
                      [("shortcut", {"keys": "ctrl+s"})]),
               _frame(1, "Save\nName: |\nDesktop", None, None,
                      [("click", {"x": 520, "y": 310, "button": "left"})], [save]),
               _frame(2, f"6\nUntitled 1.odt — LibreOffice Writer\n{doc}", None, None)]
    did, request, _written = _task(session, "before", ["LibreOffice Writer"])
    assert (did, request) == ("Saved Untitled 1.odt in LibreOffice Writer.", "Save Untitled 1.odt in LibreOffice Writer.")


def test_text_entered_in_a_browser_is_a_search_on_the_site_the_title_names():
    session = [_frame(0, "New Tab\nSearch or enter address", "firefox", "New Tab — Mozilla Firefox"),
               _frame(1, "Yuan to Pound exchange rate\n1 CNY = 0.11 GBP", "firefox",
                      "Yuan to Pound exchange rate - Search - Bing — Mozilla Firefox",
                      [("keys", {"count": 27, "special": {"enter": 1}}), ("text", {"text": "Yuan to Pound exchange rate"})])]
    did, request, _written = _task(session, "after", ["Firefox"])
    assert did == "Searched Bing for 'Yuan to Pound exchange rate' in Firefox."
    assert request == "Search Bing for 'Yuan to Pound exchange rate' in Firefox."


def test_a_double_click_on_a_file_name_opens_it():
    icon = ("report.pdf", 40, 200, 80, 16)
    session = [_frame(0, "Home\nreport.pdf", "pcmanfm", "Home", [("click", {"x": 70, "y": 206, "button": "left",
                                                                           "count": 2})], [icon]),
               _frame(1, "report.pdf\nPage 1 of 3", "evince", "report.pdf — Document Viewer")]
    did, request, _written = _task(session, "before", ["File Manager"])
    assert did.startswith("Opened report.pdf") and request.startswith("Open report.pdf")


def test_a_menu_command_names_the_task_with_the_value_entered_in_its_dialog():
    item = ("Brightness-Contrast...", 300, 120, 160, 18)
    session = [_frame(0, "Colors\nBrightness-Contrast...", "gimp", "photo.xcf - GIMP",
                      [("click", {"x": 340, "y": 128, "button": "left"})], [item]),
               _frame(1, "Adjust Brightness and Contrast\nBrightness 0", "gimp", "photo.xcf - GIMP",
                      [("text", {"text": "70"}), ("keys", {"count": 2})]),
               _frame(2, "Adjust Brightness and Contrast\nBrightness 70", "gimp", "photo.xcf - GIMP")]
    did, request, _written = _task(session, "before", ["GIMP"])
    assert did == "Used 'Brightness-Contrast' in GIMP, entering '70'."
    assert request == "Use 'Brightness-Contrast' in GIMP, entering '70'."


def test_an_episode_without_input_says_what_was_looked_at():
    assert summary.summarize([], [], ["GIMP"]) == ("Looked at GIMP.", "Open GIMP.")


def test_shell_commands_are_read_as_a_shell_splits_them():
    got = [e.sentence() for e in commands.effects(["printf 'a\\nb\\n' > words.txt", "cat words.txt",
                                                   "cp words.txt backup.txt", "mkdir archive",
                                                   "mv backup.txt archive/", "rm -r archive", "mv a.txt b.txt",
                                                   "sudo apt-get install -y xeyes", "python3 -m pip install rich",
                                                   "echo ‘quarterly report. draft’ > notes.txt",
                                                   "cd ~/Desktop", "rm orange. jpeg"])]
    assert got == ["Wrote words.txt", "Copied words.txt to backup.txt", "Created the folder archive",
                   "Moved backup.txt to archive", "Deleted the folder archive", "Renamed a.txt to b.txt",
                   "Installed xeyes", "Installed rich with pip", "Wrote notes.txt",
                   "Deleted orange.jpeg from the Desktop"]  # OCR split the name after its dot
    assert commands.effects(["ls -la", "grep beta words.txt", "cat x > /dev/null"]) == []
    assert commands.effects(["mkdir ~/Desktop/NewFolder"])[0].sentence(request=True) == \
        "Create the folder NewFolder on the Desktop"
