"""Model runs (provenance), cached frame captions, and descriptions with their full revision history."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from deskscribe.storage import steps as steplib
from deskscribe.storage.db import transaction
from deskscribe.storage.frames import set_status
from deskscribe.storage.steps import StepIn


@dataclass(frozen=True)
class ModelRun:
    """What produced an output: same key = same configuration = cached outputs are reused."""

    kind: str  # caption | describe
    backend: str  # llama_cpp | openai | ocr
    model: str
    model_sha256: str | None
    prompt_version: str
    params: dict[str, Any]

    @property
    def key(self) -> str:
        blob = json.dumps(
            [self.kind, self.backend, self.model, self.model_sha256, self.prompt_version, self.params],
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


def model_run_id(db: sqlite_utils.Database, run: ModelRun) -> int:
    row = db.conn.execute("SELECT id FROM model_runs WHERE key = ?", (run.key,)).fetchone()
    if row:
        return int(row[0])
    db.conn.execute(
        "INSERT OR IGNORE INTO model_runs (key, kind, backend, model, model_sha256, prompt_version, params, created_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (run.key, run.kind, run.backend, run.model, run.model_sha256, run.prompt_version,
         json.dumps(run.params, sort_keys=True), time.time()),
    )
    return int(db.conn.execute("SELECT id FROM model_runs WHERE key = ?", (run.key,)).fetchone()[0])


def get_model_run(db: sqlite_utils.Database, run_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM model_runs WHERE id = ?", [run_id]))
    if not rows:
        return None
    return {**rows[0], "params": json.loads(rows[0]["params"])}


def get_caption(db: sqlite_utils.Database, image_hash: str, run_id: int) -> str | None:
    row = db.conn.execute(
        "SELECT text FROM captions WHERE image_hash = ? AND model_run_id = ?", (image_hash, run_id)
    ).fetchone()
    return None if row is None else row[0]


def put_caption(
    db: sqlite_utils.Database, image_hash: str, run_id: int, text: str, ocr_text: str | None = None, *,
    ocr_boxes: str | None = None,
) -> None:
    """Cache a frame caption; ``ocr_boxes`` is the OCR captioner's full result as JSON (see migration 002),
    kept so export can look for secrets in the pixels without running OCR again."""
    db.conn.execute(
        "INSERT OR IGNORE INTO captions (image_hash, model_run_id, text, ocr_text, ocr_boxes, created_ts)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (image_hash, run_id, text, ocr_text, ocr_boxes, time.time()),
    )


def caption_row(db: sqlite_utils.Database, image_hash: str, run_id: int) -> dict[str, Any] | None:
    """The cached caption of an image under one model run, with its OCR text (None when not captioned yet)."""
    row = db.conn.execute(
        "SELECT text, ocr_text FROM captions WHERE image_hash = ? AND model_run_id = ?", (image_hash, run_id)
    ).fetchone()
    return None if row is None else {"text": row[0], "ocr_text": row[1]}


def caption_boxes(db: sqlite_utils.Database, image_hash: str, run_id: int) -> str | None:
    """The stored OCR boxes JSON of a cached caption (see migration 002), None when there are none."""
    row = db.conn.execute(
        "SELECT ocr_boxes FROM captions WHERE image_hash = ? AND model_run_id = ?", (image_hash, run_id)
    ).fetchone()
    return None if row is None else row[0]


def latest_caption(db: sqlite_utils.Database, image_hash: str) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT c.text, c.ocr_text, c.created_ts, m.model, m.backend, m.prompt_version FROM captions c"
            " JOIN model_runs m ON m.id = c.model_run_id WHERE c.image_hash = ? ORDER BY c.id DESC LIMIT 1",
            [image_hash],
        )
    )
    return rows[0] if rows else None


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    task = json.loads(row["task"]) if row.get("task") else None
    return {**row, "steps": json.loads(row["steps"]), "is_current": bool(row["is_current"]), "task": task}


def _with_steps(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decoded description rows, each with ``step_rows``: its steps with their actions (storage/steps.py)."""
    decoded = [_decode(r) for r in rows]
    by_id = steplib.of_descriptions(db.conn, [d["id"] for d in decoded])
    return [{**d, "step_rows": by_id[d["id"]]} for d in decoded]


def _steps_in(conn: Any, episode_id: int, steps: Sequence[str | StepIn], author: str) -> list[StepIn]:
    """Steps as rows: a person's plain lines keep the actions of the current revision's lines they came from."""
    if all(isinstance(s, StepIn) for s in steps):
        return [s for s in steps if isinstance(s, StepIn)]
    lines = [s.text if isinstance(s, StepIn) else str(s) for s in steps]
    if author != "person":
        return [StepIn(line) for line in lines]
    row = conn.execute("SELECT id FROM descriptions WHERE episode_id = ? AND is_current = 1", (episode_id,)).fetchone()
    previous = steplib.of_descriptions(conn, [row[0]])[row[0]] if row else []
    return steplib.align(lines, previous)


