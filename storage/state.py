"""Small shared state in the ``kv`` table: the capture process's heartbeat and the pause switch.

The capture process writes its state; the CLI and the tray read it and flip the pause switch.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlite_utils

PAUSED_UNTIL = "capture.paused_until"  # unix time, or "forever"; absent = not paused
CAPTURE = "capture.state"  # JSON: {"pid", "state", "message", "heartbeat", "problems": {kind: reason}}
STALE_AFTER_S = 30.0


def get(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def put(db: sqlite_utils.Database, key: str, value: str | None) -> None:
    if value is None:
        db.conn.execute("DELETE FROM kv WHERE key = ?", (key,))
    else:
        db.conn.execute(
            "INSERT INTO kv (key, value, updated_ts) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_ts = excluded.updated_ts",
            (key, value, time.time()),
        )


def pause(db: sqlite_utils.Database, minutes: float | None = None) -> None:
    """Pause capture for ``minutes`` (None = until resumed)."""
    put(db, PAUSED_UNTIL, "forever" if minutes is None else repr(time.time() + minutes * 60))


def resume(db: sqlite_utils.Database) -> None:
    put(db, PAUSED_UNTIL, None)


def paused_until(db: sqlite_utils.Database, now: float | None = None) -> float | None:
    """When the pause ends (inf = until resumed), or None when capture is not paused."""
    value = get(db, PAUSED_UNTIL)
    if value is None:
        return None
    if value == "forever":
        return float("inf")
    until = float(value)
    return until if until > (now if now is not None else time.time()) else None


def report_capture(db: sqlite_utils.Database, pid: int, state: str, message: str = "",
                   problems: dict[str, str] | None = None) -> None:
    """Written by the capture process on every tick: capturing | paused | idle | disk_full | stopped, and what
    is wrong meanwhile (``problems``: kind → reason, see capture/health.py; empty when healthy)."""
    put(db, CAPTURE, json.dumps({"pid": pid, "state": state, "message": message, "heartbeat": time.time(),
                                 "problems": problems or {}}))


def capture_status(db: sqlite_utils.Database, now: float | None = None) -> dict[str, Any]:
    """What the capture process last said; ``state`` is ``stopped`` when its heartbeat is stale."""
    raw = get(db, CAPTURE)
    info: dict[str, Any] = json.loads(raw) if raw else {"pid": None, "state": "stopped", "message": "", "heartbeat": 0}
    info.setdefault("problems", {})
    now = now if now is not None else time.time()
    if info["state"] != "stopped" and now - info["heartbeat"] > STALE_AFTER_S:
        info = {**info, "state": "stopped", "message": "the capture process is not running", "problems": {}}
    return info
