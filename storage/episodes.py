"""Episode queries the describe stage and the idle policy ask: which episodes are closed, which a model run
already described, how much is waiting, and when the person was last seen at the machine.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils


def closed_episodes(db: sqlite_utils.Database, episode_ids: Iterable[int] | None = None) -> list[int]:
    """Ids of closed episodes (all, or those of ``episode_ids`` that exist and are closed), oldest first."""
    sql = "SELECT id FROM episodes WHERE closed = 1"
    args: list[object] = []
    if episode_ids is not None:
        wanted = [int(e) for e in episode_ids]
        if not wanted:
            return []
        sql += f" AND id IN ({','.join('?' * len(wanted))})"
        args = list(wanted)
    return [int(r[0]) for r in db.conn.execute(sql + " ORDER BY start_ts, id", args)]


def described_by(db: sqlite_utils.Database, model_run_id: int) -> set[int]:
    """Episodes that already have a description written by this model run (any revision)."""
    rows = db.conn.execute("SELECT DISTINCT episode_id FROM descriptions WHERE model_run_id = ?", (model_run_id,))
    return {int(r[0]) for r in rows}


def backlog(db: sqlite_utils.Database, kind: str = "describe") -> int:
    """Closed episodes with no model description yet, plus queued jobs: is there work for the idle runner?"""
    undescribed = db.conn.execute(
        "SELECT count(*) FROM episodes e WHERE e.closed = 1 AND NOT EXISTS"
        " (SELECT 1 FROM descriptions d WHERE d.episode_id = e.id)"
    ).fetchone()[0]
    queued = db.conn.execute("SELECT count(*) FROM jobs WHERE kind = ? AND state = 'queued'", (kind,)).fetchone()[0]
    return int(undescribed) + int(queued)


def last_activity_ts(db: sqlite_utils.Database) -> float | None:
    """Newest frame or input-event timestamp: when the person was last seen at the machine."""
    row = db.conn.execute("SELECT max(ts) FROM (SELECT max(ts) AS ts FROM frames UNION ALL SELECT max(ts) FROM events)")
    value = row.fetchone()[0]
    return None if value is None else float(value)
