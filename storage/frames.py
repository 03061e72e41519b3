"""Writing and reading episodes, frames, their images and input events.

A frame row and its image bytes are written in one transaction, so a committed frame always has its image.
Images are content-addressed (sha256) and shared between identical frames. An image may be a region frame
(:mod:`deskscribe.storage.patches`): the changed part of the screen over a whole image; :func:`image_bytes`
gives the whole frame either way, and :func:`drop_images` rebases the region frames of a base it deletes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from deskscribe.storage import events as vocab
from deskscribe.storage import patches
from deskscribe.storage.db import transaction


@dataclass(frozen=True)
class EncodedImage:
    """Encoded bytes of a whole image, or of a region frame: ``data`` goes at (``x``, ``y``) over the whole image
    ``base`` (its hash); ``width``/``height`` are the whole frame's. ``whole`` encodes the whole frame instead,
    for when the base is no longer stored (forgotten meanwhile, or its write failed)."""

    data: bytes
    format: str  # jpeg | webp | png
    width: int
    height: int
    base: str | None = None
    x: int = 0
    y: int = 0
    whole: Callable[[], EncodedImage] | None = field(default=None, compare=False, repr=False)

    @property
    def sha256(self) -> str:
        if self.base is None:
            return hashlib.sha256(self.data).hexdigest()
        return hashlib.sha256(f"{self.base}:{self.x},{self.y}:".encode() + self.data).hexdigest()


@dataclass(frozen=True)
class EventIn:
    """One input event to store: build it with :meth:`of` from a :mod:`deskscribe.storage.events` dataclass.

    ``kind``/``details`` are what lands in the row (details are normalised to the vocabulary's shape on
    insert, whatever the caller passed). ``before_frame_id``/``after_frame_id`` link an action to the frame
    on screen just before it and the frame once the screen settled after it.
    """

    ts: float
    kind: str  # a key of events.KINDS
    details: dict[str, Any] = field(default_factory=dict)
    before_frame_id: int | None = None
    after_frame_id: int | None = None
    monitor: int | None = None
    looked_up: bool = False  # the element was asked for: store ``element: null`` when nothing is exposed

    @classmethod
    def of(cls, ts: float, event: vocab.Event, *, before_frame_id: int | None = None,
           after_frame_id: int | None = None, looked_up: bool = False) -> EventIn:
        details = vocab.to_details(event)
        if looked_up and "element" not in details and event.kind in ("click", "drag"):
            details = vocab.mark_no_element(details)
        return cls(ts, event.kind, details, before_frame_id, after_frame_id, getattr(event, "monitor", None),
                   looked_up)

    @property
    def event(self) -> vocab.Event | None:
        return vocab.parse(self.kind, self.details)


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
    trigger: str | None = None  # one of events.TRIGGERS


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
    if image.base is not None and not _is_whole(db.conn, image.base):
        if image.whole is None:
            raise KeyError(f"the base image of a region frame is not stored: {image.base}")
        image = image.whole()
    digest = image.sha256
    row = (digest, image.data, image.format, image.width, image.height, len(image.data))
    if image.base is None:  # also in a database not yet at migration 008 (the migration tests build those)
        db.conn.execute("INSERT OR IGNORE INTO images (hash, data, format, width, height, bytes)"
                        " VALUES (?, ?, ?, ?, ?, ?)", row)
    else:
        db.conn.execute("INSERT OR IGNORE INTO images (hash, data, format, width, height, bytes, base_hash, x, y)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, image.base, image.x, image.y))
    return digest


def _is_whole(conn: Any, digest: str) -> bool:
    return conn.execute("SELECT 1 FROM images WHERE hash = ? AND base_hash IS NULL", (digest,)).fetchone() is not None


def add_frame(db: sqlite_utils.Database, episode_id: int, frame: FrameIn) -> int:
    """Store one frame with its image and events atomically; returns the frame id."""
    with transaction(db) as conn:
        digest = put_image(db, frame.image)
        cur = conn.execute(
            "INSERT INTO frames (episode_id, ts, monitor, width, height, app, window_title, image_hash,"
            " change_hash, name, trigger) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                episode_id, frame.ts, frame.monitor, frame.image.width, frame.image.height, frame.app,
                frame.window_title, digest, frame.change_hash, frame.name, frame.trigger,
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
    """``frame_id`` is the frame the events belong to; None: each event's before frame (else its after frame)."""
    conn.executemany(
        "INSERT INTO events (episode_id, frame_id, ts, kind, details, before_frame_id, after_frame_id, monitor)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(episode_id, frame_id or e.before_frame_id or e.after_frame_id, e.ts, e.kind,
          json.dumps(_stored_details(e), sort_keys=True), e.before_frame_id, e.after_frame_id, e.monitor)
         for e in events],
    )


