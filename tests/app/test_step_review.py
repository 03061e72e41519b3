"""The step review driven from the keyboard as a person would (T, N, Enter, W, ]), then a real export shows the
edited step, the step marked wrong and the trim in every trajectory format, and a DPO pair for the edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QLineEdit

from deskscribe.app.step_model import BEFORE, draw_action
from deskscribe.export.core import ExportOptions, export
from deskscribe.storage import descriptions, events, review
from deskscribe.storage import step_review as sr
from deskscribe.storage.actions import ActionRecord, episode_actions
from deskscribe.storage.steps import StepIn

from .conftest import review_window

pytestmark = pytest.mark.gui
EDIT = "Opened the Colors menu to find Brightness-Contrast"


def draft(db, episode_id: int) -> list[StepIn]:  # type: ignore[no-untyped-def]
    """A draft with one step per action as the step writer stores them (author "steps"); the describe stage
    writes real ones in tests/app/test_step_edit_export.py."""
    steps = [StepIn(f"Did {events.describe(a.event)}", a.event_id, "steps") for a in episode_actions(db, episode_id)]
    descriptions.add_description(db, episode_id, "Raised the contrast of a photo in GIMP.", steps, author="model")
    return steps


def test_edit_mark_wrong_and_trim_in_the_step_review_reach_the_export(qtbot, imported_only, db, tmp_path: Path):
    steps = draft(db, imported_only)
    ids = [s.event_id for s in steps]  # click, click, click, ctrl+a, typing, click
    with review_window(qtbot, db) as w:
        w.table.setFocus()
        qtbot.keyClick(w.table, Qt.Key.Key_T)  # the Steps tab
        assert w.tabs.currentWidget() is w.steps
        table, model = w.steps.table, w.steps.model
        assert model.rowCount() == len(ids) and w.steps.current_row() == 0
        qtbot.waitUntil(lambda: model.images_loaded() == len(model.frames()))
        assert model.data(model.index(0, BEFORE), Qt.ItemDataRole.DecorationRole) is not None
        assert model.data(model.index(0, 2)) == "left click at 321,30"

        qtbot.keyClick(table, Qt.Key.Key_N)  # the second step
        assert w.steps.current_row() == 1
        qtbot.keyClick(table, Qt.Key.Key_Return)  # edit its text
        editor = QApplication.focusWidget()
        assert isinstance(editor, QLineEdit) and editor.text() == steps[1].text
        editor.selectAll()
        qtbot.keyClicks(editor, EDIT)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: model.steps[1].text == EDIT)

        qtbot.keyClick(table, Qt.Key.Key_N)
        qtbot.keyClick(table, Qt.Key.Key_W)  # the third step is wrong
        assert model.steps[2].flag == "wrong" and "wrong" in model.data(model.index(2, 5))
        for _ in range(2):
            qtbot.keyClick(table, Qt.Key.Key_N)
        qtbot.keyClick(table, Qt.Key.Key_BracketRight)  # the episode ends at the typing (the last click goes)
        assert [s.kept for s in model.steps] == [True] * 5 + [False]
        assert "trimmed to 5 of 6" in w.steps.title.text() and "1 wrong" in w.steps.title.text()
        assert w.editor.status_label.text().count("edited") == 1  # the editor shows the new revision

    history = review.description_history(db, imported_only)
    assert [h["author"] for h in history] == ["model", "person", "person"]  # edit, flag: one revision each
    rows = {r["event_id"]: r for r in history[-1]["step_rows"]}
    assert rows[ids[1]]["text"] == EDIT and rows[ids[1]]["author"] == "person"
    assert rows[ids[2]]["flag"] == "wrong" and rows[ids[2]]["author"] == "steps"
    assert sr.current_trim(db, imported_only) == sr.Trim(None, ids[4])

    opts = ExportOptions(val_fraction=0, max_side=512)
    out = {fmt: export(db, fmt, tmp_path / fmt, opts).out_dir for fmt in ("jsonl", "hf", "openai", "llama-factory")}
    check_jsonl(out["jsonl"], ids, steps)
    check_hf(out["hf"], ids, steps, tmp_path)
    check_chats(out, ids, steps)


def check_jsonl(root: Path, ids: list[int | None], steps: list[StepIn]) -> None:
    (traj,) = [json.loads(line) for line in (root / "trajectories.jsonl").read_text().splitlines()]
    by_event = {s["event_id"]: s for s in traj["traj"] if s["event_id"] is not None}
    assert ids[5] not in by_event and traj["trim"] == {"start_event_id": None, "end_event_id": ids[4]}
    assert traj["skipped_events"]["action trimmed off by the person"] == 1
    edited = by_event[ids[1]]["value"]
    assert edited["description"] == EDIT and edited["description_by"] == "person"
    assert edited["replaced_description"] == steps[1].text and edited["flag"] is None
    assert by_event[ids[2]]["value"]["flag"] == "wrong"
    assert traj["traj"][-1]["value"]["action"] == 'terminate(status="success")'


def check_hf(root: Path, ids: list[int | None], steps: list[StepIn], tmp_path: Path) -> None:
    from datasets import load_dataset

    cache = str(tmp_path / "cache")
    hf = load_dataset(str(root), "trajectories", split="train", cache_dir=cache)
    by_event = {r["event_id"]: r for r in hf if r["event_id"] is not None}
    assert ids[5] not in by_event
    assert by_event[ids[1]]["description"] == EDIT and by_event[ids[1]]["replaced_description"] == steps[1].text
    assert by_event[ids[2]]["flag"] == "wrong" and by_event[ids[0]]["flag"] is None
    (episode,) = load_dataset(str(root), "episodes", split="train", cache_dir=cache)
    assert "wrong" in episode["flags"] and len(episode["flags"]) == len(episode["actions"])
    dpo = load_dataset(str(root), "dpo", split="train", cache_dir=cache)
    (pair,) = [r for r in dpo if "What is the next action?" in r["prompt"][0]["content"][-1]["text"]]
    prompt = pair["prompt"][0]["content"][-1]["text"]
    assert prompt.startswith("Task: ") and f"1. {steps[0].text}" in prompt  # the steps before it
    assert pair["chosen"][0]["content"][0]["text"].startswith(f"Thought: {EDIT}\nAction: click(")
    assert pair["rejected"][0]["content"][0]["text"].startswith(f"Thought: {steps[1].text}\nAction: click(")
    assert len(pair["images"]) == 1  # the step's before frame


def check_chats(out: dict[str, Path], ids: list[int | None], steps: list[StepIn]) -> None:
    chats = [json.loads(line) for line in (out["openai"] / "trajectories_train.jsonl").read_text().splitlines()]
    turns = [m["content"] for chat in chats for m in chat["messages"] if m["role"] == "assistant"]
    assert any(t.startswith(f"Thought: {EDIT}\n") for t in turns)
    assert not any(t.startswith(f"Thought: {steps[2].text}\n") for t in turns)  # the wrong step is not taught
    assert len(chats) == 2  # the chat ends before the wrong step; the next lists it among the earlier steps
    first_user = chats[1]["messages"][0]["content"][0]["text"]
    assert f". {steps[2].text}\n" in first_user
    prefs = [json.loads(line) for line in (out["openai"] / "dpo_train.jsonl").read_text().splitlines()]
    assert any(p["preferred_output"][0]["content"].startswith(f"Thought: {EDIT}") for p in prefs)
    sharegpt = json.loads((out["llama-factory"] / "trajectories_train.json").read_text())
    turns = [m["content"] for chat in sharegpt for m in chat["messages"] if m["role"] == "assistant"]
    assert not any(t.startswith(f"Thought: {steps[2].text}\n") for t in turns)
    pairs = json.loads((out["llama-factory"] / "dpo_train.json").read_text())
    (step_pair,) = [p for p in pairs if p["chosen"]["content"].startswith(f"Thought: {EDIT}")]
    assert step_pair["rejected"]["content"].startswith(f"Thought: {steps[1].text}")
    assert step_pair["messages"][0]["content"].count("<image>") == 1
    assert "deskscribe_dpo" in json.loads((out["llama-factory"] / "dataset_info.json").read_text())


def test_the_before_frame_shows_the_click_point_and_the_element_box(qapp) -> None:  # type: ignore[no-untyped-def]
    """Drawn on a frame half the size of the screen it shows: the point and box are scaled with it."""
    element = events.Element("push button", "Save", (200, 100, 120, 40))
    click = events.Click(260, 120, "left", 1, element=element)
    record = ActionRecord(1, "click", 1.0, click, 0, 10, 11)
    step = sr.ReviewStep(record, "Clicked 'Save'", "steps", None, {"id": 10, "width": 800, "height": 600}, None, True)
    image = QImage(QSize(400, 300), QImage.Format.Format_RGB888)
    image.fill(QColor("white"))
    drawn = draw_action(image, step).toImage()
    assert drawn.pixelColor(QPoint(100, 65)).blue() > 200 and drawn.pixelColor(QPoint(100, 65)).red() < 100  # box edge
    ring = [drawn.pixelColor(QPoint(130 + dx, 60)) for dx in range(-8, 9)]
    assert any(c.red() > 200 and c.green() < 100 for c in ring)  # the red circle around (130, 60)
    assert drawn.pixelColor(QPoint(350, 250)) == QColor("white")


def test_a_step_change_waits_for_an_unsaved_description_edit(qtbot, imported_only, db) -> None:  # type: ignore[no-untyped-def]
    draft(db, imported_only)
    with review_window(qtbot, db) as w:
        qtbot.keyClick(w.table, Qt.Key.Key_W)  # the Steps tab is not shown: nothing happens
        assert "Press T" in w.statusBar().currentMessage()
        w.editor.summary.setFocus()
        qtbot.keyClicks(w.editor.summary, " Then saved it.")
        assert w.editor.dirty
        qtbot.keyClick(w.table, Qt.Key.Key_T)
        qtbot.keyClick(w.steps.table, Qt.Key.Key_W)
        assert "Save (Ctrl+S)" in w.statusBar().currentMessage()
        assert len(review.description_history(db, imported_only)) == 1 and w.steps.model.steps[0].flag is None
        qtbot.keyClick(w.steps.table, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(w.steps.table, Qt.Key.Key_W)
        assert w.steps.model.steps[0].flag == "wrong"
        current = review.current_description(db, imported_only)
        assert current is not None and "Then saved it." in current["summary"]  # the edit was kept
