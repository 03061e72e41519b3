"""The one thread that writes capture data to SQLite: frames, events, episodes, state and retention.

Everything reaches it through a bounded queue; when the queue is full the capturer drops the frame rather
than block. The frames of one grab (every changed monitor) are one transaction, and each batch of finished
actions another, so a crash loses at most what was in flight. A full disk is caught here: frames are dropped
and the state reads ``disk_full`` until a write succeeds again.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from deskscribe.capture.episodes import Point, Span, advance
from deskscribe.capture.health import DISK_FULL, Health
from deskscribe.capture.screen import Monitor
from deskscribe.capture.taskmode import NO_SPLIT
from deskscribe.config import EpisodesConfig
from deskscribe.storage import events as ev
from deskscribe.storage import frames as store
from deskscribe.storage import state, tasks
from deskscribe.storage.db import db_file, is_disk_full, transaction, translate
from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn
from deskscribe.storage.health import DamagedDatabase, ReadOnlyDatabase

log = logging.getLogger(__name__)
HEARTBEAT_S = 5.0
QUEUE_SIZE = 8
KEEP_IDS = 256


@dataclass(frozen=True)
class NewFrame:
    """A frame to store; ``token`` is the engine's name for it, which actions refer to before it has an id."""

    token: int
    monitor: Monitor
    image: EncodedImage
    change_hash: str
    trigger: str


@dataclass(frozen=True)
class Action:
    """A finished action and the tokens of the frames before and after it (None: there was none)."""

    ts: float
    events: list[ev.Event]
    before: int | None = None
    after: int | None = None
    looked_up: bool = False


@dataclass
class Captured:
    """Frames stored together (one per changed monitor) and/or finished actions, written in one transaction."""

    ts: float
    app: str | None
    title: str | None
    frames: list[NewFrame] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


@dataclass
class Task:
    """Work to run on the writer's connection (pause switch, retention…)."""

    name: str
    fn: Callable[[sqlite_utils.Database], Any]


