"""Reviewing an episode step by step: each action with its step, and the person's changes to them.

Every change is a revision with history, as the description editor's are:
- :func:`edit_step` (a step's text) and :func:`flag_step` (``wrong`` | ``redundant`` | None) add a description
  revision by the person that copies the current one and revises that one step (``parent_id``); a text edit
  makes the person the step's author, a flag leaves the author of its text alone;
- :func:`trim` adds a row to ``episode_trims`` (migration 012): the first and last action the episode keeps
  (None: not trimmed on that side); the latest row is current, the earlier ones are its history.

:func:`kept` is the one rule for which actions a trim keeps (the review and export both read it).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from deskscribe.errors import DeskscribeError
from deskscribe.storage import steps as steplib
from deskscribe.storage.actions import ActionRecord, episode_actions
from deskscribe.storage.db import transaction
from deskscribe.storage.descriptions import add_description, current_description, description_history
from deskscribe.storage.frames import episode_frames


class StepReviewError(DeskscribeError, ValueError):
    """A change the step review cannot make (no description yet, a trim that keeps nothing)."""


@dataclass(frozen=True)
class Trim:
    start_event_id: int | None  # the first action kept (None: from the first)
    end_event_id: int | None  # the last action kept (None: to the last)


@dataclass(frozen=True)
class ReviewStep:
    """One action of an episode with its step, as the step review shows it."""

    record: ActionRecord
    text: str  # "" when no step was written for it yet
    author: str | None
    flag: str | None
    before: dict[str, Any] | None  # frame row: id, image_hash, width, height, monitor, ts, app
    after: dict[str, Any] | None
    kept: bool  # inside the episode's trim


def _index_of(records: Sequence[ActionRecord], event_id: int | None) -> int | None:
    if event_id is None:
        return None
    return next((i for i, r in enumerate(records) if event_id in r.event_ids), None)


def kept(records: Sequence[ActionRecord], trim: Trim | None) -> list[bool]:
    """For each action, whether the trim keeps it (an end whose action is gone trims nothing on that side)."""
    first = _index_of(records, trim.start_event_id) if trim else None
    last = _index_of(records, trim.end_event_id) if trim else None
    lo, hi = first if first is not None else 0, last if last is not None else len(records) - 1
    return [lo <= i <= hi for i in range(len(records))]


def current_trim(db: sqlite_utils.Database, episode_id: int) -> Trim | None:
    """The episode's current trim, None when it was never trimmed (or the database predates migration 012)."""
    try:
        row = db.conn.execute("SELECT start_event_id, end_event_id FROM episode_trims WHERE episode_id = ?"
                              " ORDER BY id DESC LIMIT 1", (episode_id,)).fetchone()
    except sqlite3.OperationalError as exc:  # opened read-only before migrating
        if "no such table" in str(exc):
            return None
        raise
    if row is None or (row[0] is None and row[1] is None):
        return None
    return Trim(row[0], row[1])


