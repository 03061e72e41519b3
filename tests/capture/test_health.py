"""Capture's health: problems appear after repeated failures with their reason, reach the database with the
heartbeat (what the tray and `deskscribe status` read) and the log once, and go when the cause goes."""

from __future__ import annotations

import logging
import time

from click.testing import CliRunner

from deskscribe.capture.health import Health
from deskscribe.capture.writer import Captured, Task
from deskscribe.cli import main
from deskscribe.storage import state

from .conftest import poll
from .test_writer import nf, writer  # noqa: F401 (fixture)


def test_a_problem_needs_failures_in_a_row_and_is_logged_once(caplog):
    h = Health()
    with caplog.at_level(logging.WARNING, logger="deskscribe.capture.health"):
        h.tick_failed("cannot grab the screen")
        h.tick_failed("cannot grab the screen")
        h.tick_ok()  # one good tick in between: no problem
        h.tick_failed("x")
        h.tick_failed("x")
        assert h.problems() == {}
        for _ in range(5):
            h.tick_failed("cannot grab the screen (XError)")
        assert h.problems() == {"ticks": "capture ticks keep failing: cannot grab the screen (XError)"}
        h.tick_ok()
        assert h.problems() == {}
    assert [r.getMessage() for r in caplog.records] == [
        "capture is unhealthy: capture ticks keep failing: cannot grab the screen (XError)",
        "capture recovered: no longer capture ticks keep failing: cannot grab the screen (XError)",
    ]


def test_frames_not_stored_are_reported_with_the_reason(writer, deskscribe_home):  # noqa: F811
    """A real SQLite failure on every frame insert (a trigger that aborts it); the state row still works."""
    w, db, status = writer
    w.submit(Task("break", lambda db: db.conn.execute(
        "CREATE TRIGGER no_frames BEFORE INSERT ON frames BEGIN SELECT RAISE(ABORT, 'frames are refused'); END")))
    for i in range(4):
        assert w.submit(Captured(time.time(), "XTerm", "t", [nf(i)]))
    poll(lambda: "storing" in state.capture_status(db)["problems"], timeout=20, what="the problem reported")
    assert state.capture_status(db)["problems"]["storing"] == (
        "frames are grabbed but not stored: IntegrityError: frames are refused")
    out = CliRunner().invoke(main, ["status"]).output
    assert "problem   frames are grabbed but not stored: IntegrityError: frames are refused" in out.splitlines()

    w.submit(Task("mend", lambda db: db.conn.execute("DROP TRIGGER no_frames")))
    assert w.submit(Captured(time.time(), "XTerm", "t", [nf(10)]))
    poll(lambda: state.capture_status(db)["problems"] == {}, timeout=20, what="the problem gone")
    assert status.frames == 1
