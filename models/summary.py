"""The task sentence written from the steps: one verb and its object with the few parameters that matter, in
done form ("Saved meeting.txt in Mousepad after typing two lines") and request form ("Save meeting.txt in
Mousepad with two lines typed"). The steps carry the detail.

It reads each step's evidence (what was clicked, what was typed and whether Enter ran it, what opened) and its
action (the event, the app, the window titles before and after), never the step's sentence. What the person
achieved outranks how: a save; commands that made, changed or removed something; a search typed and entered;
a file opened; a command chosen from a menu (with what was entered in its dialog); then the main thing typed or
run; else the app that was opened or used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deskscribe.models import commands as cmdlib
from deskscribe.models.evidence import FILE_NAME, Action
from deskscribe.models.facts import FrameView, ocr_title
from deskscribe.models.steps import Step, place, quote
from deskscribe.storage import events as ev

NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
BROWSERS = {"Firefox", "Mozilla Firefox", "Chromium", "Google Chrome", "Chrome", "Epiphany", "Web", "Opera"}
SEARCH_SITES = ("Bing", "Google", "DuckDuckGo", "Baidu", "Yahoo", "Wikipedia", "YouTube", "Amazon")
# Commands that change nothing worth a task ("ls"), next to those that are the task when nothing else is.
QUIET_COMMANDS = {"cd", "ls", "ll", "pwd", "clear", "exit", "history", "whoami", "echo"}
# Menu commands that name their own action: "Adjust Brightness…" → "Adjusted brightness".
PAST = {"add": "added", "adjust": "adjusted", "apply": "applied", "change": "changed", "create": "created",
        "crop": "cropped", "delete": "deleted", "edit": "edited", "export": "exported", "find": "found",
        "format": "formatted", "import": "imported", "insert": "inserted", "install": "installed",
        "merge": "merged", "new": "", "open": "opened", "print": "printed", "remove": "removed",
        "rename": "renamed", "replace": "replaced", "resize": "resized", "rotate": "rotated", "scale": "scaled",
        "set": "set", "sort": "sorted", "flip": "flipped", "save": "saved", "select": "selected"}
_OK = re.compile(r"^(?:ok|apply|close|insert|done|save)$", re.I)


@dataclass
class Done:
    """One step as the summary reads it: its evidence and its action (None: a step with no action)."""

    evidence: dict[str, Any]
    action: Action | None

    @property
    def event(self) -> ev.Event | None:
        return self.action.event if self.action is not None else None

    @property
    def app(self) -> str | None:
        return self.action.app if self.action is not None else None

    @property
    def typed(self) -> str:
        return " ".join(str(self.evidence.get("typed") or "").split("\n")[0].split())

    @property
    def target(self) -> str:
        return clean(str(self.evidence.get("target") or ""))

    def title(self, after: bool) -> str:
        if self.action is None:
            return ""
        frame = self.action.after if after else self.action.before
        title = window_title(frame) if frame is not None else None
        if after and self.action.next_title and (not title or title == self.title(False)):
            title = self.action.next_title  # a dialog still closing when the after frame was taken
        return title or ""


@dataclass(frozen=True)
class Sentence:
    """The task: what was done, where, and what goes with it — in both forms."""

    did: str
    do: str
    app: str | None = None
    tail: tuple[str, str] = ("", "")  # (done form, request form): " after typing two lines"

    def forms(self) -> tuple[str, str]:
        where = f" in {place(self.app)}" if self.app else ""
        return f"{self.did}{where}{self.tail[0]}.", f"{self.do}{where}{self.tail[1]}."


def clean(text: str) -> str:
    """A target without the OCR marks around it ("© Brightness-Contrast..." → "Brightness-Contrast...")."""
    return re.sub(r"^[^\w'\"(]+|[\s|{}\[\]]+$", "", " ".join(text.split()))


def summarize(steps: list[Step], actions: list[Action], apps: list[str]) -> tuple[str, str]:
    """The task in two forms (done, request) from the steps' evidence and their actions; ``apps``: the episode's
    main apps, for an episode without input ("Looked at GIMP.")."""
    by_id = {i: a for a in actions for i in a.record.event_ids}
    done = [Done(s.evidence, by_id.get(s.event_id) if s.event_id is not None else None) for s in steps]
    rules: list[Callable[[list[Done]], Sentence | None]] = [
        saved, changed_by_commands, searched, opened_file, menu_command, main_typed, app_used]
    for rule in rules:
        found = rule(done)
        if found is not None:
            return found.forms()
    where = " and ".join(apps) if apps else "the computer"
    return f"Looked at {where}.", f"Open {where}."


def window_title(frame: FrameView) -> str | None:
    """The window's title; on an imported screenshot the title bar's OCR line ("notes.odt — LibreOffice Writer",
    one of the first lines), else the first line."""
    if frame.title:
        return frame.title
    lines = frame.ocr_text.splitlines()[:3]
    return next((line for line in lines if re.search(r"\S\s[—–-]\s\S", line)), None) or ocr_title(frame)


def title_file(title: str) -> str | None:
    """The document a window title names ("*Untitled 1.odt — LibreOffice Writer" → "Untitled 1.odt")."""
    head = re.split(r"\s+[-—–]\s+", title.strip(), maxsplit=1)[0].lstrip("*").strip()
    head = head.rsplit("/", 1)[-1]  # Mousepad titles a saved file with its path
    if FILE_NAME.search(head) and re.search(r"\.[A-Za-z][A-Za-z0-9]{0,4}$", head):
        return head
    names = FILE_NAME.findall(title)
    return next((n for n in names if not re.fullmatch(r"[\d.]+", n)), None)


def _is_save(d: Done) -> bool:
    event = d.event
    if isinstance(event, ev.Shortcut):
        return event.keys.lower() in ("ctrl+s", "ctrl+shift+s") and not re.search(r"\bsave\b", d.title(True), re.I)
    in_dialog = bool(re.search(r"\bsave\b", d.title(False), re.I))
    if isinstance(event, ev.Keys):
        return in_dialog and bool(d.evidence.get("enter"))
    return isinstance(event, ev.Click) and (in_dialog or d.target.lower() == "save") and _new_file(d) is not None


def _new_file(d: Done) -> str | None:
    """A file the window title names after the action and did not before (both frames known)."""
    if d.action is None or d.action.before is None:
        return None
    after, before = title_file(d.title(True)), title_file(d.title(False))
    return after if after and after != before else None


def saved(done: list[Done]) -> Sentence | None:
    """The last save: its file, its app, and the typing before it."""
    for i in range(len(done) - 1, -1, -1):
        d = done[i]
        name = title_file(d.title(True)) if _is_save(d) else None
        if name:
            typed = [t for t in done[:i] if t.typed and t.app == d.app and isinstance(t.event, (ev.Keys, ev.Text))
                     and not _in_file_dialog(t) and t.typed != name]  # the file's name is no line of it
            return Sentence(f"Saved {name}", f"Save {name}", d.app, _typing(typed))
    return None


def _in_file_dialog(d: Done) -> bool:
    return bool(re.search(r"\b(?:save|open)\b", d.title(False), re.I))


def _typing(typed: list[Done]) -> tuple[str, str]:
    lines = [line for t in typed for line in str(t.evidence.get("typed")).splitlines() if line.strip()]
    if not lines:
        return "", ""
    if len(lines) == 1:
        return f" after typing {quote(lines[0])}", f" with {quote(lines[0])} typed"
    n = NUMBERS[len(lines)] if len(lines) < len(NUMBERS) else str(len(lines))
    return f" after typing {n} lines", f" with {n} lines typed"


def _commands(done: list[Done]) -> list[str]:
    """Command lines run in a terminal (Enter pressed), in order."""
    return [d.typed for d in done if d.typed and d.evidence.get("enter") and d.app in (None, "Terminal")
            and isinstance(d.event, (ev.Keys, ev.Text))]


def changed_by_commands(done: list[Done]) -> Sentence | None:
    """"Created the folder demo and wrote notes.txt in the terminal": the first two things commands changed."""
    found = cmdlib.effects(_commands(done))
    if not found:
        return None
    first = found[0]
    second = next((e for e in found[1:] if e != first), None)
    did, do = first.sentence(), first.sentence(request=True)
    if second is not None:
        it = second.name == first.name and not first.verb.startswith("delete")
        did += " and " + _lower(second.sentence(it=it))
        do += " and " + _lower(second.sentence(request=True, it=it))
    return Sentence(did, do, "Terminal")


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def searched(done: list[Done]) -> Sentence | None:
    """Text typed and entered in a browser or a search field: "Searched Bing for 'Yuan to Pound'"."""
    for i, d in enumerate(done):
        if not d.typed or not d.evidence.get("enter") or d.app in (None, "Terminal"):
            continue
        clicked = [p.target.lower() for p in done[max(i - 2, 0):i] if p.target]
        if d.app not in BROWSERS and not any(re.search(r"search|find", t) for t in clicked):
            continue
        if re.fullmatch(r"(?:https?://)?[\w-]+(?:\.[\w-]+)+(?:/\S*)?", d.typed):
            return Sentence(f"Went to {d.typed}", f"Go to {d.typed}", d.app)
        site = next((s for s in SEARCH_SITES if re.search(rf"\b{s}\b", d.title(True))), None)
        if site:
            return Sentence(f"Searched {site} for {quote(d.typed)}", f"Search {site} for {quote(d.typed)}", d.app)
        return Sentence(f"Searched for {quote(d.typed)}", f"Search for {quote(d.typed)}", d.app)
    return None


def opened_file(done: list[Done]) -> Sentence | None:
    """A file opened: a double-click on a file's name, a file chosen then "Open", or a click after which the
    window is titled with a file it was not before (a download opened in the browser)."""
    for i, d in enumerate(done):
        event = d.event
        if not isinstance(event, ev.Click):
            continue
        name: str | None = None
        if event.count >= 2 and FILE_NAME.search(d.target):
            name = FILE_NAME.search(d.target).group(0)  # type: ignore[union-attr]
        elif d.target.lower().startswith("open") and i > 0 and FILE_NAME.search(done[i - 1].target):
            name = FILE_NAME.search(done[i - 1].target).group(0)  # type: ignore[union-attr]
        elif not re.search(r"\bsave\b", d.title(False), re.I):
            name = _new_file(d)
        if name:
            return Sentence(f"Opened {name}", f"Open {name}", d.app)
    return None


def menu_command(done: list[Done]) -> Sentence | None:
    """A command chosen from a menu that opens a dialog ("Brightness-Contrast...") or a dialog confirmed, with
    the values entered after it: "Adjusted brightness and contrast in GIMP, entering '70'"."""
    for i in range(len(done) - 1, -1, -1):
        d = done[i]
        target = d.target
        opened = str(d.evidence.get("opened") or "")
        if not isinstance(d.event, ev.Click) or not (re.search(r"(?:\.\.\.|…)$", target) or opened):
            continue
        name = clean(re.sub(r"(?:\.\.\.|…)$", "", target)) or clean(opened)
        if len(re.findall(r"[A-Za-z]", name)) < 3:
            continue
        later = done[i + 1:]
        entered = [t.typed for t in later if t.typed] or \
            [t.target for t in later if t.target and not _OK.match(t.target) and isinstance(t.event, ev.Click)]
        tail = f", entering {quote(entered[-1])}" if entered else ""
        verb, _, rest = name.partition(" ")
        past = PAST.get(verb.lower())
        if past and rest:
            return Sentence(f"{past.capitalize()} {rest.lower()}", f"{verb.capitalize()} {rest.lower()}", d.app,
                            (tail, tail))
        return Sentence(f"Used {quote(name)}", f"Use {quote(name)}", d.app, (tail, tail))
    return None


def main_typed(done: list[Done]) -> Sentence | None:
    """The main thing typed: a command that ran ("Ran `python3` in the terminal"), else the longest text typed
    ("Entered '=SUM(A1:A3)' in LibreOffice Calc"), else how much was typed where."""
    commands = _commands(done)
    loud = [c for c in commands if cmdlib.split_line(c) and cmdlib.split_line(c)[0][0] not in QUIET_COMMANDS]
    if commands:
        run = (loud or commands)[0]
        words = cmdlib.split_line(run)[0] if cmdlib.split_line(run) else []
        if len(words) == 1 and re.fullmatch(r"i?python[\d.]*", words[0]):  # no script: the interpreter's prompt
            return Sentence("Started the Python interpreter", "Start the Python interpreter", "Terminal")
        return Sentence(f"Ran `{run}`", f"Run `{run}`", "Terminal")
    typed = [d for d in done if d.typed and isinstance(d.event, (ev.Keys, ev.Text))]
    if typed:
        d = max(typed, key=lambda t: len(t.typed))
        verb = ("Entered", "Enter") if d.evidence.get("enter") else ("Typed", "Type")
        return Sentence(f"{verb[0]} {quote(d.typed)}", f"{verb[1]} {quote(d.typed)}", d.app)
    keys = [d for d in done if isinstance(d.event, ev.Keys) and d.event.count > 0]
    if keys:
        chars = sum(d.event.count for d in keys if isinstance(d.event, ev.Keys))
        app = keys[-1].app
        plural = "s" if chars != 1 else ""
        return Sentence(f"Typed {chars} character{plural}", f"Type {chars} character{plural}", app)
    return None


def app_used(done: list[Done]) -> Sentence | None:
    """The app opened (a window of another app after a click) or used, with the last thing clicked in it."""
    apps = [d.app for d in done if d.app]
    if not apps:
        named = [d.target for d in done if d.target and len(re.findall(r"[A-Za-z]", d.target)) >= 3]
        return Sentence(f"Clicked {quote(named[-1])}", f"Click {quote(named[-1])}") if named else None
    app = max(dict.fromkeys(apps), key=apps.count)
    switched = any(isinstance(d.event, ev.AppSwitch) and d.app == app for d in done)
    named = [d.target for d in done if d.app == app and d.target and len(re.findall(r"[A-Za-z]", d.target)) >= 3]
    if switched and not named:
        return Sentence(f"Switched to {place(app)}", f"Switch to {place(app)}")
    tail = f", clicking {quote(named[-1])}" if named else ""
    return Sentence(f"Used {place(app)}", f"Use {place(app)}", None, (tail, tail))
