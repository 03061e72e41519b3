"""Queries the review window needs: paged episode listing with filters, full-text search, filmstrip rows.

The GUI never writes SQL of its own; everything it reads comes from here, and every write goes through
``storage.descriptions`` / ``storage.frames`` / ``storage.forget`` (``add_description``, ``revert_to``,
``review``, ``delete_episode``, ``delete_frames``), re-exported below so the app has one module to import.

Paging is keyset-based (newest first, by ``(start_ts, id)``) rather than OFFSET, so the window can keep
fetching while capture adds episodes without rows shifting between pages, and page N costs the same as page 1.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from deskscribe.storage.db import db_file, transaction  # noqa: F401  (db_file re-exported for the app)
from deskscribe.storage.descriptions import (  # noqa: F401  (re-exported for the app)
    add_description,
    add_instruction,
    current_description,
    current_instruction,
    description_history,
    instruction_history,
    latest_caption,
    revert_to,
    review,
)
from deskscribe.storage.forget import delete_episode, delete_frames  # noqa: F401  (scrub the files too)
from deskscribe.storage.frames import (  # noqa: F401  (re-exported for the app)
    EncodedImage,
    episode_frames,
    frame_events,
    get_episode,
    image_bytes,
    put_image,
)

STATUSES = ("unreviewed", "accepted", "rejected", "edited")
PAGE_SIZE = 200


@dataclass(frozen=True)
class EpisodeFilter:
    """What the review window's filter bar selects; ``None`` / empty means "any"."""

    day: dt.date | None = None
    app: str | None = None
    status: str | None = None
    search: str = ""


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the (start_ts, id) of the last row shown."""

    start_ts: float
    episode_id: int


def fts_query(text: str) -> str | None:
    """Turn what a person typed into a safe FTS5 query: every word must match, as a prefix.

    Each word is quoted, so FTS5 operators and punctuation in the input cannot cause a syntax error.
    """
    words = re.findall(r"\w[\w.@'-]*", text, re.UNICODE)
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)


def _day_bounds(day: dt.date) -> tuple[float, float]:
    start = dt.datetime.combine(day, dt.time.min)
    return start.timestamp(), (start + dt.timedelta(days=1)).timestamp()


def _where(flt: EpisodeFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if flt.day is not None:
        clauses.append("e.start_ts >= ? AND e.start_ts < ?")
        args.extend(_day_bounds(flt.day))
    if flt.status:
        if flt.status not in STATUSES:
            raise ValueError(f"unknown status {flt.status!r} (known: {', '.join(STATUSES)})")
        clauses.append("e.status = ?")
        args.append(flt.status)
    if flt.app:
        clauses.append("EXISTS (SELECT 1 FROM json_each(e.apps) WHERE json_each.value = ?)")
        args.append(flt.app)
    if flt.search.strip():
        query = fts_query(flt.search)
        if query is None:
            clauses.append("0")
        else:
            clauses.append("e.id IN (SELECT episode_id FROM search_fts WHERE search_fts MATCH ?)")
            args.append(query)
    return (" AND ".join(clauses) or "1"), args


_ROW_SQL = (
    "SELECT e.id, e.start_ts, e.end_ts, e.apps, e.status, e.source,"
    " (SELECT count(*) FROM frames f WHERE f.episode_id = e.id) AS frames,"
    " (SELECT d.summary FROM descriptions d WHERE d.episode_id = e.id AND d.is_current = 1) AS summary"
    " FROM episodes e"
)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "apps": json.loads(row["apps"] or "[]")}


def list_episodes(
    db: sqlite_utils.Database,
    flt: EpisodeFilter = EpisodeFilter(),
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    """One page of episodes, newest first: id, start_ts, end_ts, apps, status, source, frames, summary."""
    where, args = _where(flt)
    if after is not None:
        where += " AND (e.start_ts < ? OR (e.start_ts = ? AND e.id < ?))"
        args += [after.start_ts, after.start_ts, after.episode_id]
    sql = f"{_ROW_SQL} WHERE {where} ORDER BY e.start_ts DESC, e.id DESC LIMIT ?"
    return [_decode(r) for r in db.query(sql, [*args, limit])]


def cursor_after(row: dict[str, Any]) -> Cursor:
    return Cursor(float(row["start_ts"]), int(row["id"]))


def episode_row(db: sqlite_utils.Database, episode_id: int) -> dict[str, Any] | None:
    """The listing row of one episode (after a review action changed it)."""
    rows = list(db.query(f"{_ROW_SQL} WHERE e.id = ?", [episode_id]))
    return _decode(rows[0]) if rows else None


def count_episodes(db: sqlite_utils.Database, flt: EpisodeFilter = EpisodeFilter()) -> int:
    where, args = _where(flt)
    return int(db.conn.execute(f"SELECT count(*) FROM episodes e WHERE {where}", args).fetchone()[0])


def status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in db.conn.execute("SELECT status, count(*) FROM episodes GROUP BY status"):
        counts[status] = n
    return counts


def days(db: sqlite_utils.Database) -> list[tuple[dt.date, int]]:
    """Days (local time) that have episodes, newest first, with how many."""
    rows = db.conn.execute(
        "SELECT date(start_ts, 'unixepoch', 'localtime') AS d, count(*) FROM episodes GROUP BY d ORDER BY d DESC"
    )
    return [(dt.date.fromisoformat(d), n) for d, n in rows if d]


def apps(db: sqlite_utils.Database) -> list[str]:
    """Every app name that appears in an episode, sorted case-insensitively."""
    rows = db.conn.execute("SELECT DISTINCT j.value FROM episodes e, json_each(e.apps) j")
    return sorted((r[0] for r in rows if r[0]), key=str.lower)


def search_episode_ids(db: sqlite_utils.Database, text: str, limit: int = 1000) -> list[int]:
    """Episodes whose titles, captions, OCR text or descriptions match ``text`` (best match first)."""
    query = fts_query(text)
    if query is None:
        return []
    rows = db.conn.execute(
        "SELECT episode_id, min(rank) AS r FROM search_fts WHERE search_fts MATCH ?"
        " GROUP BY episode_id ORDER BY r LIMIT ?",
        (query, limit),
    )
    return [int(r[0]) for r in rows]


def filmstrip(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    """The episode's frames in time order, each with how many input events it carries."""
    return list(
        db.query(
            "SELECT f.id, f.ts, f.app, f.window_title, f.image_hash, f.width, f.height, f.monitor, f.name,"
            " (SELECT count(*) FROM events v WHERE v.frame_id = f.id) AS events"
            " FROM frames f WHERE f.episode_id = ? ORDER BY f.ts, f.id",
            [episode_id],
        )
    )


def thumbnail_bytes(db: sqlite_utils.Database, image_hash: str) -> bytes | None:
    """The encoded image of a frame (the GUI decodes and scales it off the main thread); None if deleted."""
    try:
        return image_bytes(db, image_hash)[0]
    except KeyError:
        return None
