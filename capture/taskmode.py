"""Task mode in the capture process: requests left by ``deskscribe task …`` or the tray (storage/tasks.py) are
read on the capture thread and applied by the writer thread, which alone writes.

Start and finish end the open episode, so the task's span is exactly one episode; while a task runs the
writer does not split (see Writer._write_frames). After either, the frame keeper forgets its frames and a
fresh frame is stored at once: the first action of the task (or the first after it) then has a before frame
of its own episode instead of one it shares with the episode before.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlite_utils

from deskscribe.config import EpisodesConfig
from deskscribe.storage import tasks
from deskscribe.storage.tasks import Request, TaskError

if TYPE_CHECKING:
    from deskscribe.capture.writer import Writer

log = logging.getLogger(__name__)
NO_SPLIT = EpisodesConfig(split_on_app_switch=False, idle_gap_s=math.inf, max_length_s=math.inf, max_frames=2**62)
START_HINT = 'start one with `deskscribe task start "…"`'


def apply(writer: Writer, db: sqlite_utils.Database, req: Request, noticed: float) -> None:
    """On the writer thread: carry out one request and leave the reply. A task starts and finishes when the
    capture thread noticed the request: the capture jobs share that one thread, so every frame grabbed before
    then was queued before this request, and every frame grabbed after it, after."""
    try:
        message = _apply(writer, db, req, noticed)
        ok = True
    except TaskError as exc:
        message, ok = str(exc), False
    tasks.reply(db, req.id, ok, message)
    log.info("task %s: %s", req.op, message)


def _apply(writer: Writer, db: sqlite_utils.Database, req: Request, noticed: float) -> str:
    if req.op == "note":
        episode = writer.episode
        if episode is None:
            raise TaskError("no episode is open yet (capture stores its first frame within one interval): "
                            "try again in a moment")
        became = tasks.note(db, episode, noticed, req.text)
        return f"noted on episode {episode} as its {'instruction' if became == 'instruction' else 'note'}"
    if req.op == "start":
        if writer.task is not None:
            raise TaskError("a task is already running: finish it (`deskscribe task finish`) or cancel it first")
        writer.end_episode()
        writer.task = tasks.start(db, req.text, noticed)
        return f"task started: {req.text}"
    if writer.task is None:
        raise TaskError(f"no task is running: {START_HINT}")
    task, writer.task = writer.task, None
    if req.op == "cancel":
        tasks.cancel(db, task)
        return "task cancelled: what was captured stays, as an ordinary episode"
    outcome = req.outcome or "done"
    episode = tasks.finish(db, task, noticed, outcome)
    writer.end_episode()
    if episode is None:
        return "task finished, but no frame was captured while it ran (was capture paused?)"
    return f"task finished ({outcome.replace('_', ' ')}): episode {episode}"


class TaskControl:
    """On the capture thread: notices a new request, hands it to the writer, then stores a fresh frame."""

    def __init__(self, read_db: sqlite_utils.Database, writer: Writer, fresh_frame: Callable[[], None]) -> None:
        self.read_db, self.writer, self.fresh_frame = read_db, writer, fresh_frame
        self._handed: str | None = None

    def poll(self) -> None:
        try:
            req = tasks.pending(self.read_db)
        except Exception:  # noqa: BLE001 - a busy or vanished database: the next check tries again
            log.debug("task request not read", exc_info=True)
            return
        if req is None or req.id == self._handed:
            return
        from deskscribe.capture.writer import Task

        noticed = time.time()
        changes = (req.op == "start") == (self.writer.task is None)  # (read across threads: a hint only)
        if not self.writer.submit(Task(f"task {req.op}", lambda db: apply(self.writer, db, req, noticed))):
            return  # the writer is busy: the next check hands it over
        self._handed = req.id
        if req.op in ("start", "finish") and changes:
            self.fresh_frame()
