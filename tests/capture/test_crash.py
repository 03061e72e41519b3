"""kill -9 at random moments: the database stays consistent and every frame has its image."""

from __future__ import annotations

import random
import signal
import sqlite3

import pytest

from .conftest import poll, write_config

pytestmark = pytest.mark.x11


def test_kill_9_at_random_moments(xdisplay, xterm, start_capture, capdb, deskscribe_home):
    write_config(deskscribe_home, {"capture": {"interval_s": 0.2, "change_threshold": 0.0}})
    xterm("ticker", "while sleep 0.05; do date +%s.%N; done", "80x30+0+0")
    rng = random.Random(1234)
    for _ in range(4):
        before = capdb.frames()
        proc = start_capture()
        poll(lambda: capdb.frames() > before, what="new frames")
        # kill somewhere in the middle of writing frames: wait for a random number of further frames
        target = capdb.frames() + rng.randint(1, 6)
        poll(lambda: capdb.frames() >= target, what="more frames")
        proc.stop(signal.SIGKILL)
        assert proc.proc.returncode == -signal.SIGKILL
    proc = start_capture("--duration", "1.5")  # a clean run closes what the killed ones left open
    assert proc.proc.wait(timeout=60) == 0, proc.stderr()

    conn = sqlite3.connect(capdb.path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM frames").fetchone()[0] >= 8
        missing = conn.execute(
            "SELECT count(*) FROM frames f LEFT JOIN images i ON i.hash = f.image_hash WHERE i.data IS NULL"
        ).fetchone()[0]
        assert missing == 0
        assert conn.execute("SELECT count(*) FROM episodes WHERE closed = 0").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM episodes e WHERE NOT EXISTS"
                            " (SELECT 1 FROM frames f WHERE f.episode_id = e.id)").fetchone()[0] == 0
    finally:
        conn.close()
