"""The writer thread on a real SQLite file: episodes online, actions linked to frames by token, SQLITE_FULL."""

from __future__ import annotations

import os
import time

import pytest

from deskscribe import paths
from deskscribe.capture.screen import Monitor
from deskscribe.capture.writer import Action, Captured, NewFrame, Status, Task, Writer
from deskscribe.config import EpisodesConfig
from deskscribe.storage import events as ev
from deskscribe.storage import frames as store
from deskscribe.storage.db import open_db
from deskscribe.storage.frames import EncodedImage

from .conftest import poll

M1, M2 = Monitor(1, 0, 0, 100, 100), Monitor(2, 100, 0, 100, 100)


def image(size: int = 64) -> EncodedImage:
    return EncodedImage(os.urandom(size), "jpeg", 10, 10)


def nf(token: int, monitor: Monitor = M1, size: int = 64, trigger: str = "interval") -> NewFrame:
    return NewFrame(token, monitor, image(size), f"h{token}", trigger)


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


def test_frames_episodes_and_actions_linked_by_token(writer):
    w, db, status = writer
    t = time.time()
    assert w.submit(Captured(t, "XTerm", "one", [nf(1), nf(2, M2)]))
    assert w.submit(Captured(t + 1, "XTerm", "one", [nf(3, trigger="settle")]))
    click = ev.Click(150, 1, monitor=2, element=ev.Element("push button", "OK"))
    assert w.submit(Captured(t + 1, None, None, [], [Action(t + 0.5, [click], before=2, after=3, looked_up=True),
                                                     Action(t + 0.7, [ev.Keys(3, ended_by="pause")], before=1)]))
    assert w.submit(Captured(t + 3, "Beta", "two", [nf(4, trigger="app_switch")]))
    switch = Action(t + 2.9, [ev.AppSwitch("XTerm", "Beta", "two")], before=3, after=4)
    assert w.submit(Captured(t + 3, None, None, [], [switch]))
    assert w.submit(Captured(t + 500, "Beta", "two", [nf(5)]))  # idle gap
    w.finish()
    episodes = [r[0] for r in db.conn.execute("SELECT id FROM episodes ORDER BY id")]
    assert [len(store.episode_frames(db, e)) for e in episodes] == [3, 1, 1]
    first = store.episode_frames(db, episodes[0])
    assert [(f["monitor"], f["trigger"]) for f in first] == [(1, "interval"), (2, "interval"), (1, "settle")]
    ids = [f["id"] for f in first]
    rows = store.episode_events(db, episodes[0])
    assert [(r["kind"], r["frame_id"], r["before_frame_id"], r["after_frame_id"]) for r in rows] == [
        ("click", ids[1], ids[1], ids[2]), ("keys", ids[0], ids[0], None)]
    assert rows[0]["details"]["element"] == {"role": "push button", "name": "OK", "box": None, "app": None}
    (sw,) = store.episode_events(db, episodes[1])  # an app switch begins the new app's episode
    beta = store.episode_frames(db, episodes[1])[0]["id"]
    assert (sw["frame_id"], sw["before_frame_id"], sw["after_frame_id"]) == (beta, ids[2], beta)
    assert sw["details"] == {"from_app": "XTerm", "to_app": "Beta", "title": "two"}
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
    w.submit(Captured(time.time(), "XTerm", "t", [nf(1)]))
    # SQLite's own limit on the database size raises the same SQLITE_FULL a full disk does
    w.submit(Task("limit", lambda db: db.conn.execute(
        "PRAGMA max_page_count = {}".format(db.conn.execute("PRAGMA page_count").fetchone()[0] + 2))))
    for i in range(3):
        w.submit(Captured(time.time(), "XTerm", "t", [nf(10 + i, size=200_000)]))
    poll(lambda: status.snapshot()[0] == "disk_full", timeout=20, what="disk_full")
    assert "disk is full" in status.snapshot()[1]
    frames_then = status.frames
    w.submit(Task("unlimit", lambda db: db.conn.execute("PRAGMA max_page_count = 1073741823")))
    w.submit(Captured(time.time(), "XTerm", "t", [nf(20)]))
    poll(lambda: status.disk_full_since is None, timeout=20, what="recovery")
    assert status.frames == frames_then + 1
    poll(lambda: not status.health.problems(), timeout=20, what="the problem cleared")
    w.finish()
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
