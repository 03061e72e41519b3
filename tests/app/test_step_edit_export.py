"""A step edited in the review window reaches the right step of every trajectory format: the edit keeps the
action (event id) of the line it came from, and export reads the stored steps (storage/steps.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from deskscribe import config
from deskscribe.export.core import ExportOptions, export
from deskscribe.models.describe import run_batch
from deskscribe.storage import review

from .conftest import review_window

pytestmark = [pytest.mark.gui, pytest.mark.model]
EDIT = "Opened the Colors menu to find Brightness-Contrast"


def test_an_edited_step_is_exported_in_its_step_in_every_format(qtbot, imported_only, db, tmp_path: Path):
    assert not run_batch(db, config.load(), compose="evidence").failed  # the real describe: one step per action
    draft = review.current_description(db, imported_only)
    assert draft is not None
    rows = draft["step_rows"]
    target = next(r for r in rows if r["event_id"] is not None and r["position"] > 0)  # not the first line
    with review_window(qtbot, db, active=False) as w:
        assert w.current_episode() == imported_only
        edit = w.editor.steps  # select the step's line, as a person would, and type over it
        block = edit.document().findBlockByNumber(target["position"])
        cursor = edit.textCursor()
        cursor.setPosition(block.position())
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        edit.setFocus()
        edit.setTextCursor(cursor)
        qtbot.keyClicks(edit, EDIT)
        qtbot.keyClick(w.editor.steps, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Ctrl+S: save
    edited = review.current_description(db, imported_only)
    assert edited is not None and edited["author"] == "person"
    kept = {r["event_id"]: r for r in edited["step_rows"]}
    assert kept[target["event_id"]]["text"] == EDIT and kept[target["event_id"]]["author"] == "person"

    opts = ExportOptions(val_fraction=0, max_side=512)
    out = {fmt: export(db, fmt, tmp_path / fmt, opts).out_dir for fmt in ("jsonl", "hf", "openai", "llama-factory")}
    (traj,) = [json.loads(line) for line in (out["jsonl"] / "trajectories.jsonl").read_text().splitlines()]
    index = next(i for i, s in enumerate(traj["traj"]) if s["event_id"] == target["event_id"])
    step = traj["traj"][index]
    assert step["value"]["description"] == EDIT and step["value"]["description_by"] == "person"
    others = [s["value"]["description"] for s in traj["traj"] if s["event_id"] not in (None, target["event_id"])]
    assert EDIT not in others

    from datasets import load_dataset

    hf = load_dataset(str(out["hf"]), "trajectories", split="train", cache_dir=str(tmp_path / "cache"))
    assert [r["description"] for r in hf if r["event_id"] == target["event_id"]] == [EDIT]
    assert hf[index]["description"] == EDIT  # same position as in the jsonl record

    chats = [json.loads(line) for line in (out["openai"] / "trajectories_train.jsonl").read_text().splitlines()]
    turns = [m["content"] for chat in chats for m in chat["messages"] if m["role"] == "assistant"]
    assert turns[index].startswith(f"Thought: {EDIT}\nAction: ")
    sharegpt = json.loads((out["llama-factory"] / "trajectories_train.json").read_text())
    turns = [m["content"] for chat in sharegpt for m in chat["messages"] if m["role"] == "assistant"]
    assert turns[index].startswith(f"Thought: {EDIT}\nAction: ")
