"""Task mode, live on Xvfb: `deskscribe task start` → scripted typing and a save in mousepad → `task finish`
→ describe → export. The task is exactly one episode, and every trajectory output carries the person's text as
the instruction (author person) and the outcome."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from deskscribe.export.core import ExportOptions, export
from deskscribe.storage import descriptions as D
from deskscribe.storage.db import open_db

from ..capture.conftest import capdb, poll, start_capture, write_config, xdo  # noqa: F401 (fixtures)
from ..conftest import one_error_line, run_cli, stop_process
from .test_trajectory_live import SLOW, dbus_session, open_mousepad  # noqa: F401 (fixture)

pytestmark = pytest.mark.x11
TASK = "Write the meeting notes"
LINE = "Budget review moved to Friday"


def _trajectory_outputs(home: Path, tmp_path: Path, ocr: object) -> dict[str, Path]:
    from deskscribe import config
    from deskscribe.models.describe import run_batch

    db = open_db(home / "deskscribe.db")
    result = run_batch(db, config.load())
    assert not result.failed, result.failed
    for (eid,) in db.conn.execute("SELECT id FROM episodes").fetchall():
        D.review(db, eid, "accepted")
    db.conn.close()
    ro = open_db(home / "deskscribe.db", readonly=True)
    opts = ExportOptions(val_fraction=0, max_side=0)
    out = {fmt: export(ro, fmt, tmp_path / fmt, opts, ocr=ocr).out_dir  # type: ignore[arg-type]
           for fmt in ("hf", "openai", "llama-factory", "jsonl")}
    ro.conn.close()
    return out


def test_live_task_is_one_episode_named_by_the_person(xdisplay, start_capture, capdb, dbus_session,  # noqa: F811
                                                      deskscribe_home: Path, tmp_path: Path, ocr) -> None:
    write_config(deskscribe_home, {"capture": {"store_typed_text": True}})
    assert "capture is not running" in one_error_line(run_cli(deskscribe_home, "task", "start", TASK))
    notes = tmp_path / "meeting.txt"
    notes.write_text("Agenda\n")
    pad, wid = open_mousepad(notes, tmp_path, dbus_session)
    try:
        xdo("windowactivate", "--sync", wid)
        proc = start_capture("--duration", "600", env=dbus_session)
        poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title LIKE '%meeting.txt%'"),
             what="a mousepad frame", timeout=SLOW)
        assert "no task is running" in one_error_line(run_cli(deskscribe_home, "task", "finish"))
        started = run_cli(deskscribe_home, "task", "start", TASK)
        assert started.returncode == 0 and "task started" in started.stdout, started.stderr
        assert "already running" in one_error_line(run_cli(deskscribe_home, "task", "start", "another"))
        xdo("key", "ctrl+End")
        xdo("type", "--delay", "40", LINE)
        xdo("key", "Return")
        poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'keys' AND after_frame_id IS NOT NULL"),
             what="the typed line stored with its after frame", timeout=SLOW)
        xdo("key", "ctrl+s")
        poll(lambda: LINE in notes.read_text(), what="mousepad saved the file", timeout=SLOW)
        poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'shortcut' AND after_frame_id IS NOT NULL"),
             what="the save stored with its after frame", timeout=SLOW)
        finished = run_cli(deskscribe_home, "task", "finish")
        assert finished.returncode == 0 and "task finished (done)" in finished.stdout, finished.stderr
        poll(lambda: capdb.one("SELECT count(*) FROM episodes"
                               " WHERE id > (SELECT episode_id FROM tasks) AND closed = 0"),
             what="capture goes on in a new episode after the task", timeout=SLOW)
        assert proc.stop(signal.SIGTERM) == 0, proc.stderr()
    finally:
        stop_process(pad)

    (eid, text, outcome, t0, t1), = capdb.rows("SELECT episode_id, text, outcome, started_ts, finished_ts FROM tasks")
    assert (text, outcome) == (TASK, "done")
    start, end = capdb.rows(f"SELECT start_ts, end_ts FROM episodes WHERE id = {eid}")[0]
    assert t0 <= start <= end <= t1
    assert capdb.rows(f"SELECT min(ts), max(ts) FROM frames WHERE episode_id = {eid}")[0][0] >= t0
    inside = {r[0] for r in capdb.rows(f"SELECT episode_id FROM frames WHERE ts BETWEEN {t0} AND {t1}")}
    assert inside == {eid}  # no other episode has a frame inside the task, and this one has none outside
    kinds = {r[0] for r in capdb.rows(f"SELECT kind FROM events WHERE episode_id = {eid}")}
    assert {"keys", "shortcut"} <= kinds, kinds

    out = _trajectory_outputs(deskscribe_home, tmp_path, ocr)
    from datasets import load_dataset

    for config in ("trajectories", "episodes"):
        rows = [r for r in load_dataset(str(out["hf"]), config, split="train", cache_dir=str(tmp_path / "cache"))
                if r["episode_id"] == eid]
        assert rows and all((r["instruction"], r["instruction_by"], r["outcome"]) == (TASK, "person", "done")
                            for r in rows), config
    jl = [json.loads(line) for line in (out["jsonl"] / "trajectories.jsonl").read_text().splitlines()]
    mine = [r for r in jl if r["episode_id"] == eid]
    assert [(r["instruction"], r["instruction_by"], r["outcome"]) for r in mine] == [(TASK, "person", "done")]
    for fmt, name in (("openai", "trajectories_train.jsonl"), ("llama-factory", "trajectories_train.json")):
        text = (out[fmt] / name).read_text()
        chats = [json.loads(line) for line in text.splitlines()] if fmt == "openai" else json.loads(text)
        assert any(f"Task: {TASK}" in json.dumps(c["messages"][0]) for c in chats), fmt
    meta = [json.loads(line) for line in (out["openai"] / "trajectories_train.meta.jsonl").read_text().splitlines()]
    assert {(m["instruction_by"], m["outcome"]) for m in meta if m["episode_id"] == eid} == {("person", "done")}
    lf = json.loads((out["llama-factory"] / "trajectories_train.json").read_text())
    assert {(c["instruction_by"], c["outcome"]) for c in lf if c["episode_id"] == eid} == {("person", "done")}
    assert "1 task named by the person" in (out["hf"] / "README.md").read_text()
