"""Read-only queries for export: episodes in id-ordered batches with everything an export needs.

Export streams a database that may hold many thousands of episodes, so nothing here loads "all rows":
callers page with :func:`iter_episode_batches` (keyset pagination on the id) and ask for the frames,
captions, events and descriptions of one batch at a time. Image bytes are fetched one image at a time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import sqlite_utils

from deskscribe.storage import steps

REVIEWED = ("accepted", "edited", "rejected")


def _statuses(include_unreviewed: bool) -> tuple[str, ...]:
    return (*REVIEWED, "unreviewed") if include_unreviewed else REVIEWED


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def export_episode_ids(db: sqlite_utils.Database, include_unreviewed: bool = False) -> list[int]:
    """Ids of the episodes an export may use, oldest first (ints only: cheap even for 100k episodes)."""
    st = _statuses(include_unreviewed)
    sql = f"SELECT id FROM episodes WHERE closed = 1 AND status IN ({_marks(st)}) ORDER BY id"
    return [int(r[0]) for r in db.conn.execute(sql, st)]


def iter_episode_batches(
    db: sqlite_utils.Database, include_unreviewed: bool = False, batch_size: int = 64
) -> Iterator[list[dict[str, Any]]]:
    """Episode rows in id order, ``batch_size`` at a time (keyset pagination, no OFFSET scans)."""
    st = _statuses(include_unreviewed)
    after = -1
    while True:
        rows = list(
            db.query(
                "SELECT id, start_ts, end_ts, source, apps, status FROM episodes"
                f" WHERE closed = 1 AND status IN ({_marks(st)}) AND id > ? ORDER BY id LIMIT ?",
                [*st, after, batch_size],
            )
        )
        if not rows:
            return
        for row in rows:
            row["apps"] = json.loads(row["apps"])
        yield rows
        after = rows[-1]["id"]


def frames_for(db: sqlite_utils.Database, episode_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Frames of the given episodes in time order, each with its image format and latest caption."""
    out: dict[int, list[dict[str, Any]]] = {e: [] for e in episode_ids}
    if not episode_ids:
        return out
    rows = db.query(
        "SELECT f.id, f.episode_id, f.ts, f.monitor, f.width, f.height, f.app, f.window_title, f.image_hash,"
        " f.name, i.format AS image_format, i.bytes AS image_size,"
        " (SELECT c.text FROM captions c WHERE c.image_hash = f.image_hash ORDER BY c.id DESC LIMIT 1)"
        "   AS caption,"
        " (SELECT c.ocr_text FROM captions c WHERE c.image_hash = f.image_hash ORDER BY c.id DESC LIMIT 1)"
        "   AS ocr_text"
        " FROM frames f JOIN images i ON i.hash = f.image_hash"
        f" WHERE f.episode_id IN ({_marks(episode_ids)}) ORDER BY f.episode_id, f.ts, f.id",
        list(episode_ids),
    )
    for row in rows:
        out[row["episode_id"]].append(row)
    return out


def _columns(db: sqlite_utils.Database, table: str) -> set[str]:
    return {str(r[1]) for r in db.conn.execute(f"PRAGMA table_info({table})")}


