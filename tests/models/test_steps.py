"""Steps from evidence (models.steps / models.evidence) and the check against what happened (models.check)."""

from __future__ import annotations

import pytest

from deskscribe.models import check, evidence, steps
from deskscribe.models.facts import FrameView
from deskscribe.storage import events as ev
from deskscribe.storage.actions import ActionRecord, pair_actions
from deskscribe.storage.boxes import TextBox


def _frame(i: int, ocr: str, app: str = "XTerm", title: str | None = "root@box: ~", events=(), boxes=()):
    """A captioned frame and the event rows stored with it (as storage returns them)."""
    view = FrameView(i, float(i), app, title, f"h{i}", caption=ocr.replace("\n", ", "), ocr_text=ocr,
                     boxes=[TextBox(*b) for b in boxes])
    rows = [{"kind": k, "details": d, "ts": i - 0.5, "frame_id": i} for k, d in events]
    return view, rows


def _actions(session, events_on: str = "after") -> list[evidence.Action]:
    """The session through the one pairing (storage/actions.py), as describe runs it."""
    frames = [view for view, _rows in session]
    rows = [{**row, "id": 100 + n} for n, row in enumerate(r for _view, rows in session for r in rows)]
    refs = [{"id": f.id, "ts": f.ts, "monitor": 0, "app": f.app} for f in frames]
    return evidence.actions(pair_actions(refs, rows, events_on), frames, events_on)


def _steps(session, events_on: str = "after", read_screen: bool = True) -> list[steps.Step]:
    return steps.episode_steps(_actions(session, events_on), [v for v, _r in session], read_screen)


def _texts(session, events_on: str = "after", read_screen: bool = True) -> list[str]:
    return [s.text for s in _steps(session, events_on, read_screen)]


def _issue_session():
    """Frames as live capture links them: each frame carries the input that came just before it."""
    return [
        _frame(0, "root@box:~#"),
        _frame(1, "root@box:~# mkdir -p demo && cd demo\nroot@box:~/demo#",
               events=[("keys", {"count": 25}), ("keys", {"count": 1, "special": {"enter": 1}})]),
        _frame(2, "root@box:~/demo# echo 'quarterly report draft' > notes.txt\nroot@box:~/demo# ls -la",
               events=[("keys", {"count": 46, "special": {"enter": 1}}), ("keys", {"count": 6})]),
        _frame(3, "root@box:~/demo# ls -la\ntotal 12\n-rw-r--r-- 1 root root 23 notes.txt\nroot@box:~/demo#",
               events=[("keys", {"count": 1, "special": {"enter": 1}})]),
        _frame(4, "root@box:~/demo#", events=[("shortcut", {"keys": "ctrl+l"})]),
        _frame(5, "Untitled 1\nFile Edit Search", "Mousepad", "Untitled 1 - Mousepad",
               [("app_switch", {"from": "XTerm", "to": "Mousepad", "title": "Untitled 1 - Mousepad"})]),
        _frame(6, "*Untitled 1\nFile Edit Search\nBudget review moved to Friday 10am", "Mousepad",
               "*Untitled 1 - Mousepad", [("keys", {"count": 34})]),
        _frame(7, "Save As\nName: meeting.txt", "Mousepad", "Save As", [("shortcut", {"keys": "ctrl+s"})]),
        _frame(8, "meeting.txt\nFile Edit Search\nBudget review moved to Friday 10am", "Mousepad",
               "meeting.txt - Mousepad", [("keys", {"count": 12, "special": {"enter": 1}})],
               boxes=[("File", 10, 30, 30, 14), ("Edit", 50, 30, 30, 14), ("Search", 90, 30, 50, 14)]),
        _frame(9, "meeting.txt\nFile Edit Search\nNew\nOpen...\nSave", "Mousepad", "meeting.txt - Mousepad",
               [("click", {"x": 20, "y": 36, "button": "left"})],
               boxes=[("File", 10, 30, 30, 14), ("Edit", 50, 30, 30, 14), ("Search", 90, 30, 50, 14),
                      ("New", 14, 60, 30, 14), ("Open...", 14, 82, 50, 14), ("Save", 14, 104, 30, 14)]),
    ]


