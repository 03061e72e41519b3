"""Retention: forget captured frames older than ``retention.days`` and keep image bytes under
``retention.max_image_mb``.

Order of deletion under the byte budget: frames of rejected episodes, then unreviewed ones, oldest first;
frames of accepted or edited episodes only when ``retention.keep_accepted`` is off. Age-based deletion spares
accepted/edited episodes the same way. Only captured episodes are touched: imported folders are the person's
own deliberate data and are never removed by retention (their bytes still count toward the budget).
The selection is a pure function; :func:`run` applies it through ``storage.forget``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from deskscribe.config import RetentionConfig
from deskscribe.storage import forget
from deskscribe.storage import frames as store

KEPT_STATUSES = frozenset({"accepted", "edited"})
_PRIORITY = {"rejected": 0, "unreviewed": 1, "accepted": 2, "edited": 2}
DAY_S = 86_400.0


@dataclass(frozen=True)
class FrameRow:
    id: int
    ts: float
    image_hash: str
    status: str  # the episode's review status
    source: str  # capture | import


@dataclass(frozen=True)
class Result:
    frames: int = 0
    images: int = 0
    episodes: int = 0

    def __str__(self) -> str:
        return f"{self.frames} frames, {self.images} images, {self.episodes} empty episodes"


def _deletable(row: FrameRow, keep_accepted: bool) -> bool:
    return row.source == "capture" and not (keep_accepted and row.status in KEPT_STATUSES)


def select(
    rows: Iterable[FrameRow],
    image_sizes: dict[str, int],
    *,
    now: float,
    days: int,
    max_image_bytes: int,
    keep_accepted: bool = True,
) -> list[int]:
    """Ids of the frames to delete. ``image_sizes`` holds every stored image (shared images count once,
    and their bytes are freed only when every frame using them goes). ``days``/``max_image_bytes`` 0 = off."""
    rows = list(rows)
    users = Counter(r.image_hash for r in rows)
    total = sum(image_sizes.values())
    chosen: list[int] = []

    def take(row: FrameRow) -> None:
        nonlocal total
        chosen.append(row.id)
        users[row.image_hash] -= 1
        if users[row.image_hash] == 0:
            total -= image_sizes.get(row.image_hash, 0)

    candidates = sorted((r for r in rows if _deletable(r, keep_accepted)), key=lambda r: (r.ts, r.id))
    cutoff = now - days * DAY_S
    rest = []
    for row in candidates:
        if days > 0 and row.ts < cutoff:
            take(row)
        else:
            rest.append(row)
    if max_image_bytes > 0:
        for row in sorted(rest, key=lambda r: (_PRIORITY.get(r.status, 1), r.ts, r.id)):
            if total <= max_image_bytes:
                break
            take(row)
    return chosen


def _rows(db: sqlite_utils.Database) -> list[FrameRow]:
    sql = ("SELECT f.id, f.ts, f.image_hash, e.status, e.source FROM frames f"
           " JOIN episodes e ON e.id = f.episode_id")
    return [FrameRow(*r) for r in db.conn.execute(sql)]


def run(db: sqlite_utils.Database, cfg: RetentionConfig, now: float) -> Result:
    """Apply retention through the same path as ``deskscribe forget`` (storage.forget: batches of one
    transaction each, images no frame uses any more, closed captured episodes left empty, search rows, then
    the index merge and WAL checkpoint). Descriptions of episodes that keep some frames are kept: retention
    frees space, it does not take back what the person wrote."""
    images = store.gc_images(db)
    sizes = {h: n for h, n in db.conn.execute("SELECT hash, bytes FROM images")}
    ids = select(_rows(db), sizes, now=now, days=cfg.days, max_image_bytes=cfg.max_image_mb * 2**20,
                 keep_accepted=cfg.keep_accepted)
    done = forget.forget_frames(db, ids, drop_descriptions=False, scrub_after=False)
    empty = [r[0] for r in db.conn.execute(
        "SELECT id FROM episodes e WHERE closed = 1 AND source = 'capture'"
        " AND NOT EXISTS (SELECT 1 FROM frames f WHERE f.episode_id = e.id)")]
    for episode_id in empty:
        store.delete_episode(db, episode_id)
    if ids or images or empty:
        forget.scrub(db)
    return Result(len(ids), images + done.images, done.episodes + len(empty))
