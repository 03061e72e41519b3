import json
import shutil

import pytest

from deskscribe.errors import ImportFailed
from deskscribe.storage import frames as f
from deskscribe.capture.importer import import_folder, parse_action

EPISODE = "048c56fa99ef42c0976064e7b5598962"


def test_screenagent_folder_becomes_one_episode_with_its_actions(db, screenagent):
    res = import_folder(db, screenagent / EPISODE)
    assert res.frames == 7 and not res.skipped
    rows = f.episode_frames(db, res.episode_id)
    assert [r["name"] for r in rows] == [f"{i:02d}.jpg" for i in range(7)]
    assert all((r["width"], r["height"]) == (1024, 768) for r in rows)
    kinds = [e["kind"] for e in f.episode_events(db, res.episode_id)]
    assert kinds.count("click") == 4 and "shortcut" in kinds
    assert "text" not in kinds  # typed text only when allowed
    assert f.get_episode(db, res.episode_id)["closed"] == 1


def test_typed_text_is_kept_only_on_request(db, screenagent):
    res = import_folder(db, screenagent / EPISODE, keep_typed_text=True)
    texts = [e["details"]["text"] for e in f.episode_events(db, res.episode_id) if e["kind"] == "text"]
    assert texts == ["70"]


def test_corrupt_and_foreign_files_are_reported_and_skipped(db, screenagent, tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    for name in ("00.jpg", "01.jpg", "02.jpg"):
        shutil.copy(screenagent / EPISODE / name, folder / name)
    (folder / "01.jpg").write_bytes((folder / "01.jpg").read_bytes()[:300])  # truncated JPEG
    (folder / "notes.txt").write_text("hello")
    (folder / "03.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    res = import_folder(db, folder)
    assert res.frames == 2
    assert sorted(n for n, _ in res.skipped) == ["01.jpg", "03.png", "notes.txt"]


def test_folder_without_images_leaves_nothing_behind(db, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_text("x")
    with pytest.raises(ImportFailed, match="no readable images"):
        import_folder(db, tmp_path / "empty")
    assert db.conn.execute("SELECT count(*) FROM episodes").fetchone()[0] == 0


def test_sidecar_gives_titles_and_timestamps(db, screenagent, tmp_path):
    folder = tmp_path / "ep"
    folder.mkdir()
    shutil.copy(screenagent / EPISODE / "00.jpg", folder / "a.jpg")
    shutil.copy(screenagent / EPISODE / "01.jpg", folder / "b.jpg")
    (folder / "deskscribe.json").write_text(json.dumps({
        "app": "gimp",
        "frames": [{"file": "a.jpg", "ts": 1000.0, "window_title": "photo.png"},
                   {"file": "b.jpg", "ts": 1002.5, "actions": ["press ctrl+s"]}],
    }))
    res = import_folder(db, folder)
    rows = f.episode_frames(db, res.episode_id)
    assert [(r["ts"], r["app"], r["window_title"]) for r in rows] == [(1000.0, "gimp", "photo.png"),
                                                                      (1002.5, "gimp", None)]
    assert f.episode_events(db, res.episode_id)[0]["details"] == {"keys": "ctrl+s"}
    assert {r["trigger"] for r in rows} == {"import"}


def test_bad_sidecar_is_one_clear_error(db, tmp_path):
    (tmp_path / "deskscribe.json").write_text("{nope")
    with pytest.raises(ImportFailed, match="deskscribe.json: not valid JSON"):
        import_folder(db, tmp_path)


@pytest.mark.parametrize("action,kind,details", [
    ("mouse click left", "click", {"button": "left", "count": 1}),
    ("mouse double click right at 10, 20", "click", {"button": "right", "count": 2, "x": 10, "y": 20}),
    ("press Control_L+a", "shortcut", {"keys": "ctrl+a"}),
    ("press Return", "keys", {"count": 1, "special": {"enter": 1}, "ended_by": "enter"}),
    ("scroll down 3", "scroll", {"dx": 0, "dy": -3, "count": 3}),
])
def test_parse_action(action, kind, details):
    (event,) = parse_action(action, 1.0, keep_text=False)
    assert (event.kind, event.details) == (kind, details)