def test_each_action_is_written_from_what_it_left_on_screen():
    got = _texts(_issue_session())
    assert got == [
        "Ran `mkdir -p demo && cd demo` in the terminal",
        "Ran `echo 'quarterly report draft' > notes.txt` in the terminal",
        "Ran `ls -la` in the terminal, which printed 'total 12' and '-rw-r--r-- 1 root root 23 notes.txt'",
        "Pressed Ctrl+L (clear the screen) in the terminal",
        "Switched to Mousepad ('Untitled 1 - Mousepad')",
        "Typed 'Budget review moved to Friday 10am' in Mousepad",
        "Pressed Ctrl+S (save) in Mousepad, which opened 'Save As'",
        "Saved meeting.txt from the 'Save As' dialog in Mousepad",
        "Clicked 'File' in Mousepad, which opened the 'File' menu",
    ]
    assert not any(steps.is_degenerate(s) for s in got)


def test_a_click_names_its_element_and_imported_events_sit_on_the_before_frame():
    element = {"role": "menu", "name": "File", "box": [10, 30, 30, 14]}
    frames = [_frame(0, "File Edit", "Mousepad", "notes.txt - Mousepad",
                     [("click", {"x": 20, "y": 36, "button": "left", "element": element})]),
              _frame(1, "File Edit\nNew\nOpen", "Mousepad", "notes.txt - Mousepad")]
    assert _texts(frames, "before") == ["Clicked the 'File' menu in Mousepad"]  # what appeared is not quoted


def test_a_step_without_evidence_says_what_is_known():
    frames = [_frame(0, "", None, None), _frame(1, "", None, None, [("keys", {"count": 5}),
                                                                     ("click", {"button": "left"})])]
    got = _texts(frames)
    assert got == ["Typed 5 characters", "Clicked on the screen"]
    assert steps.is_degenerate("Pressed ") and steps.is_degenerate("Typed ''") and steps.is_degenerate("Clicked")
    assert steps.is_degenerate("Pressed Enter") and not steps.is_degenerate("Pressed Enter in the terminal")


def test_opt_in_typed_text_is_used_when_it_exists():
    frames = [_frame(0, "root@box:~#", events=[("keys", {"count": 2}), ("text", {"text": "rm old.txt"}),
                                                ("keys", {"count": 1, "special": {"Return": 1}})]),
              _frame(1, "root@box:~#")]
    got = _steps(frames, "before")
    assert [s.text for s in got] == ["Ran `rm old.txt` in the terminal"]
    assert got[0].evidence == {"enter": True, "typed": "rm old.txt", "text_source": "keys"}


def _at(frame, x, y):
    item = evidence.item_at(frame, x, y)
    return item.text if item else None


def test_line_under_the_click_point_and_file_names():
    frame, _rows = _frame(0, "", boxes=[("File", 10, 30, 30, 14), ("Edit", 50, 30, 30, 14)])
    assert _at(frame, 55, 35) == "Edit" and _at(frame, 300, 300) is None
    assert evidence.file_names("*meeting.txt - Mousepad", "1.5 and notes.md") == ["meeting.txt", "notes.md"]
    assert evidence.command_lines(["user@host:~/demo$ ls -la", "total 12", "$ "]) == ["ls -la"]


