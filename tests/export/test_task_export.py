"""Who wrote the instruction (person / model / steps) and task mode's outcome, in every trajectory format, and
the dataset card's count of tasks the person named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deskscribe.storage import descriptions as D
from deskscribe.storage.export_queries import instruction_authors_for, outcomes_for

from .test_trajectory_export import _export, put_episode, screenshot


def _three(db: Any) -> tuple[int, int, int]:
    """A recorded task (person, gave up), a model-written task, and one written from the steps."""
    person = put_episode(db, 2)
    db.conn.execute("INSERT INTO tasks (episode_id, text, outcome, started_ts, finished_ts)"
                    " VALUES (?, 'Save the notes in the editor', 'gave_up', 1, 2)", (person,))
    model = put_episode(db, 2, t0=1_700_100_000.0, shot=lambda i: screenshot(i + 4))  # not a duplicate
    db.conn.execute("DELETE FROM instructions WHERE episode_id = ?", (model,))
    run = D.model_run_id(db, D.ModelRun("describe", "llama_cpp", "qwen", None, "v1", {"compose": "model"}))
    db.conn.execute("UPDATE descriptions SET model_run_id = ?, instruction = 'Save the notes' WHERE episode_id = ?",
                    (run, model))
    steps = put_episode(db, 2, t0=1_700_200_000.0, shot=lambda i: screenshot(i + 8))
    db.conn.execute("DELETE FROM instructions WHERE episode_id = ?", (steps,))
    return person, model, steps


def test_instruction_author_and_outcome_in_every_trajectory_format(db: Any, tmp_path: Path, ocr) -> None:
    person, model, steps = _three(db)
    ids = [person, model, steps]
    assert instruction_authors_for(db, ids) == {person: "person", model: "model", steps: "steps"}
    assert outcomes_for(db, ids) == {person: "gave_up", model: None, steps: None}
    want = {person: ("person", "gave_up"), model: ("model", None), steps: ("steps", None)}

    jl = _export(db, "jsonl", tmp_path / "jl", ocr)
    rows = [json.loads(line) for line in (jl / "trajectories.jsonl").read_text().splitlines()]
    assert {r["episode_id"]: (r["instruction_by"], r["outcome"]) for r in rows} == want

    from datasets import load_dataset

    hf = _export(db, "hf", tmp_path / "hf", ocr)
    for config in ("trajectories", "episodes"):
        got = load_dataset(str(hf), config, split="train", cache_dir=str(tmp_path / "cache"))
        assert {r["episode_id"]: (r["instruction_by"], r["outcome"]) for r in got} == want, config
    card = (hf / "README.md").read_text()
    assert "Tasks: 1 task named by the person, 1 written by a model, 1 written from the steps" in card
    assert "Task mode outcomes (`outcome`): 0 done, 1 gave up." in card

    oa = _export(db, "openai", tmp_path / "oa", ocr)
    chats = (oa / "trajectories_train.jsonl").read_text().splitlines()
    meta = [json.loads(line) for line in (oa / "trajectories_train.meta.jsonl").read_text().splitlines()]
    assert all(set(json.loads(c)) == {"messages"} for c in chats)  # OpenAI refuses other keys
    assert len(meta) == len(chats) and {m["episode_id"]: (m["instruction_by"], m["outcome"]) for m in meta} == want

    lf = _export(db, "llama-factory", tmp_path / "lf", ocr)
    lf_rows = json.loads((lf / "trajectories_train.json").read_text())
    assert {r["episode_id"]: (r["instruction_by"], r["outcome"]) for r in lf_rows} == want
