import json
import shutil

import pytest

from deskscribe.capture.importer import import_folder, parse_action
from deskscribe.errors import ImportFailed
from deskscribe.storage import frames as f

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
        "frames": [{"file": "a.jpg", "ts": 1732450000.0, "window_title": "photo.png"},
                   {"file": "b.jpg", "ts": 1732450002.5, "actions": ["press ctrl+s"]}],
    }))
    res = import_folder(db, folder)
    rows = f.episode_frames(db, res.episode_id)
    assert [(r["ts"], r["app"], r["window_title"]) for r in rows] == [(1732450000.0, "gimp", "photo.png"),
                                                                      (1732450002.5, "gimp", None)]
    assert f.episode_events(db, res.episode_id)[0]["details"] == {"keys": "ctrl+s"}
    assert {r["trigger"] for r in rows} == {"import"}


def test_bad_sidecar_is_one_clear_error(db, tmp_path):
    (tmp_path / "deskscribe.json").write_text("{nope")
    with pytest.raises(ImportFailed, match="deskscribe.json: not valid JSON"):
        import_folder(db, tmp_path)


@pytest.mark.parametrize("action,kind,details", [
    ("mouse click left", "click", {"button": "left", "count": 1}),
    ("mouse double click right at 10, 20", "click", {"button": "right", "count": 2, "x": 10, "y": 20}),
    ("mouse double_click left", "click", {"button": "left", "count": 2}),  # ScreenAgent's wording
    ("mouse drag left 10, 20 to 30, 40", "drag", {"x1": 10, "y1": 20, "x2": 30, "y2": 40, "button": "left"}),
    ("press Control_L+a", "shortcut", {"keys": "ctrl+a"}),
    ("press Return", "keys", {"count": 1, "special": {"enter": 1}, "ended_by": "enter"}),
    ("scroll down 3", "scroll", {"dx": 0, "dy": -3, "count": 3}),
])
def test_parse_action(action, kind, details):
    (event,) = parse_action(action, 1.0, keep_text=False)
    assert (event.kind, event.details) == (kind, details)


@pytest.mark.parametrize("action", ["mouse move", "mouse move 10, 20", "mouse drag left"])
def test_pointer_moves_and_drags_without_points_are_no_event_and_never_typed_text(action):
    assert parse_action(action, 1.0, keep_text=True) == []


# ---- bad input: each is one line, the rest of the folder and the later folders still import ----

def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels in 60 bytes: what a decompression bomb looks like to a reader."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _good(path):
    from PIL import Image

    Image.new("RGB", (40, 30), (10, 120, 200)).save(path)


def _run_import(*folders, keep=False):
    import os
    import subprocess
    import sys

    args = [sys.executable, "-m", "deskscribe", "import", *map(str, folders)] + (["--keep-typed-text"] if keep else [])
    return subprocess.run(args, capture_output=True, timeout=120, env=os.environ)


def test_bombs_odd_names_and_link_loops_are_reported_and_skipped(db, tmp_path):
    import os

    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    _good(first / "00.png")
    (first / "01.png").write_bytes(_png_header(40_000, 40_000))  # 1.6 gigapixels: Pillow refuses to decode
    (first / "02.png").write_bytes(_png_header(10_000, 10_000))  # 100 megapixels: Pillow only warns
    with open(os.path.join(os.fsencode(first), b"03-caf\xe9.png"), "wb") as fh:  # Latin-1 name, not UTF-8
        _good(fh)
    os.symlink("04.png", first / "04.png")  # a link to itself
    _good(later / "00.png")
    proc = _run_import(first, later)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    lines = [ln.strip() for ln in err.splitlines() if ln.strip() and "readable by others" not in ln]  # db fixture
    bomb = "too many pixels to import safely (over 89,478,485: a decompression bomb?)"
    assert sorted(lines) == [
        f"skipped {first}/01.png: {bomb}",
        f"skipped {first}/02.png: {bomb}",
        f"skipped {first}/03-caf\\xe9.png: the file name is not valid UTF-8: rename it to import it",
        f"skipped {first}/04.png: a symbolic link that leads nowhere (a loop, or a missing target)",
    ], lines
    assert f"imported {first} as episode 1 (1 frames)" in out and f"imported {later} as episode 2 (1 frames)" in out


