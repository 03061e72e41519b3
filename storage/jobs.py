"""A resumable job queue over the ``jobs`` table.

A job is (kind, target, run_key): e.g. ("describe", episode 7, the describe model run's key). The UNIQUE
constraint makes enqueueing idempotent, so the same work is never queued twice for the same model
configuration. States: queued → running → done | failed. A process that dies leaves its job 'running';
:func:`requeue_stale` (called at the start of a batch, while holding the batch lock) puts it back in the
queue, so a crash mid-batch resumes where it stopped. Failed jobs keep their error and are retried only on
request (:func:`retry_failed`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from deskscribe.storage.db import transaction

STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    target: int
    run_key: str
    state: str
    attempts: int
    error: str | None


def _job(row: tuple) -> Job:  # type: ignore[type-arg]
    return Job(int(row[0]), row[1], int(row[2]), row[3], row[4], int(row[5]), row[6])


_COLS = "id, kind, target, run_key, state, attempts, error"


def enqueue(db: sqlite_utils.Database, kind: str, targets: Iterable[int], run_key: str) -> int:
    """Queue ``kind`` for each target under ``run_key``; existing jobs (any state) are left alone.

    Returns how many jobs were newly queued.
    """
    now = time.time()
    added = 0
    with transaction(db) as conn:
        for target in targets:
            cur = conn.execute(
                "INSERT OR IGNORE INTO jobs (kind, target, run_key, state, attempts, created_ts, updated_ts)"
                " VALUES (?, ?, ?, 'queued', 0, ?, ?)",
                (kind, int(target), run_key, now, now),
            )
            added += cur.rowcount
    return added


def requeue_stale(db: sqlite_utils.Database, kind: str) -> int:
    """Put jobs left 'running' by a process that died back in the queue; returns how many.

    Call only while holding the batch lock for ``kind`` (no live process is running one of them).
    """
    cur = db.conn.execute(
        "UPDATE jobs SET state = 'queued', updated_ts = ? WHERE kind = ? AND state = 'running'", (time.time(), kind)
    )
    return cur.rowcount


def claim(db: sqlite_utils.Database, kind: str, run_key: str, targets: Iterable[int] | None = None) -> Job | None:
    """Atomically take the oldest queued job (optionally only among ``targets``) and mark it running."""
    wanted = None if targets is None else [int(t) for t in targets]
    with transaction(db) as conn:
        sql = f"SELECT {_COLS} FROM jobs WHERE kind = ? AND run_key = ? AND state = 'queued'"
        args: list[object] = [kind, run_key]
        if wanted is not None:
            if not wanted:
                return None
            sql += f" AND target IN ({','.join('?' * len(wanted))})"
            args += wanted
        row = conn.execute(sql + " ORDER BY id LIMIT 1", args).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, error = NULL, updated_ts = ? WHERE id = ?",
            (time.time(), row[0]),
        )
    job = _job(row)
    return Job(job.id, job.kind, job.target, job.run_key, "running", job.attempts + 1, None)


def requeue(db: sqlite_utils.Database, job_id: int) -> None:
    db.conn.execute("UPDATE jobs SET state = 'queued', updated_ts = ? WHERE id = ?", (time.time(), job_id))


def done(db: sqlite_utils.Database, job_id: int) -> None:
    db.conn.execute("UPDATE jobs SET state = 'done', error = NULL, updated_ts = ? WHERE id = ?", (time.time(), job_id))


def fail(db: sqlite_utils.Database, job_id: int, error: str) -> None:
    """Mark a job failed with a one-line error; it stays failed until :func:`retry_failed`."""
    line = " ".join(str(error).split())[:500] or "unknown error"
    db.conn.execute("UPDATE jobs SET state = 'failed', error = ?, updated_ts = ? WHERE id = ?",
                    (line, time.time(), job_id))


def retry_failed(db: sqlite_utils.Database, kind: str, run_key: str | None = None,
                 targets: Iterable[int] | None = None) -> int:
    """Queue failed jobs again (all run keys unless ``run_key``); returns how many."""
    sql = "UPDATE jobs SET state = 'queued', updated_ts = ? WHERE kind = ? AND state = 'failed'"
    args: list[object] = [time.time(), kind]
    if run_key is not None:
        sql += " AND run_key = ?"
        args.append(run_key)
    if targets is not None:
        wanted = [int(t) for t in targets]
        if not wanted:
            return 0
        sql += f" AND target IN ({','.join('?' * len(wanted))})"
        args += wanted
    return db.conn.execute(sql, args).rowcount


def get_job(db: sqlite_utils.Database, kind: str, target: int, run_key: str) -> Job | None:
    row = db.conn.execute(
        f"SELECT {_COLS} FROM jobs WHERE kind = ? AND target = ? AND run_key = ?", (kind, target, run_key)
    ).fetchone()
    return None if row is None else _job(row)


def jobs_for(db: sqlite_utils.Database, kind: str, target: int) -> list[Job]:
    """Every job of ``kind`` for one target, oldest first (for `deskscribe show`)."""
    rows = db.conn.execute(f"SELECT {_COLS} FROM jobs WHERE kind = ? AND target = ? ORDER BY id", (kind, target))
    return [_job(r) for r in rows]


def counts(db: sqlite_utils.Database, kind: str, run_key: str | None = None) -> dict[str, int]:
    """How many jobs of ``kind`` are in each state (under ``run_key`` if given)."""
    sql = "SELECT state, count(*) FROM jobs WHERE kind = ?"
    args: list[object] = [kind]
    if run_key is not None:
        sql += " AND run_key = ?"
        args.append(run_key)
    got = dict(db.conn.execute(sql + " GROUP BY state", args).fetchall())
    return {state: int(got.get(state, 0)) for state in STATES}
