"""The capture engine: scheduled ticks grab every monitor and store what changed; around every action it
stores the frame that was on screen just before it and the frame once the screen settled after it.

Frames around actions (see capture/activity.py for what an action is): each tick keeps its grab of every
monitor in memory (:class:`~deskscribe.capture.keeper.FrameKeeper`). When an action starts (click, shortcut,
first key of a typing burst, first scroll of a burst, app switch) that grab is stored as its *before* frame
(trigger ``action``; an unchanged screen reuses the stored frame). When it ends, a fresh grab is stored as
its *after* frame: at once for a typing burst ended by Enter or a pause (trigger ``typing``), else once the
screen has settled, ``capture.debounce_s`` after the last action (trigger ``settle`` / ``app_switch``).

Threads: apscheduler runs the capture jobs on ONE worker thread (ticks, before/after frames, window watching),
so the screen, the change detectors and the X connection are used by one thread; pynput's listener threads
only touch the aggregator (and ask whether the focused window is excluded: input there is dropped at once);
the element lookup has its own thread; the writer thread owns every database write.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from deskscribe.capture.accessibility import get_probe
from deskscribe.capture.activity import Aggregator, Pending
from deskscribe.capture.around import STUCK_S, ActionFrames
from deskscribe.capture.display import DisplayLink
from deskscribe.capture.health import DISK_FULL
from deskscribe.capture.keeper import FrameKeeper, Grab
from deskscribe.capture.listeners import InputListeners
from deskscribe.capture.lookup import ElementLookup
from deskscribe.capture.privacy import Rules
from deskscribe.capture.screen import Screen, black_out
from deskscribe.capture.taskmode import TaskControl
from deskscribe.capture.window import (
    WAYLAND_NOTE,
    NullBackend,
    WindowBackend,
    WindowInfo,
    get_backend,
    is_wayland,
)
from deskscribe.capture.writer import Action, Status, Task, Writer
from deskscribe.config import Config
from deskscribe.errors import ConfigError
from deskscribe.hotkeys import own_shortcuts
from deskscribe.storage import events as ev
from deskscribe.storage import retention, space
from deskscribe.storage import state as kv
from deskscribe.storage.db import open_db

log = logging.getLogger(__name__)
WATCH_S = 0.5  # how often the focused window is checked for app switches
DISK_RETRY_S = 5.0  # after the writer hit a full disk, try again this often


class Engine(DisplayLink, ActionFrames):  # DisplayLink first: ActionFrames only declares its methods
    def __init__(self, cfg: Config, db_path: Path, backend: WindowBackend | None = None,
                 probe: Any = get_probe) -> None:
        self.cfg, self.db_path = cfg, db_path
        self.stop_event = threading.Event()
        self.screen: Screen | None = Screen()  # raises BackendUnavailable when there is no display
        present = [m.index for m in self.screen.monitors]
        if [i for i in cfg.capture.monitors if i not in present]:
            self.screen.close()
            raise ConfigError(f"capture.monitors = {cfg.capture.monitors}, but this display has monitors "
                              f"{present}: use those numbers, or [] for every monitor")
        self.db = open_db(db_path)  # handed to the writer thread, which alone writes
        self.read_db = open_db(db_path, migrate=False)  # the capture thread's reads (pause switch)
        self.status = Status()
        self.writer = Writer(self.db, cfg.episodes, self.status)
        self.rules = Rules.from_config(cfg.privacy)
        self.aggregator = Aggregator(keep_text=cfg.capture.store_typed_text,
                                     ignored=own_shortcuts(cfg.task.hotkey_record, cfg.task.hotkey_note))
        self.backend = backend or get_backend()
        self.listeners = InputListeners(self.aggregator, self._on_action, self._input_focus, self._monitor_of)
        self.lookup = ElementLookup(probe, self.rules.excluded, self.aggregator, self.status.health)
        self.keeper = FrameKeeper(cfg.capture, self.writer)
        self.tasks = TaskControl(self.read_db, self.writer, self._fresh_frame)
        self.input_ok = False
        self._unsent: list[Action] = []
        self._pointer_monitor: int | None = None  # where the last click was: keyboard actions happen there
        self._settle_since: float | None = None
        self.started = time.time()
        self._last_app: str | None = None
        self._last_hidden = False
        self._low_space = False
        self._display_retry_at = 0.0
        self._backoff = 1.0
        self._monitors_at = time.monotonic()
        self._local = threading.local()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1), "side": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        if is_wayland():
            log.warning(WAYLAND_NOTE)
        if isinstance(self.backend, NullBackend):
            log.warning("%s; frames are stored without app and title", self.backend.reason)
        self.lookup.start()
        why = self.listeners.start()
        self.input_ok = why is None
        if why:
            log.warning("%s: capturing screenshots without input events", why)
        self.writer.start()
        now = dt.datetime.now()
        c, r = self.cfg.capture, self.cfg.retention
        self.scheduler.add_job(self.tick, "interval", seconds=c.interval_s, next_run_time=now, id="tick")
        self.scheduler.add_job(self.watch_window, "interval", seconds=min(WATCH_S, c.interval_s), id="watch")
        self.scheduler.add_job(self.queue_retention, "interval", minutes=r.every_min, executor="side",
                               next_run_time=now + dt.timedelta(seconds=5), id="retention")
        self.scheduler.start()
        if not self._monitors():
            log.warning("capture.monitors = %s matches no monitor (there are %s); nothing will be captured",
                        c.monitors, [m.index for m in self.screen.monitors] if self.screen else [])
        log.info("capturing every %.1f s on monitors %s", c.interval_s, [m.index for m in self._monitors()])

    def shutdown(self) -> None:
        """Stop the jobs and listeners, give the actions still waiting their after frame, let the writer flush its
        queue, release the display."""
        self.stop_event.set()
        self.listeners.stop()
        self.scheduler.shutdown(wait=True)
        self.lookup.stop()
        log.info("%s", self.lookup.summary())
        try:
            self._last_frames()
        except Exception:  # noqa: BLE001 - stopping must go on: the actions are stored without it
            log.exception("the last after frames could not be taken")
        self._flush(force=True)
        self.writer.finish()
        for closer in (self.backend.close, self.screen.close if self.screen else None,
                       self.read_db.conn.close, self.db.conn.close):
            if closer:
                try:
                    closer()
                except Exception:  # noqa: BLE001 - best effort at exit
                    log.debug("close failed", exc_info=True)

    # --- control ---------------------------------------------------------------------------------------
    def pause(self, minutes: float | None = None) -> None:
        self.writer.submit(Task("pause", lambda db: kv.pause(db, minutes)))

    def resume(self) -> None:
        self.writer.submit(Task("resume", kv.resume))

    def queue_retention(self) -> None:
        if not self.writer.submit(Task("retention", lambda db: self._retention(db))):
            log.info("retention postponed: the writer is busy")

    def _retention(self, db: Any) -> None:
        result = retention.run(db, self.cfg.retention, time.time())
        if result.frames:
            log.info("retention removed %s", result)

    # --- input (listener threads) -----------------------------------------------------------------------
    def _input_focus(self) -> tuple[str | None, int | None] | None:
        """Asked on the listener thread for every key, click and scroll: the focused window's (app, pid), or
        None when input must be dropped at that moment (an excluded window, or focus cannot be told).

        Not its title: an editor's title changes as the first key lands ("notes.txt" → "*notes.txt"), and a
        listener behind on a loaded machine saw the second key in "another window" and split the word typed."""
        backend = getattr(self._local, "backend", None)
        if backend is None:
            backend = self._local.backend = get_backend()
        try:
            win = backend.active_window()
        except Exception:  # noqa: BLE001 - cannot tell which window has focus: keep nothing
            self._local.backend = None
            return None
        if win is None:
            return (None, None)
        return None if self.rules.excluded(win.names, win.title) else (win.app, win.pid)

    def _monitor_of(self, x: int, y: int) -> int | None:
        screen = self.screen
        found = next((m.index for m in (screen.monitors if screen else []) if m.contains(x, y)), None)
        if found is not None:
            self._pointer_monitor = found
        return found

    def _on_action(self, p: Pending) -> None:
        """From the listeners, keyed by the event's kind. An action started (a click, a shortcut, the first
        scroll or key of a burst): the frame before it, and a click's element. Enter ended a keys burst (its
        event's ``ended_by``): the after frame at once, since it shows what was typed. A click, a shortcut and
        Enter change the screen: an after frame once it settles. (A burst ended by a pause: watch_window.)"""
        event = p.event
        if event.kind == ev.Click.kind:
            self.lookup.submit(p)
        self._run_soon(self._before_job, "before")
        entered = isinstance(event, ev.Keys) and event.ended_by == "enter"
        if entered:
            self._run_soon(self._typing_job, "typing")
        if event.kind in (ev.Click.kind, ev.Shortcut.kind) or entered:
            self._settle_later()

    def _run_soon(self, fn: Any, job_id: str, delay: float = 0.0, args: tuple[Any, ...] = ()) -> None:
        if self.stop_event.is_set():
            return
        when = dt.datetime.now() + dt.timedelta(seconds=delay)
        try:
            self.scheduler.add_job(fn, "date", run_date=when, args=list(args), id=job_id, replace_existing=True,
                                   max_instances=4)  # queued behind a running one, not skipped
        except Exception:  # noqa: BLE001 - the scheduler is shutting down
            log.debug("job %s not scheduled", job_id, exc_info=True)

    def _settle_later(self, trigger: str = "settle") -> None:
        """The after frame, ``capture.debounce_s`` after the last action (later actions push it back)."""
        self._settle_since = None
        self._run_soon(self._settle_job, "settle", self.cfg.capture.debounce_s, (trigger,))

    # --- jobs (the capture thread) ---------------------------------------------------------------------
    def watch_window(self) -> None:
        if self.stop_event.is_set():
            return
        self.tasks.poll()  # before the pause check: a task may be started or finished while paused
        now = time.time()
        if self._blocked(now):
            self.aggregator.discard()
            return
        self._note_window(self._window())
        closed = self.aggregator.end_bursts(now)
        if any(isinstance(p.event, ev.Keys) for p in closed):
            self._typing_job()
        if any(isinstance(p.event, ev.Scroll) for p in closed):
            self._settle_later()
        late = now - self.cfg.capture.debounce_s - STUCK_S
        if any(p.last_ts < late for p in self.aggregator.needing_after()):
            self._after_frames("settle")  # its settle job was skipped (the capture thread was busy)
        self._flush()

    def _note_window(self, win: WindowInfo | None) -> None:
        """Record an app switch (names of excluded windows are left out on both sides)."""
        if win is None or win.app == self._last_app:
            return
        hidden = self.rules.excluded(win.names, win.title) is not None
        last_app, last_hidden = self._last_app, self._last_hidden
        self._last_app, self._last_hidden = win.app, hidden  # first: the before frame looks at the window again
        if last_app is not None or last_hidden:
            self.aggregator.app_switch(time.time(), None if last_hidden else last_app,
                                       None if hidden else win.app, None if hidden else win.title)
            self._before_job()
            self._settle_later("app_switch")

    def tick(self) -> None:
        if self.status.fatal is not None:  # the writer met a database no retry can fix: stop (runner says why)
            self.stop_event.set()
        if self.stop_event.is_set():
            return
        try:
            self._tick(time.time())
        except Exception as exc:  # noqa: BLE001 - one bad tick must not end capture
            log.exception("capture tick failed")
            self.status.health.tick_failed(f"{type(exc).__name__}: {exc}")

    def _fresh_frame(self) -> None:
        """A task started or finished: store every monitor anew, in the episode that begins now."""
        self.keeper.reset()
        self._tick(time.time())

    def _tick(self, now: float) -> None:
        grabs = self._grab_now(now)
        if grabs is None:
            return
        idle = self.idle_seconds(now) >= self.cfg.capture.idle_s
        self._set_status("idle" if idle else "capturing",
                         "no input for a while: only changes are stored" if idle else "")
        self.keeper.store(grabs, "interval", self.cfg.capture.change_threshold)
        self._flush()
        self.status.health.tick_ok()

    def _grab_now(self, now: float, assign: bool = True) -> list[Grab] | None:
        """A fresh grab of every captured monitor, kept as the latest; None when nothing may be grabbed."""
        blocked = self._blocked(now)
        if blocked:
            self.aggregator.discard()
            self._set_status(*blocked)
            return None
        win = self._window()
        self._note_window(win)
        if win is not None and self.rules.excluded(win.names, win.title):
            self._set_status("capturing", "an excluded window has focus: nothing is recorded")
            return None
        shots = self._grab_all()
        after = self._window()  # focus may have moved to an excluded window during the grab
        if shots is None or (after is not None and self.rules.excluded(after.names, after.title)):
            return None
        hidden = self._hidden_boxes()
        for shot in shots:
            black_out(shot, hidden)  # excluded windows shown beside the focused one never reach the disk
        if assign:
            self._assign_before(now)  # actions up to this grab get the grab before it
        grabs = [Grab(shot, now, win.app if win else None, win.title if win else None, window=win.id if win else None)
                 for shot in shots]
        for g in grabs:
            self.keeper.remember(g)
        return grabs

    def _set_status(self, state_name: str, message: str = "") -> None:
        if self.status.set(state_name, message):
            self.writer.submit(Task("report", lambda db: None))  # wakes the writer to report it now

    def _blocked(self, now: float) -> tuple[str, str] | None:
        until = kv.paused_until(self.read_db, now)
        if until is not None:
            when = "until resumed" if until == float("inf") else f"until {time.strftime('%H:%M', time.localtime(until))}"
            return "paused", f"paused {when}"
        if self.cfg.capture.pause_when_locked and self._locked():
            return "paused", "the screen is locked"
        free_mb = space.free_bytes(self.db_path.parent) / 2**20
        low = free_mb < self.cfg.capture.min_free_mb
        if low != self._low_space:  # said once each way in the log, not only in `deskscribe status`
            self._low_space = low
            if low:
                log.warning("the disk holding %s is full (%.0f MB free, capture.min_free_mb = %d): capture pauses "
                            "until space is freed", self.db_path, free_mb, self.cfg.capture.min_free_mb)
            else:
                log.warning("disk space is available again (%.0f MB free): capture resumed", free_mb)
        if low:
            message = (f"only {free_mb:.0f} MB free (capture.min_free_mb = {self.cfg.capture.min_free_mb}): "
                       "free some space (capture resumes by itself)")
            self.status.health.set(DISK_FULL, message)  # the tray shows it as a problem with its reason
            return "disk_full", message
        full = self.status.disk_full_since
        if full is None:
            self.status.health.clear(DISK_FULL)
        if full is not None and now - full < DISK_RETRY_S:
            return "disk_full", self.status.disk_message
        return None
