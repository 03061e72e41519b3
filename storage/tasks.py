"""Task mode: a task the person names, whose span (start..finish) is exactly one episode, and quick notes.

The CLI and the tray never write capture's tables: they leave one request in the ``kv`` table (``send``); the
running capture process reads it within one window check, its writer thread applies it (ending the episode
at start and finish, see capture/taskmode.py) and leaves the reply (``wait_reply``). Tables: migration 011.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from deskscribe.errors import DeskscribeError
from deskscribe.storage import state
from deskscribe.storage.db import transaction
from deskscribe.storage.descriptions import add_instruction

REQUEST = "task.request"  # JSON Request, written by the CLI / tray, removed by capture's writer
REPLY = "task.reply"  # JSON {"id", "ok", "message"}, written by capture's writer
OPS = ("start", "finish", "cancel", "note")
OUTCOMES = ("done", "gave_up")
REPLY_TIMEOUT_S = 15.0


class TaskError(DeskscribeError):
    """A task command capture cannot carry out (no capture running, no task running, …)."""


@dataclass(frozen=True)
class Request:
    id: str
    op: str
    text: str = ""
    outcome: str | None = None
    ts: float = 0.0


# --- the request channel (kv) -----------------------------------------------------------------------------
def send(db: sqlite_utils.Database, op: str, text: str = "", outcome: str | None = None) -> str:
    """Leave a request for the running capture; returns its id. Refused when capture is not running."""
    if op not in OPS:
        raise ValueError(f"unknown task op {op!r}")
    if state.capture_status(db)["state"] == "stopped":
        raise TaskError("capture is not running: start it with `deskscribe capture` or the tray, then try again")
    if op in ("start", "note") and not text.strip():
        raise TaskError(f"the {'task' if op == 'start' else 'note'} is empty: say it in a few words")
    req = Request(uuid.uuid4().hex, op, text.strip(), outcome, time.time())
    state.put(db, REQUEST, json.dumps(req.__dict__))
    return req.id


def pending(db: sqlite_utils.Database) -> Request | None:
    raw = state.get(db, REQUEST)
    if not raw:
        return None
    try:
        return Request(**json.loads(raw))
    except (TypeError, ValueError):
        return None


def reply(db: sqlite_utils.Database, request_id: str, ok: bool, message: str) -> None:
    """The writer's answer; the request is taken away in the same transaction."""
    with transaction(db):
        raw = state.get(db, REQUEST)
        if raw and json.loads(raw).get("id") == request_id:
            state.put(db, REQUEST, None)
        state.put(db, REPLY, json.dumps({"id": request_id, "ok": ok, "message": message}))


def answer(db: sqlite_utils.Database, request_id: str) -> tuple[bool, str] | None:
    """The reply to ``request_id`` once capture has written it, else None."""
    raw = state.get(db, REPLY)
    if not raw:
        return None
    got = json.loads(raw)
    return (bool(got["ok"]), str(got["message"])) if got.get("id") == request_id else None


def ask(db: sqlite_utils.Database, op: str, text: str = "", outcome: str | None = None,
        timeout: float = REPLY_TIMEOUT_S) -> str:
    """Send a request and wait for capture's answer; its message, or TaskError with the reason."""
    request_id = send(db, op, text, outcome)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = answer(db, request_id)
        if got is not None:
            if not got[0]:
                raise TaskError(got[1])
            return got[1]
        time.sleep(0.05)  # polling another process's reply (not a test)
    with transaction(db):
        if (current := pending(db)) is not None and current.id == request_id:
            state.put(db, REQUEST, None)  # never applied later by surprise
    raise TaskError(f"capture did not answer within {timeout:.0f} s: is it paused or stuck? "
                    "(see `deskscribe status`)")


# --- the tasks and notes (written by capture's writer thread) -----------------------------------------------
def running(db: sqlite_utils.Database) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM tasks WHERE finished_ts IS NULL ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def start(db: sqlite_utils.Database, text: str, ts: float) -> int:
    cur = db.conn.execute("INSERT INTO tasks (text, started_ts) VALUES (?, ?)", (text, ts))
    return int(cur.lastrowid or 0)


def attach(db: sqlite_utils.Database, task_id: int, episode_id: int) -> None:
    db.conn.execute("UPDATE tasks SET episode_id = ? WHERE id = ? AND episode_id IS NULL", (episode_id, task_id))


def finish(db: sqlite_utils.Database, task_id: int, ts: float, outcome: str | None) -> int | None:
    """Close the task; its text becomes its episode's instruction (author person). Returns the episode."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    with transaction(db) as conn:
        row = conn.execute("SELECT episode_id, text FROM tasks WHERE id = ?", (task_id,)).fetchone()
        conn.execute("UPDATE tasks SET finished_ts = ?, outcome = ? WHERE id = ?", (ts, outcome, task_id))
        if row is None or row[0] is None:
            return None
        add_instruction(db, int(row[0]), str(row[1]), author="person")
        return int(row[0])


def cancel(db: sqlite_utils.Database, task_id: int) -> None:
    """Forget the marks; the episode and what was captured stay."""
    db.conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))


def close_left_open(db: sqlite_utils.Database) -> int:
    """Tasks a capture process left running when it stopped: finished at their episode's end, no outcome."""
    rows = db.conn.execute(
        "SELECT t.id, COALESCE(e.end_ts, t.started_ts) FROM tasks t LEFT JOIN episodes e ON e.id = t.episode_id"
        " WHERE t.finished_ts IS NULL").fetchall()
    for task_id, end in rows:
        finish(db, int(task_id), float(end), None)
    return len(rows)


def has_person_instruction(db: sqlite_utils.Database, episode_id: int) -> bool:
    row = db.conn.execute(
        "SELECT 1 FROM instructions WHERE episode_id = ? AND author = 'person' UNION ALL"
        " SELECT 1 FROM tasks WHERE episode_id = ? LIMIT 1", (episode_id, episode_id)).fetchone()
    return row is not None


def note(db: sqlite_utils.Database, episode_id: int, ts: float, text: str) -> str:
    """A quick note: the episode's instruction when the person has not named it yet, else a timed note.
    Returns which it became: "instruction" or "note"."""
    with transaction(db) as conn:
        if not has_person_instruction(db, episode_id):
            add_instruction(db, episode_id, text, author="person")
            return "instruction"
        conn.execute("INSERT INTO notes (episode_id, ts, text) VALUES (?, ?, ?)", (episode_id, ts, text))
        return "note"


def notes_of(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT ts, text, author FROM notes WHERE episode_id = ? ORDER BY ts, id", [episode_id]))


def of_episodes(db: sqlite_utils.Database, episode_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each episode's task (text, outcome, started_ts, finished_ts), for the episodes that have one."""
    if not episode_ids or not db.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tasks'").fetchone():
        return {}
    marks = ", ".join("?" for _ in episode_ids)
    rows = db.query(f"SELECT episode_id, text, outcome, started_ts, finished_ts FROM tasks"
                    f" WHERE episode_id IN ({marks}) AND finished_ts IS NOT NULL ORDER BY id", list(episode_ids))
    return {int(r["episode_id"]): r for r in rows}
