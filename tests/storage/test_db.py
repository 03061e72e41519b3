import hashlib
import json
import sqlite3

import pytest

from deskscribe.errors import DatabaseError, SchemaTooNewError
from deskscribe.storage import migrations
from deskscribe.storage.db import open_db


def test_new_database_is_wal_with_foreign_keys(tmp_path):
    db = open_db(tmp_path / "d.db")
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert {"frames", "images", "episodes", "events", "descriptions", "captions", "model_runs", "jobs"} <= set(
        db.table_names()
    )
    assert migrations.applied(db.conn) == [name for name, _ in migrations.MIGRATIONS]


def test_reopen_does_not_migrate_again(tmp_path):
    open_db(tmp_path / "d.db").conn.close()
    conn = open_db(tmp_path / "d.db").conn
    assert conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(migrations.MIGRATIONS)


def test_newer_schema_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "d.db"
    db = open_db(path)
    db.conn.execute("INSERT INTO _migrations VALUES ('999_from_the_future', 0)")
    db.conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(SchemaTooNewError, match="newer deskscribe"):
        open_db(path)
    with pytest.raises(SchemaTooNewError):
        open_db(path, readonly=True)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_foreign_file_is_refused_with_one_line(tmp_path):
    path = tmp_path / "d.db"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(DatabaseError, match="not a deskscribe database"):
        open_db(path)
    assert path.read_text().startswith("this is not")


def test_other_sqlite_database_is_not_read_as_ours(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(DatabaseError, match="holds no deskscribe data"):
        open_db(path, readonly=True)


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    def boom(conn):
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("999_boom", boom)])
    with pytest.raises(RuntimeError):
        open_db(tmp_path / "d.db")
    conn = sqlite3.connect(tmp_path / "d.db")
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    assert "999_boom" not in [r[0] for r in conn.execute("SELECT name FROM _migrations")]


def test_readonly_open_of_missing_database_says_what_to_do(tmp_path):
    with pytest.raises(DatabaseError, match="deskscribe capture"):
        open_db(tmp_path / "missing.db", readonly=True)


def test_database_from_before_002_migrates_and_keeps_captions(tmp_path, monkeypatch):
    from deskscribe.storage import descriptions as D
    from deskscribe.storage import export_queries as q
    from deskscribe.storage.frames import EncodedImage, close_episode, create_episode, put_image

    path = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])  # the schema before 002
        old = open_db(path)
        ep = create_episode(old, 1.0)
        h = put_image(old, EncodedImage(b"not really a jpeg", "jpeg", 4, 4))  # frames as 001 wrote them
        old.conn.execute("INSERT INTO frames (episode_id, ts, width, height, image_hash) VALUES (?, 1.0, 4, 4, ?)",
                         (ep, h))
        close_episode(old, ep)
        run = D.model_run_id(old, D.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
        old.conn.execute("INSERT INTO captions (image_hash, model_run_id, text, ocr_text, created_ts)"
                         " VALUES (?, ?, 'a terminal', '$ ls', 1.0)", (h, run))
        assert "ocr_boxes" not in {c[1] for c in old.conn.execute("PRAGMA table_info(captions)")}
        old.conn.close()
    ro = open_db(path, readonly=True)  # export opens read-only and never migrates: no stored boxes, no error
    assert q.stored_ocr_boxes(ro, h, "1.0") is None
    ro.conn.close()
    db = open_db(path)
    assert migrations.applied(db.conn)[:2] == ["001_initial", "002_caption_ocr_boxes"]
    assert "ocr_boxes" in {c[1] for c in db.conn.execute("PRAGMA table_info(captions)")}
    assert D.caption_row(db, h, run) == {"text": "a terminal", "ocr_text": "$ ls"}
    assert db.conn.execute("SELECT ocr_boxes FROM captions").fetchone()[0] is None
    boxes = json.dumps({"w": 4, "h": 4, "engine": "1.0", "boxes": []})
    run2 = D.model_run_id(db, D.ModelRun("caption", "ocr", "rapidocr", None, "v2", {}))
    D.put_caption(db, h, run2, "a terminal", "$ ls", ocr_boxes=boxes)
    assert q.stored_ocr_boxes(db, h, "1.0") == boxes and q.stored_ocr_boxes(db, h, "2.0") is None
