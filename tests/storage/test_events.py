import json

import pytest

from deskscribe.storage import events as ev
from deskscribe.storage import frames as f
from deskscribe.storage import migrations
from deskscribe.storage.db import open_db


@pytest.mark.parametrize("event", [
    ev.Click(10, 20, "right", 2, 1, ev.Element("push button", "Save", (1, 2, 30, 40), "mousepad")),
    ev.Drag(1, 2, 3, 4),
    ev.Scroll(0, -3, 3, 5, 6, 1),
    ev.Keys(12, {"enter": 1, "backspace": 2}, "enter"),
    ev.Shortcut("ctrl+s"),
    ev.Text("ls -l\n"),
    ev.AppSwitch("xterm", "mousepad", "notes.txt - Mousepad"),
    ev.Other("drag file"),
])
def test_every_kind_round_trips_through_json(event):
    assert ev.parse(event.kind, json.loads(json.dumps(ev.to_details(event)))) == event


def test_old_shapes_are_read_and_normalised():
    assert ev.normalize("shortcut", {"combo": "ctrl+s"}) == {"keys": "ctrl+s"}
    assert ev.normalize("app_switch", {"from": "xterm", "to": "mousepad", "title": None}) == {
        "from_app": "xterm", "to_app": "mousepad"}
    assert ev.normalize("keys", {"count": 1, "special": ["Return"]}) == {"count": 1, "special": {"Return": 1}}
    assert ev.normalize("click", {"button": "left", "double": True}) == {"button": "left", "count": 2}
    assert ev.normalize("click", {"button": "left", "element": None})["element"] is None  # looked up, nothing
    assert ev.normalize("mystery", {"a": 1}) == {"a": 1}


def test_odd_details_never_raise():
    for kind in ev.KINDS:
        for details in (None, [], "x", {"x": "nope", "count": float("nan"), "special": 3, "element": {"role": 1}}):
            assert ev.parse(kind, details) is not None


def test_describe_names_the_action():
    click = ev.Click(5, 6, element=ev.Element("menu", "File"))
    assert ev.describe(click) == "left click on menu 'File' at 5,6"
    assert ev.describe(ev.Shortcut("ctrl+s")) == "ctrl+s"
    assert ev.describe(ev.AppSwitch("xterm", "mousepad")) == "switched from xterm to mousepad"


def test_migration_003_rewrites_old_shapes_and_adds_links(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])  # the schema before 003
        old = open_db(path)
        ep = f.create_episode(old, 1.0)
        h = f.put_image(old, f.EncodedImage(b"x", "jpeg", 4, 4))
        fid = old.conn.execute("INSERT INTO frames (episode_id, ts, monitor, width, height, image_hash)"
                               " VALUES (?, 1.0, 2, 4, 4, ?)", (ep, h)).lastrowid
        rows = [("shortcut", {"combo": "ctrl+s"}), ("app_switch", {"from": "a", "to": "b", "title": "t"}),
                ("keys", {"count": 3, "special": ["enter", "enter"]}), ("click", {"button": "left", "x": 1, "y": 2,
                                                                                  "double": True})]
        for kind, d in rows:
            old.conn.execute("INSERT INTO events (episode_id, frame_id, ts, kind, details) VALUES (?, ?, 1.0, ?, ?)",
                             (ep, fid, kind, json.dumps(d)))
        old.conn.commit()
        old.conn.close()
    db = open_db(path)
    assert "003_event_vocabulary" in migrations.applied(db.conn)
    got = [(e["kind"], e["details"], e["monitor"]) for e in f.episode_events(db, ep)]
    assert got == [
        ("shortcut", {"keys": "ctrl+s"}, None),
        ("app_switch", {"from_app": "a", "to_app": "b", "title": "t"}, None),
        ("keys", {"count": 3, "special": {"enter": 2}}, None),
        ("click", {"button": "left", "count": 2, "x": 1, "y": 2}, 2),
    ]
    assert f.episode_frames(db, ep)[0]["trigger"] is None


def test_before_and_after_frames_are_linked_and_cleared_on_delete(db):
    ep = f.create_episode(db, 0.0)
    before = f.add_frame(db, ep, f.FrameIn(1.0, f.EncodedImage(b"a", "png", 1, 1), trigger="action"))
    after = f.add_frame(db, ep, f.FrameIn(2.0, f.EncodedImage(b"b", "png", 1, 1), trigger="settle"))
    f.add_events(db, ep, None, [f.EventIn.of(1.5, ev.Click(1, 1, monitor=1), before_frame_id=before,
                                             after_frame_id=after, looked_up=True)])
    (row,) = f.episode_events(db, ep)
    assert (row["frame_id"], row["before_frame_id"], row["after_frame_id"], row["monitor"]) == (before, before, after, 1)
    assert row["details"]["element"] is None  # asked, nothing exposed
    assert [r["trigger"] for r in f.episode_frames(db, ep)] == ["action", "settle"]
    f.delete_frames(db, [after])
    assert f.episode_events(db, ep)[0]["after_frame_id"] is None
