"""What each action left on screen: the frames before and after it, and what changed between them.

Pure functions of frames (app, title, OCR text and boxes) and stored events, read only through
``storage.events.parse``. A step is written from this evidence (see :mod:`deskscribe.models.steps`), and a
description is checked against it (see :mod:`deskscribe.models.check`).

Which frames an event belongs to: capture stores a frame *after* the input that triggered it, so an event
linked to frame N happened between frame N-1 (before) and frame N (after). Imported sessions link each action
to the screen it was taken on (before), the next screen being the after frame. Events that carry their own
``before_frame_id`` / ``after_frame_id`` (migration 003) use those.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from deskscribe.models.facts import FrameView, app_from_text, app_from_title, app_name, ocr_title
from deskscribe.storage import events as ev

# A shell prompt followed by a command: "user@host:~/demo$ ls -la", "$ ls", "# apt update"; OCR often loses
# the colon ("root@vm/work/main#mkdir -p trip").
# A shell prompt and its command; OCR may put a space after the colon ("root@vm: ~# ls").
PROMPT = re.compile(r"^\S*@[^\s$#]*(?:\s[^\s$#@]+)?\s?[$#]\s?(?P<cmd>\S.*)?$|^[$#>]\s?(?P<bare>\S.*)?$")
# What changes on screen without typing: a bare prompt (its "$"/"#" lost by OCR), a clock's time of day.
NOT_TYPED = re.compile(r"^\S+@[\w.-]+:\s?\S*\s?[$#]?$|^\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?$")
# A file name a person would say: "meeting.txt", "notes.md", "photo.xcf".
FILE_NAME = re.compile(r"\b[\w][\w.-]*\.(?:[a-z][a-z0-9]{0,4})\b", re.I)


@dataclass
class Action:
    """One input event with the frames around it and the app it happened in."""

    event: ev.Event
    before: FrameView | None
    after: FrameView | None
    app: str | None
    ts: float = 0.0
    linked: int | None = None  # the frame the event row is linked to (two actions on one frame share it)
    next_title: str | None = None  # the first different window title after the after frame (a dialog closing)


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


def boxes_of(raw: str | None) -> list[tuple[str, int, int, int, int]]:
    """OCR boxes (text, x, y, w, h) from the stored JSON of migration 002; [] when absent or unreadable."""
    try:
        data = json.loads(raw) if raw else {}
        return [(str(b[0]), int(b[1]), int(b[2]), int(b[3]), int(b[4])) for b in data.get("boxes", [])]
    except (ValueError, TypeError, IndexError, AttributeError):
        return []


def line_at(frame: FrameView | None, x: int | None, y: int | None, slack: int = 6) -> str | None:
    """The OCR text under a point (the box containing it, else the nearest within ``slack`` px); in a row of
    buttons read as one line, the button under the point (see :func:`segment_at`)."""
    if frame is None or x is None or y is None or not frame.boxes:
        return None
    best: tuple[float, str, int, int] | None = None
    for text, bx, by, bw, bh in frame.boxes:
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


def change(before: FrameView | None, after: FrameView | None, limit: int = 4) -> Change:
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


def pair_events(frames: list[FrameView], events_on: str = "after") -> list[Action]:
    """Every parseable event of the episode with its before/after frames, in time order.

    ``events_on`` says which frame an event row is linked to when it carries no frame ids of its own:
    "after" (live capture) or "before" (imported sessions).
    """
    by_id = {f.id: i for i, f in enumerate(frames)}
    actions: list[Action] = []
    for i, frame in enumerate(frames):
        for row in frame.events:
            event = ev.parse(row["kind"], row.get("details"))
            if event is None:
                continue
            before, after = _frames_for(frames, by_id, i, row, events_on)
            app = frame_app(after if events_on == "after" else before) or frame_app(before) or frame_app(after)
            if isinstance(event, ev.AppSwitch) and event.to_app:
                app = app_name(event.to_app)
            actions.append(Action(event, before, after, app, float(row.get("ts") or frame.ts), frame.id,
                                  _next_title(frames, by_id, after)))
    _end_bursts_at_their_action(sorted(actions, key=lambda a: a.ts))
    return merge_bursts(actions)


def _end_bursts_at_their_action(actions: list[Action]) -> None:
    """A burst of typing ended by an action (Ctrl+S) shows its text on the screen just before that action, not
    after it: capture can link the burst to the frame the action produced (the Save As dialog), so the burst's
    after frame becomes the action's before frame when that one lies between the burst's two frames."""
    for action, nxt in zip(actions, actions[1:]):
        event = action.event
        if not (isinstance(event, ev.Keys) and event.ended_by == "action"):
            continue
        before, after, mid = action.before, action.after, nxt.before
        if before is not None and after is not None and mid is not None and before.ts < mid.ts < after.ts:
            action.after = mid


def _next_title(frames: list[FrameView], by_id: dict[int, int], after: FrameView | None) -> str | None:
    if after is None or after.id not in by_id:
        return None
    for frame in frames[by_id[after.id] + 1:]:
        if frame.title and frame.title != after.title:
            return frame.title
    return None


def _frames_for(frames: list[FrameView], by_id: dict[int, int], i: int, row: dict[str, Any],
                events_on: str) -> tuple[FrameView | None, FrameView | None]:
    b_id, a_id = row.get("before_frame_id"), row.get("after_frame_id")
    if b_id in by_id or a_id in by_id:
        return (frames[by_id[b_id]] if b_id in by_id else None, frames[by_id[a_id]] if a_id in by_id else None)
    if events_on == "before":
        return frames[i], frames[i + 1] if i + 1 < len(frames) else None
    return (frames[i - 1] if i > 0 else None), frames[i]


def merge_bursts(actions: list[Action]) -> list[Action]:
    """A burst of typing followed at once by a lone Enter (capture splits bursts on a pause) is one action."""
    out: list[Action] = []
    for action in actions:
        prev = out[-1] if out else None
        event = action.event
        if (prev is not None and isinstance(event, ev.Keys) and isinstance(prev.event, ev.Keys)
                and prev.app == action.app and _only_enter(event) and not _has_enter(prev.event)):
            merged = ev.Keys(prev.event.count + event.count, {**prev.event.special, **event.special}, "enter")
            out[-1] = Action(merged, prev.before, action.after, action.app, prev.ts, prev.linked, action.next_title)
        else:
            out.append(action)
    return out


def _has_enter(keys: ev.Keys) -> bool:
    return any(k.lower() in ("enter", "return", "kp_enter") for k in keys.special) or keys.ended_by == "enter"


def _only_enter(keys: ev.Keys) -> bool:
    return _has_enter(keys) and keys.count <= sum(keys.special.values())


def command_lines(lines: list[str]) -> list[str]:
    """Commands typed at a shell prompt, from OCR lines ("user@host:~$ ls -la" → "ls -la")."""
    out = []
    for line in lines:
        m = PROMPT.match(line.strip())
        cmd = (m.group("cmd") or m.group("bare") or "") if m else ""
        if re.search(r"[a-z]", cmd):
            out.append(cmd.strip())
    return out


def file_names(*texts: str | None) -> list[str]:
    """File names in titles or screen text, first seen first ("meeting.txt - Mousepad" → ["meeting.txt"])."""
    out: list[str] = []
    for text in texts:
        for name in FILE_NAME.findall(text or ""):
            if not re.fullmatch(r"[\d.]+", name) and name not in out:
                out.append(name)
    return out
