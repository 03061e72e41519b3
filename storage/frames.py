"""Writing and reading episodes, frames, their images and input events.

A frame row and its image bytes are written in one transaction, so a committed frame always has its image.
Images are content-addressed (sha256) and shared between identical frames.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from deskscribe.storage.db import transaction


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    format: str  # jpeg | webp | png
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class EventIn:
    """One input event, aggregated by the capturer (a click, a scroll burst, a key count, a shortcut)."""

    ts: float
    kind: str  # click | scroll | keys | shortcut | text | app_switch
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FrameIn:
    ts: float
    image: EncodedImage
    monitor: int = 0
    app: str | None = None
    window_title: str | None = None
    change_hash: str | None = None
    name: str | None = None
    events: Sequence[EventIn] = ()


def create_episode(
    db: sqlite_utils.Database, start_ts: float, *, source: str = "capture", source_ref: str | None = None
) -> int:
    cur = db.conn.execute(
        "INSERT INTO episodes (start_ts, end_ts, source, source_ref, created_ts) VALUES (?, ?, ?, ?, ?)",
        (start_ts, start_ts, source, source_ref, time.time()),
    )
    return int(cur.lastrowid or 0)  # an INSERT always sets it


def close_episode(db: sqlite_utils.Database, episode_id: int) -> None:
    """Mark an episode finished; an empty one is removed."""
    with transaction(db) as conn:
        n = conn.execute("SELECT count(*) FROM frames WHERE episode_id = ?", (episode_id,)).fetchone()[0]
        if n == 0:
            conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
        else:
            conn.execute("UPDATE episodes SET closed = 1 WHERE id = ?", (episode_id,))


def close_open_episodes(db: sqlite_utils.Database, *, source: str = "capture") -> int:
    """Close episodes left open by a capture process that died; returns how many were closed."""
    ids = [r[0] for r in db.conn.execute("SELECT id FROM episodes WHERE closed = 0 AND source = ?", (source,))]
    for episode_id in ids:
        close_episode(db, episode_id)
    return len(ids)


def put_image(db: sqlite_utils.Database, image: EncodedImage) -> str:
    digest = image.sha256
    db.conn.execute(
        "INSERT OR IGNORE INTO images (hash, data, format, width, height, bytes) VALUES (?, ?, ?, ?, ?, ?)",
        (digest, image.data, image.format, image.width, image.height, len(image.data)),
    )
    return digest


def add_frame(db: sqlite_utils.Database, episode_id: int, frame: FrameIn) -> int:
    """Store one frame with its image and events atomically; returns the frame id."""
    with transaction(db) as conn:
        digest = put_image(db, frame.image)
        cur = conn.execute(
            "INSERT INTO frames (episode_id, ts, monitor, width, height, app, window_title, image_hash,"
            " change_hash, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                episode_id, frame.ts, frame.monitor, frame.image.width, frame.image.height, frame.app,
                frame.window_title, digest, frame.change_hash, frame.name,
            ),
        )
        frame_id = int(cur.lastrowid or 0)  # an INSERT always sets it
        _insert_events(conn, episode_id, frame_id, frame.events)
        _touch_episode(conn, episode_id, frame.ts, frame.app)
    return frame_id


def add_events(db: sqlite_utils.Database, episode_id: int | None, frame_id: int | None, events: Iterable[EventIn]) -> None:
    with transaction(db) as conn:
        _insert_events(conn, episode_id, frame_id, events)


def _insert_events(conn: Any, episode_id: int | None, frame_id: int | None, events: Iterable[EventIn]) -> None:
    conn.executemany(
        "INSERT INTO events (episode_id, frame_id, ts, kind, details) VALUES (?, ?, ?, ?, ?)",
        [(episode_id, frame_id, e.ts, e.kind, json.dumps(e.details, sort_keys=True)) for e in events],
    )


def _touch_episode(conn: Any, episode_id: int, ts: float, app: str | None) -> None:
    row = conn.execute("SELECT start_ts, end_ts, apps FROM episodes WHERE id = ?", (episode_id,)).fetchone()
    start_ts, end_ts, apps_json = row
    apps = json.loads(apps_json)
    if app and app not in apps:
        apps.append(app)
    conn.execute(
        "UPDATE episodes SET start_ts = ?, end_ts = ?, apps = ? WHERE id = ?",
        (min(start_ts, ts), max(end_ts or ts, ts), json.dumps(apps), episode_id),
    )


def episode_frames(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    """Frame rows of an episode in time order (without image bytes)."""
    return list(
        db.query(
            "SELECT id, episode_id, ts, monitor, width, height, app, window_title, image_hash, change_hash, name"
            " FROM frames WHERE episode_id = ? ORDER BY ts, id",
            [episode_id],
        )
    )


def frame_events(db: sqlite_utils.Database, frame_id: int) -> list[dict[str, Any]]:
    rows = db.query("SELECT ts, kind, details FROM events WHERE frame_id = ? ORDER BY ts, id", [frame_id])
    return [{**r, "details": json.loads(r["details"])} for r in rows]


def episode_events(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    rows = db.query(
        "SELECT frame_id, ts, kind, details FROM events WHERE episode_id = ? ORDER BY ts, id", [episode_id]
    )
    return [{**r, "details": json.loads(r["details"])} for r in rows]


def image_bytes(db: sqlite_utils.Database, image_hash: str) -> tuple[bytes, str]:
    row = db.conn.execute("SELECT data, format FROM images WHERE hash = ?", (image_hash,)).fetchone()
    if row is None:
        raise KeyError(image_hash)
    return bytes(row[0]), row[1]


def get_episode(db: sqlite_utils.Database, episode_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM episodes WHERE id = ?", [episode_id]))
    if not rows:
        return None
    ep = rows[0]
    ep["apps"] = json.loads(ep["apps"])
    return ep


def set_status(db: sqlite_utils.Database, episode_id: int, status: str) -> None:
    db.conn.execute("UPDATE episodes SET status = ? WHERE id = ?", (status, episode_id))


def delete_episode(db: sqlite_utils.Database, episode_id: int) -> None:
    """Remove an episode, its frames, events, descriptions, and images no other frame uses."""
    with transaction(db) as conn:
        hashes = [r[0] for r in conn.execute("SELECT DISTINCT image_hash FROM frames WHERE episode_id = ?", (episode_id,))]
        conn.execute("DELETE FROM jobs WHERE target = ?", (episode_id,))
        conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
        _drop_unused_images(conn, hashes)


def delete_frames(db: sqlite_utils.Database, frame_ids: Sequence[int]) -> None:
    """Remove frames and their image bytes (where no other frame shares them)."""
    with transaction(db) as conn:
        marks = ",".join("?" * len(frame_ids))
        hashes = [r[0] for r in conn.execute(f"SELECT DISTINCT image_hash FROM frames WHERE id IN ({marks})", frame_ids)]
        conn.execute(f"DELETE FROM frames WHERE id IN ({marks})", frame_ids)
        _drop_unused_images(conn, hashes)


def _drop_unused_images(conn: Any, hashes: Iterable[str]) -> None:
    for digest in hashes:
        conn.execute(
            "DELETE FROM images WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM frames WHERE image_hash = ?)",
            (digest, digest),
        )


def gc_images(db: sqlite_utils.Database) -> int:
    """Delete image rows no frame refers to; returns how many."""
    cur = db.conn.execute("DELETE FROM images WHERE hash NOT IN (SELECT image_hash FROM frames)")
    return cur.rowcount
