"""Scripted desktop sessions with the facts each establishes, for the live describe benchmark.

Each session drives real apps on Xvfb with xdotool while `deskscribe capture` records with its defaults
(typed text NOT stored). ``facts`` are what a person watching would say happened; the benchmark looks for each
in the session's descriptions (whitespace- and case-insensitive). ``tuned_on`` says whether the describe code
was developed against this session (the issue's session was, as a synthetic replay); the others were written
after the code and never tuned on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Script = Callable[[Any], None]  # receives the benchmark's Desktop driver


@dataclass
class Session:
    name: str
    script: Script
    facts: list[str]
    tuned_on: bool = False
    apps: list[str] = field(default_factory=list)


def issue_session(d: Any) -> None:
    """The session in issue 10: a terminal, an editor with a save, a calculator."""
    term = d.xterm("bench terminal")
    d.type_line(term, "mkdir -p demo && cd demo")
    d.type_line(term, "echo 'quarterly report draft' > notes.txt")
    d.type_line(term, "ls -la")
    d.key(term, "ctrl+l")
    pad = d.mousepad()
    d.type(pad, "Budget review moved to Friday 10am")
    d.key(pad, "Return")
    d.type(pad, "Invite Dana and Luis")
    d.save_as(pad, "meeting.txt")
    calc = d.xcalc()
    d.type(calc, "12+30=")


def files_session(d: Any) -> None:
    """Making a small file tree in a terminal: write, copy, search, count, archive, delete."""
    term = d.xterm("bench files")
    d.type_line(term, "printf 'alpha\\nbeta\\ngamma\\n' > words.txt")
    d.type_line(term, "cat words.txt")
    d.type_line(term, "cp words.txt backup.txt")
    d.type_line(term, "grep beta words.txt")
    d.type_line(term, "wc -l backup.txt")
    d.type_line(term, "mkdir archive")
    d.type_line(term, "mv backup.txt archive/")
    d.type_line(term, "ls archive")
    d.type_line(term, "rm -r archive")
    d.type_line(term, "ls")


def editor_session(d: Any) -> None:
    """Writing a short list in the editor, saving it, then finding a word in it."""
    pad = d.mousepad()
    d.type(pad, "Shopping list")
    d.key(pad, "Return")
    d.type(pad, "apples, bread and milk")
    d.save_as(pad, "shopping.txt")
    d.key(pad, "ctrl+f")
    d.type(pad, "bread")
    d.key(pad, "Escape")


SESSIONS = [
    Session("issue", issue_session, ["mkdir -p demo", "notes.txt", "ls -la", "quarterly report draft",
                                     "Budget review moved to Friday 10am", "Invite Dana and Luis", "meeting.txt",
                                     "saved", "terminal", "mousepad", "xcalc"], tuned_on=True),
    Session("files", files_session, ["words.txt", "cat words.txt", "cp words.txt backup.txt", "grep beta", "wc -l",
                                     "mkdir archive", "mv backup.txt archive", "rm -r archive", "terminal"]),
    Session("editor", editor_session, ["Shopping list", "apples, bread and milk", "shopping.txt", "saved",
                                       "bread", "mousepad"]),
]
