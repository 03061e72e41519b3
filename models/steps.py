"""Steps from evidence: one sentence per action, written from what it hit and what it changed on screen.

"Clicked the 'File' menu in Text Editor", "Ran `ls -la` in Terminal", "Saved meeting.txt (Ctrl+S)". Each step
uses only what the evidence shows (see :mod:`deskscribe.models.evidence`): the element under a click (role and
name) or the OCR text under the point, the lines that appeared, a new window title, the app. Typed text is read
from the after frame (the keystroke text exists only when the person opted in). When nothing is known beyond
the action, the step says that plainly ("Typed 12 characters in Terminal"), never an empty template.

This is the one step writer: describe stores each step with the event id of its action and its evidence
(:class:`Step`), and export, the review window and ``deskscribe show`` read those stored steps.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from deskscribe.models import evidence as evlib
from deskscribe.models import pixels, readable
from deskscribe.models import typed as typedlib
from deskscribe.models.evidence import Action, Change
from deskscribe.models.facts import SHORTCUTS, FrameView, looked_at_steps
from deskscribe.storage import events as ev

# Shortcuts whose meaning depends on the app.
APP_SHORTCUTS = {("Terminal", "ctrl+l"): "clear the screen", ("Terminal", "ctrl+c"): "stop the running command",
                 ("Terminal", "ctrl+d"): "close the shell"}
ROLE_WORDS = {"push button": "button", "toggle button": "button", "menu item": "menu item", "check box": "check box",
              "page tab": "tab", "text": "field", "entry": "field", "combo box": "list", "link": "link",
              "menu": "menu", "list item": "item", "table cell": "cell", "radio button": "option", "icon": "icon"}
MAX_QUOTE = 60
PASSWORD_ROLES = ("password",)  # AT-SPI "password text": what is typed there is never read from the screen


@dataclass
class Step:
    """One step: its text, the action it stands for (None: no action, e.g. "Looked at …") and its evidence —
    ``target`` (what was acted on), ``typed`` with ``text_source`` ("screen" or "keys"), ``enter``,
    ``opened`` (a dialog or menu that appeared)."""

    text: str
    event_id: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


def quote(text: str) -> str:
    """'text' in quotes, cut at a word's end past MAX_QUOTE characters ("… for more…", not "for more i…")."""
    text = " ".join(text.split())
    if len(text) <= MAX_QUOTE:
        return f"'{text}'"
    cut = text[: MAX_QUOTE - 1]
    return "'" + (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + "…'"


GENERIC_APPS = {"Terminal", "Text Editor", "File Manager", "Files", "Document Viewer", "File Explorer"}


def place(app: str) -> str:
    """How a person names the app: "the terminal", "Mousepad"."""
    return f"the {app.lower()}" if app in GENERIC_APPS else app


def _in(app: str | None) -> str:
    return f" in {place(app)}" if app else ""


def _opened(ch: Change) -> str:
    """", which opened 'Save As'" when a dialog (a window with a title of its own) appeared; "" otherwise: what
    else appeared is raw OCR text, which a step does not quote."""
    if ch.dialog and readable.reads_as_text(ch.dialog):
        return f", which opened {quote(ch.dialog)}"
    return ""


def _element_name(action: Action) -> str | None:
    element = getattr(action.event, "element", None)
    return str(element.name) if element is not None and element.name.strip() else None


def target_item(action: Action) -> evlib.Item | None:
    """The text item under a click's or drag's point on its before frame (not the row, not what appeared)."""
    return evlib.item_at(action.before, *action.point, patch=action.patch)


def target_of(action: Action) -> str | None:
    """The name of what a click or drag hit: its element's name, else the text item under the point."""
    name = _element_name(action)
    if name is not None:
        return name
    item = target_item(action)
    return item.text if item else None


SPOTS = (("at the top left", "at the top", "at the top right"), ("on the left", "in the middle", "on the right"),
         ("at the bottom left", "at the bottom", "at the bottom right"))


def spot(frame: FrameView | None, x: int | None, y: int | None) -> str | None:
    """Where a point lies on the screen, in thirds: "at the top left of the screen". Frames store the screen
    (the image's size), not the box of the window in front, so the place is the screen's."""
    if frame is None or frame.size is None or x is None or y is None:
        return None
    w, h = frame.size
    row, col = min(2, max(0, 3 * y // max(h, 1))), min(2, max(0, 3 * x // max(w, 1)))
    return f"{SPOTS[row][col]} of the screen"


def click_target(action: Action) -> str | None:
    """What a click hit as a step says it: "the 'File' menu" from its element, else the text item under it,
    else the icon there ("the icon at the top left of the screen": OCR read something there that is not text,
    or the frame's pixels show an icon under or beside the point)."""
    element = getattr(action.event, "element", None)
    name = target_of(action)
    if name is not None and element is not None and element.name.strip():
        word = ROLE_WORDS.get(element.role.lower(), element.role.lower())
        return f"the {quote(name)} {word}" if word else quote(name)
    if name is not None:
        return quote(name)
    x, y = action.point
    where = spot(action.before, x, y)
    if where and x is not None and y is not None and (evlib.noise_at(action.before, x, y)
                                                      or pixels.icon_at(action.patch, x, y) is not None):
        return f"the icon {where}"
    return None


def _menu(action: Action) -> str:
    """", which opened the 'File' menu" when the clicked text item's menu dropped down under it."""
    item = None if _element_name(action) else target_item(action)
    if item is None or len(item.text.split()) > 3 or not evlib.menu_below(item, action.before, action.after):
        return ""
    return f", which opened the {quote(item.text)} menu"


def click_step(action: Action, ch: Change) -> str:
    event = action.event
    assert isinstance(event, ev.Click)
    verb = "Double-clicked" if event.count >= 2 else ("Right-clicked" if event.button == "right" else "Clicked")
    target = click_target(action)
    saved = _saved_from_dialog(action) if target and evlib.norm(target_of(action) or "") == "save" else None
    if target and saved:  # the dialog's Save button: the file was saved
        dialog = f" in {action.app}'s {quote(action.before.title or '')} dialog" if action.app and action.before else ""
        return f"{verb} {target}{dialog}, which saved {saved[1]}"
    opened = _opened(ch) or (_menu(action) if target else "")
    if target:
        return f"{verb} {target}{_in(action.app)}{opened}"
    where = spot(action.before, event.x, event.y)
    if where:
        return f"{verb} {where}{_in(action.app)}{opened}"
    where = f" in {action.app}" if action.app else (f" at ({event.x}, {event.y})" if event.x is not None else "")
    return f"{verb}{where or ' on the screen'}{opened}"


def printed(output: list[str]) -> str:
    """", which printed '84'": what a command printed, as a step says it ("" when nothing)."""
    return ", which printed " + " and ".join(quote(line) for line in output) if output else ""


def _new_commands(lines: list[str], before: FrameView | None) -> list[str]:
    """Commands at a prompt in ``lines`` that the before frame did not show already (0.9 alike: OCR reads a
    line a little differently each time)."""
    ran = [evlib.norm(c) for c in evlib.command_lines(before.ocr_text.splitlines())] if before is not None else []
    return [c for c in evlib.command_lines(lines)
            if not any(difflib.SequenceMatcher(None, evlib.norm(c), r).ratio() >= 0.9 for r in ran)]


def _run_commands(ch: Change, after: FrameView | None, alone: bool, before: FrameView | None = None) -> list[str]:
    """Commands that appeared at a prompt and ran. When more typing came before the after frame was taken,
    the bottom line's command is that later typing, not yet run."""
    commands = _new_commands(ch.new_lines, before)
    last = after.ocr_text.strip().splitlines()[-1:] if after is not None else []  # differently on each frame
    pending = evlib.command_lines(last)
    if not alone and pending and commands and commands[-1] == pending[0]:
        commands.pop()
    return commands


def keys_step(action: Action, ch: Change, alone: bool = True, titles: set[str] = frozenset(),  # type: ignore[assignment]
              read_screen: bool = True) -> tuple[str, dict[str, Any]]:
    """Typing: a command run at a prompt, text that appeared, or how many keys went where; with the evidence
    (what was typed and where that text comes from: the stored keystrokes, else the screen)."""
    event = action.event
    assert isinstance(event, ev.Keys)
    record = action.record
    enter, app, chars = record.enter, action.app, record.characters
    typed = record.typed.strip() if record.typed else None
    found: dict[str, Any] = {"enter": enter}
    if typed:
        found.update(typed=record.typed, text_source="keys")
    saved = _saved_from_dialog(action) if enter else None
    if saved:
        text, name = saved
        if not typed and read_screen and len(evlib.norm(name)) <= chars + 2:
            found.update(typed=name, text_source="screen")
        return text, found
    terminal = app in (None, "Terminal")
    commands = [typed] if typed and enter else _run_commands(ch, action.after, alone, action.before) if terminal else []
    if enter and not commands and terminal and action.before is not None:  # typed before Enter
        commands = evlib.command_lines(action.before.ocr_text.strip().splitlines()[-1:])
    if not read_screen and not typed:
        commands = []
    if not typed and chars and len(commands) > 1:
        # a burst ends at its Enter, which ran one command: the one whose length fits the keys (not the fresh
        # prompt below it, where OCR reads the text cursor as 'ff' or 'If')
        commands = [min(commands, key=lambda c: (abs(len(c) - chars), -commands.index(c)))]
    if enter and commands and terminal:
        if not typed:
            found.update(typed=commands[-1], text_source="screen")
        output = evlib.printed(action.after, commands[-1]) if alone and read_screen else []
        if output:
            found["printed"] = "\n".join(output)
        return "Ran " + ", then ".join(f"`{c}`" for c in commands[:3]) + " in the terminal" + printed(output), found
    shown = [typed] if typed else []
    if not typed and read_screen:
        shown = typedlib.typed_lines(ch, action.after, titles, chars, action.before)
    tail = " and pressed Enter" if enter else ""
    if shown:
        if not typed:
            found.update(typed="\n".join(shown[:2]), text_source="screen")
        return "Typed " + " and ".join(quote(s) for s in shown[:2]) + tail + _in(app), found
    if chars > 0:
        return f"Typed {chars} character{'s' if chars != 1 else ''}{tail}{_in(app)}", found
    keys = ", ".join(k.capitalize() for k in sorted(event.special)) or "keys"
    return f"Pressed {keys}{_in(app)}{_opened(ch)}", found


def _saved_from_dialog(action: Action) -> tuple[str, str] | None:
    """Enter in a "Save As" dialog that closed onto a window titled with the file: the file was saved."""
    before = action.before.title if action.before else None
    after = action.after.title if action.after else None
    if not before or not after or not re.search(r"\bsave\b", before, re.I):
        return None
    if after == before and action.next_title:  # the dialog was still closing when the after frame was taken
        after = action.next_title
    names = evlib.file_names(after)
    return (f"Saved {names[0]} from the {quote(before)} dialog{_in(action.app)}", names[0]) if names else None


def shortcut_step(action: Action, ch: Change) -> str:
    event = action.event
    assert isinstance(event, ev.Shortcut)
    combo = event.keys.lower()
    pretty = "+".join(p.capitalize() if len(p) > 1 else p.upper() for p in combo.split("+")) or "a shortcut"
    dialog = ch.dialog if ch.dialog and re.search(r"\bsave\b", ch.dialog, re.I) else None
    if combo in ("ctrl+s", "ctrl+shift+s") and not dialog:
        names = evlib.file_names(action.after.title if action.after else None)
        if names:
            ch.dialog = None
            return f"Saved {names[0]} ({pretty}){_in(action.app)}"
    meaning = APP_SHORTCUTS.get((action.app or "", combo)) or SHORTCUTS.get(combo)
    return f"Pressed {pretty}" + (f" ({meaning})" if meaning else "") + _in(action.app) + _opened(ch)


def other_step(action: Action, ch: Change) -> str | None:
    event = action.event
    if isinstance(event, ev.Scroll):
        way = "down" if event.dy < 0 else "up" if event.dy > 0 else "sideways"
        return f"Scrolled {way}{_in(action.app)}{_opened(ch)}"
    if isinstance(event, ev.Drag):
        target = click_target(action)
        return f"Dragged {target or ''}{_in(action.app)}".replace("Dragged  in", "Dragged in").strip()
    if isinstance(event, ev.AppSwitch):
        to = action.app or event.to_app
        if not to:
            return None
        to = place(to)
        title = event.title or (action.after.title if action.after else None)
        return f"Switched to {to}" + (f" ({quote(title)})" if title and evlib.norm(title) != evlib.norm(to) else "")
    return None


def episode_steps(actions: list[Action], frames: list[FrameView], read_screen: bool = True) -> list[Step]:
    """One step per action, in order, each keyed by its action's event id; the windows looked at when there
    was no input. ``read_screen``: typed text may be read from the screen (``privacy.typed_from_screen``);
    never after a click on a password field."""
    titles = {evlib.norm(f.title) for f in frames if f.title}
    steps: list[Step] = []
    secret = False  # the last click hit a password field: what is typed next is not read off the screen
    for i, action in enumerate(actions):
        event = action.event
        if isinstance(event, ev.Click):
            role = event.element.role.lower() if event.element is not None else ""
            secret = any(r in role for r in PASSWORD_ROLES)
        # alone: the after frame was taken before the next action began, so what changed is this one's doing
        alone = i + 1 == len(actions) or action.after is None or actions[i + 1].ts >= action.after.ts
        step = write_step(action, alone, titles, read_screen and not secret)
        if step is not None:
            later = typedlib.later_frames(frames, action)
            if read_screen and not secret:
                step = _command_later(step, action, later)
            steps.append(_settled(step, later))
    return steps or [Step(text) for text in looked_at_steps(frames)]


def _command_later(step: Step, action: Action, later: list[FrameView]) -> Step:
    """A command run at a prompt whose line the after frame does not show readably (OCR garbled the prompt
    beside the text cursor): the first later frame that shows a new command line fitting the keys pressed."""
    record = action.record
    if not isinstance(action.event, ev.Keys) or not record.enter or record.typed or "typed" in step.evidence \
            or action.app not in (None, "Terminal") or not record.characters:
        return step
    for frame in later[:3]:
        for command in _new_commands(frame.ocr_text.splitlines(), action.before):
            if abs(len(command) - record.characters) <= 2:
                output = evlib.printed(frame, command)
                text = f"Ran `{command}` in the terminal" + printed(output)
                found = {**step.evidence, "typed": command, "text_source": "screen"}
                if output:
                    found["printed"] = "\n".join(output)
                return Step(text, step.event_id, found)
    return step


def _settled(step: Step, later: list[FrameView]) -> Step:
    """The step with its screen-read text as the later frames show it (:func:`typed.settled`)."""
    typed = step.evidence.get("typed")
    if step.evidence.get("text_source") != "screen" or not typed or not later:
        return step
    best = typedlib.settled(typed, step.text.startswith("Ran "), later)
    text, found = step.text.replace(typed, best), {**step.evidence, "typed": best}
    output = str(step.evidence.get("printed") or "").split("\n")
    if output != [""]:  # what the command printed, as a frame shows it once the caret has left the line below it
        for frame in later[:2][::-1]:
            again = evlib.printed(frame, best)
            if len(again) == len(output):
                text = text.replace(printed(output), printed(again))
                found["printed"] = "\n".join(again)
                break
    return step if text == step.text else Step(text, step.event_id, found)


def write_step(action: Action, alone: bool = True, titles: set[str] = frozenset(),  # type: ignore[assignment]
               read_screen: bool = True) -> Step | None:
    """One action's step. ``alone``: no later action shares its after frame, so what changed is its doing;
    ``titles``: the episode's window titles (normalised), which are never typed text."""
    ch = evlib.change(action.before, action.after)
    if not alone:  # a later action in the same frame may have caused what appeared
        ch = Change(ch.new_lines, ch.new_title, None)
    event = action.event
    found: dict[str, Any] = {}
    text: str | None
    if isinstance(event, ev.Click):
        text = click_step(action, ch if alone else Change())
        found = {"target": target_of(action)}
    elif isinstance(event, ev.Keys):
        text, found = keys_step(action, ch, alone, titles, read_screen)
    elif isinstance(event, ev.Text):  # opted-in text with no key burst beside it
        typed = action.record.typed or event.text
        text = f"Typed {quote(typed)}{_in(action.app)}" if typed.strip() else None
        found = {"typed": typed, "text_source": "keys"}
    elif isinstance(event, ev.Shortcut):  # not alone: its after frame shows what later actions did
        text = shortcut_step(action if alone else dataclasses.replace(action, after=None), ch if alone else Change())
    else:
        text = other_step(action, ch if alone else Change())
        if isinstance(event, ev.Drag):
            found = {"target": target_of(action)}
    if ch.dialog and alone:
        found["opened"] = ch.dialog
    if not text:
        return None
    return Step(text, action.record.event_id, {k: v for k, v in found.items() if v not in (None, "")})


_BARE = re.compile(r"^(?:pressed|clicked|typed|entered|scrolled|ran|switched to|dragged|used)\s*\W*$", re.I)


def is_degenerate(step: str) -> bool:
    """A step that says nothing: a bare verb ("Pressed "), an empty quote, or a single key with no context."""
    text = " ".join(step.split())
    return (not text or bool(_BARE.match(text)) or "''" in text or "``" in text
            or bool(re.fullmatch(r"(?:Pressed|Clicked) \w+", text)))