def test_a_click_in_a_row_of_buttons_names_the_button_not_the_row():
    """xcalc's buttons read as one line, their borders as '|' or '[' (a live day's steps quoted the row)."""
    row = ("not |land|| or || xor |ffrunc", 0, 100, 300, 20)
    frame, _rows = _frame(0, "", app="XCalc", boxes=[row, ("EE [log [Lin [vax", 0, 130, 200, 20),
                                                     ("[Invite Dana and Luis", 0, 160, 300, 20)])
    assert _at(frame, 5, 110) == "not" and _at(frame, 150, 110) == "or"
    assert _at(frame, 295, 110) == "ffrunc" and _at(frame, 60, 140) == "log"
    assert _at(frame, 150, 170) == "[Invite Dana and Luis"  # one border is not a row of buttons
    record = ActionRecord(1, "click", 0.0, ev.Click(150, 110, "left"), 0, 0, 0)
    action = evidence.Action(record, before=frame, after=frame, app="XCalc")
    assert steps.click_step(action, evidence.change(frame, frame)) == "Clicked 'or' in XCalc"


@pytest.mark.parametrize("text,absent", [
    ("Saved meeting.txt in Mousepad with 'Budget review moved to Friday 10am'.", []),
    ("Ran ls -la in the terminal.", []),
    ("Searched for the budget in Lisbon and opened report.pdf.", ["file 'report.pdf'", "name 'Lisbon'"]),
    ("Added 20,000 euros in xcalc.", ["number '20,000'", "app 'xcalc'"]),
    ("Wrote 'Invite Dana' in Mousepad.", ["quoted 'Invite Dana'"]),
])
def test_a_description_may_name_only_what_the_evidence_holds(text, absent):
    session = _issue_session()
    corpus = check.corpus([v for v, _r in session], _texts(session))
    assert sorted(check.absent(text, corpus, ["Terminal", "Mousepad"])) == sorted(absent)


def test_words_copied_from_the_worked_example_are_caught():
    from deskscribe.models import prompt

    record = "Steps:\n- Switched to XCalc ('Calculator')\n- Typed 6 characters in XCalc"
    assert check.borrowed("Played the calculator full screen.", prompt.EXAMPLES_TEXT, record) == ["played", "full",
                                                                                                  "screen"]
    assert check.borrowed("Typed six characters in XCalc.", prompt.EXAMPLES_TEXT, record) == []


def test_an_answer_made_of_screen_text_is_not_about_the_steps():
    basis = "Typed 'Shoppinglist' and pressed Enter in Mousepad Saved shopping.txt Mousepad"
    junk = "FileEdit, Search View Document Help, Warning: you are using the root account, Shoppinglist."
    assert check.grounding(junk, basis) < 0.5
    assert check.grounding("Wrote a shopping list in Mousepad and saved it as shopping.txt.", basis) >= 0.5


def test_a_save_dialog_that_closes_after_the_after_frame_still_saved():
    frames = [_frame(0, "Save As\nName:", "Mousepad", "Save As"),
              _frame(1, "Save As\nName:\nshopping.txt", "Mousepad", "Save As",
                     events=[("keys", {"count": 13, "special": {"enter": 1}, "ended_by": "enter"})]),
              _frame(2, "shopping.txt\nFile Edit", "Mousepad", "shopping.txt - Mousepad")]
    assert _texts(frames) == ["Saved shopping.txt from the 'Save As' dialog in Mousepad"]


def test_a_clock_or_a_bare_prompt_that_appeared_is_not_typed_text():
    frames = [
        _frame(0, "Untitled 1\nFile Edit Search\n07:48", "Mousepad", "Untitled 1 - Mousepad"),
        _frame(1, "Untitled 1\nFile Edit Search\nroot@ec16ab750329:~\n07:49\nGroceries for Sunday", "Mousepad",
               "*Untitled 1 - Mousepad", [("keys", {"count": 20})]),
    ]
    assert _texts(frames) == ["Typed 'Groceries for Sunday' in Mousepad"]


