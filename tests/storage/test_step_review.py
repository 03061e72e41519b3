"""The step review's changes (storage/step_review.py, migration 012): each a revision with history."""

from __future__ import annotations

import pytest

from deskscribe.storage import descriptions as d
from deskscribe.storage import events as ev
from deskscribe.storage import frames as f
from deskscribe.storage import step_review as sr
from deskscribe.storage.steps import StepIn, align

from .conftest import three_actions


def _episode(db):  # type: ignore[no-untyped-def]
    ep, ids = three_actions(db)
    d.add_description(db, ep, "Saved notes.txt.", [
        StepIn("Clicked 'File'", ids[0], "steps", {"target": "File"}),
        StepIn("Clicked 'Save'", ids[1], "steps", {"target": "Save"}),
        StepIn("Saved notes.txt (Ctrl+S)", ids[2], "steps")], author="model")
    return ep, ids


def test_edit_and_flag_are_person_revisions_that_keep_the_action(db) -> None:  # type: ignore[no-untyped-def]
    ep, ids = _episode(db)
    assert sr.edit_step(db, ep, ids[1], "Clicked  the Save item ") == 2
    assert sr.edit_step(db, ep, ids[1], "Clicked the Save item") is None  # unchanged: no revision
    assert sr.flag_step(db, ep, ids[0], "redundant") == 3
    assert sr.flag_step(db, ep, ids[1], "wrong") == 4
    history = d.description_history(db, ep)
    assert [h["author"] for h in history] == ["model", "person", "person", "person"]
    rows = history[-1]["step_rows"]
    assert [(r["event_id"], r["author"], r["flag"]) for r in rows] == [
        (ids[0], "steps", "redundant"), (ids[1], "person", "wrong"), (ids[2], "steps", None)]
    assert rows[1]["text"] == "Clicked the Save item" and rows[1]["evidence"] == {"target": "Save"}
    assert rows[1]["parent_id"] == history[2]["step_rows"][1]["id"]  # the flag revises the edited step
    assert history[1]["step_rows"][1]["parent_id"] == history[0]["step_rows"][1]["id"]
    assert [s.flag for s in sr.review_steps(db, ep)] == ["redundant", "wrong", None]
    assert sr.flag_step(db, ep, ids[1], None) == 5  # unflagging is a revision too
    assert d.current_description(db, ep)["step_rows"][1]["flag"] is None  # type: ignore[index]
    assert f.get_episode(db, ep)["status"] == "edited"  # type: ignore[index]
    # a person's edit in the description editor and a revert keep the flags
    d.revert_to(db, ep, 4)
    assert [r["flag"] for r in d.current_description(db, ep)["step_rows"]] == ["redundant", "wrong", None]  # type: ignore[index]
    prev = d.current_description(db, ep)["step_rows"]  # type: ignore[index]
    assert [s.flag for s in align(["Opened File", "Clicked the Save item", "Saved"], prev)] == ["redundant", "wrong", None]


def test_an_action_whose_line_was_removed_gets_it_back_in_place(db) -> None:  # type: ignore[no-untyped-def]
    ep, ids = _episode(db)
    d.add_description(db, ep, "Saved.", ["Clicked 'File'", "Saved notes.txt (Ctrl+S)"], author="person")
    sr.edit_step(db, ep, ids[1], "Chose Save")
    rows = d.current_description(db, ep)["step_rows"]  # type: ignore[index]
    assert [(r["event_id"], r["text"]) for r in rows] == [
        (ids[0], "Clicked 'File'"), (ids[1], "Chose Save"), (ids[2], "Saved notes.txt (Ctrl+S)")]


def test_trim_keeps_a_span_with_history_and_refuses_an_empty_one(db) -> None:  # type: ignore[no-untyped-def]
    ep, ids = _episode(db)
    assert sr.current_trim(db, ep) is None
    assert sr.trim(db, ep, None, ids[1]) == sr.Trim(None, ids[1])
    assert [s.kept for s in sr.review_steps(db, ep)] == [True, True, False]
    assert sr.trim(db, ep, ids[1], ids[1]) == sr.Trim(ids[1], ids[1])
    assert [s.kept for s in sr.review_steps(db, ep)] == [False, True, False]
    with pytest.raises(sr.StepReviewError, match="keep no step"):
        sr.trim(db, ep, ids[2], ids[0])
    assert sr.trim(db, ep, ids[0], ids[2]) is None  # the first and last action: untrimmed
    assert [(t["start_event_id"], t["end_event_id"]) for t in sr.trim_history(db, ep)] == [
        (None, ids[1]), (ids[1], ids[1]), (None, None)]


def test_changes_need_a_description_and_a_real_action(db) -> None:  # type: ignore[no-untyped-def]
    ep = f.create_episode(db, 1.0)
    a = f.add_frame(db, ep, f.FrameIn(1.0, f.EncodedImage(b"a", "jpeg", 4, 4)))
    f.add_events(db, ep, a, [f.EventIn.of(0.5, ev.Click(1, 1), after_frame_id=a)])
    (eid,) = [r[0] for r in db.conn.execute("SELECT id FROM events WHERE episode_id = ?", (ep,))]
    with pytest.raises(sr.StepReviewError, match="describe it first"):
        sr.edit_step(db, ep, eid, "Clicked")
    d.add_description(db, ep, "Clicked.", [StepIn("Clicked", eid)], author="model")
    with pytest.raises(sr.StepReviewError, match="no action"):
        sr.flag_step(db, ep, eid + 100, "wrong")
    with pytest.raises(sr.StepReviewError, match="empty"):
        sr.edit_step(db, ep, eid, "  ")
