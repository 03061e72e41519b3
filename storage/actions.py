"""The record of one action: an input event with the frames before and after it — the one read model of an
episode's actions that describe, the review window and export all read.

:func:`pair_actions` is the one pairing of events with frames (a pure function with its own tests);
:func:`episode_actions` reads an episode and applies it. Nothing else pairs events with frames.

Which frames an action has:
- an event that carries its own ``before_frame_id`` / ``after_frame_id`` (capture since migration 003,
  and every database after ``010_burst_after_frame``) uses those;
- otherwise an event *captured live* was stored with the frame its input triggered, so it happened between
  the previous frame of its monitor (before) and that frame (after); an *imported* action was recorded on
  the screen it is linked to (before), the next screen being its after frame.

Two stored rows may be one action: a typing burst and the text typed in it (``text`` rows exist only when
the person opted in to storing typed text) are one record whose ``typed`` is that text; a burst followed at
once by a lone Enter (capture splits bursts on a pause) is one burst that ended with Enter.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from deskscribe.storage import events as ev

ENTER_KEYS = frozenset({"enter", "return", "kp_enter"})


@dataclass(frozen=True)
class ActionRecord:
    """One action of an episode, in time order."""

    event_id: int  # the event row that started it: steps, edits and export steps are keyed by it
    kind: str  # the event kind (storage/events.py)
    ts: float
    event: ev.Event
    monitor: int | None
    before: int | None  # frame id: the screen just before the action
    after: int | None  # frame id: the screen once it ended (None: no later frame)
    typed: str | None = None  # the keystroke text, only where the person opted in to storing it
    merged: tuple[int, ...] = ()  # the other event rows this record stands for (an Enter, the text row)

    @property
    def event_ids(self) -> tuple[int, ...]:
        return (self.event_id, *self.merged)

    @property
    def point(self) -> tuple[int, int] | None:
        return ev.point(self.event)

    @property
    def element(self) -> ev.Element | None:
        element = getattr(self.event, "element", None)
        return element if isinstance(element, ev.Element) else None

    @property
    def enter(self) -> bool:
        """A typing burst that ended with Enter."""
        e = self.event
        return isinstance(e, ev.Keys) and (e.ended_by == "enter" or any(k.lower() in ENTER_KEYS for k in e.special))

    @property
    def characters(self) -> int:
        """Printable keys of a typing burst (its count less the special keys); 0 for other actions."""
        e = self.event
        return max(e.count - sum(e.special.values()), 0) if isinstance(e, ev.Keys) else 0


def _frame_for(frames: Sequence[Mapping[str, Any]], index: Mapping[int, int], row: Mapping[str, Any],
               events_on: str) -> tuple[int | None, int | None]:
    """(before, after) frame ids of one event row; see the module docstring."""
    b_id, a_id = row.get("before_frame_id"), row.get("after_frame_id")
    if b_id in index or a_id in index:
        return (b_id if b_id in index else None), (a_id if a_id in index else None)
    linked = row.get("frame_id")
    monitor = row.get("monitor")
    same = [f for f in frames if monitor is None or f.get("monitor") is None or f["monitor"] == monitor] or list(frames)
    ids = [f["id"] for f in same]
    if linked not in index:  # no frame link: by time on its monitor
        before = next((f["id"] for f in reversed(same) if f["ts"] <= row["ts"]), None)
        after = next((f["id"] for f in same if f["ts"] > row["ts"]), None)
        return before, after
    if linked not in ids:  # linked to another monitor's frame
        return (linked, None) if events_on == "before" else (None, linked)
    pos = ids.index(linked)
    if events_on == "before":
        return linked, ids[pos + 1] if pos + 1 < len(ids) else None
    return (ids[pos - 1] if pos > 0 else None), linked


def _app_of(frames: Mapping[int, Mapping[str, Any]], record: ActionRecord) -> str | None:
    for fid in (record.after, record.before):
        frame = frames.get(fid) if fid is not None else None
        if frame is not None and frame.get("app"):
            return str(frame["app"])
    return None


def _only_enter(e: ev.Keys) -> bool:
    return any(k.lower() in ENTER_KEYS for k in e.special) and e.count <= sum(e.special.values())


def _joins(prev: ActionRecord, nxt: ActionRecord, frames: Mapping[int, Mapping[str, Any]]) -> bool:
    """A lone Enter right after a burst that had none (capture split them on a pause), in the same app."""
    a, b = prev.event, nxt.event
    return (isinstance(a, ev.Keys) and isinstance(b, ev.Keys) and _only_enter(b) and not prev.enter
            and _app_of(frames, prev) == _app_of(frames, nxt))


def _merge_enter(prev: ActionRecord, nxt: ActionRecord) -> ActionRecord:
    a, b = prev.event, nxt.event
    assert isinstance(a, ev.Keys) and isinstance(b, ev.Keys)
    keys = ev.Keys(a.count + b.count, {**a.special, **b.special}, "enter")
    typed = (prev.typed or "") + (nxt.typed or "") if prev.typed is not None or nxt.typed is not None else None
    return replace(prev, event=keys, after=nxt.after or prev.after, typed=typed,
                   merged=(*prev.merged, *nxt.event_ids))


def _text(record: ActionRecord) -> str:
    return record.event.text if isinstance(record.event, ev.Text) else ""


def _with_text(records: list[ActionRecord]) -> list[ActionRecord]:
    """Each opted-in text row joins the typing burst stored beside it (the one before it, else the one after
    it); a text row with no burst beside it stays an action of its own."""
    out: list[ActionRecord] = []
    waiting: ActionRecord | None = None  # a text row stored before its burst
    for record in records:
        if isinstance(record.event, ev.Text):
            prev = out[-1] if out else None
            if prev is not None and isinstance(prev.event, ev.Keys) and prev.typed is None:
                out[-1] = replace(prev, typed=_text(record), merged=(*prev.merged, record.event_id))
                continue
            if waiting is not None:
                out.append(replace(waiting, typed=_text(waiting)))
            waiting = record
            continue
        if waiting is not None:
            if isinstance(record.event, ev.Keys):
                record = replace(record, typed=_text(waiting), merged=(*record.merged, waiting.event_id))
            else:
                out.append(replace(waiting, typed=_text(waiting)))
            waiting = None
        out.append(record)
    if waiting is not None:
        out.append(replace(waiting, typed=_text(waiting)))
    return out


def pair_actions(frames: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]],
                 events_on: str = "after") -> list[ActionRecord]:
    """The actions of one episode from its frames (``id``, ``ts``, ``monitor``, ``app``; time order) and its
    event rows (``id``, ``frame_id``, ``ts``, ``kind``, ``details``, ``before_frame_id``, ``after_frame_id``,
    ``monitor``; time order). ``events_on``: "after" (captured live) or "before" (imported); see the module
    docstring. Rows outside the event vocabulary are left out."""
    index = {int(f["id"]): i for i, f in enumerate(frames)}
    by_id = {int(f["id"]): f for f in frames}
    records: list[ActionRecord] = []
    for row in events:
        details = row.get("details")
        event = ev.parse(str(row["kind"]), json.loads(details) if isinstance(details, str) else details)
        if event is None:
            continue
        before, after = _frame_for(frames, index, row, events_on)
        monitor = row.get("monitor") if row.get("monitor") is not None else getattr(event, "monitor", None)
        records.append(ActionRecord(int(row["id"]), event.kind, float(row["ts"]), event, monitor, before, after))
    out: list[ActionRecord] = []
    for record in _with_text(records):
        if out and _joins(out[-1], record, by_id):
            out[-1] = _merge_enter(out[-1], record)
        else:
            out.append(record)
    return out


def events_on(source: str | None) -> str:
    """Which frame an episode's event rows are linked to: imports link the screen each action was taken on."""
    return "before" if source == "import" else "after"


def episode_actions(db: sqlite_utils.Database, episode_id: int) -> list[ActionRecord]:
    """The actions of one stored episode, in time order (see :func:`pair_actions`)."""
    return actions_of(db.conn, episode_id)


def actions_of(conn: sqlite3.Connection, episode_id: int) -> list[ActionRecord]:
    """:func:`episode_actions` on a bare connection (migrations use it)."""
    row = conn.execute("SELECT source FROM episodes WHERE id = ?", (episode_id,)).fetchone()
    if row is None:
        return []
    frames = [{"id": r[0], "ts": r[1], "monitor": r[2], "app": r[3]} for r in conn.execute(
        "SELECT id, ts, monitor, app FROM frames WHERE episode_id = ? ORDER BY ts, id", (episode_id,))]
    cols = ("id", "frame_id", "ts", "kind", "details", "before_frame_id", "after_frame_id", "monitor")
    rows = [dict(zip(cols, r)) for r in conn.execute(
        f"SELECT {', '.join(cols)} FROM events WHERE episode_id = ? ORDER BY ts, id", (episode_id,))]
    return pair_actions(frames, rows, events_on(row[0]))
