"""What a typing burst typed, read from the screen: the new line that fits its keys, and its settled reading.

Used by the step writer (:mod:`deskscribe.models.steps`) where keystroke text is not stored (the privacy
default): the screenshot already shows what was typed, at the caret.
"""

from __future__ import annotations

import difflib
import re

from deskscribe.models import evidence as evlib
from deskscribe.models.evidence import Action, Change, uncaret
from deskscribe.models.facts import FrameView


def typed_lines(ch: Change, after: FrameView | None, titles: set[str] = frozenset(),  # type: ignore[assignment]
                chars: int | None = None, before: FrameView | None = None) -> list[str]:
    """New lines that look like typed text: not a window title (of this or another window that came into
    view), not a shell prompt (a terminal behind the window), not a clock's time, not a lone symbol.

    With ``chars`` (the printable keys of the burst): the one line that fits that count best — a burst ends
    at Enter, so it typed into one line — cut to what was typed into it where the line was there before
    ("Contrast: 0" → "Contrast: 70": "70") or where an icon beside the field was read as a letter."""
    title = evlib.norm(after.title or "") if after is not None else ""
    lines = [line for line in ch.new_lines if len(evlib.norm(line)) >= 3 and evlib.norm(line) not in title
             and evlib.norm(line) not in titles and not evlib.command_lines([line])
             and not evlib.PROMPT.match(line.strip()) and not evlib.NOT_TYPED.match(line.strip())]
    lines = [uncaret(line) for line in lines]
    if chars is None:
        return lines
    old = before.ocr_text.splitlines() if before is not None else []
    cut = [_typed_part(line, old, chars) for line in lines]
    # what the keys typed is mostly still there (a few may have been corrections): at least 70 % of them
    fit = [(i, ln) for i, ln in enumerate(cut) if ln and 0.7 * chars <= len(ln) <= chars + 2]
    if not fit:
        return []
    # the closest to the count; of equals, the lowest on screen (where the caret usually is)
    return [min(fit, key=lambda p: (abs(len(p[1]) - chars), -p[0]))[1]]


def _typed_part(line: str, before: list[str], chars: int) -> str:
    """What of a new line was typed: the part inserted into the line most like it on the screen before, when
    that part fits the key count; a number without the decimals a field added ("65" shows as "65.00"); the
    line without short tokens at its start that make it longer than the keys typed (a search icon read as 'Q')."""
    line = line.strip()
    if len(line) > chars + 2:
        near = max(before, key=lambda b: difflib.SequenceMatcher(None, b, line).ratio(), default="")
        if near and difflib.SequenceMatcher(None, near, line).ratio() >= 0.6:
            diff = difflib.SequenceMatcher(None, near, line, autojunk=False)
            ops = [o for o in diff.get_opcodes() if o[0] != "equal"]
            added = line[ops[0][3]:ops[0][4]].strip() if len(ops) == 1 and ops[0][0] in ("insert", "replace") else ""
            if abs(len(added) - chars) <= 2 and sum(c.isalnum() for c in added) * 2 >= len(added) > 0:
                return added  # one run typed into the line, mostly letters and digits
    if len(line) > chars and re.fullmatch(r"\d+\.0+", line):
        return line.split(".")[0]
    words = line.split()
    while len(words) > 1 and len(" ".join(words)) > chars and len(words[0]) <= 2 \
            and len(" ".join(words[1:])) >= chars - 2:
        words.pop(0)
    return " ".join(words)


def later_frames(frames: list[FrameView], action: Action) -> list[FrameView]:
    """The episode's frames after the action's after frame, in the same app."""
    if action.after is None:
        return []
    ids = [f.id for f in frames]
    start = ids.index(action.after.id) + 1 if action.after.id in ids else len(frames)
    return [f for f in frames[start:] if f.app == action.after.app]


def settled(typed: str, command: bool, later: list[FrameView]) -> str:
    """Text read from the screen as the later frames show it, once the text cursor has left the line: on the
    after frame, taken the moment typing ended, the caret touches the last letter and OCR reads it as one
    ("ls -la" as "ls -lall", "milk" as "mitk"). The reading most frames agree on wins; a later reading that is
    longer is later typing, not this burst's. Of readings as many frames agree on, a command whose program
    exists here wins (`mv` over `my`: one frame read the small font's v as y), then the latest."""
    key = evlib.norm(typed)
    seen: list[str] = [typed]
    for frame in later:
        lines = frame.ocr_text.splitlines()
        alike = [(difflib.SequenceMatcher(None, evlib.norm(c), key).ratio(), c.strip())
                 for c in (evlib.command_lines(lines) if command else [uncaret(line) for line in lines])
                 if evlib.norm(c) and len(evlib.norm(c)) <= len(key)]
        best = max(alike, default=(0.0, ""), key=lambda a: a[0])  # the line most like it: `cat notes.txt`
        if best[0] >= 0.75:  # above reads 0.8 like `wc -w notes.txt`, which the frame shows too
            seen.append(best[1])
    def rank(text: str) -> tuple[int, bool]:
        return seen.count(text), command and evlib.is_program(text.split(" ", 1)[0])

    return max(reversed(seen), key=rank)  # of equal ranks, the latest (caret-free) reading
