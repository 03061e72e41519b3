"""Forgetting: remove what was captured in a time span or an episode from every place it lives on disk.

Frames go with their events, their image bytes (where no other frame shares them), the captions of those
images, and the search rows that indexed them (migration 006's triggers). An episode that loses frames also
loses its descriptions, jobs and review status: a description of forgotten frames would still tell what was
on them. An episode left empty is removed, unless capture is still writing into it (it is closed later).

Deleted rows must not linger in the files either: every connection runs with ``secure_delete`` (freed
pages are zeroed), then :func:`scrub` merges the full-text index (FTS5 keeps deleted tokens in old segments
until a merge) and checkpoints the WAL with TRUNCATE, so the old pages leave ``deskscribe.db-wal`` too. Other
connections (the review window, capture) may stay open: a checkpoint waits only for read transactions in
progress, and they read the new state when they next ask.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from deskscribe import bounds
from deskscribe.errors import DeskscribeError
from deskscribe.storage import frames as store
from deskscribe.storage import space
from deskscribe.storage.db import db_file, transaction

BATCH = 500
LOW_SPACE_BATCH_BYTES = 2**20  # on a full disk: the WAL of one batch stays well inside the space reserve
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400}
CHECKPOINT_TRIES = 50


class ForgetError(DeskscribeError):
    pass


@dataclass
class Forgotten:
    frames: int = 0
    images: int = 0
    events: int = 0
    episodes: int = 0
    descriptions: int = 0
    wal_truncated: bool = True

    def __str__(self) -> str:
        return (f"{self.frames} frames, {self.images} images, {self.events} events, {self.descriptions} "
                f"descriptions, {self.episodes} episodes")

    def add(self, other: Forgotten) -> None:
        for name in ("frames", "images", "events", "episodes", "descriptions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def parse_duration(text: str, now: float | None = None) -> float:
    """Seconds in ``15m``, ``2h``, ``90s``, ``1d`` (a bare number is minutes), reaching back no further than
    :data:`deskscribe.bounds.EARLIEST_TS`."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise ForgetError(f"--last takes a span such as 5m, 15m, 2h or 1d (got {text!r})")
    seconds = float(m.group(1)) * _UNITS[m.group(2) or "m"]
    problem = bounds.span_problem(seconds, now)
    if problem:
        raise ForgetError(f"--last {text.strip()} {problem}: give a shorter span, or --since "
                          f"{bounds.EARLIEST_TEXT} to forget everything")
    return seconds


def parse_since(text: str, now: float) -> float:
    """A Unix time for ``2026-12-02 14:30``, ``2026-12-02T14:30:00+01:00``, ``2026-12-02`` or ``14:30`` (today),
    local time unless the text names a zone. A time in the future is an error (it would forget nothing)."""
    value = (text or "").strip()
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", value):
            today = dt.datetime.fromtimestamp(now).date().isoformat()
            value = f"{today} {value}"
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ForgetError(f"--since takes a date and time such as '2026-12-02 14:30' or 14:30 (got {text!r})") from None
    try:
        ts = when.timestamp()  # naive = local time
    except (OverflowError, OSError, ValueError):  # year 1: before any platform's epoch range
        ts = -math.inf
    if ts < bounds.EARLIEST_TS:
        raise ForgetError(f"--since {text!r} is before {bounds.EARLIEST_TEXT}, when nothing can have been captured: "
                          f"use --since {bounds.EARLIEST_TEXT} to forget everything")
    if ts > now:
        raise ForgetError(f"--since {text!r} is in the future: nothing would be forgotten")
    return ts