@pytest.mark.parametrize(("sidecar", "line"), [
    ({"frames": 5}, "frames must be a list of objects (got 5)"),
    ({"frames": ["00.png"]}, "frames[0] must be an object (got '00.png')"),
    ({"frames": [{"ts": 1.0}]}, "frames[0].file must be a file name (got None)"),
    ({"frames": [{"file": "00.png", "ts": "yesterday"}]},
     "frames[0].ts must be a finite number (Unix time in seconds) (got 'yesterday')"),
    ({"frames": [{"file": "00.png", "ts": float("nan")}]},
     "frames[0].ts must be a finite number (Unix time in seconds) (got nan)"),
    ({"frames": [{"file": "00.png", "ts": float("inf")}]},
     "frames[0].ts must be a finite number (Unix time in seconds) (got inf)"),
    ({"frames": [{"file": "00.png", "window_title": {"a": 1}}]},
     "frames[0].window_title must be a string (got {'a': 1})"),
    ({"app": ["gimp"]}, "app must be a string (got ['gimp'])"),
    ({"frames": [{"file": "00.png", "actions": "click"}]}, "frames[0].actions must be a list of strings (got 'click')"),
])
def test_wrong_typed_sidecar_fields_are_one_line_naming_file_and_field(db, tmp_path, sidecar, line):
    folder, later = tmp_path / "bad", tmp_path / "later"
    folder.mkdir()
    later.mkdir()
    _good(folder / "00.png")
    _good(later / "00.png")
    (folder / "deskscribe.json").write_text(json.dumps(sidecar))  # json writes NaN/Infinity as Python reads them
    with pytest.raises(ImportFailed) as err:
        import_folder(db, folder)
    assert str(err.value) == f"{folder / 'deskscribe.json'}: {line}"
    proc = _run_import(folder, later)
    err_lines = [ln.strip() for ln in proc.stderr.decode().splitlines() if ln.strip() and "readable by others" not in ln]
    assert err_lines == [f"skipped {folder}: {folder / 'deskscribe.json'}: {line}",
                         "Error: 1 of 2 folders could not be imported"], err_lines
    assert f"imported {later} as episode" in proc.stdout.decode()


def test_wrong_typed_episodes_jsonl_row(db, tmp_path):
    folder = tmp_path / "ep1"
    folder.mkdir()
    _good(folder / "00.png")
    (tmp_path / "episodes.jsonl").write_text("not json\n" + json.dumps({"episode": "ep1", "steps": "00.png"}) + "\n")
    with pytest.raises(ImportFailed) as err:
        import_folder(db, folder)
    assert str(err.value) == f"{tmp_path / 'episodes.jsonl'} line 2: steps must be a list of objects (got '00.png')"


@pytest.mark.parametrize("wording", ["TYPE 'hunter2'", 'typewrite("hunter2")', "entered hunter2 in the box"])
def test_unknown_action_wording_is_typed_text(db, tmp_path, wording):
    """The typed-text opt-out holds for every wording: unknown ones count as typing, their text is dropped."""
    assert [(e.kind, e.details) for e in parse_action(wording, 1.0, False)] == [("keys", {"count": len(wording)})]
    kept = parse_action(wording, 1.0, True)
    assert [e.kind for e in kept] == ["keys", "text"] and kept[1].details == {"text": wording}
    folder = tmp_path / "ep"
    folder.mkdir()
    _good(folder / "00.png")
    (folder / "deskscribe.json").write_text(json.dumps({"frames": [{"file": "00.png", "actions": [wording]}]}))
    ep = import_folder(db, folder).episode_id
    stored = db.conn.execute("SELECT group_concat(details) FROM events WHERE episode_id = ?", (ep,)).fetchone()[0]
    assert "hunter2" not in stored


@pytest.mark.parametrize("ts", [1e308, -1e12, 1.7e12])  # 1.7e12: milliseconds, not seconds
def test_a_sidecar_time_out_of_bounds_is_one_line_and_nothing_is_stored(deskscribe_home, tmp_path, ts):
    from ..conftest import one_error_line, run_cli

    folder = tmp_path / "bad"
    folder.mkdir()
    _good(folder / "00.png")
    (folder / "deskscribe.json").write_text(json.dumps({"frames": [{"file": "00.png", "ts": ts}]}))
    line = one_error_line(run_cli(deskscribe_home, "import", str(folder)))
    assert line == (f"Error: {folder / 'deskscribe.json'}: frames[0].ts must be a Unix time in seconds between "
                    f"2000-01-01 and tomorrow (got {ts!r}{': milliseconds?' if ts == 1.7e12 else ''}); fix it or "
                    "leave it out (the file order is used)")
    from deskscribe.storage.db import open_db

    db = open_db(deskscribe_home / "deskscribe.db")
    assert db.conn.execute("SELECT count(*) FROM frames").fetchone()[0] == 0
    db.conn.close()


def test_a_folder_whose_only_file_is_bad_names_the_file_and_why(deskscribe_home, tmp_path):
    from ..conftest import one_error_line, run_cli

    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "00.png").write_bytes(b"not an image at all")
    line = one_error_line(run_cli(deskscribe_home, "import", str(folder)))
    assert line.startswith(f"Error: {folder}: no readable images (00.png: ") and "image" in line, line
