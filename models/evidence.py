"""What each action left on screen: the frames before and after it, and what changed between them.

Pure functions of frames (app, title, OCR text and boxes) and the episode's action records: which frames an
action has is decided once, by :func:`deskscribe.storage.actions.pair_actions`; here each record gets the
captioned views of those frames. A step is written from this evidence (see :mod:`deskscribe.models.steps`),
and a description is checked against it (see :mod:`deskscribe.models.check`).
"""

from __future__ import annotations

import difflib
import functools
import re
import shutil
from dataclasses import dataclass, field

from deskscribe.models.facts import FrameView, app_from_text, app_from_title, app_name, ocr_title
from deskscribe.storage import events as ev
from deskscribe.storage.actions import ActionRecord

# A shell prompt followed by a command: "user@host:~/demo$ ls -la", "$ ls", "# apt update"; OCR often loses
# the colon ("root@vm/work/main#mkdir -p trip").
# A shell prompt and its command; OCR may put a space after the colon ("root@vm: ~# ls").
PROMPT = re.compile(r"^\S*@[^\s$#]*(?:\s[^\s$#@]+)?\s?[$#]\s?(?P<cmd>\S.*)?$|^[$#>]\s?(?P<bare>\S.*)?$"
                    r"|^\w+:[^\s$#@]*\s?[$#]\s?(?P<host>\S.*)?$")  # "rootbox:~/work# ls": OCR lost the '@'
# What changes on screen without typing: a bare prompt (its "$"/"#" lost by OCR), a clock's time of day.
NOT_TYPED = re.compile(r"^\S+@[\w.-]+:\s?\S*\s?[$#]?$|^\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?$")
# A file name a person would say: "meeting.txt", "notes.md", "photo.xcf".
FILE_NAME = re.compile(r"\b[\w][\w.-]*\.(?:[a-z][a-z0-9]{0,4})\b", re.I)


@dataclass
class Action:
    """One action record with the captioned views of its frames and the app it happened in."""

    record: ActionRecord
    before: FrameView | None
    after: FrameView | None
    app: str | None
    next_title: str | None = None  # the first different window title after the after frame (a dialog closing)

    @property
    def event(self) -> ev.Event:
        return self.record.event

    @property
    def ts(self) -> float:
        return self.record.ts


@dataclass
class Change:
    """What differs between a before and an after frame."""

    new_lines: list[str] = field(default_factory=list)  # text lines on screen after, not before
    new_title: str | None = None  # the window title after, when it changed
    dialog: str | None = None  # a new window's title (a dialog, a menu's first line)