def _ids(conn: sqlite3.Connection, sql: str, args: Sequence[object]) -> list[int]:
    return [r[0] for r in conn.execute(sql, args)]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _delete_frames(conn: sqlite3.Connection, ids: Sequence[int], drop_descriptions: bool) -> Forgotten:
    """One transaction's worth (the caller holds it): frames, events, unused images, touched episodes."""
    out = Forgotten(frames=len(ids))
    marks = _marks(len(ids))
    episodes = _ids(conn, f"SELECT DISTINCT episode_id FROM frames WHERE id IN ({marks})", ids)
    hashes = [r[0] for r in conn.execute(f"SELECT DISTINCT image_hash FROM frames WHERE id IN ({marks})", ids)]
    out.events = conn.execute(f"DELETE FROM events WHERE frame_id IN ({marks})", ids).rowcount
    conn.execute(f"DELETE FROM frames WHERE id IN ({marks})", ids)
    out.images += store.drop_images(conn, hashes)  # captions go with their image (ON DELETE CASCADE)
    for episode_id in episodes:
        out.add(_settle_episode(conn, episode_id, drop_descriptions))
    return out


def _settle_episode(conn: sqlite3.Connection, episode_id: int, drop_descriptions: bool) -> Forgotten:
    """After some of its frames went: remove the episode when empty and closed, else drop what describes
    the forgotten frames and recompute its span and apps from the frames left."""
    out = Forgotten()
    row = conn.execute("SELECT closed FROM episodes WHERE id = ?", (episode_id,)).fetchone()
    if row is None:
        return out
    left = conn.execute("SELECT min(ts), max(ts), count(*) FROM frames WHERE episode_id = ?", (episode_id,)).fetchone()
    if left[2] == 0 and row[0]:
        out.descriptions = conn.execute("SELECT count(*) FROM descriptions WHERE episode_id = ?",
                                        (episode_id,)).fetchone()[0]
        out.events += conn.execute("DELETE FROM events WHERE episode_id = ?", (episode_id,)).rowcount
        conn.execute("DELETE FROM jobs WHERE target = ?", (episode_id,))
        conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
        out.episodes = 1
        return out
    if drop_descriptions:
        out.descriptions = conn.execute("DELETE FROM descriptions WHERE episode_id = ?", (episode_id,)).rowcount
        conn.execute("DELETE FROM jobs WHERE target = ?", (episode_id,))
        conn.execute("UPDATE episodes SET status = 'unreviewed' WHERE id = ?", (episode_id,))
    apps = [r[0] for r in conn.execute(
        "SELECT app FROM frames WHERE episode_id = ? AND app IS NOT NULL GROUP BY app ORDER BY min(ts)", (episode_id,))]
    if left[2]:
        conn.execute("UPDATE episodes SET start_ts = ?, end_ts = ?, apps = ? WHERE id = ?",
                     (left[0], left[1], json.dumps(apps), episode_id))
    return out


def forget_frames(db: sqlite_utils.Database, ids: Sequence[int], *, drop_descriptions: bool = True,
                  scrub_after: bool = True) -> Forgotten:
    """Forget these frames (in batches of :data:`BATCH`, each one transaction), then :func:`scrub`. On a
    nearly full disk the batches hold at most :data:`LOW_SPACE_BATCH_BYTES` of images and each is checkpointed
    back into the database at once, so the WAL never needs more room than the reserve gave."""
    total = Forgotten()
    ids, start = list(ids), 0
    while start < len(ids):
        low = _low_space(db)
        batch = ids[start:start + BATCH]
        batch = batch[:_fits(db.conn, batch)] if low else batch
        with transaction(db) as conn:
            total.add(_delete_frames(conn, batch, drop_descriptions))
        if low:
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        start += len(batch)
    if scrub_after and ids:
        total.wal_truncated = scrub(db)
    return total


def _low_space(db: sqlite_utils.Database) -> bool:
    path = db_file(db)
    return path is not None and space.free_bytes(path.parent) < space.WORK_MIN_FREE


def _fits(conn: sqlite3.Connection, ids: Sequence[int]) -> int:
    """How many of ``ids`` (at least one) hold at most LOW_SPACE_BATCH_BYTES of images together."""
    sizes = dict(conn.execute(f"SELECT f.id, i.bytes FROM frames f JOIN images i ON i.hash = f.image_hash "
                              f"WHERE f.id IN ({_marks(len(ids))})", list(ids)).fetchall())
    total = 0
    for n, frame_id in enumerate(ids):
        total += sizes.get(frame_id, 0)
        if total > LOW_SPACE_BATCH_BYTES:
            return max(n, 1)
    return len(ids)


