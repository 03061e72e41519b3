"""Steps stored per action (storage/steps.py, migrations 009 and 010): a person's edit keeps each step's action."""

from __future__ import annotations

import json

from deskscribe.storage import descriptions as d
from deskscribe.storage import events as ev
from deskscribe.storage import frames as f
from deskscribe.storage import migrations
from deskscribe.storage.db import open_db
from deskscribe.storage.steps import StepIn, align, by_event

from .conftest import three_actions


def test_a_person_edit_keeps_the_actions_of_the_lines_it_came_from(db) -> None:  # type: ignore[no-untyped-def]
    ep, ids = three_actions(db)
    steps = [StepIn("Clicked 'File'", ids[0], "steps", {"target": "File"}),
             StepIn("Clicked 'Save'", ids[1], "steps", {"target": "Save"}),
             StepIn("Saved notes.txt (Ctrl+S)", ids[2], "steps")]
    d.add_description(db, ep, "Saved notes.txt.", steps, author="model")
    d.add_description(db, ep, "Saved notes.", ["Clicked 'File'", "Clicked the Save item", "Saved notes.txt (Ctrl+S)",
                                               "Checked the file"], author="person")
    first, second = d.description_history(db, ep)
    rows = second["step_rows"]
    assert [(r["event_id"], r["author"]) for r in rows] == [
        (ids[0], "steps"), (ids[1], "person"), (ids[2], "steps"), (None, "person")]
    assert rows[1]["parent_id"] == first["step_rows"][1]["id"]  # a revision of that step
    assert rows[1]["evidence"] == {"target": "Save"} and second["steps"][1] == "Clicked the Save item"
    # a line the person removes leaves its action with the latest text it had
    d.add_description(db, ep, "Saved notes.", ["Clicked 'File'", "Saved notes.txt (Ctrl+S)"], author="person")
    history = d.description_history(db, ep)
    assert [r["event_id"] for r in history[-1]["step_rows"]] == [ids[0], ids[2]]
    assert by_event(history)[ids[1]]["text"] == "Clicked the Save item"
    # reverting copies the steps with their actions
    d.revert_to(db, ep, 1)
    current = d.current_description(db, ep)
    assert current is not None and [r["event_id"] for r in current["step_rows"]] == ids


def test_align_matches_lines_by_content_not_position() -> None:
    prev = [{"id": i, "text": t, "event_id": 10 + i, "author": "steps", "evidence": {}, "parent_id": None}
            for i, t in enumerate(["a", "b", "c"])]
    got = align(["new first", "a", "b", "c"], prev)
    assert [(s.text, s.event_id) for s in got] == [("new first", None), ("a", 10), ("b", 11), ("c", 12)]


def test_migration_009_keys_old_json_steps_to_actions_when_they_match(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", [x for x in migrations.MIGRATIONS if x[0] < "009"])
        old = open_db(path)
        ep, ids = three_actions(old)
        other = f.create_episode(old, 5.0)
        for episode, steps in ((ep, ["one", "two", "three"]), (other, ["a step of no recorded action"])):
            old.conn.execute("INSERT INTO descriptions (episode_id, revision, author, summary, steps, is_current,"
                             " created_ts) VALUES (?, 1, 'model', 's', ?, 1, 0)", (episode, json.dumps(steps)))
        old.conn.close()
    db = open_db(path)
    assert [r["event_id"] for r in (d.current_description(db, ep) or {})["step_rows"]] == ids
    assert [r["event_id"] for r in (d.current_description(db, other) or {})["step_rows"]] == [None]


def test_migration_010_ends_a_burst_on_the_before_frame_of_the_action_that_ended_it(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", [x for x in migrations.MIGRATIONS if x[0] < "010"])
        old = open_db(path)
        ep = f.create_episode(old, 1.0)
        fr = [f.add_frame(old, ep, f.FrameIn(t, f.EncodedImage(bytes([i]), "jpeg", 4, 4)))
              for i, t in enumerate((1.0, 2.0, 3.0))]
        f.add_events(old, ep, fr[2], [
            f.EventIn.of(1.5, ev.Keys(5, ended_by="action"), before_frame_id=fr[0], after_frame_id=fr[2]),
            f.EventIn.of(2.5, ev.Shortcut("ctrl+s"), before_frame_id=fr[1], after_frame_id=fr[2])])
        old.conn.close()
    db = open_db(path)
    burst = db.conn.execute("SELECT after_frame_id FROM events WHERE kind = 'keys'").fetchone()[0]
    assert burst == fr[1]
