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
from collections.abc import Callable
from dataclasses import dataclass, field

from deskscribe.models import pixels, readable
from deskscribe.models.facts import FrameView, app_from_text, app_from_title, app_name, ocr_title
from deskscribe.storage import events as ev
from deskscribe.storage.actions import ActionRecord
from deskscribe.storage.boxes import TextBox, words_of

# A shell prompt followed by a command: "user@host:~/demo$ ls -la", "$ ls", "# apt update"; OCR often loses
# the colon ("root@vm/work/main#mkdir -p trip").
# A shell prompt and its command; OCR may put a space after the colon ("root@vm: ~# ls").
PROMPT = re.compile(r"^\S*@[^\s$#]*(?:\s[^\s$#@]+)?\s?[$#]\s?(?P<cmd>\S.*)?$|^[$#>]\s?(?P<bare>\S.*)?$"
                    r"|^\w+:[^\s$#@]*\s?[$#]\s?(?P<host>\S.*)?$"  # "rootbox:~/work# ls": OCR lost the '@'
                    r"|^\S+@[\w.-]+[:;]\S*@\s(?P<hash>\S.*)$")  # 'root@vm:"@ mkdir': a small font's '#' read as '@'
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
    patch: pixels.Patch | None = None  # the before frame's pixels around a click's or a drag's point

    @property
    def event(self) -> ev.Event:
        return self.record.event

    @property
    def point(self) -> tuple[int | None, int | None]:
        """Where a click or a drag (its start) hit; (None, None) for other actions."""
        event = self.event
        if isinstance(event, ev.Click):
            return event.x, event.y
        return getattr(event, "x1", None), getattr(event, "y1", None)

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


# Words of one row are one item when the gap between them is at most ITEM_GAP times the row's letter height (a
# capital's or an ascender's: words with one, by the engine's word boxes). Measured on the dev set (1024×768,
# 2026-12-05, Tesseract word boxes): spaces inside a label, a title or a sentence 4-7 px at letter heights
# 8-11 px (0.4-0.8, 'Save As', 'sales data.ods' 0.88); between GTK menu items 12-18 px (GIMP 'Select View' 1.09,
# LibreOffice 'File Edit' 1.5), between spreadsheet columns 1.0-2.2, toolbar items 1.8 and more. xterm's 6×13
# font spaces words by one cell (~7 px ink gap at 9 px capitals, 0.8) and columns by two or more (1.5).
ITEM_GAP = 0.95
ASCENDING = re.compile(r"[A-Zbdfhklt0-9]")


@dataclass(frozen=True)
class Item:
    """What a person sees as one thing on a row (a menu, a button label, a cell, a file name) with its box."""

    text: str
    x: int
    y: int
    w: int
    h: int

    def holds(self, x: int, y: int, slack: int = 0) -> bool:
        return self.x - slack <= x <= self.x + self.w + slack and self.y - slack <= y <= self.y + self.h + slack


