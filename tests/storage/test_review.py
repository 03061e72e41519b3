"""storage.review: the queries behind the review window (paging, filters, search, filmstrip, thumbnails)."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3

import pytest
from PIL import Image

from deskscribe.storage import descriptions as d
from deskscribe.storage import frames as f
from deskscribe.storage import review
from deskscribe.storage.db import open_db, transaction
from synthetic import fill_synthetic


def png(color=(10, 120, 200)) -> f.EncodedImage:
    buf = io.BytesIO()
    Image.new("RGB", (32, 20), color).save(buf, "PNG")
    return f.EncodedImage(buf.getvalue(), "png", 32, 20)


def episode(db, start: float, app: str, title: str, n: int = 2) -> int:
    ep = f.create_episode(db, start)
    for i in range(n):
        f.add_frame(db, ep, f.FrameIn(ts=start + i, image=png((i * 40, sum(map(ord, app)) % 256, 0)), app=app, window_title=title,
                                      events=[f.EventIn(start + i, "click", {"button": "left"})] * i))
    f.close_episode(db, ep)
    return ep


@pytest.fixture
def three(db):
    base = dt.datetime(2024, 5, 1, 9, 0).timestamp()
    a = episode(db, base, "gimp", "photo.png — GIMP")
    b = episode(db, base + 3600, "firefox", "Quarterly report - Mozilla Firefox")
    c = episode(db, base + 86400, "xterm", "make test")
    d.add_description(db, b, "Read the quarterly report", ["Open the report"], author="model")
    return a, b, c


def test_pages_are_newest_first_and_never_overlap(db):
    fill_synthetic(db, 25, 2, png().data)
    seen, cursor = [], None
    while page := review.list_episodes(db, after=cursor, limit=10):
        seen += [r["id"] for r in page]
        cursor = review.cursor_after(page[-1])
    assert seen == list(range(25, 0, -1))
    assert review.count_episodes(db) == 25


def test_rows_carry_what_the_table_shows(db, three):
    a, b, c = three
    rows = review.list_episodes(db)
    assert [r["id"] for r in rows] == [c, b, a]
    row_b = rows[1]
    assert (row_b["apps"], row_b["frames"], row_b["status"], row_b["summary"]) == (
        ["firefox"], 2, "unreviewed", "Read the quarterly report")
    assert rows[0]["summary"] is None
    assert review.episode_row(db, b) == row_b and review.episode_row(db, 999) is None


def test_filters(db, three):
    a, b, c = three
    d.review(db, a, "accepted")
    assert [r["id"] for r in review.list_episodes(db, review.EpisodeFilter(status="accepted"))] == [a]
    assert [r["id"] for r in review.list_episodes(db, review.EpisodeFilter(app="xterm"))] == [c]
    day = review.EpisodeFilter(day=dt.date(2024, 5, 1))
    assert [r["id"] for r in review.list_episodes(db, day)] == [b, a] and review.count_episodes(db, day) == 2
    both = review.EpisodeFilter(day=dt.date(2024, 5, 1), status="unreviewed")
    assert [r["id"] for r in review.list_episodes(db, both)] == [b]
    assert review.days(db) == [(dt.date(2024, 5, 2), 1), (dt.date(2024, 5, 1), 2)]
    assert review.apps(db) == ["firefox", "gimp", "xterm"]
    assert review.status_counts(db) == {"unreviewed": 2, "accepted": 1, "rejected": 0, "edited": 0}
    with pytest.raises(ValueError, match="unknown status"):
        review.list_episodes(db, review.EpisodeFilter(status="done"))


@pytest.mark.parametrize("text,expected", [
    ("quarterly", "b"), ("QUARTER", "b"), ("report firefox", "b"),  # prefix, case-insensitive, AND
    ("make", "c"), ("gimp photo", "a"), ("read", "b"),  # titles and descriptions
    ("report gimp", ""), ('"unbalanced (quote AND OR NOT *', ""), ("***", ""), ("", "abc"),
])
def test_full_text_search(db, three, text, expected):
    ids = dict(zip("abc", three, strict=True))
    found = [r["id"] for r in review.list_episodes(db, review.EpisodeFilter(search=text))]
    assert sorted(found) == sorted(ids[k] for k in expected)
    if text.strip("*"):
        assert sorted(review.search_episode_ids(db, text)) == sorted(ids[k] for k in expected)


def test_search_covers_captions(db, three):
    a, _, _ = three
    run = d.model_run_id(db, d.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
    d.put_caption(db, review.filmstrip(db, a)[0]["image_hash"], run, "Brightness-Contrast dialog")
    assert review.search_episode_ids(db, "brightness") == [a]


def test_filmstrip_and_thumbnails(db, three):
    a, _, _ = three
    strip = review.filmstrip(db, a)
    assert [s["events"] for s in strip] == [0, 1] and strip[0]["app"] == "gimp"
    data = review.thumbnail_bytes(db, strip[1]["image_hash"])
    assert Image.open(io.BytesIO(data)).size == (32, 20)
    review.delete_frames(db, [strip[1]["id"]])
    assert review.thumbnail_bytes(db, strip[1]["image_hash"]) is None


def test_db_file(db, deskscribe_home):
    assert review.db_file(db) == deskscribe_home / "deskscribe.db"
    assert review.db_file(open_db(":memory:")) is None


def test_reading_while_capture_holds_a_write_transaction(db, three, deskscribe_home):
    """WAL: the review window's reads never wait for the capture process's writes."""
    writer = open_db(deskscribe_home / "deskscribe.db")
    reader = open_db(deskscribe_home / "deskscribe.db", readonly=True)
    reader.conn.execute("PRAGMA busy_timeout = 0")  # would raise 'database is locked' instead of waiting
    with transaction(writer):
        episode(writer, 1e9, "xterm", "uncommitted")
        assert len(review.list_episodes(reader)) == 3  # the uncommitted episode is not visible yet
        assert review.count_episodes(reader) == 3
    assert review.count_episodes(reader) == 4
    writer.conn.close()
    reader.conn.close()


def test_fill_synthetic_is_a_valid_database(db):
    fill_synthetic(db, 100, 3, png().data)
    assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.conn.execute("SELECT count(*) FROM frames").fetchone()[0] == 300
    assert [r["id"] for r in review.list_episodes(db, review.EpisodeFilter(search="synthetic episode 50"))] == [50]
    with pytest.raises(sqlite3.IntegrityError):  # same ids again: nothing half-written
        db.conn.execute("INSERT INTO episodes (id, start_ts, created_ts) VALUES (1, 0, 0)")