def forget_since(db: sqlite_utils.Database, since_ts: float) -> Forgotten:
    """Everything captured at or after ``since_ts``: frames, and input events with no frame."""
    ids = _ids(db.conn, "SELECT id FROM frames WHERE ts >= ? ORDER BY id", (since_ts,))
    out = forget_frames(db, ids, scrub_after=False)
    with transaction(db) as conn:
        out.events += conn.execute("DELETE FROM events WHERE frame_id IS NULL AND ts >= ?", (since_ts,)).rowcount
    out.wal_truncated = scrub(db)
    return out


def forget_episode(db: sqlite_utils.Database, episode_id: int) -> Forgotten:
    """An episode and everything in it. The row of an episode capture is still writing into stays (empty):
    capture's next frame goes into it, and closing removes it if nothing came."""
    row = db.conn.execute("SELECT closed FROM episodes WHERE id = ?", (episode_id,)).fetchone()
    if row is None:
        raise ForgetError(f"there is no episode {episode_id}: `deskscribe status` lists the recent ones")
    ids = _ids(db.conn, "SELECT id FROM frames WHERE episode_id = ?", (episode_id,))
    out = forget_frames(db, ids, scrub_after=False)
    with transaction(db) as conn:
        if conn.execute("SELECT 1 FROM episodes WHERE id = ?", (episode_id,)).fetchone():
            out.descriptions += conn.execute("DELETE FROM descriptions WHERE episode_id = ?", (episode_id,)).rowcount
            out.events += conn.execute("DELETE FROM events WHERE episode_id = ?", (episode_id,)).rowcount
            conn.execute("DELETE FROM jobs WHERE target = ?", (episode_id,))
            if row[0]:
                conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
                out.episodes += 1
    out.wal_truncated = scrub(db)
    return out


def scrub(db: sqlite_utils.Database) -> bool:
    """Merge the search index (dropping deleted tokens) and move the WAL into the database, truncating it.

    Returns whether the WAL was truncated: a reader in the middle of a read transaction holds it until it
    finishes, so this retries for a few seconds; False means it stayed busy (the next scrub finishes it).
    """
    conn = db.conn
    with transaction(db):
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    for _ in range(CHECKPOINT_TRIES):
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        time.sleep(0.1)  # a reader finishing its transaction; not a test wait
    return False


def forget(db: sqlite_utils.Database, *, last: str | None = None, since: str | None = None,
           episode: int | None = None, now: float | None = None) -> tuple[str, Forgotten]:
    """What ``deskscribe forget`` does: exactly one of ``last`` (15m), ``since`` (a time) or ``episode``.
    Returns a description of what was asked for and what went."""
    given = [name for name, v in (("--last", last), ("--since", since), ("--episode", episode)) if v is not None]
    if len(given) != 1:
        raise ForgetError("say what to forget: one of --last 15m, --since '2026-12-02 14:30' or --episode N")
    now = time.time() if now is None else now
    path = db_file(db)
    with space.room_to_delete(path.parent) if path else contextlib.nullcontext(False):
        if episode is not None:
            return f"episode {episode}", forget_episode(db, episode)
        ts = now - parse_duration(last, now) if last is not None else parse_since(since or "", now)
        when = dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
        return f"everything since {when}", forget_since(db, ts)


def delete_frames(db: sqlite_utils.Database, frame_ids: Sequence[int]) -> Forgotten:
    """The review window's "Delete frame": like forgetting, but the episode keeps its descriptions and
    status (the person is reviewing it and edits the description if it mentions the frame)."""
    return forget_frames(db, frame_ids, drop_descriptions=False)


def delete_episode(db: sqlite_utils.Database, episode_id: int) -> Forgotten:
    """The review window's "Delete episode" (a missing episode is already gone: nothing to do)."""
    if db.conn.execute("SELECT 1 FROM episodes WHERE id = ?", (episode_id,)).fetchone() is None:
        return Forgotten()
    return forget_episode(db, episode_id)