def events_for(db: sqlite_utils.Database, episode_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Input events of the given episodes in time order (details decoded), with their before/after frame ids
    and monitor from migration 003 (None in a database without them: older, or opened read-only before
    migrating; export then pairs actions with frames by time)."""
    out: dict[int, list[dict[str, Any]]] = {e: [] for e in episode_ids}
    if not episode_ids:
        return out
    have = _columns(db, "events")
    extra = ", ".join(c if c in have else f"NULL AS {c}" for c in ("before_frame_id", "after_frame_id", "monitor"))
    rows = db.query(
        f"SELECT id, episode_id, frame_id, ts, kind, details, {extra} FROM events"
        f" WHERE episode_id IN ({_marks(episode_ids)}) ORDER BY episode_id, ts, id",
        list(episode_ids),
    )
    for row in rows:
        row["details"] = json.loads(row["details"])
        out[row["episode_id"]].append(row)
    return out


def descriptions_for(db: sqlite_utils.Database, episode_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Every description revision of the given episodes, oldest first, with the model that wrote it and its
    steps keyed by their actions (``step_rows``, storage/steps.py)."""
    out: dict[int, list[dict[str, Any]]] = {e: [] for e in episode_ids}
    if not episode_ids:
        return out
    rows = list(db.query(
        "SELECT d.id, d.episode_id, d.revision, d.author, d.parent_revision, d.summary, d.steps, d.is_current,"
        " d.created_ts, m.model AS model, m.backend AS backend, m.prompt_version AS prompt_version"
        " FROM descriptions d LEFT JOIN model_runs m ON m.id = d.model_run_id"
        f" WHERE d.episode_id IN ({_marks(episode_ids)}) ORDER BY d.episode_id, d.revision",
        list(episode_ids),
    ))
    step_rows = steps.of_descriptions(db.conn, [r["id"] for r in rows])
    for row in rows:
        row["steps"] = json.loads(row["steps"])
        row["is_current"] = bool(row["is_current"])
        row["step_rows"] = step_rows[row["id"]]
        out[row["episode_id"]].append(row)
    return out


def stored_ocr_boxes(db: sqlite_utils.Database, image_hash: str, engine: str) -> str | None:
    """The describe stage's full OCR result for an image (captions.ocr_boxes JSON), or None.

    Only a result from the same OCR engine key as ``engine`` (engine, version, options) is returned: another
    engine or version may read the pixels differently, and export must see exactly what a fresh OCR pass would see.
    """
    try:
        row = db.conn.execute(
            "SELECT ocr_boxes FROM captions WHERE image_hash = ? AND ocr_boxes IS NOT NULL"
            " AND json_valid(ocr_boxes) AND json_extract(ocr_boxes, '$.engine') = ? ORDER BY id DESC LIMIT 1",
            (image_hash, engine),
        ).fetchone()
    except sqlite3.OperationalError as exc:  # a database from before 002, opened read-only (not migrated)
        if "no such column" in str(exc):
            return None
        raise
    return None if row is None else str(row[0])


def instructions_for(db: sqlite_utils.Database, episode_ids: Sequence[int]) -> dict[int, str | None]:
    """Each episode's instruction: the current revision of migration 007's ``instructions`` (the person's edit
    or the model's), else the current description's ``instruction`` column where the describe stage has one,
    else None. Tables or columns a read-only, not yet migrated database lacks are treated as empty."""
    out: dict[int, str | None] = {e: None for e in episode_ids}
    if not episode_ids:
        return out
    if "instruction" in _columns(db, "descriptions"):
        for eid, text in db.conn.execute(
            "SELECT episode_id, instruction FROM descriptions WHERE is_current = 1 AND instruction IS NOT NULL"
            f" AND episode_id IN ({_marks(episode_ids)})", list(episode_ids)):
            out[int(eid)] = str(text) if str(text).strip() else None
    if _columns(db, "instructions"):
        for eid, text in db.conn.execute(
            f"SELECT episode_id, text FROM instructions WHERE is_current = 1 AND episode_id IN ({_marks(episode_ids)})",
            list(episode_ids)):
            out[int(eid)] = str(text)
    return out


def _description_author(author: str, reason: str | None, params: str | None, run_id: int | None) -> str:
    """Who wrote a description's task: the person, a model, or the step writer (describe.compose = evidence,
    or the model's answer failed its check) — as `deskscribe describe show` says it."""
    if author == "person":
        return "person"
    compose = (json.loads(params) if params else {}).get("compose")
    return "steps" if reason or compose == "evidence" or run_id is None else "model"


def instruction_authors_for(db: sqlite_utils.Database, episode_ids: Sequence[int]) -> dict[int, str]:
    """Who wrote each episode's instruction as ``instructions_for`` picks it: ``person`` | ``model`` | ``steps``
    (an episode with neither a stored instruction nor a description reads as ``steps``)."""
    out = dict.fromkeys(episode_ids, "steps")
    if not episode_ids:
        return out
    cols = _columns(db, "descriptions")
    if "review_reason" in cols:
        for eid, author, reason, params, run_id in db.conn.execute(
                "SELECT d.episode_id, d.author, d.review_reason, r.params, d.model_run_id FROM descriptions d"
                " LEFT JOIN model_runs r ON r.id = d.model_run_id"
                f" WHERE d.is_current = 1 AND d.episode_id IN ({_marks(episode_ids)})", list(episode_ids)):
            out[int(eid)] = _description_author(str(author), reason, params, run_id)
    if _columns(db, "instructions"):
        for eid, author in db.conn.execute(
                "SELECT episode_id, author FROM instructions WHERE is_current = 1"
                f" AND episode_id IN ({_marks(episode_ids)})", list(episode_ids)):
            out[int(eid)] = str(author)
    return out


def outcomes_for(db: sqlite_utils.Database, episode_ids: Sequence[int]) -> dict[int, str | None]:
    """Each episode's task outcome from task mode (``done`` | ``gave_up``), None where it had no task."""
    from deskscribe.storage import tasks

    found = tasks.of_episodes(db, episode_ids)
    return {e: (found[e]["outcome"] if e in found else None) for e in episode_ids}