def norm(text: str) -> str:
    """Whitespace-, case- and punctuation-insensitive form: OCR splits and joins words unpredictably."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def frame_app(frame: FrameView | None) -> str | None:
    if frame is None:
        return None
    title = frame.title or ocr_title(frame)
    return app_name(frame.app) or app_from_title(title) or app_from_text(frame.ocr_text)


def line_at(frame: FrameView | None, x: int | None, y: int | None, slack: int = 6) -> str | None:
    """The OCR text under a point (the box containing it, else the nearest within ``slack`` px); in a row of
    buttons read as one line, the button under the point (see :func:`segment_at`)."""
    if frame is None or x is None or y is None or not frame.boxes:
        return None
    best: tuple[float, str, int, int] | None = None
    for box in frame.boxes:
        text, bx, by, bw, bh = box.text, box.x, box.y, box.w, box.h
        dx = max(bx - x, 0, x - (bx + bw))
        dy = max(by - y, 0, y - (by + bh))
        dist = (dx * dx + dy * dy) ** 0.5
        if dist <= slack and re.search(r"[A-Za-z0-9]", text) and (best is None or dist < best[0]):
            best = (dist, text.strip(), bx, bw)
    if best is None:
        return None
    _dist, text, bx, bw = best
    return segment_at(text, (x - bx) / bw if bw > 0 else 0.5)


BUTTON = re.compile(r"[^|\[\]]+")  # a row of buttons read as one line: OCR reads their borders as '|', '[' or ']'


def segment_at(text: str, where: float) -> str:
    """The part of a line at ``where`` (0-1 across it) when the line is a row of three or more buttons whose
    borders OCR read as '|', '[' or ']' ("not |land|| or || xor |ffrunc"); else the whole line."""
    spans = [m.span() for m in BUTTON.finditer(text) if m.group().strip()]
    if len(spans) < 3:
        return text
    at = min(max(where, 0.0), 1.0) * len(text)
    a, b = min(spans, key=lambda s: 0 if s[0] <= at < s[1] else min(abs(at - s[0]), abs(at - s[1])))
    return text[a:b].strip()


def change(before: FrameView | None, after: FrameView | None, limit: int = 12) -> Change:
    """New text lines, a new title and a dialog that appeared between two frames."""
    out = Change()
    if after is None or before is None:  # nothing to compare with: everything on screen would look new
        return out
    before_text = before.ocr_text if before is not None else ""
    seen = {norm(line) for line in before_text.splitlines()}
    everything = norm(before_text)
    for line in after.ocr_text.splitlines():
        line = line.strip()
        key = norm(line)
        if len(key) >= 2 and key not in seen and key not in everything and re.search(r"[A-Za-z0-9]{2}", line):
            seen.add(key)
            out.new_lines.append(line)
            if len(out.new_lines) >= limit:
                break
    b_title = before.title if before is not None else None
    if after.title and after.title != b_title:
        out.new_title = after.title
        if before is not None and (after.app or "") == (before.app or "") and b_title:
            out.dialog = after.title if not _same_document(b_title, after.title) else None
    return out


def _same_document(a: str, b: str) -> bool:
    """Two titles of one window ("*meeting.txt - Mousepad" → "meeting.txt - Mousepad")."""
    return norm(a).strip("*") in norm(b) or norm(b) in norm(a)


def actions(records: list[ActionRecord], frames: list[FrameView], events_on: str = "after") -> list[Action]:
    """Each action record with the views of its frames; ``events_on``: "before" for imported sessions, whose
    actions happened in the app of the screen they were taken on."""
    by_id = {f.id: i for i, f in enumerate(frames)}
    out = []
    for record in records:
        before = frames[by_id[record.before]] if record.before in by_id else None
        after = frames[by_id[record.after]] if record.after in by_id else None
        first, second = (before, after) if events_on == "before" else (after, before)
        app = frame_app(first) or frame_app(second)
        if isinstance(record.event, ev.AppSwitch) and record.event.to_app:
            app = app_name(record.event.to_app)
        out.append(Action(record, before, after, app, _next_title(frames, by_id, after)))
    return out


def _next_title(frames: list[FrameView], by_id: dict[int, int], after: FrameView | None) -> str | None:
    if after is None or after.id not in by_id:
        return None
    for frame in frames[by_id[after.id] + 1:]:
        if frame.title and frame.title != after.title:
            return frame.title
    return None


def command_lines(lines: list[str]) -> list[str]:
    """Commands typed at a shell prompt, from OCR lines ("user@host:~$ ls -la" → "ls -la")."""
    out = []
    for line in lines:
        m = PROMPT.match(line.strip())
        cmd = (m.group("cmd") or m.group("bare") or m.group("host") or "") if m else ""
        if re.search(r"[a-z]", cmd) and not CARET.match(cmd.strip()):
            out.append(_command_word(cmd.strip()))
    return out


# The text cursor (a block) at an empty prompt, read by OCR as one or two letters: "rootevm:~# If", "# ff"
CARET = re.compile(r"^[fIil|1!]{1,2}$")


# OCR reads a small font's 'l' as '1', 'I' or '|': "1s -la", "Is -la"
_MISREAD_L = str.maketrans({"1": "l", "I": "l", "|": "l"})


def _command_word(cmd: str) -> str:
    """The command with its first word as the program that exists on this machine, where OCR misread an 'l'
    ("1s -la" → "ls -la" when there is no program "1s" but there is "ls")."""
    word, _, rest = cmd.partition(" ")
    fixed = word.translate(_MISREAD_L)
    if fixed != word and not _program(word) and _program(fixed):
        return f"{fixed} {rest}".strip()
    return cmd


@functools.lru_cache(maxsize=512)
def _program(name: str) -> bool:
    return shutil.which(name) is not None


def printed(frame: FrameView | None, command: str, limit: int = 2) -> list[str]:
    """What a command printed: the lines under its prompt line on ``frame``, up to the next prompt (at most
    ``limit``). The command's line is the last prompt line whose command reads like ``command``."""
    if frame is None:
        return []
    lines = [line.strip() for line in frame.ocr_text.splitlines() if line.strip()]
    key = norm(command)
    at = None
    for i, line in enumerate(lines):
        found = command_lines([line])
        if found and difflib.SequenceMatcher(None, norm(found[0]), key).ratio() >= 0.9:
            at = i
    if at is None:
        return []
    out = []
    for line in lines[at + 1:]:
        if PROMPT.match(line) or NOT_TYPED.match(line) or len(out) >= limit:
            break
        out.append(line)
    return out


def file_names(*texts: str | None) -> list[str]:
    """File names in titles or screen text, first seen first ("meeting.txt - Mousepad" → ["meeting.txt"])."""
    out: list[str] = []
    for text in texts:
        for name in FILE_NAME.findall(text or ""):
            if not re.fullmatch(r"[\d.]+", name) and name not in out:
                out.append(name)
    return out