def add_description(
    db: sqlite_utils.Database,
    episode_id: int,
    summary: str,
    steps: Sequence[str | StepIn],
    *,
    author: str,
    model_run_id: int | None = None,
    parent_revision: int | None = None,
    instruction: str | None = None,
    review_reason: str | None = None,
    task: dict[str, Any] | None = None,
) -> int:
    """Add a revision; returns its number. ``instruction`` is the task as a request to an assistant;
    ``review_reason`` flags a model draft for a person's look and says why (migration 005); ``task``: the task
    as JSON with its parameters and its author (migration 011). ``steps``: rows
    keyed by their actions (:class:`~deskscribe.storage.steps.StepIn`), or plain lines — a person's lines keep
    the actions of the lines they were edited from (:func:`deskscribe.storage.steps.align`).

    A person's revision always becomes current (and the episode ``edited``). A model draft becomes current
    only while the person has not reviewed the episode, so a new model never overwrites a correction.
    """
    if author not in ("model", "person"):
        raise ValueError(f"author must be 'model' or 'person', not {author!r}")
    with transaction(db) as conn:
        ep = conn.execute("SELECT status FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        if ep is None:
            raise KeyError(f"no episode {episode_id}")
        revision = conn.execute(
            "SELECT coalesce(max(revision), 0) + 1 FROM descriptions WHERE episode_id = ?", (episode_id,)
        ).fetchone()[0]
        if parent_revision is None:
            row = conn.execute(
                "SELECT revision FROM descriptions WHERE episode_id = ? AND is_current = 1", (episode_id,)
            ).fetchone()
            parent_revision = row[0] if (row and author == "person") else None
        make_current = author == "person" or ep[0] == "unreviewed"
        rows = _steps_in(conn, episode_id, steps, author)  # before the current revision changes
        if make_current:
            conn.execute("UPDATE descriptions SET is_current = 0 WHERE episode_id = ?", (episode_id,))
        cur = conn.execute(
            "INSERT INTO descriptions (episode_id, revision, author, model_run_id, parent_revision, summary, steps,"
            " is_current, created_ts, instruction, review_reason, task) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (episode_id, revision, author, model_run_id, parent_revision, summary,
             json.dumps([r.text for r in rows], ensure_ascii=False), int(make_current), time.time(), instruction,
             review_reason, json.dumps(task, ensure_ascii=False) if task is not None else None),
        )
        steplib.insert(conn, int(cur.lastrowid or 0), rows)
        if author == "person":
            set_status(db, episode_id, "edited")
    return int(revision)


def current_description(db: sqlite_utils.Database, episode_id: int) -> dict[str, Any] | None:
    rows = list(
        db.query("SELECT * FROM descriptions WHERE episode_id = ? AND is_current = 1", [episode_id])
    )
    return _with_steps(db, rows)[0] if rows else None


def description_history(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    """Every revision, oldest first, with the model that wrote it (None for the person)."""
    rows = db.query(
        "SELECT d.*, m.model AS model, m.backend AS backend, m.prompt_version AS prompt_version"
        " FROM descriptions d LEFT JOIN model_runs m ON m.id = d.model_run_id"
        " WHERE d.episode_id = ? ORDER BY d.revision",
        [episode_id],
    )
    return _with_steps(db, list(rows))


def revert_to(db: sqlite_utils.Database, episode_id: int, revision: int) -> int:
    """Make an earlier revision current again by copying it as a new person revision (history is kept)."""
    rows = list(
        db.query("SELECT * FROM descriptions WHERE episode_id = ? AND revision = ?", [episode_id, revision])
    )
    if not rows:
        raise KeyError(f"episode {episode_id} has no revision {revision}")
    old = _with_steps(db, rows)[0]
    steps = [steplib.copy(r) for r in old["step_rows"]]
    return add_description(
        db, episode_id, old["summary"], steps, author="person", parent_revision=revision,
        instruction=old.get("instruction"), task=old.get("task"),
    )


def review(db: sqlite_utils.Database, episode_id: int, status: str) -> None:
    """Accept or reject an episode's current description (or mark it unreviewed again)."""
    if status not in ("accepted", "rejected", "unreviewed", "edited"):
        raise ValueError(f"unknown review status {status!r}")
    set_status(db, episode_id, status)


# --- the instruction: the request an assistant would get for this episode, with its own revision history -----

def add_instruction(db: sqlite_utils.Database, episode_id: int, text: str, *, author: str = "person") -> int:
    """Add an instruction revision (always current); returns its number. Empty text is refused."""
    if author not in ("model", "person"):
        raise ValueError(f"author must be 'model' or 'person', not {author!r}")
    text = text.strip()
    if not text:
        raise ValueError("the instruction is empty")
    with transaction(db) as conn:
        if conn.execute("SELECT 1 FROM episodes WHERE id = ?", (episode_id,)).fetchone() is None:
            raise KeyError(f"no episode {episode_id}")
        revision, parent = conn.execute(
            "SELECT coalesce(max(revision), 0) + 1, max(CASE WHEN is_current THEN revision END)"
            " FROM instructions WHERE episode_id = ?", (episode_id,)
        ).fetchone()
        conn.execute("UPDATE instructions SET is_current = 0 WHERE episode_id = ?", (episode_id,))
        conn.execute(
            "INSERT INTO instructions (episode_id, revision, author, parent_revision, text, is_current, created_ts)"
            " VALUES (?, ?, ?, ?, ?, 1, ?)",
            (episode_id, revision, author, parent, text, time.time()),
        )
    return int(revision)


def instruction_history(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    """Every instruction revision, oldest first."""
    rows = db.query("SELECT * FROM instructions WHERE episode_id = ? ORDER BY revision", [episode_id])
    return [{**r, "is_current": bool(r["is_current"])} for r in rows]


def current_instruction(db: sqlite_utils.Database, episode_id: int) -> str | None:
    """The instruction the person wrote (or the latest model one), else the description's own instruction
    field where the describe stage stores one, else None (callers fall back to the summary)."""
    row = db.conn.execute(
        "SELECT text FROM instructions WHERE episode_id = ? AND is_current = 1", (episode_id,)
    ).fetchone()
    if row:
        return str(row[0])
    desc = current_description(db, episode_id)
    return str(desc["instruction"]) if desc and desc.get("instruction") else None
