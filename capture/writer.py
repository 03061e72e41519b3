"""The one thread that writes capture data to SQLite: frames, events, episodes, state and retention.

Everything reaches it through a bounded queue; when the queue is full the capturer drops the frame rather
than block. A whole capture tick (every monitor's frame and the interval's events) is one transaction, so a
crash loses at most the tick in flight. A full disk is caught here: frames are dropped and the state reads
``disk_full`` until a write succeeds again.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from deskscribe.capture.episodes import Point, Span, advance
from deskscribe.capture.screen import Monitor
from deskscribe.config import EpisodesConfig
from deskscribe.storage import frames as store
from deskscribe.storage import state
from deskscribe.storage.db import is_disk_full, transaction
from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn

log = logging.getLogger(__name__)
HEARTBEAT_S = 5.0
QUEUE_SIZE = 8


@dataclass
class Captured:
    """One capture tick's stored frames (one per changed monitor) and the input events of its interval."""

    ts: float
    app: str | None
    title: str | None
    frames: list[tuple[Monitor, EncodedImage, str]]  # monitor, image, change hash
    events: list[EventIn] = field(default_factory=list)


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
        self.frames = 0
        self.episodes: set[int] = set()

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


def link_events(events: list[EventIn], monitors: list[Monitor]) -> list[list[EventIn]]:
    """Per stored frame, the events it carries: pointer events go to the monitor they happened on, the
    rest (and pointer events on a monitor with no new frame) to the first frame."""
    linked: list[list[EventIn]] = [[] for _ in monitors]
    for event in events:
        slot = 0
        x, y = event.details.get("x"), event.details.get("y")
        if event.kind in ("click", "scroll") and x is not None and y is not None:
            slot = next((i for i, m in enumerate(monitors) if m.contains(x, y)), 0)
        linked[slot].append(event)
    return linked


class Writer(threading.Thread):
    def __init__(self, db: sqlite_utils.Database, episodes: EpisodesConfig, status: Status) -> None:
        super().__init__(name="deskscribe-writer", daemon=True)
        self.db, self.cfg, self.status = db, episodes, status
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_SIZE)
        self._stop_item = object()
        self._span: Span | None = None
        self._episode: int | None = None
        self._reported: tuple[str, str] | None = None
        self._reported_at = 0.0
        self._last_frame: tuple[int, int] | None = None  # (episode, frame) of the last stored frame

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
        self._end_episode()
        self._safely(lambda: state.report_capture(self.db, os.getpid(), "stopped", ""))

    def _write(self, item: Captured) -> None:
        if not item.frames:
            self._write_late_events(item.events)
            return
        first_input = min((e.ts for e in item.events), default=None)
        point = Point(item.ts, item.app, len(item.frames), first_input)
        span, reason = advance(self._span, point, self.cfg)
        if reason is not None:
            self._end_episode()
        try:
            with transaction(self.db):
                if self._episode is None:
                    self._episode = store.create_episode(self.db, item.ts)
                    log.debug("new episode %s (%s)", self._episode, reason)
                assert self._episode is not None
                monitors = [m for m, _, _ in item.frames]
                for (monitor, image, digest), events in zip(item.frames, link_events(item.events, monitors)):
                    frame = FrameIn(item.ts, image, monitor.index, item.app, item.title, digest, events=events)
                    last = store.add_frame(self.db, self._episode, frame)
        except Exception as exc:  # noqa: BLE001 - the writer must outlive any one bad write
            if self._span is None or reason is not None:
                self._episode = None  # its creation was rolled back with the transaction
            self._failed(exc, len(item.frames))
            return
        self._span, self._last_frame = span, (self._episode, last)
        self.status.frames += len(item.frames)
        self.status.episodes.add(self._episode)
        if self.status.disk_full_since is not None:
            log.warning("disk space is available again: capture resumed")
            self.status.disk_full_since = None

    def _write_late_events(self, events: list[EventIn]) -> None:
        """Input that no screen change followed belongs to the frame that was on screen: the last one."""
        if self._last_frame is None or not events:
            return
        episode, frame = self._last_frame
        try:
            store.add_events(self.db, episode, frame, events)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc, 0)

    def _failed(self, exc: BaseException, n: int) -> None:
        if is_disk_full(exc):
            if self.status.disk_full_since is None:
                log.warning("the disk is full: dropping frames until space is freed (%s)", exc)
            self.status.disk_message = "the disk is full: free some space (capture resumes by itself)"
            self.status.disk_full_since = time.time()
        else:
            log.exception("could not store %d frame(s)", n)

    def _end_episode(self) -> None:
        if self._episode is not None:
            episode, self._episode, self._span = self._episode, None, None
            self._safely(lambda: store.close_episode(self.db, episode))

    def _run_task(self, task: Task) -> None:
        try:
            task.fn(self.db)
        except Exception as exc:  # noqa: BLE001
            if is_disk_full(exc):
                self._failed(exc, 0)
            else:
                log.exception("task %s failed", task.name)

    def _heartbeat(self) -> None:
        now = time.time()
        current = self.status.snapshot()
        if current != self._reported or now - self._reported_at >= HEARTBEAT_S:
            if self._safely(lambda: state.report_capture(self.db, os.getpid(), *current)):
                self._reported, self._reported_at = current, now

    def _safely(self, fn: Callable[[], Any]) -> bool:
        try:
            fn()
            return True
        except Exception as exc:  # noqa: BLE001 - bookkeeping writes fail quietly when the disk is full
            if not is_disk_full(exc):
                log.exception("bookkeeping write failed")
            return False