@pytest.mark.parametrize(("prompt", "line", "command"), [
    # live Xvfb: RapidOCR read 'root@vm:/work/main#' as 'root@vm/work/main#'
    ("root@vm/work/main#", "root@vm/work/main#mkdir -p trip && cd trip", "mkdir -p trip && cd trip"),
    # live Xvfb: the hybrid OCR read 'root@vm:~# mv …' as 'root@vm: ~# mv …'
    ("root@vm: ~#", "root@vm: ~# mv backup.txt archive/", "mv backup.txt archive/"),
])
def test_a_command_is_found_when_ocr_misreads_the_prompt(prompt, line, command):
    frames = [
        _frame(0, prompt),
        _frame(1, f"{line}\n{prompt}",
               events=[("keys", {"count": len(command), "special": {"enter": 1}, "ended_by": "enter"})]),
    ]
    assert _texts(frames) == [f"Ran `{command}` in the terminal"]


def test_typing_ended_by_a_shortcut_is_read_before_the_shortcut_took_effect():
    """A burst ended by Ctrl+S ends on the shortcut's before frame (capture links it so since migration 010):
    the typed line is read there, not on the Save As dialog the shortcut opened."""
    frames = [
        _frame(0, "*Untitled 1\nShopping list", "Mousepad", "*Untitled 1 - Mousepad"),
        _frame(1, "*Untitled 1\nShopping list\n|apples, bread and milk", "Mousepad", "*Untitled 1 - Mousepad"),
        _frame(2, "Save As\nName:\nHome\nDesktop", "Mousepad", "Save As"),
    ]
    frames[0][1].append({"kind": "keys", "details": {"count": 22, "ended_by": "action"}, "ts": 0.2, "frame_id": 0,
                         "before_frame_id": 0, "after_frame_id": 1})
    frames[1][1].append({"kind": "shortcut", "details": {"keys": "ctrl+s"}, "ts": 1.1, "frame_id": 1,
                         "before_frame_id": 1, "after_frame_id": 2})
    got = _steps(frames)
    assert [s.text for s in got] == [
        "Typed 'apples, bread and milk' in Mousepad",
        "Pressed Ctrl+S (save) in Mousepad, which opened 'Save As'",
    ]
    assert got[0].evidence == {"enter": False, "typed": "apples, bread and milk", "text_source": "screen"}
    assert [s.event_id for s in got] == [100, 101]


def test_typed_text_is_read_from_the_screen_unless_turned_off_or_after_a_password_field():
    typing = [("keys", {"count": 22, "ended_by": "pause"})]
    session = [_frame(0, "Untitled 1", "Mousepad", "Untitled 1 - Mousepad"),
               _frame(1, "Untitled 1\nGroceries for Sunday", "Mousepad", "*Untitled 1 - Mousepad", typing)]
    assert _steps(session)[0].evidence["typed"] == "Groceries for Sunday"
    off = _steps(session, read_screen=False)[0]
    assert off.text == "Typed 22 characters in Mousepad" and "typed" not in off.evidence
    field = {"role": "password text", "name": "", "box": [0, 0, 10, 10]}
    login = [_frame(0, "Log in\nPassword", "Mousepad", "Log in"),
             _frame(1, "Log in\nPassword", "Mousepad", "Log in", [("click", {"x": 5, "y": 5, "element": field})]),
             _frame(2, "Log in\nPassword\nhunter2hunter2", "Mousepad", "Log in", [("keys", {"count": 14})])]
    secret = _steps(login)[-1]
    assert secret.text == "Typed 14 characters in Mousepad" and "typed" not in secret.evidence
    assert "hunter2" not in " ".join(s.text for s in _steps(login))


def test_every_action_gets_a_step_keyed_by_its_event_even_when_the_text_repeats():
    clicks = [("click", {"x": 20, "y": 36, "button": "left"})]
    bar = [("File", 10, 30, 30, 14)]
    session = [_frame(0, "File", "Mousepad", "a - Mousepad", boxes=bar),
               _frame(1, "File", "Mousepad", "a - Mousepad", clicks, bar),
               _frame(2, "File", "Mousepad", "a - Mousepad", clicks, bar)]
    got = _steps(session)
    assert [s.text for s in got] == ["Clicked 'File' in Mousepad"] * 2
    assert [s.event_id for s in got] == [100, 101] and got[0].evidence == {"target": "File"}


