"""Task mode in the writer thread on a real SQLite file: start and finish end the episode, nothing splits the
task in between, cancel keeps the capture, notes, and the request channel the CLI and tray use."""

from __future__ import annotations

import os
import time

import pytest

from deskscribe import paths
from deskscribe.capture.taskmode import TaskControl
from deskscribe.capture.writer import Captured, Status, Writer
from deskscribe.config import EpisodesConfig
from deskscribe.storage import descriptions, state, tasks
from deskscribe.storage.db import open_db

from ..conftest import one_error_line, run_cli
from .conftest import poll
from .test_writer import nf


@pytest.fixture
def live(deskscribe_home):
    """A writer thread and a task control as the engine wires them (fresh frames counted, not grabbed)."""
    db = open_db(paths.db_path())
    read = open_db(paths.db_path(), migrate=False)
    w = Writer(db, EpisodesConfig(idle_gap_s=60, max_length_s=600, max_frames=100), Status())
    w.start()
    fresh: list[float] = []
    control = TaskControl(read, w, lambda: fresh.append(time.time()))
    state.report_capture(read, os.getpid(), "capturing")
    yield w, read, control, fresh
    if w.is_alive():
        w.finish()
    read.conn.close()
    db.conn.close()


def ask(read, control, op: str, text: str = "", outcome: str | None = None) -> tuple[bool, str]:
    request_id = tasks.send(read, op, text, outcome)
    control.poll()
    return poll(lambda: tasks.answer(read, request_id), what=f"the answer to {op}")


def episodes(read) -> list[tuple[int, int]]:
    return read.conn.execute("SELECT e.id, count(f.id) FROM episodes e JOIN frames f ON f.episode_id = e.id"
                             " GROUP BY e.id ORDER BY e.id").fetchall()


def test_a_task_is_exactly_one_episode_that_nothing_splits(live) -> None:
    w, read, control, fresh = live
    t = time.time()
    assert w.submit(Captured(t, "XTerm", "one", [nf(1)]))
    assert ask(read, control, "finish") == (False, 'no task is running: start one with `deskscribe task start "…"`')
    ok, message = ask(read, control, "start", "Write the meeting notes")
    assert ok and message == "task started: Write the meeting notes" and len(fresh) == 1
    assert ask(read, control, "start", "another")[0] is False
    assert w.submit(Captured(t + 1, "Mousepad", "notes", [nf(2)]))  # an app switch
    assert w.submit(Captured(t + 900, "Mousepad", "notes", [nf(3)]))  # an idle gap, past the maximum length
    ok, message = ask(read, control, "finish", outcome="gave_up")
    assert ok and message.startswith("task finished (gave up): episode ")
    assert w.submit(Captured(t + 901, "Mousepad", "notes", [nf(4)]))
    poll(lambda: len(episodes(read)) == 3, what="the episode after the task")
    assert [n for _e, n in episodes(read)] == [1, 2, 1]
    task_episode = episodes(read)[1][0]
    (row,) = read.query("SELECT * FROM tasks")
    assert (row["episode_id"], row["text"], row["outcome"], row["author"]) == \
        (task_episode, "Write the meeting notes", "gave_up", "person")
    assert descriptions.instruction_history(read, task_episode)[-1]["author"] == "person"
    assert descriptions.current_instruction(read, task_episode) == "Write the meeting notes"


def test_cancel_keeps_the_capture_and_notes_name_or_annotate(live) -> None:
    w, read, control, _fresh = live
    t = time.time()
    assert ask(read, control, "note", "too early")[0] is False  # no episode yet
    assert ask(read, control, "start", "Try something")[0]
    assert w.submit(Captured(t, "XTerm", "one", [nf(1)]))
    assert ask(read, control, "cancel") == (True, "task cancelled: what was captured stays, as an ordinary episode")
    assert not list(read.query("SELECT * FROM tasks"))
    assert w.submit(Captured(t + 1, "Beta", "two", [nf(2)]))  # splitting is back: an app switch
    poll(lambda: len(episodes(read)) == 2, what="the split after the cancel")
    second = episodes(read)[1][0]
    assert ask(read, control, "note", "Sorting the inbox") == (True, f"noted on episode {second} as its instruction")
    assert ask(read, control, "note", "now the archive") == (True, f"noted on episode {second} as its note")
    assert descriptions.current_instruction(read, second) == "Sorting the inbox"
    assert [n["text"] for n in tasks.notes_of(read, second)] == ["now the archive"]


def test_a_task_left_running_by_a_stopped_capture_keeps_its_text(live) -> None:
    w, read, control, _fresh = live
    assert ask(read, control, "start", "Half done")[0]
    assert w.submit(Captured(time.time(), "XTerm", "one", [nf(1)]))
    poll(lambda: episodes(read), what="the task's frame")
    w.finish()
    again = Writer(open_db(paths.db_path()), EpisodesConfig(), Status())
    again.start()
    again.finish()
    again.db.conn.close()
    (row,) = read.query("SELECT * FROM tasks")
    assert row["finished_ts"] is not None and row["outcome"] is None
    assert descriptions.current_instruction(read, row["episode_id"]) == "Half done"


def test_task_commands_without_a_capture_say_so(deskscribe_home) -> None:
    for args in (["start", "Write the meeting notes"], ["finish"], ["finish", "--gave-up"], ["cancel"],
                 ["note", "hi"]):
        line = one_error_line(run_cli(deskscribe_home, "task", *args))
        assert line.startswith("Error: capture is not running"), line
    db = open_db(paths.db_path())
    state.report_capture(db, os.getpid(), "capturing")
    assert one_error_line(run_cli(deskscribe_home, "task", "start", "  ")) == \
        "Error: the task is empty: say it in a few words"
    db.conn.close()
