"""Facts about an episode that need no model: apps, window titles, typed text, shortcuts, what clicks opened.

A 135M summariser cannot read a whole session reliably; it can phrase facts it is handed. Everything here is
a pure function of frames (app, title, caption, OCR text) and input events, so it is cheap, deterministic and
unit-tested, and it also yields ordered steps the describe pipeline can use as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from deskscribe.storage import events as ev

# WM_CLASS / process names → the name a person uses. Lower-case keys, matched on the name's first word.
APP_NAMES = {
    "gimp": "GIMP", "firefox": "Firefox", "firefox-esr": "Firefox", "chromium": "Chromium",
    "google-chrome": "Chrome", "chrome": "Chrome", "code": "VS Code", "soffice": "LibreOffice",
    "libreoffice": "LibreOffice", "libreoffice-calc": "LibreOffice Calc",
    "libreoffice-writer": "LibreOffice Writer", "libreoffice-impress": "LibreOffice Impress",
    "xterm": "Terminal", "lxterminal": "Terminal", "gnome-terminal": "Terminal", "konsole": "Terminal",
    "xfce4-terminal": "Terminal", "terminator": "Terminal", "pcmanfm": "File Manager", "nautilus": "Files",
    "thunar": "File Manager", "dolphin": "File Manager", "explorer": "File Explorer", "evince": "Document Viewer",
    "gedit": "Text Editor", "mousepad": "Mousepad", "leafpad": "Text Editor", "notepad": "Notepad",
    "taskmgr": "Task Manager", "thunderbird": "Thunderbird", "inkscape": "Inkscape", "blender": "Blender", "vlc": "VLC",
}
# Common shortcuts, by the meaning a person would say.
SHORTCUTS = {
    "ctrl+a": "select all", "ctrl+c": "copy", "ctrl+v": "paste", "ctrl+x": "cut", "ctrl+z": "undo",
    "ctrl+y": "redo", "ctrl+s": "save", "ctrl+shift+s": "save as", "ctrl+o": "open a file", "ctrl+n": "new",
    "ctrl+p": "print", "ctrl+f": "find", "ctrl+t": "new tab", "ctrl+w": "close the tab", "ctrl+q": "quit",
    "alt+f4": "close the window", "alt+tab": "switch windows", "ctrl+l": "go to the address bar",
}
# Shell commands by what they do, for typed command lines.
SHELL_VERBS = {
    "rm": "delete", "rmdir": "delete the folder", "mkdir": "create the folder", "cd": "change to",
    "ls": "list files", "cp": "copy", "mv": "move", "touch": "create the file", "cat": "show",
    "python": "start Python", "python3": "start Python", "pip": "install packages with pip",
    "apt": "install packages", "sudo": "run as root", "git": "run git", "nano": "edit", "vim": "edit",
}
ENTER_KEYS = {"return", "enter", "kp_enter"}


@dataclass
class FrameView:
    """What the pipeline knows about one frame once it is captioned."""

    id: int
    ts: float
    app: str | None
    title: str | None
    image_hash: str
    caption: str = ""
    ocr_text: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    boxes: list[tuple[str, int, int, int, int]] = field(default_factory=list)  # OCR (text, x, y, w, h), full res


@dataclass
class Facts:
    apps: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    shortcuts: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)  # labels that appeared after a click
    app_frames: dict[str, int] = field(default_factory=dict)  # frames seen per app
    clicks: int = 0
    keys: int = 0
    steps: list[str] = field(default_factory=list)


def app_name(raw: str | None) -> str | None:
    """A display name for a WM_CLASS/process name, or the text after the last dash of a window title."""
    if not raw:
        return None
    key = raw.strip().lower()
    for name in (key, key.split()[0], re.sub(r"[-_.]?\d[\d.]*$", "", key)):
        if name in APP_NAMES:
            return APP_NAMES[name]
    return raw.strip()


def app_from_title(title: str | None) -> str | None:
    """Window titles end with the app's name by convention: "photo.xcf - GIMP", "Untitled 1 — LibreOffice Calc".

    OCR'd titles lose spaces ("800x800-GIMP", "Untitled1-LibreOfficeCalc"), so camel case is split again.
    """
    if not title:
        return None
    if re.match(r"^[\w.-]+@[\w.-]+:", title.strip()):  # a shell prompt: user@host:~/dir
        return "Terminal"
    display = {_norm(v): v for v in APP_NAMES.values()}
    parts = re.split(r"\s+[-–—]\s+|(?<=[\w)\]])[-–—](?=[A-Z][A-Za-z])", title.strip())
    tail = parts[-1].strip(" .")
    if _norm(tail) in display:
        return display[_norm(tail)]
    if len(parts) < 2:  # a title that is only the app's name: "Mozilla Firefox", "TaskManager"
        words = tail.split()
        return tail if 1 < len(words) <= 3 and words[-1] in display.values() else None
    tail = re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", " ", tail)
    if not re.match(r"^[A-Z][\w .+]{1,40}$", tail) or len(tail.split()) > 4:
        return None
    known = app_name(tail)
    return known if known != tail else tail


def app_from_text(ocr_text: str, lines: int = 25) -> str | None:
    """A known app named by a window title somewhere on screen (windows that are not maximised)."""
    known = set(APP_NAMES.values())
    for line in ocr_text.splitlines()[:lines]:
        app = app_from_title(line)
        if app and (app in known or any(app.endswith(" " + k) for k in known)):
            return app
    return None


def ocr_title(frame: FrameView) -> str | None:
    """The first OCR line of a frame (the title bar when a window is maximised)."""
    first = frame.ocr_text.split("\n", 1)[0].strip() if frame.ocr_text else ""
    return first or None


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def unsquash(text: str) -> str:
    """Put back spaces OCR dropped between words ("TaskManager" → "Task Manager"), keeping known names."""
    known = {re.sub(r"[^a-z0-9]", "", v.lower()): v for v in APP_NAMES.values() if " " not in v}
    words = []
    for word in text.split(" "):
        key = re.sub(r"[^a-z0-9]", "", word.lower())
        words.append(word if key in known else re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", " ", word))
    return " ".join(words)


def new_lines(before: FrameView, after: FrameView, limit: int = 2) -> list[str]:
    """Text lines that appear in ``after`` but not in ``before``: what a click opened (a menu, a dialog)."""
    seen = {_norm(line) for line in before.ocr_text.splitlines()}
    everything = _norm(before.ocr_text)  # OCR splits and joins words differently from frame to frame
    out: list[str] = []
    for line in after.ocr_text.splitlines():
        line = line.strip().strip(".…").strip()
        key = _norm(line)
        if len(key) >= 3 and key not in seen and key not in everything and re.search(r"[A-Za-z]{3}", line) and len(line) <= 40:
            seen.add(key)
            out.append(unsquash(line))
            if len(out) >= limit:
                break
    return out


def shortcut_text(combo: str) -> str:
    pretty = "+".join(p.capitalize() if len(p) > 1 else p.upper() for p in combo.split("+"))
    meaning = SHORTCUTS.get(combo.lower())
    return f"{pretty} ({meaning})" if meaning else pretty


def typed_step(text: str, then_enter: bool, replaced: bool = False) -> str:
    """A step for typed text: a command line, a formula, a value that replaced a selection, or plain text."""
    words = text.split()
    enter = " and pressed Enter" if then_enter else ""
    if then_enter and words and words[0] in SHELL_VERBS:
        return f"Ran the command '{text}' to {SHELL_VERBS[words[0]]}"
    if text.startswith("="):
        return f"Entered the formula '{text}' to calculate a result" + enter
    if replaced:  # select-all then typing replaces what the field held
        return f"Changed the value to '{text}'" + enter
    return f"Entered '{text}'" + enter


def _click_step(e: ev.Event, opened: list[str]) -> str:
    if isinstance(e, ev.Other):
        kind = "Double-clicked" if "double" in e.action else "Clicked"
    else:
        assert isinstance(e, ev.Click)
        kind = "Double-clicked" if e.count == 2 else ("Right-clicked" if e.button == "right" else "Clicked")
        if e.element is not None and e.element.name:
            kind += f" {e.element.role} '{e.element.name}'"
    if opened:
        return f"{kind}, which opened " + ", ".join(f"'{o}'" for o in opened)
    return kind


def _is_click(e: ev.Event) -> bool:
    return isinstance(e, ev.Click) or (isinstance(e, ev.Other) and "click" in e.action)


def _switch_step(e: ev.AppSwitch) -> str:
    to = app_name(e.to_app) or e.to_app
    src = app_name(e.from_app) or e.from_app
    return f"Switched from {src} to {to}" if src else f"Switched to {to}"


def frame_steps(frame: FrameView, following: FrameView | None, facts: Facts) -> list[str]:
    """Steps for one frame's events, in order; updates the counters and lists of ``facts``."""
    steps: list[str] = []
    pending: tuple[str, bool] | None = None  # typed text not yet written out, and whether it replaced a selection
    opened = new_lines(frame, following) if following is not None else []
    for row in frame.events:
        e = ev.parse(row["kind"], row["details"])  # reads every stored shape, old ones too
        if e is None:
            continue
        if isinstance(e, ev.Keys):
            facts.keys += e.count
        if isinstance(e, ev.Text):
            if pending is not None:
                steps.append(typed_step(pending[0], False, pending[1]))
            replaced = bool(steps) and steps[-1].startswith("Pressed Ctrl+A")
            if replaced:
                steps.pop()
            pending = (e.text, replaced)
            facts.typed.append(pending[0])
            continue
        enter = isinstance(e, ev.Keys) and any(str(k).lower() in ENTER_KEYS for k in e.special)
        if pending is not None:
            steps.append(typed_step(pending[0], enter, pending[1]))
            pending = None
            if enter:
                continue
        if enter:
            steps.append("Pressed Enter")
        elif isinstance(e, ev.Shortcut):
            combo = shortcut_text(e.keys)
            facts.shortcuts.append(combo)
            steps.append(f"Pressed {combo}")
        elif _is_click(e):
            facts.clicks += 1
            steps.append(_click_step(e, opened))
            facts.opened += [o for o in opened if o not in facts.opened]
            opened = []  # what appeared is credited to the first click only
        elif isinstance(e, ev.Scroll):
            steps.append("Scrolled " + ("down" if e.dy < 0 else "up" if e.dy > 0 else "sideways"))
        elif isinstance(e, ev.AppSwitch) and e.to_app:
            steps.append(_switch_step(e))
    if pending is not None:
        steps.append(typed_step(pending[0], False, pending[1]))
    return steps


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and (not out or out[-1] != item):
            out.append(item)
    return out


