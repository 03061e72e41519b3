"""Forgetting: nothing of a forgotten frame is left in deskscribe.db, its WAL or SHM, byte for byte, even with
the review window open on its own connection; search rows follow deleted frames; the time span parser."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from deskscribe.capture.importer import import_folder
from deskscribe.storage import descriptions as D
from deskscribe.storage import forget
from deskscribe.storage.db import open_db
from deskscribe.storage.frames import delete_frames, episode_frames
from deskscribe.storage.review import search_episode_ids

TITLE = "Quokkazanzibar budget draft"
OCR_WORD = "Xylowombatine"


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    return ["deskscribe-tests", "-platform", "offscreen"]


def _noise_png(path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    Image.frombytes("RGB", (96, 64), bytes(rnd.randrange(256) for _ in range(96 * 64 * 3))).save(path)


def _folder(root: Path, name: str, title: str, n: int, ts: float | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    frames = []
    for i in range(n):
        _noise_png(folder / f"{i:02d}.png", hash((name, i)) & 0xFFFF)
        frames.append({"file": f"{i:02d}.png", **({"ts": ts + 2 * i} if ts is not None else {})})
    (folder / "deskscribe.json").write_text(json.dumps({"app": "mousepad", "window_title": title, "frames": frames}))
    return folder


def _plant(db: Any, root: Path) -> tuple[int, int, bytes]:
    """A recent episode to forget (title, OCR word, noise images) and an old one to keep."""
    keep = import_folder(db, _folder(root, "keep", "Keepme notes", 2, ts=time.time() - 86_400)).episode_id
    gone = import_folder(db, _folder(root, "gone", TITLE, 3)).episode_id
    cap = D.model_run_id(db, D.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
    for f in episode_frames(db, gone):
        D.put_caption(db, f["image_hash"], cap, f"A text editor showing {OCR_WORD} notes", ocr_text=OCR_WORD)
    D.add_description(db, gone, f"The user drafted the {TITLE}.", [f"Typed {OCR_WORD}"], author="model",
                      model_run_id=D.model_run_id(db, D.ModelRun("describe", "llama_cpp", "s", None, "v1", {})))
    data = db.conn.execute("SELECT data FROM images i JOIN frames f ON f.image_hash = i.hash"
                           " WHERE f.episode_id = ? LIMIT 1", (gone,)).fetchone()[0]
    return keep, gone, bytes(data[len(data) // 2:len(data) // 2 + 48])


def _needles(image_piece: bytes) -> list[bytes]:
    words = [TITLE, "Quokkazanzibar", OCR_WORD]
    return [w.encode() for w in words] + [w.lower().encode() for w in words] + [image_piece]


def _found(db_path: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for suffix in ("", "-wal", "-shm"):
        f = Path(f"{db_path}{suffix}")
        if f.exists():
            data = f.read_bytes()
            hits += [f"{f.name}: {n[:20]!r}" for n in needles if n in data]
    return hits


@pytest.mark.gui
def test_forget_last_leaves_no_byte_behind_with_review_window_open(qtbot, db, deskscribe_home: Path,
                                                                    tmp_path: Path) -> None:
    from deskscribe.app.review_window import ReviewWindow

    keep, gone, piece = _plant(db, tmp_path / "src")
    path = deskscribe_home / "deskscribe.db"
    assert _found(path, _needles(piece)), "the test data is not in the files: this test could not fail"
    window = ReviewWindow(open_db(path))  # the real window on its own connection, as the app opens it
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    assert window.model.row_of(gone) is not None
    try:
        proc = subprocess.run([sys.executable, "-m", "deskscribe", "forget", "--last", "15m"], env=os.environ,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "3 frames, 3 images" in proc.stdout and "1 episodes" in proc.stdout, proc.stdout
        assert "busy" not in proc.stdout
        assert _found(path, _needles(piece)) == []
        window.refresh()  # the open connection reads the new state
        assert window.model.row_of(gone) is None and window.model.row_of(keep) is not None
        assert search_episode_ids(window.db, "Quokkazanzibar") == [] and search_episode_ids(db, "Keepme") == [keep]
    finally:
        window.loader.shutdown()
        window.db.conn.close()


def test_forget_episode_and_review_delete_scrub_files(db, deskscribe_home: Path, tmp_path: Path) -> None:
    keep, gone, piece = _plant(db, tmp_path / "src")
    path = deskscribe_home / "deskscribe.db"
    other = open_db(path)  # a second connection held open (capture or the review window)
    assert other.conn.execute("SELECT count(*) FROM frames").fetchone()[0] == 5
    done = forget.delete_episode(db, gone)  # the review window's "Delete episode"
    assert (done.frames, done.images, done.episodes, done.descriptions) == (3, 3, 1, 1) and done.wal_truncated
    assert _found(path, _needles(piece)) == []
    assert other.conn.execute("SELECT count(*) FROM frames").fetchone()[0] == 2
    with pytest.raises(forget.ForgetError, match="no episode"):
        forget.forget_episode(db, gone)
    other.conn.close()


def test_deleted_frames_take_their_search_rows(db, tmp_path: Path) -> None:
    """Titles and captions leave search_fts with the last frame that showed them (migration 006)."""
    ep = import_folder(db, _folder(tmp_path, "a", "Alphatitle", 2)).episode_id
    frames = episode_frames(db, ep)
    db.conn.execute("UPDATE frames SET window_title = 'Betatitle' WHERE id = ?", (frames[1]["id"],))
    db.conn.execute("INSERT INTO search_fts(text, episode_id, kind) VALUES ('mousepad Betatitle', ?, 'title')", (ep,))
    cap = D.model_run_id(db, D.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
    D.put_caption(db, frames[1]["image_hash"], cap, "Gammacaption words")
    assert search_episode_ids(db, "Betatitle") == [ep] and search_episode_ids(db, "Gammacaption") == [ep]
    delete_frames(db, [frames[1]["id"]])  # storage.frames' delete: the triggers do the work
    assert search_episode_ids(db, "Betatitle") == [] and search_episode_ids(db, "Gammacaption") == []
    assert search_episode_ids(db, "Alphatitle") == [ep]
    D.add_description(db, ep, "Deltadescription", [], author="person")
    db.conn.execute("DELETE FROM descriptions WHERE episode_id = ?", (ep,))
    assert search_episode_ids(db, "Deltadescription") == []
    kinds = [r[0] for r in db.conn.execute("SELECT kind FROM search_fts WHERE episode_id = ?", (ep,))]
    assert kinds == ["title"], kinds


def test_forget_since_keeps_older_and_resets_touched_episode(db, tmp_path: Path) -> None:
    now = time.time()
    ep = import_folder(db, _folder(tmp_path, "span", "Spantitle", 4, ts=now - 600)).episode_id  # 600..594 s ago
    D.add_description(db, ep, "Described", ["step"], author="person")
    D.review(db, ep, "accepted")
    since = dt.datetime.fromtimestamp(now - 597).strftime("%Y-%m-%d %H:%M:%S")
    what, done = forget.forget(db, since=since, now=now)
    assert what.startswith("everything since") and done.frames == 2 and done.descriptions == 1
    left = episode_frames(db, ep)
    assert [round(now - f["ts"]) for f in left] == [600, 598]
    row = db.conn.execute("SELECT status, end_ts FROM episodes WHERE id = ?", (ep,)).fetchone()
    assert row[0] == "unreviewed" and row[1] == left[-1]["ts"]


@pytest.mark.parametrize(("text", "seconds"), [("15m", 900), ("5", 300), ("2h", 7200), ("1d", 86_400),
                                               ("90s", 90), ("1.5h", 5400)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert forget.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0m", "-5m", "15 minutes", "m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(forget.ForgetError, match="--last takes a span"):
        forget.parse_duration(text)


def test_parse_since() -> None:
    now = dt.datetime(2026, 12, 2, 16, 0).timestamp()
    assert forget.parse_since("2026-12-02 14:30", now) == dt.datetime(2026, 12, 2, 14, 30).timestamp()
    assert forget.parse_since("14:30", now) == dt.datetime(2026, 12, 2, 14, 30).timestamp()
    assert forget.parse_since("2026-12-01", now) == dt.datetime(2026, 12, 1).timestamp()
    with pytest.raises(forget.ForgetError, match="in the future"):
        forget.parse_since("17:00", now)
    with pytest.raises(forget.ForgetError, match="--since takes"):
        forget.parse_since("yesterday", now)
    with pytest.raises(forget.ForgetError, match="one of --last"):
        forget.forget(None, last="5m", episode=3)  # type: ignore[arg-type]