def trim_history(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    """Every trim of the episode, oldest first."""
    return list(db.query("SELECT * FROM episode_trims WHERE episode_id = ? ORDER BY id", [episode_id]))


def trim(db: sqlite_utils.Database, episode_id: int, start_event_id: int | None,
         end_event_id: int | None) -> Trim | None:
    """Keep only the actions from ``start_event_id`` to ``end_event_id`` (None: that side untrimmed); the
    first or last action itself counts as untrimmed. Returns the trim now current."""
    records = episode_actions(db, episode_id)
    lo, hi = _index_of(records, start_event_id), _index_of(records, end_event_id)
    if (start_event_id is not None and lo is None) or (end_event_id is not None and hi is None):
        raise StepReviewError(f"episode {episode_id} has no such action to trim at")
    if lo is not None and hi is not None and lo > hi:
        raise StepReviewError("that trim would keep no step: its start is after its end")
    start = records[lo].event_id if lo else None  # trimming at the first action trims nothing
    end = records[hi].event_id if hi is not None and hi < len(records) - 1 else None
    with transaction(db) as conn:
        conn.execute("INSERT INTO episode_trims (episode_id, start_event_id, end_event_id, author, created_ts)"
                     " VALUES (?, ?, ?, 'person', ?)", (episode_id, start, end, time.time()))
    return current_trim(db, episode_id)


def review_steps(db: sqlite_utils.Database, episode_id: int) -> list[ReviewStep]:
    """Each action of the episode, in time order, with its stored step (storage/steps.py ``by_event``), its
    before and after frames and whether the trim keeps it."""
    records = episode_actions(db, episode_id)
    stored = steplib.by_event(description_history(db, episode_id))
    frames = {f["id"]: f for f in episode_frames(db, episode_id)}
    inside = kept(records, current_trim(db, episode_id))
    out = []
    for record, keep in zip(records, inside):
        step = next((stored[i] for i in record.event_ids if i in stored), None) or {}
        out.append(ReviewStep(record, str(step.get("text") or ""), step.get("author"), step.get("flag"),
                              frames.get(record.before) if record.before is not None else None,
                              frames.get(record.after) if record.after is not None else None, keep))
    return out


def _revise(db: sqlite_utils.Database, episode_id: int, event_id: int,
            change: Callable[[dict[str, Any] | None], steplib.StepIn | None]) -> int | None:
    """A new person revision of the current description with the step of ``event_id``'s action replaced by
    ``change(its stored row)``; None (and nothing stored) when ``change`` returns None."""
    current = current_description(db, episode_id)
    if current is None:
        raise StepReviewError(f"episode {episode_id} has no description yet: describe it first")
    records = episode_actions(db, episode_id)
    at = _index_of(records, event_id)
    if at is None:
        raise StepReviewError(f"episode {episode_id} has no action {event_id}")
    ids = set(records[at].event_ids)
    rows = list(current["step_rows"])
    pos = next((i for i, r in enumerate(rows) if r["event_id"] in ids), None)
    old = rows[pos] if pos is not None else next(
        (s for i, s in steplib.by_event(description_history(db, episode_id)).items() if i in ids), None)
    new = change(old)
    if new is None:
        return None
    out = [steplib.copy(r) for r in rows]
    if pos is not None:
        out[pos] = new
    else:  # the current revision has no line for this action: it goes where its action is
        order = {e: i for i, r in enumerate(records) for e in r.event_ids}
        later = next((i for i, r in enumerate(rows) if order.get(r["event_id"], -1) > at), len(rows))
        out.insert(later, new)
    return add_description(db, episode_id, current["summary"], out, author="person",
                           instruction=current.get("instruction"))


def edit_step(db: sqlite_utils.Database, episode_id: int, event_id: int, text: str) -> int | None:
    """The person's text for one action's step; returns the new revision (None: the text did not change)."""
    text = " ".join(text.split())
    if not text:
        raise StepReviewError("the step is empty: write what was done, or mark the step wrong or redundant")

    def change(old: dict[str, Any] | None) -> steplib.StepIn | None:
        if old is None:
            return steplib.StepIn(text, event_id, steplib.AUTHOR_PERSON)
        if old["text"] == text:
            return None
        return steplib.StepIn(text, old["event_id"], steplib.AUTHOR_PERSON, old["evidence"], old["id"], old.get("flag"))

    return _revise(db, episode_id, event_id, change)


def flag_step(db: sqlite_utils.Database, episode_id: int, event_id: int, flag: str | None) -> int | None:
    """Mark one action's step ``wrong`` or ``redundant`` (None: no longer flagged); returns the new revision
    (None: it already had that flag)."""
    if flag is not None and flag not in steplib.FLAGS:
        raise ValueError(f"flag must be one of {steplib.FLAGS} or None, not {flag!r}")

    def change(old: dict[str, Any] | None) -> steplib.StepIn | None:
        if old is None:
            raise StepReviewError("this action has no step yet: write its text first (Enter)")
        if old.get("flag") == flag:
            return None
        return steplib.StepIn(old["text"], old["event_id"], old["author"], old["evidence"], old["id"], flag)

    return _revise(db, episode_id, event_id, change)
