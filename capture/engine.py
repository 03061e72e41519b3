"""The capture engine: scheduled ticks grab every monitor, skip unchanged or excluded screens, encode the
rest and hand them to the writer thread.

Threads: apscheduler runs the capture jobs on ONE worker thread (ticks, extra frames after a click or app
switch, window watching), so the screen, the change detectors and the X connection are used by one thread;
pynput's listener threads only touch the aggregator; the writer thread owns every database write.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from deskscribe.capture.activity import Aggregator
from deskscribe.capture.change import ChangeDetector, Verdict, grid_hash
from deskscribe.capture.encode import encode_raw
from deskscribe.capture.listeners import InputListeners
from deskscribe.capture.privacy import Rules
from deskscribe.capture.screen import Screen, Shot, select
from deskscribe.capture.window import WAYLAND_NOTE, NullBackend, WindowBackend, WindowInfo, get_backend, is_wayland
from deskscribe.capture.writer import Captured, Status, Task, Writer
from deskscribe.config import Config
from deskscribe.errors import ConfigError
from deskscribe.storage import retention
from deskscribe.storage import state as kv
from deskscribe.storage.db import open_db

log = logging.getLogger(__name__)
WATCH_S = 0.5  # how often the focused window is checked for app switches
MONITORS_S = 10.0  # how often the monitor layout is re-read
DISK_RETRY_S = 5.0  # after the writer hit a full disk, try again this often
MAX_BACKOFF_S = 60.0
LATE_EVENTS_S = 1.0  # input older than this (and 2 intervals) with no new frame joins the last frame


class Engine:
    def __init__(self, cfg: Config, db_path: Path, backend: WindowBackend | None = None) -> None:
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
        self.aggregator = Aggregator(keep_text=cfg.capture.store_typed_text)
        self.backend = backend or get_backend()
        self.listeners = InputListeners(self.aggregator, self._on_click, self._text_allowed)
        self.input_ok = False
        self.detectors: dict[int, ChangeDetector] = {}
        self.started = time.time()
        self._last_app: str | None = None
        self._last_hidden = False
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
        """Stop the jobs and listeners, let the writer flush its queue, release the display."""
        self.stop_event.set()
        self.scheduler.shutdown(wait=True)
        self.listeners.stop()
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

    def request_frame(self, trigger: str) -> None:
        """An extra frame ``capture.debounce_s`` after the last click/app switch (later ones push it back)."""
        if not self.cfg.capture.frame_on_click or self.stop_event.is_set():
            return
        when = dt.datetime.now() + dt.timedelta(seconds=self.cfg.capture.debounce_s)
        try:
            self.scheduler.add_job(self.tick, "date", run_date=when, args=[trigger], id="extra", replace_existing=True)
        except Exception:  # noqa: BLE001 - the scheduler is shutting down
            log.debug("extra frame not scheduled", exc_info=True)

    def _on_click(self) -> None:
        self.request_frame("click")

    def _text_allowed(self) -> bool:
        """Called on the keyboard thread for every typed key, only when typed text is kept at all."""
        backend = getattr(self._local, "backend", None)
        if backend is None:
            backend = self._local.backend = get_backend()
        try:
            win = backend.active_window()
        except Exception:  # noqa: BLE001 - cannot tell which window has focus: keep no text
            self._local.backend = None
            return False
        return win is not None and self.rules.excluded(win.names, win.title) is None

    # --- jobs ------------------------------------------------------------------------------------------
    def watch_window(self) -> None:
        if not self.stop_event.is_set():
            self._note_window(self._window(), request=True)

    def _note_window(self, win: WindowInfo | None, request: bool) -> None:
        """Record an app switch (names of excluded windows are left out on both sides)."""
        if win is None or win.app == self._last_app:
            return
        hidden = self.rules.excluded(win.names, win.title) is not None
        if self._last_app is not None or self._last_hidden:
            self.aggregator.app_switch(time.time(), None if self._last_hidden else self._last_app,
                                       None if hidden else win.app, None if hidden else win.title)
            if request:
                self.request_frame("app_switch")
        self._last_app, self._last_hidden = win.app, hidden

    def tick(self, trigger: str = "interval") -> None:
        if self.stop_event.is_set():
            return
        try:
            self._tick(time.time(), trigger)
        except Exception:  # noqa: BLE001 - one bad tick must not end capture
            log.exception("capture tick failed")

    def _tick(self, now: float, trigger: str) -> None:
        blocked = self._blocked(now)
        if blocked:
            self.aggregator.discard()
            self._set_status(*blocked)
            return
        win = self._window()
        self._note_window(win, request=False)
        if win is not None and self.rules.excluded(win.names, win.title):
            self.aggregator.discard()
            self._set_status("capturing", "an excluded window has focus: nothing is recorded")
            return
        shots = self._grab_all()
        after = self._window()  # focus may have moved to an excluded window during the grab
        if shots is None or (after is not None and self.rules.excluded(after.names, after.title)):
            return
        threshold = self.cfg.capture.change_threshold if trigger == "interval" else 0.0
        frames, verdicts = self._changed(shots, threshold)
        idle = self.idle_seconds(now) >= self.cfg.capture.idle_s
        self._set_status("idle" if idle else "capturing", "no input for a while: only changes are stored" if idle else "")
        if not frames:
            self._flush_late_events(now)
            return
        events = self.aggregator.drain()
        item = Captured(now, win.app if win else None, win.title if win else None, frames, events)
        if self.writer.submit(item):
            for detector, verdict in verdicts:
                detector.commit(verdict)
        else:
            self.aggregator.restore(events)
            log.warning("the writer is behind: dropped a frame")

    # --- helpers ---------------------------------------------------------------------------------------
    def _flush_late_events(self, now: float) -> None:
        """Events that no new frame followed for a while go to the last stored frame."""
        since = self.aggregator.pending_since()
        late_after = max(LATE_EVENTS_S, 2 * self.cfg.capture.interval_s + self.cfg.capture.debounce_s)
        if since is not None and now - since >= late_after and self.status.frames:
            events = self.aggregator.drain()
            if not self.writer.submit(Captured(now, None, None, [], events)):
                self.aggregator.restore(events)

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
        free_mb = shutil.disk_usage(self.db_path.parent).free / 2**20
        if free_mb < self.cfg.capture.min_free_mb:
            return "disk_full", f"only {free_mb:.0f} MB free (capture.min_free_mb = {self.cfg.capture.min_free_mb})"
        full = self.status.disk_full_since
        if full is not None and now - full < DISK_RETRY_S:
            return "disk_full", self.status.disk_message
        return None

    def _locked(self) -> bool:
        try:
            return bool(self.backend.screen_locked())
        except Exception:  # noqa: BLE001 - handled like any lost window backend
            self._backend_lost()
            return False

    def _window(self) -> WindowInfo | None:
        try:
            return self.backend.active_window()
        except Exception:  # noqa: BLE001 - Xlib raises many types when the display goes away
            self._backend_lost()
            return None

    def _backend_lost(self) -> None:
        if not isinstance(self.backend, NullBackend):
            log.warning("lost the window backend (%s); retrying", self.backend.name)
            self.backend.close()
            self.backend = NullBackend("the window backend was lost")
        if time.monotonic() >= self._display_retry_at:
            fresh = get_backend()
            if not isinstance(fresh, NullBackend):
                self.backend = fresh
                log.warning("window backend reconnected")

    def idle_seconds(self, now: float) -> float:
        """Seconds without input: from pynput when it runs, else the backend (X screen saver), else 0."""
        values = []
        if self.input_ok:
            values.append(now - max(self.aggregator.last_input_ts, self.started))
        try:
            backend_idle = self.backend.idle_seconds()
        except Exception:  # noqa: BLE001
            backend_idle = None
        if backend_idle is not None:
            values.append(backend_idle)
        return min(values) if values else 0.0

    def _monitors(self) -> list[Any]:
        return select(self.screen.monitors, self.cfg.capture.monitors) if self.screen else []

    def _grab_all(self) -> list[Shot] | None:
        now = time.monotonic()
        if self.screen is None:
            if now < self._display_retry_at:
                return None
            try:
                self.screen = Screen()
                log.warning("display is back: capture resumed")
                self._backoff, self.detectors = 1.0, {}
            except Exception as exc:  # noqa: BLE001
                self._display_failed(now, exc, first=False)
                return None
        try:
            if now - self._monitors_at >= MONITORS_S:
                self._monitors_at = now
                if self.screen.refresh():
                    log.warning("monitors changed: now %s", [(m.index, m.width, m.height) for m in self.screen.monitors])
                    self.detectors = {}
            return [self.screen.grab(m) for m in self._monitors()]
        except Exception as exc:  # noqa: BLE001 - mss raises ScreenShotError, OSError, ctypes errors
            self._display_failed(now, exc, first=True)
            return None

    def _display_failed(self, now: float, exc: BaseException, first: bool) -> None:
        if first:
            log.warning("cannot grab the screen (%s); retrying with backoff", exc)
            if self.screen is not None:
                try:
                    self.screen.close()
                except Exception:  # noqa: BLE001
                    pass
            self.screen = None
        self._display_retry_at = now + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)
        self._set_status("capturing", "the display is unavailable: retrying")
        return None

    def _changed(self, shots: list[Shot], threshold: float) -> tuple[list[Any], list[tuple[ChangeDetector, Verdict]]]:
        c = self.cfg.capture
        frames, verdicts = [], []
        for shot in shots:
            detector = self.detectors.setdefault(shot.monitor.index, ChangeDetector())
            verdict = detector.check(shot.raw, shot.width, shot.height, threshold)
            if verdict.changed:
                image = encode_raw(shot.raw, shot.width, shot.height, c.image_format, c.quality, c.max_side)
                frames.append((shot.monitor, image, grid_hash(verdict.grid)))
                verdicts.append((detector, verdict))
        return frames, verdicts