def _stored_details(e: EventIn) -> dict[str, Any]:
    details = vocab.normalize(e.kind, e.details)
    if e.looked_up and e.kind in ("click", "drag") and "element" not in details:
        details = vocab.mark_no_element(details)
    return details


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
            "SELECT id, episode_id, ts, monitor, width, height, app, window_title, image_hash, change_hash, name,"
            " trigger FROM frames WHERE episode_id = ? ORDER BY ts, id",
            [episode_id],
        )
    )


def frame_events(db: sqlite_utils.Database, frame_id: int) -> list[dict[str, Any]]:
    rows = db.query("SELECT ts, kind, details, before_frame_id, after_frame_id, monitor FROM events"
                    " WHERE frame_id = ? ORDER BY ts, id", [frame_id])
    return [{**r, "details": json.loads(r["details"])} for r in rows]


def episode_events(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    rows = db.query(
        "SELECT frame_id, ts, kind, details, before_frame_id, after_frame_id, monitor FROM events"
        " WHERE episode_id = ? ORDER BY ts, id", [episode_id]
    )
    return [{**r, "details": json.loads(r["details"])} for r in rows]


def image_bytes(db: sqlite_utils.Database, image_hash: str) -> tuple[bytes, str]:
    """The whole frame's encoded bytes and format (a region frame is composed over its base)."""
    return _whole_bytes(db.conn, image_hash)


def _whole_bytes(conn: Any, image_hash: str) -> tuple[bytes, str]:
    row = conn.execute(
        "SELECT i.data, i.format, i.x, i.y, b.data, b.format FROM images i"
        " LEFT JOIN images b ON b.hash = i.base_hash WHERE i.hash = ?", (image_hash,)).fetchone()
    if row is None:
        raise KeyError(image_hash)
    data, fmt, x, y, base, base_fmt = row
    if base is None:
        return bytes(data), fmt
    return patches.compose(bytes(base), bytes(data), x, y, base_fmt), base_fmt


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
        drop_images(conn, hashes)


def delete_frames(db: sqlite_utils.Database, frame_ids: Sequence[int]) -> None:
    """Remove frames and their image bytes (where no other frame shares them)."""
    with transaction(db) as conn:
        marks = ",".join("?" * len(frame_ids))
        hashes = [r[0] for r in conn.execute(f"SELECT DISTINCT image_hash FROM frames WHERE id IN ({marks})", frame_ids)]
        conn.execute(f"DELETE FROM frames WHERE id IN ({marks})", frame_ids)
        drop_images(conn, hashes)


def drop_images(conn: Any, hashes: Iterable[str]) -> int:
    """Delete the images among ``hashes`` that no frame shows any more; returns how many went. A base that goes
    first hands its region frames on: the oldest becomes a whole image and the others its region frames (or
    whole, where they differ too much), so no frame loses pixels and no deleted pixels stay behind in a base.
    The caller holds the transaction."""
    gone = 0
    whole: dict[str, int] = {}  # stored hash → 1 for a whole image, 0 for a region frame
    for digest in dict.fromkeys(hashes):
        if row := conn.execute("SELECT base_hash IS NULL FROM images WHERE hash = ?", (digest,)).fetchone():
            whole[digest] = row[0]
    for digest in sorted(whole, key=whole.__getitem__):  # region frames first: a base they share may go too
        if conn.execute("SELECT 1 FROM frames WHERE image_hash = ? LIMIT 1", (digest,)).fetchone():
            continue
        _hand_on(conn, digest)
        gone += conn.execute("DELETE FROM images WHERE hash = ?", (digest,)).rowcount
    return gone


def _hand_on(conn: Any, base: str) -> None:
    heirs = [r[0] for r in conn.execute("SELECT hash FROM images WHERE base_hash = ? ORDER BY rowid", (base,))]
    if not heirs:
        return
    fmt = conn.execute("SELECT format FROM images WHERE hash = ?", (base,)).fetchone()[0]
    frames = [patches.decode(_whole_bytes(conn, h)[0]) for h in heirs]  # all read before any is rewritten
    first = frames[0]
    rewritten = [patches.Rebased(patches.encode(first, fmt, patches.COMPOSE_QUALITY), None, 0, 0)]
    rewritten += [patches.rebase(first, heirs[0], frame, fmt, REGION_MAX) for frame in frames[1:]]
    for h, new in zip(heirs, rewritten, strict=True):
        conn.execute("UPDATE images SET data = ?, base_hash = ?, x = ?, y = ?, bytes = ? WHERE hash = ?",
                     (new.data, new.base, new.x, new.y, len(new.data), h))


REGION_MAX = 0.5  # a handed-on region frame stays one while it covers at most this share of the screen


def gc_images(db: sqlite_utils.Database) -> int:
    """Delete image rows no frame refers to; returns how many."""
    unused = [r[0] for r in db.conn.execute("SELECT hash FROM images WHERE hash NOT IN (SELECT image_hash FROM frames)")]
    return drop_images(db.conn, unused)