def test_a_command_whose_l_ocr_misread_is_the_program_that_exists() -> None:
    assert evidence.command_lines(["root@box:~/work# 1s -la", "root@box:~/work# Is", "$ 1sblk-nope"]) == [
        "ls -la", "ls", "1sblk-nope"]
    assert evidence.command_lines(["rootbox:*/uork# 1s -lall"]) == ["ls -lall"]  # OCR lost the prompt's '@'
    # xterm's 6×13 '#' read as '@' at the prompt's end; an '@' inside a command is no prompt
    assert evidence.command_lines(['root@vm:"@ mkdir -p logs', "ssh dana@desk ls"]) == ["mkdir -p logs"]
    # the block caret after the last letter, read as '|' or ']' (a held-out session, 12-05)
    assert evidence.command_lines(["root@vm:~/trip# cp pack.txt pack.bak|", "root@vm:~/trip# 1s]"]) == [
        "cp pack.txt pack.bak", "ls"]
    assert evidence.command_lines(["rootevm:~# If", "root@vm:~# ff"]) == []  # the caret at an empty prompt
    # xterm's default font: 'c' read as 'o', a file name's '.' as ','; a word with two ways back stays as read
    assert evidence.command_lines(["root@vm:~/demo# wo -w notes,txt", "$ cp notes,txt a,b"]) == [
        "wc -w notes.txt", "cp notes.txt a,b"]


def test_what_a_command_printed_ends_at_the_next_prompt_even_garbled() -> None:
    frame, _rows = _frame(0, "root@vm:~/demo# cat notes.txt\nquarterly report draft\nroot@um:*/denot lf")
    assert evidence.printed(frame, "cat notes.txt") == ["quarterly report draft"]
    frame, _rows = _frame(0, "$ ls\na.txt b.txt\nc.txt\nd.txt")
    assert evidence.printed(frame, "ls") == ["a.txt b.txt", "c.txt"]  # at most two lines


def test_typed_text_is_read_once_the_caret_has_left_its_line() -> None:
    """The after frame is taken the moment Enter ends the burst; the caret still touches the last letter."""
    enter = [("keys", {"count": 7, "special": {"enter": 1}, "ended_by": "enter"})]
    session = [_frame(0, "root@box:~#"),
               _frame(1, "root@box:~# ls -lall", events=enter),
               _frame(2, "root@box:~# ls -la\ntotal 12\nroot@box:~#"),
               _frame(3, "root@box:~# ls -la\ntotal 12\nroot@box:~# ps")]
    (step,) = _steps(session)
    assert step.text == "Ran `ls -la` in the terminal" and step.evidence["typed"] == "ls -la"


def _line(text: str, y: int, words: list[tuple[str, int, int]], h: int = 14) -> TextBox:
    """A line as the hybrid engine returns it: each word with its own box (text, x, width)."""
    from deskscribe.storage.boxes import Word

    ws = tuple(Word(t, x, y, w, h) for t, x, w in words)
    return TextBox(text, ws[0].x, y, ws[-1].x + ws[-1].w - ws[0].x, h, 0.9, ws)


def test_a_click_names_the_item_under_it_not_the_row_by_the_gaps_between_words():
    """Gaps measured on GTK menus (1.0-1.6 letter heights between items, 0.4-0.8 between words of one)."""
    bar = _line("File Edit Search View Document Help", 30, [("File", 8, 22), ("Edit", 44, 26), ("Search", 84, 44),
                                                           ("View", 142, 32), ("Document", 188, 64), ("Help", 266, 30)])
    menu = _line("Save As", 80, [("Save", 20, 30), ("As", 56, 16)])
    recent = _line("Open Recent…", 110, [("Open", 20, 32), ("Recent…", 58, 50)])
    frame = FrameView(0, 0.0, "Mousepad", None, "h0", boxes=[bar, menu, recent], size=(1024, 768))
    assert [i.text for i in evidence.items(bar)] == ["File", "Edit", "Search", "View", "Document", "Help"]
    assert _at(frame, 100, 36) == "Search" and _at(frame, 62, 86) == "Save As" and _at(frame, 30, 116) == "Open Recent…"
    assert _at(frame, 160, 86) == "Save As"  # beside a menu entry on its row: that entry


