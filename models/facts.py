"""Facts about an episode that need no model: the frames as describe sees them, app names and window titles.

Pure functions of frames (app, title, caption, OCR text), cheap, deterministic and unit-tested. The steps are
written per action by :mod:`deskscribe.models.steps`, the one step writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deskscribe.storage.boxes import TextBox

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
    acted: bool = False  # an action's before or after frame
    boxes: list[TextBox] = field(default_factory=list)  # OCR lines at full resolution (storage/boxes.py)
    size: tuple[int, int] | None = None  # the image's width and height (the screen's), when its boxes are stored


@dataclass
class Facts:
    apps: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    app_frames: dict[str, int] = field(default_factory=dict)  # frames seen per app


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
    """A known app named by a window title somewhere on screen (windows that are not maximised). A line that is
    one word, the app's name and nothing else, is a label — a desktop icon's ("Mousepad" under its icon), a
    taskbar button's — not a title: apps title their windows with more ("Untitled 1 - Mousepad")."""
    known = set(APP_NAMES.values())
    labels = {_norm(k) for k in known}
    for line in ocr_text.splitlines()[:lines]:
        if " " not in line.strip() and _norm(line) in labels:
            continue
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


def extract(frames: list[FrameView]) -> Facts:
    """The apps and window titles of an episode, in order of first appearance, and frames seen per app."""
    facts = Facts()
    for frame in frames:
        title = frame.title or ocr_title(frame)
        app = app_name(frame.app) or app_from_title(title) or app_from_text(frame.ocr_text)
        if app:
            facts.app_frames[app] = facts.app_frames.get(app, 0) + 1
        if app and app not in facts.apps:
            facts.apps.append(app)
        if title and title not in facts.titles:
            facts.titles.append(title)
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