class Status:
    """What the capture process is doing, shared by the capture thread (writes) and the writer (reports)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state, self.message = "capturing", ""
        self.disk_full_since: float | None = None
        self.disk_message = ""
        self.fatal: str | None = None  # a database problem no retry fixes (read-only, damaged): stop capture
        self.frames = 0
        self.episodes: set[int] = set()
        self.health = Health()

    def set(self, state_name: str, message: str = "") -> bool:
        """Returns True when this changed the state (the writer should report it now)."""
        with self._lock:
            changed = (self.state, self.message) != (state_name, message)
            self.state, self.message = state_name, message
            return changed

    def snapshot(self) -> tuple[str, str]:
        with self._lock:
            if self.disk_full_since is not None:
                return "disk_full", self.disk_message
            return self.state, self.message


class Writer(threading.Thread):
    def __init__(self, db: sqlite_utils.Database, episodes: EpisodesConfig, status: Status) -> None:
        super().__init__(name="deskscribe-writer", daemon=True)
        self.db, self.cfg, self.status = db, episodes, status
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_SIZE)
        self._stop_item = object()
        self._span: Span | None = None
        self._episode: int | None = None
        self._reported: tuple[str, str, dict[str, str]] | None = None
        self._reported_at = 0.0
        self._ids: dict[int, tuple[int, int]] = {}  # frame token → (episode, frame id), the recent ones
        self.task: int | None = None  # the running task (capture/taskmode.py): no split while it runs

    @property
    def episode(self) -> int | None:
        """The open episode (read on the writer thread)."""
        return self._episode

    def submit(self, item: Captured | Task) -> bool:
        """Queue without blocking; False when the queue is full (the caller drops or retries)."""
        try:
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            return False

    def finish(self, timeout: float = 30.0) -> None:
        """Write what is queued, close the episode, report 'stopped', and end the thread."""
        try:
            self._queue.put(self._stop_item, timeout=timeout)
        except queue.Full:
            log.warning("the writer did not drain its queue in %.0f s; stopping anyway", timeout)
        self.join(timeout)

    def run(self) -> None:
        closed = store.close_open_episodes(self.db)
        if closed:
            log.info("closed %d episode(s) left open by an earlier capture process", closed)
        self._safely(lambda: tasks.close_left_open(self.db))  # a stopped process's task: kept, no outcome
        while True:
            try:
                item = self._queue.get(timeout=HEARTBEAT_S)
            except queue.Empty:
                item = None
            if item is self._stop_item:
                break
            if isinstance(item, Captured):
                self._write(item)
            elif isinstance(item, Task):
                self._run_task(item)
            self._heartbeat()
        self.end_episode()
        self._safely(lambda: state.report_capture(self.db, os.getpid(), "stopped", ""))

    def _write(self, item: Captured) -> None:
        if item.frames and not self._write_frames(item):
            return
        if item.actions:
            self._write_actions(item.actions)

    def _write_frames(self, item: Captured) -> bool:
        point = Point(item.ts, item.app, len(item.frames), None)
        span, reason = advance(self._span, point, self.cfg if self.task is None else NO_SPLIT)
        if reason is not None:
            self.end_episode()
        stored = {}
        try:
            with transaction(self.db):
                if self._episode is None:
                    self._episode = store.create_episode(self.db, item.ts)
                    log.debug("new episode %s (%s)", self._episode, reason)
                    if self.task is not None:
                        tasks.attach(self.db, self.task, self._episode)
                assert self._episode is not None
                for f in item.frames:
                    frame = FrameIn(item.ts, f.image, f.monitor.index, item.app, item.title, f.change_hash,
                                    trigger=f.trigger)
                    stored[f.token] = (self._episode, store.add_frame(self.db, self._episode, frame))
        except Exception as exc:  # noqa: BLE001 - the writer must outlive any one bad write
            if self._span is None or reason is not None:
                self._episode = None  # its creation was rolled back with the transaction
            self._failed(exc, len(item.frames))
            return False
        self._span = span
        self._ids.update(stored)
        if len(self._ids) > KEEP_IDS:  # actions refer to recent frames only
            for token in sorted(self._ids)[: len(self._ids) - KEEP_IDS]:
                del self._ids[token]
        self.status.frames += len(item.frames)
        self.status.episodes.add(self._episode)
        self.status.health.stored()
        if self.status.disk_full_since is not None:
            log.warning("disk space is available again: capture resumed")
            self.status.disk_full_since = None
            self.status.health.clear(DISK_FULL)
        return True

    def _write_actions(self, actions: list[Action]) -> None:
        """Each action joins the episode (and frame) of its before frame, else its after frame, else the open
        episode; an app switch joins its after frame: it is how the new app's episode begins."""
        groups: dict[tuple[int, int | None], list[EventIn]] = {}
        for a in actions:
            before, after = self._ids.get(a.before or -1), self._ids.get(a.after or -1)
            switch = any(isinstance(e, ev.AppSwitch) for e in a.events)
            home = (after or before) if switch else (before or after)
            episode, frame_id = home or (self._episode, None)
            if episode is None:
                continue  # nothing was ever stored: an action with no frame at all has no place
            for e in a.events:
                groups.setdefault((episode, frame_id), []).append(EventIn.of(
                    a.ts, e, before_frame_id=before[1] if before else None,
                    after_frame_id=after[1] if after else None, looked_up=a.looked_up))
        try:
            with transaction(self.db):
                for (episode, frame_id), rows in groups.items():
                    store.add_events(self.db, episode, frame_id, rows)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc, 0)

    def _failed(self, exc: BaseException, n: int) -> None:
        fatal = _fatal(exc, self.db)
        if fatal is not None:  # the database became read-only or damaged: capture stops with this line
            if self.status.fatal is None:
                log.error("%s", fatal)
                self.status.fatal = fatal
            return
        if is_disk_full(exc):
            if self.status.disk_full_since is None:
                log.warning("the disk is full: dropping frames until space is freed (%s)", exc)
            self.status.disk_message = "the disk is full: free some space (capture resumes by itself)"
            self.status.disk_full_since = time.time()
            self.status.health.set(DISK_FULL, self.status.disk_message)
        else:
            log.exception("could not store %d frame(s)", n)
            if n:
                self.status.health.store_failed(f"{type(exc).__name__}: {exc}")

    def end_episode(self) -> None:
        if self._episode is not None:
            episode, self._episode, self._span = self._episode, None, None
            self._safely(lambda: store.close_episode(self.db, episode))

    def _run_task(self, task: Task) -> None:
        try:
            task.fn(self.db)
        except Exception as exc:  # noqa: BLE001
            if is_disk_full(exc) or _fatal(exc, self.db):
                self._failed(exc, 0)
            else:
                log.exception("task %s failed", task.name)

    def _heartbeat(self) -> None:
        now = time.time()
        current = (*self.status.snapshot(), self.status.health.problems())
        if current != self._reported or now - self._reported_at >= HEARTBEAT_S:
            if self._safely(lambda: state.report_capture(self.db, os.getpid(), *current)):
                self._reported, self._reported_at = current, now

    def _safely(self, fn: Callable[[], Any]) -> bool:
        try:
            fn()
            return True
        except Exception as exc:  # noqa: BLE001 - bookkeeping writes fail quietly when the disk is full
            if _fatal(exc, self.db):
                self._failed(exc, 0)
            elif not is_disk_full(exc):
                log.exception("bookkeeping write failed")
            return False


def _fatal(exc: BaseException, db: sqlite_utils.Database) -> str | None:
    """The one line for a write that can never succeed again (read-only or damaged database), else None."""
    if isinstance(exc, (DamagedDatabase, ReadOnlyDatabase)):
        return str(exc)
    if not isinstance(exc, sqlite3.Error):
        return None
    known = translate(exc, db_file(db) or "the database")
    return str(known) if isinstance(known, (DamagedDatabase, ReadOnlyDatabase)) else None
