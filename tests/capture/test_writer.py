"""The writer thread on a real SQLite file: episodes online, late events, a real SQLITE_FULL."""

from __future__ import annotations

import os
import time

import pytest

from deskscribe import paths
from deskscribe.capture.screen import Monitor
from deskscribe.capture.writer import Captured, Status, Task, Writer, link_events
from deskscribe.config import EpisodesConfig
from deskscribe.storage import frames as store
from deskscribe.storage.db import open_db
from deskscribe.storage.frames import EncodedImage, EventIn

from .conftest import poll

M1, M2 = Monitor(1, 0, 0, 100, 100), Monitor(2, 100, 0, 100, 100)


def image(size: int = 64) -> EncodedImage:
    return EncodedImage(os.urandom(size), "jpeg", 10, 10)


@pytest.fixture
def writer(deskscribe_home):
    db = open_db(paths.db_path())
    status = Status()
    w = Writer(db, EpisodesConfig(idle_gap_s=60, max_length_s=600, max_frames=100), status)
    w.start()
    yield w, db, status
    if w.is_alive():
        w.finish()
    db.conn.close()


def test_link_events_by_monitor():
    events = [EventIn(1, "click", {"x": 150, "y": 5}), EventIn(2, "keys", {"count": 1}),
              EventIn(3, "click", {"x": 900, "y": 5})]
    assert link_events(events, [M1, M2]) == [[events[1], events[2]], [events[0]]]


def test_frames_episodes_and_late_events(writer):
    w, db, status = writer
    t = time.time()
    assert w.submit(Captured(t, "XTerm", "one", [(M1, image(), "h1"), (M2, image(), "h2")],
                             [EventIn(t - 0.5, "click", {"x": 150, "y": 1, "button": "left"})]))
    assert w.submit(Captured(t + 1, "XTerm", "one", [(M1, image(), "h3")]))
    assert w.submit(Captured(t + 2, None, None, [], [EventIn(t + 1.5, "scroll", {"x": 1, "y": 1, "dy": 1})]))
    assert w.submit(Captured(t + 3, "Beta", "two", [(M1, image(), "h4")]))
    assert w.submit(Captured(t + 500, "Beta", "two", [(M1, image(), "h5")]))  # idle gap
    w.finish()
    episodes = [r[0] for r in db.conn.execute("SELECT id FROM episodes ORDER BY id")]
    assert [len(store.episode_frames(db, e)) for e in episodes] == [3, 1, 1]
    first = store.episode_frames(db, episodes[0])
    assert [f["monitor"] for f in first] == [1, 2, 1]
    assert [e["kind"] for e in store.frame_events(db, first[1]["id"])] == ["click"]  # happened on monitor 2
    assert [e["kind"] for e in store.frame_events(db, first[2]["id"])] == ["scroll"]  # late: the last frame
    assert db.conn.execute("SELECT count(*) FROM episodes WHERE closed = 0").fetchone()[0] == 0
    assert status.frames == 5 and len(status.episodes) == 3
    assert db.conn.execute("SELECT value FROM kv WHERE key = 'capture.state'").fetchone()[0].find('"stopped"') > 0


def test_open_episodes_of_a_crash_are_closed(deskscribe_home):
    db = open_db(paths.db_path())
    left = store.create_episode(db, time.time())
    store.add_frame(db, left, store.FrameIn(time.time(), image()))
    empty = store.create_episode(db, time.time())
    w = Writer(db, EpisodesConfig(), Status())
    w.start()
    w.finish()
    assert store.get_episode(db, left)["closed"] == 1
    assert store.get_episode(db, empty) is None
    db.conn.close()


def test_disk_full_drops_frames_then_recovers(writer):
    w, db, status = writer
    w.submit(Captured(time.time(), "XTerm", "t", [(M1, image(), "a")]))
    # SQLite's own limit on the database size raises the same SQLITE_FULL a full disk does
    w.submit(Task("limit", lambda db: db.conn.execute(
        "PRAGMA max_page_count = {}".format(db.conn.execute("PRAGMA page_count").fetchone()[0] + 2))))
    for i in range(3):
        w.submit(Captured(time.time(), "XTerm", "t", [(M1, image(200_000), f"b{i}")]))
    poll(lambda: status.snapshot()[0] == "disk_full", timeout=20, what="disk_full")
    assert "disk is full" in status.snapshot()[1]
    frames_then = status.frames
    w.submit(Task("unlimit", lambda db: db.conn.execute("PRAGMA max_page_count = 1073741823")))
    w.submit(Captured(time.time(), "XTerm", "t", [(M1, image(), "c")]))
    poll(lambda: status.disk_full_since is None, timeout=20, what="recovery")
    assert status.frames == frames_then + 1
    w.finish()
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
