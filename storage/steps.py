"""A description's steps, one row per step, keyed by the action (event) it stands for (migration 009).

Every step of a description revision is a row: its text, the event id of its action (None for a step that
stands for no action: "Looked at …" when nothing was done, or a line a person added), its author (``steps``:
the step writer, ``model:<file>``: a model, ``person``) and its evidence — what was acted on (``target``), the
text that appeared at the caret (``typed``, with ``text_source``: ``screen`` or ``keys``), what opened
(``opened``). A person's edit is a new description revision whose steps keep the event ids of the lines they
came from (:func:`align`): an edited line is a new revision of that step (``parent_id``), an unchanged one
is copied as it was. A step's ``flag`` (migration 012: ``wrong`` | ``redundant`` | None, set by the person in
the step review, storage/step_review.py) travels with it into every later revision.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

AUTHOR_STEPS = "steps"
AUTHOR_PERSON = "person"
FLAGS = ("wrong", "redundant")


def model_author(model: str) -> str:
    return f"model:{model}"


@dataclass(frozen=True)
class StepIn:
    """One step to store."""

    text: str
    event_id: int | None = None
    author: str = AUTHOR_STEPS
    evidence: dict[str, Any] = field(default_factory=dict)
    parent_id: int | None = None  # the stored step this one revises
    flag: str | None = None  # wrong | redundant (the person's mark), None: not flagged


def _row(text: str, base: dict[str, Any] | None) -> StepIn:
    """A person's line: a revision of ``base`` (keeps its action and evidence) when there is one."""
    if base is None:
        return StepIn(text, None, AUTHOR_PERSON)
    if text == base["text"]:
        return StepIn(text, base["event_id"], base["author"], base["evidence"], base["parent_id"], base.get("flag"))
    return StepIn(text, base["event_id"], AUTHOR_PERSON, base["evidence"], base["id"], base.get("flag"))


def copy(row: dict[str, Any]) -> StepIn:
    """A stored step copied unchanged into a new revision."""
    return StepIn(row["text"], row["event_id"], row["author"], row["evidence"], row["parent_id"], row.get("flag"))


def align(lines: Sequence[str], previous: Sequence[dict[str, Any]]) -> list[StepIn]:
    """A person's edited step lines as steps that keep the actions of the lines they came from.

    Unchanged lines are copied with their author; a changed line in place of another (the same count of lines
    replaced) revises that step; extra lines stand for no action; removed lines are gone from this revision.
    """
    old = [str(p["text"]) for p in previous]
    out: list[StepIn] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=list(lines), autojunk=False).get_opcodes():
        if op == "equal":
            out += [_row(lines[j], previous[i]) for i, j in zip(range(i1, i2), range(j1, j2))]
        elif op in ("replace", "insert"):
            bases = list(previous[i1:i2])
            out += [_row(lines[j], bases[k] if k < len(bases) else None) for k, j in enumerate(range(j1, j2))]
    return out


def insert(conn: Any, description_id: int, steps: Sequence[StepIn]) -> None:
    now = time.time()
    conn.executemany(
        "INSERT INTO steps (description_id, position, event_id, text, author, evidence, parent_id, created_ts, flag)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(description_id, i, s.event_id, s.text, s.author, json.dumps(s.evidence, ensure_ascii=False, sort_keys=True),
          s.parent_id, now, s.flag) for i, s in enumerate(steps)])


def of_descriptions(conn: Any, description_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The steps of each description, in order."""
    out: dict[int, list[dict[str, Any]]] = {d: [] for d in description_ids}
    if not description_ids:
        return out
    marks = ",".join("?" * len(description_ids))
    sql = ("SELECT id, description_id, position, event_id, text, author, evidence, parent_id, {flag} FROM steps"
           f" WHERE description_id IN ({marks}) ORDER BY description_id, position")
    try:
        try:
            rows = conn.execute(sql.format(flag="flag"), list(description_ids)).fetchall()
        except sqlite3.OperationalError as exc:  # before 012, opened read-only (not migrated): no flags
            if "no such column" not in str(exc):
                raise
            rows = conn.execute(sql.format(flag="NULL"), list(description_ids)).fetchall()
    except sqlite3.OperationalError as exc:  # a database from before 009, opened read-only (not migrated)
        if "no such table" in str(exc):
            return out
        raise
    for row in rows:
        sid, did, pos, event_id, text, author, evidence, parent, flag = row
        out[int(did)].append({"id": sid, "position": pos, "event_id": event_id, "text": text, "author": author,
                              "evidence": json.loads(evidence or "{}"), "parent_id": parent, "flag": flag})
    return out


def by_event(history: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """For each action, its step in the current revision, else in the latest revision that has one (a person
    who removed a line removed the text, not the action)."""
    out: dict[int, dict[str, Any]] = {}
    current = [d for d in history if d.get("is_current")]
    for desc in [*sorted(history, key=lambda d: d["revision"]), *current]:  # the current revision wins
        for step in desc.get("step_rows") or []:
            if step["event_id"] is not None:
                out[int(step["event_id"])] = step
    return out


def migrate_json_steps(conn: Any, pair: Any) -> None:
    """Migration 009's data step: the steps of descriptions written before it (a JSON list of texts) become
    rows. They are keyed to the episode's actions when there are as many steps as actions (how such steps
    were written: one per action), else to none. ``pair``: episode id → its actions (storage/actions.py)."""
    rows = conn.execute("SELECT id, episode_id, author, steps, created_ts FROM descriptions ORDER BY id").fetchall()
    actions: dict[int, list[Any]] = {}
    for did, episode_id, author, raw, created in rows:
        try:
            texts = [str(t) for t in json.loads(raw or "[]")]
        except ValueError:
            texts = []
        if episode_id not in actions:
            actions[episode_id] = pair(episode_id)
        acts = actions[episode_id]
        ids = [a.event_id for a in acts] if len(acts) == len(texts) else [None] * len(texts)
        who = AUTHOR_PERSON if author == "person" else AUTHOR_STEPS
        conn.executemany(
            "INSERT INTO steps (description_id, position, event_id, text, author, evidence, created_ts)"
            " VALUES (?, ?, ?, ?, ?, '{}', ?)",
            [(did, i, eid, text, who, created) for i, (eid, text) in enumerate(zip(ids, texts))])
