"""Read-only queries the CLI and the app show: counts, listings."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import sqlite_utils


def _day_start(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time.min).timestamp()


def stats(db: sqlite_utils.Database, path: Path | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Counts for ``deskscribe status``: frames and episodes today and in all, bytes on disk."""
    start = _day_start(today or dt.date.today())
    def one(sql: str, *args: object) -> Any:
        return db.conn.execute(sql, args).fetchone()[0]

    size = 0
    if path is not None:
        size = sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if os.path.exists(p))
    return {
        "frames_today": one("SELECT count(*) FROM frames WHERE ts >= ?", start),
        "episodes_today": one("SELECT count(*) FROM episodes WHERE start_ts >= ?", start),
        "frames": one("SELECT count(*) FROM frames"),
        "episodes": one("SELECT count(*) FROM episodes"),
        "unreviewed": one("SELECT count(*) FROM episodes WHERE status = 'unreviewed'"),
        "described": one("SELECT count(DISTINCT episode_id) FROM descriptions"),
        "image_bytes": one("SELECT coalesce(sum(bytes), 0) FROM images"),
        "db_bytes": size,
    }