def extract(frames: list[FrameView]) -> Facts:
    """All facts of an episode, with ordered steps (consecutive repeats merged)."""
    facts = Facts()
    steps: list[str] = []
    for i, frame in enumerate(frames):
        title = frame.title or ocr_title(frame)
        app = app_name(frame.app) or app_from_title(title) or app_from_text(frame.ocr_text)
        if app:
            facts.app_frames[app] = facts.app_frames.get(app, 0) + 1
        if app and app not in facts.apps:
            if steps or facts.apps:
                steps.append(f"Switched to {app}")
            facts.apps.append(app)
        if title and title not in facts.titles:
            facts.titles.append(title)
        steps += frame_steps(frame, frames[i + 1] if i + 1 < len(frames) else None, facts)
    facts.steps = _dedupe(steps) or looked_at_steps(frames)
    return facts


def looked_at_steps(frames: list[FrameView], limit: int = 4) -> list[str]:
    """Steps for an episode without input: the windows that were in front, in order (what a person saw)."""
    seen: list[tuple[str | None, str]] = []
    for frame in frames:
        title = frame.title or ocr_title(frame)
        key = (app_name(frame.app), title or "")
        if (key[0] or key[1]) and key not in seen:
            seen.append(key)
    steps = []
    for app, title in seen[:limit]:
        where = f" in {app}" if app else ""
        steps.append(f"Looked at '{title}'{where}" if title else f"Looked at {app}")
    return steps


def main_apps(facts: Facts, n: int = 2) -> list[str]:
    """The apps the episode spent most frames in (ties: first used first)."""
    order = {a: i for i, a in enumerate(facts.apps)}
    return sorted(facts.app_frames, key=lambda a: (-facts.app_frames[a], order.get(a, 0)))[:n]
