"""SQLite errors are classified by their result codes (sqlite_errorcode), not by their message text."""

from __future__ import annotations

import sqlite3

import pytest

from deskscribe.errors import DatabaseError, DiskFullError
from deskscribe.storage.db import is_disk_full, open_db, primary_code, translate


def test_a_full_database_is_disk_full(tmp_path):
    db = open_db(tmp_path / "d.db")
    pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
    db.conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLite's size limit raises SQLITE_FULL, like a disk
    with pytest.raises(sqlite3.OperationalError) as caught:
        db.conn.execute("CREATE TABLE big AS SELECT randomblob(100000) AS b")
    assert primary_code(caught.value) == sqlite3.SQLITE_FULL and is_disk_full(caught.value)
    assert isinstance(translate(caught.value, "d.db"), DiskFullError)
    assert "the disk holding d.db is full" in str(translate(caught.value, "d.db"))
    db.conn.close()


def test_writing_a_read_only_database_and_a_busy_one(tmp_path):
    path = tmp_path / "d.db"
    open_db(path).conn.close()
    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as caught:
        ro.execute("INSERT INTO kv (key, value) VALUES ('a', 'b')")
    assert isinstance(translate(caught.value, path), DatabaseError)
    assert "read-only" in str(translate(caught.value, path))
    ro.close()

    holder = open_db(path)
    holder.conn.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as caught:
        other.execute("BEGIN IMMEDIATE")
    assert primary_code(caught.value) == sqlite3.SQLITE_BUSY
    assert "is busy" in str(translate(caught.value, path))
    other.close()
    holder.conn.execute("ROLLBACK")
    holder.conn.close()


def test_the_message_text_alone_classifies_nothing():
    lookalike = sqlite3.OperationalError("database or disk is full")  # no result code: not SQLite's own error
    assert primary_code(lookalike) is None and not is_disk_full(lookalike)
    assert translate(lookalike) is lookalike