def items(box: TextBox) -> list[Item]:
    """A row's items: its words grouped by the gaps between them (see ITEM_GAP). A row whose words the engine
    did not place (``rapidocr``, boxes stored before) has no measured gaps: it is one item, or its buttons
    when OCR read their borders (:func:`segment_at`)."""
    words = words_of(box)
    if not words:
        return []
    if not box.words:
        return [Item(box.text.strip(), box.x, box.y, box.w, box.h)]
    tall = sorted(w.h for w in words if ASCENDING.search(w.text))
    height = tall[len(tall) // 2] if tall else box.h * 0.75
    groups = [[words[0]]]
    for prev, word in zip(words, words[1:]):
        if word.x - (prev.x + prev.w) > ITEM_GAP * height:
            groups.append([])
        groups[-1].append(word)
    return [Item(" ".join(w.text for w in g), g[0].x, box.y, g[-1].x + g[-1].w - g[0].x, box.h) for g in groups]


ROW_REACH = 10  # a click on a row's empty part (a menu or list row, a field) names the row's item this many
# letter heights away at most ('Bookmarks' 6 h left of a click on its menu row, 'Bing' 8.6 h in a bookmark list)
LABEL_BELOW = 48  # px under an icon where its label may start (a desktop icon's file name: 25-35 px at 1024×768)


def item_at(frame: FrameView | None, x: int | None, y: int | None, slack: int = 6,
            patch: pixels.Patch | None = None) -> Item | None:
    """The item under a point, cut to the part that reads as text (models/readable.py): the item holding the
    point (else the nearest within ``slack`` px); else, on the row through the point, its nearest item within
    ``ROW_REACH`` letter heights (a menu or list row, a field clicked beside its text); else the label just
    under the point (a desktop icon's file name); else, from the frame's pixels around the point (``patch``),
    the first line of text inside the element there (:func:`in_element`). None when no text a person reads
    is there."""
    if frame is None or x is None or y is None or not frame.boxes:
        return None
    found = _readable_items(frame.boxes, x, y)
    near = [(d, i) for d, i in found if d <= slack]
    row = [(d, i) for d, i in found if i.y - 3 <= y <= i.y + i.h + 3 and d <= ROW_REACH * i.h]
    label = [(i.y - y, i) for _d, i in found if 0 < i.y - y <= LABEL_BELOW and len(i.text.split()) <= 4
             and abs(i.x + i.w / 2 - x) <= i.w / 4 + 10]  # centred under the point, as icons' labels are
    for choice in (near, row, label):
        if choice:
            return min(choice, key=lambda c: c[0])[1]
    return in_element(found, patch, x, y)


def in_element(found: list[tuple[float, Item]], patch: pixels.Patch | None, x: int, y: int) -> Item | None:
    """The text naming the element under a point that has no text of its own (a list entry clicked right of
    its two lines, a button beside its label): the element is the region of the point's background colour
    (:func:`pixels.region_at`); the text on the point's row inside it, else its first line of text, that
    line's item nearest the point. None when the
    point is on an icon (an icon names nothing by the text beside it) or on no bounded element."""
    if patch is None or pixels.icon_at(patch, x, y) is not None:
        return None
    box = pixels.region_at(patch, x, y)
    if box is None:
        return None
    inside = [(d, i) for d, i in found if box.holds(i.x, i.y) and box.holds(i.x + i.w, i.y + i.h)]
    if not inside:
        return None
    level = [(d, i) for d, i in inside if i.y - 2 <= y <= i.y + i.h + 2]  # a menu's item on the point's row,
    if level:  # not the first of its group (the region runs from one separator to the next: Cut, Copy, Paste)
        return min(level, key=lambda c: c[0])[1]
    top = min(i.y for _d, i in inside)
    first = [(d, i) for d, i in inside if i.y < top + min(i.h for _d, i in inside) / 2]
    return min(first, key=lambda c: c[0])[1]


def _readable_items(boxes: list[TextBox], x: int, y: int) -> list[tuple[float, Item]]:
    """Every item that reads as text with its distance from the point."""
    out = []
    for box in boxes:
        for item in items(box):
            text = readable.reading_part(segment_at(item.text, (x - item.x) / item.w if item.w > 0 else 0.5))
            if text:
                dx = max(item.x - x, 0, x - (item.x + item.w))
                dy = max(item.y - y, 0, y - (item.y + item.h))
                out.append(((dx * dx + dy * dy) ** 0.5, Item(text, item.x, item.y, item.w, item.h)))
    return out


def noise_at(frame: FrameView | None, x: int | None, y: int | None, slack: int = 6) -> bool:
    """Something was read at the point that is not text (an icon OCR read as 'Oo' or 'bd')."""
    if frame is None or x is None or y is None:
        return False
    return any(b.x - slack <= x <= b.x + b.w + slack and b.y - slack <= y <= b.y + b.h + slack for b in frame.boxes)


def menu_below(item: Item, before: FrameView | None, after: FrameView | None) -> bool:
    """The clicked item is one of a bar of three or more items (a menu bar) and two or more new lines are
    stacked just under it, starting near its left edge: the menu it opened (GTK, Qt and browser menus drop
    down under their title). A dialog's lines under a menu's entry are no menu."""
    if before is None or after is None or item.text.endswith(("...", "…")):  # an ellipsis: it opens a dialog
        return False
    bar = [i for b in before.boxes if abs(b.y + b.h / 2 - (item.y + item.h / 2)) < item.h / 2 for i in items(b)]
    if len(bar) < 3:
        return False
    old = {norm(b.text) for b in before.boxes}
    new = sorted((b for b in after.boxes if norm(b.text) not in old and readable.reading_part(b.text)
                  and item.x - 3 * item.h <= b.x <= item.x + 6 * item.h and b.y > item.y + item.h / 2),
                 key=lambda b: b.y)
    stack: list[TextBox] = []
    for b in new:
        top = stack[-1].y + stack[-1].h if stack else item.y + item.h
        if b.y - top > 4 * item.h:
            break
        stack.append(b)
    return len(stack) >= 2


BUTTON = re.compile(r"[^|\[\]]+")  # a row of buttons read as one line: OCR reads their borders as '|', '[' or ']'


def segment_at(text: str, where: float) -> str:
    """The part of an item at ``where`` (0-1 across it) when it is a row of three or more buttons whose borders
    OCR read as '|', '[' or ']' ("not |land|| or || xor |ffrunc"); else the whole item."""
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
            out.dialog = after.title if not _same_document(b_title, after.title) \
                and not _main_window(after.title, after.app) else None
    return out


def _main_window(title: str, app: str | None) -> bool:
    """An app's own window, titled "<document> - <App>" (a dialog closing back onto it opened nothing)."""
    return bool(app) and bool(re.search(rf"\s[-–—]\s*{re.escape(app or '')}$", title, re.I))


def _same_document(a: str, b: str) -> bool:
    """Two titles of one window ("*meeting.txt - Mousepad" → "meeting.txt - Mousepad")."""
    return norm(a).strip("*") in norm(b) or norm(b) in norm(a)


def actions(records: list[ActionRecord], frames: list[FrameView], events_on: str = "after",
            image: Callable[[str], bytes] | None = None) -> list[Action]:
    """Each action record with the views of its frames; ``events_on``: "before" for imported sessions, whose
    actions happened in the app of the screen they were taken on; ``image``: a frame's encoded bytes by its
    image hash, for the pixels around each click's point (:func:`pixels.crop`, one crop per click)."""
    by_id = {f.id: i for i, f in enumerate(frames)}
    out = []
    for record in records:
        before = frames[by_id[record.before]] if record.before in by_id else None
        after = frames[by_id[record.after]] if record.after in by_id else None
        first, second = (before, after) if events_on == "before" else (after, before)
        app = frame_app(first) or frame_app(second)
        if isinstance(record.event, ev.AppSwitch) and record.event.to_app:
            app = app_name(record.event.to_app)
        action = Action(record, before, after, app, _next_title(frames, by_id, after))
        x, y = action.point
        if image is not None and before is not None and x is not None and y is not None:
            action.patch = pixels.crop(image(before.image_hash), x, y)
        out.append(action)
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
        cmd = (m.group("cmd") or m.group("bare") or m.group("host") or m.group("hash") or "") if m else ""
        if re.search(r"[a-z]", cmd) and not CARET.match(cmd.strip()):
            out.append(_command_word(uncaret(cmd)))
    return out


# The text cursor (a block) at an empty prompt, read by OCR as one or two letters: "rootevm:~# If", "# ff"
CARET = re.compile(r"^[fIil|1!]{1,2}$")
_CLOSES = {"]": "[", "}": "{"}


def uncaret(line: str) -> str:
    """A typed line without the text cursor OCR read as a bar at its start or end ("|Shopping list"), or as a
    bracket that closes nothing ("agenda.txt]": the caret touching the last letter of a dialog's name field; "{"
    at a line's end that nothing closes, "errands.txt{"). A command ends with no '|' either: a pipe to nothing."""
    text = line.strip().strip("|").strip()
    for close, opening in _CLOSES.items():
        if text.endswith(close) and opening not in text:
            text = text[:-1].rstrip()
        if text.startswith(opening) and close not in text:
            text = text[1:].lstrip()
    if text.endswith("{") and "}" not in text:
        text = text[:-1].rstrip()
    return text or line


# OCR reads a small font's 'l' as '1', 'I' or '|' ("1s -la", "Is -la"), its 'c' as 'o' or 'e' ("wo -w", "we -l")
_MISREAD = {"1": "l", "I": "l", "|": "l", "o": "c", "e": "c", "0": "o"}
_ALL_L = str.maketrans("1I|", "lll")
# a small font's '.' read as ',' inside a file name ("notes,txt"): only before an extension files have
_NAME_COMMA = re.compile(r"(?<=\w),(?=(?:txt|md|py|sh|json|csv|tsv|log|conf|cfg|ini|toml|yaml|yml|xml|html?|css|js"
                         r"|c|h|cpp|rs|go|java|jpe?g|png|gif|svg|pdf|odt|ods|docx?|xlsx?|zip|tar|gz)\b)")


def _command_word(cmd: str) -> str:
    """The command with its first word as the program that exists on this machine where OCR misread one
    letter of it ("1s -la" → "ls -la", "wo -w" → "wc -w": there is no program "1s" or "wo", and exactly one
    way of reading the misread letter back names one that exists), and a file name's '.' read as ','
    put back ("notes,txt" → "notes.txt")."""
    cmd = _NAME_COMMA.sub(".", cmd)
    word, _, rest = cmd.partition(" ")
    if not word or is_program(word):
        return cmd
    fixes = {word.translate(_ALL_L)}  # every misread l at once ("1I" → "ll")
    fixes |= {word[:i] + _MISREAD[c] + word[i + 1:] for i, c in enumerate(word) if c in _MISREAD}
    found = sorted(f for f in fixes if f != word and is_program(f))
    return f"{found[0]} {rest}".strip() if len(found) == 1 else cmd


@functools.lru_cache(maxsize=512)
def is_program(name: str) -> bool:
    """A program of that name is on PATH here."""
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
    prompt = lines[at][: max(0, len(lines[at]) - len(command))].strip()  # "root@vm:~/demo#"
    out: list[str] = []
    for line in lines[at + 1:]:
        if PROMPT.match(line) or NOT_TYPED.match(line) or len(out) >= limit or _like_prompt(line, prompt):
            break
        if readable.reads_as_text(line):  # only text a person reads is quoted (an icon beside it is not)
            out.append(_NAME_COMMA.sub(".", line))  # "notes,txt": a small font's '.' before an extension
    return out


def _like_prompt(line: str, prompt: str) -> bool:
    """The next prompt as OCR garbled it beside the text cursor ("root@um:*/denot lf" for "root@vm:~/demo#")."""
    head = line[: len(prompt)]
    return len(prompt) >= 4 and difflib.SequenceMatcher(None, norm(head), norm(prompt)).ratio() >= 0.6


def file_names(*texts: str | None) -> list[str]:
    """File names in titles or screen text, first seen first ("meeting.txt - Mousepad" → ["meeting.txt"])."""
    out: list[str] = []
    for text in texts:
        for name in FILE_NAME.findall(text or ""):
            if not re.fullmatch(r"[\d.]+", name) and name not in out:
                out.append(name)
    return out