def test_a_click_on_an_icon_names_its_label_or_its_place_never_its_noise():
    label = _line("Lxterminal", 575, [("Lxterminal", 20, 70)])
    noise = TextBox("Oo", 890, 60, 16, 16, 0.95)
    frame = FrameView(0, 0.0, None, None, "h0", boxes=[label, noise], size=(1024, 768))
    after = FrameView(1, 1.0, None, None, "h1", boxes=[label, noise, TextBox("New Tab", 100, 300, 80, 14, 0.4)],
                      size=(1024, 768))
    on_icon = evidence.Action(ActionRecord(1, "click", 0.0, ev.Click(55, 548, "left", count=2), 0, 0, 1), frame, after,
                              "Mousepad")
    assert steps.click_step(on_icon, evidence.change(frame, after)) == "Double-clicked 'Lxterminal' in Mousepad"
    icon = evidence.Action(ActionRecord(2, "click", 0.0, ev.Click(897, 69, "left"), 0, 0, 1), frame, after, "Firefox")
    assert steps.click_step(icon, evidence.change(frame, after)) == \
        "Clicked the icon at the top right of the screen in Firefox"  # 'Oo' is not quoted, nor 'New Tab'
    empty = evidence.Action(ActionRecord(3, "click", 0.0, ev.Click(500, 700, "left"), 0, 0, 1), frame, after, None)
    assert steps.click_step(empty, evidence.change(frame, after)) == "Clicked at the bottom of the screen"


def test_the_save_button_of_a_save_dialog_saves_the_file() -> None:
    session = [
        _frame(0, "Save As\nName: agenda.txt\nCancel Save", "Mousepad", "Save As",
               [("click", {"x": 610, "y": 606, "button": "left"})],
               boxes=[("Cancel", 500, 600, 50, 14), ("Save", 600, 600, 34, 14)]),
        _frame(1, "agenda.txt\nAgenda for Monday", "Mousepad", "agenda.txt - Mousepad"),
    ]
    assert _texts(session, "before") == [
        "Clicked 'Save' in Mousepad's 'Save As' dialog, which saved agenda.txt"]


def test_a_command_whose_prompt_ocr_garbled_is_read_from_a_later_frame() -> None:
    """The after frame is taken as Enter lands; the caret beside the prompt garbles it ('oot Gum: "/deno#')."""
    enter = [("keys", {"count": 25, "special": {"enter": 1}, "ended_by": "enter"})]
    session = [_frame(0, "root@vm:~/demo# cat notes.txt\nquarterly report draft\nroot@vm:~/demo#"),
               _frame(1, "root@vm:~/demo# cat notes.txt\nquarterly report draft\n"
                         "oot Gum: \"/deno# python3 -c 'print(12*7)'", events=enter),
               _frame(2, "root@vm:~/demo# cat notes.txt\nquarterly report draft\n"
                         "root@vm:~/demo# python3 -c 'print(12*7)'\n84\nroot@vm:~/demo#")]
    (step,) = _steps(session)
    assert step.text == "Ran `python3 -c 'print(12*7)'` in the terminal, which printed '84'", step.text
    assert step.evidence["typed"] == "python3 -c 'print(12*7)'" and step.evidence["printed"] == "84"
    assert _texts(session, read_screen=False) == ["Typed 24 characters and pressed Enter in the terminal"]
