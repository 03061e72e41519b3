"""Checked against what happened: every app, file name, quoted text and number a description names must appear
in the episode's evidence (window titles, OCR text, apps, click elements, events, the evidence steps).

Comparison is whitespace-, case- and punctuation-insensitive (OCR joins and splits words unpredictably), so
"meeting.txt" matches "meeting.txt - Mousepad" and "ls -la" matches an OCR line "$ls-la".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from deskscribe.models.evidence import FILE_NAME, norm
from deskscribe.models.facts import APP_NAMES, FrameView, app_name

_QUOTED = re.compile(r"(?<!\w)'([^']{2,}?)'(?!\w)|\"([^\"]{2,})\"|`([^`]{1,})`|“([^”]{2,})”")
# A capitalised word inside a sentence is a name ("Lisbon", "Dana"); these are not.
_NOT_NAMES = {"i", "ok", "enter", "ctrl", "alt", "shift", "tab", "esc", "escape", "space", "backspace", "delete",
              "save", "file", "edit", "view", "search", "help", "the", "a", "an"}
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,:]\d+)*(?![\w])")
# App names a person would write, lower case → display name (the keys of APP_NAMES and their display names).
_APP_WORDS = {**{k: APP_NAMES[k] for k in APP_NAMES if len(k) > 3},
              **{v.lower(): v for v in APP_NAMES.values()}, "xcalc": "xcalc", "calculator": "Calculator"}
_GENERIC_APPS = {"terminal", "text editor", "file manager", "files", "document viewer", "calculator"}


def named(text: str) -> list[tuple[str, str]]:
    """(kind, value) for every app, file name, quoted text, number and name (a capitalised word inside a
    sentence) that ``text`` names, in order."""
    out: list[tuple[str, str]] = []
    for m in _QUOTED.finditer(text):
        out.append(("quoted", next(g for g in m.groups() if g)))
    unquoted = _QUOTED.sub(" ", text)
    out += [("file", f) for f in FILE_NAME.findall(unquoted) if not re.fullmatch(r"[\d.]+", f)]
    out += [("number", n) for n in _NUMBER.findall(FILE_NAME.sub(" ", unquoted))]
    for m in re.finditer(r"(?<=[\w,;)] )([A-Z][a-z]{2,})\b", unquoted):
        if m.group(1).lower() not in _NOT_NAMES:
            out.append(("name", m.group(1)))
    low = unquoted.lower()
    for word, display in _APP_WORDS.items():
        if re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", low):
            out.append(("app", display))
    return list(dict.fromkeys(out))


def corpus(frames: list[FrameView], steps: Iterable[str], extra: Iterable[str] = ()) -> str:
    """Everything the episode showed or recorded, normalised: what a description may name. ``extra``: more
    recorded text (the actions' event details)."""
    parts: list[str] = list(steps) + list(extra)
    for frame in frames:
        parts += [frame.app or "", app_name(frame.app) or "", frame.title or "", frame.ocr_text]
    return norm(" ".join(parts))


def absent(text: str, evidence: str, apps: Iterable[str] = ()) -> list[str]:
    """What ``text`` names that the evidence does not contain, as "kind 'value'" strings (empty: all found).

    A generic app word ("terminal", "text editor") counts as found when the episode used that kind of app.
    """
    used = {a.lower() for a in apps}
    missing = []
    for kind, value in named(text):
        if kind == "app" and (value.lower() in used or (value.lower() in _GENERIC_APPS and value in apps)):
            continue
        key = norm(value)
        if key and key not in evidence:
            missing.append(f"{kind} {value!r}")
    return missing


# Words any answer may use whether or not the record has them: they say nothing an example could have lent.
_GENERIC = {"with", "from", "that", "this", "about", "into", "then", "them", "they", "their", "there", "what", "when",
            "which", "while", "have", "were", "been", "after", "before", "using", "used", "file", "files", "open",
            "opened", "wrote", "write", "sent", "send", "asked", "make", "made", "look", "looked", "find", "found",
            "text", "typed", "type", "clicked", "click", "pressed", "press", "list", "some", "each", "other"}


def borrowed(text: str, examples: str, record: str) -> list[str]:
    """Words of ``text`` that come from the prompt's worked examples and not from the episode's record: a small
    model copying an example ("Played holiday.mp4" about a calculator) instead of reading the record."""
    seen = set(re.findall(r"[a-z]{4,}", record.lower()))
    stems = {w[:5] for w in seen}
    out = []
    for word in dict.fromkeys(re.findall(r"[a-z]{4,}", text.lower())):
        if word in examples.lower() and word not in _GENERIC and word not in seen and word[:5] not in stems:
            out.append(word)
    return out


def content_words(text: str) -> list[str]:
    """The words of ``text`` that say something (four letters or more, not a word any answer may use)."""
    return [w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _GENERIC]


def grounding(text: str, basis: str) -> float:
    """The share of ``text``'s content words found in ``basis`` (the steps, apps and titles; not raw OCR):
    an answer made of screen text the steps never mention is about the screen, not about what was done."""
    words = content_words(text)
    if not words:
        return 1.0
    base = norm(basis)
    return sum(1 for w in words if w in base or w[:5] in base) / len(words)
