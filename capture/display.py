"""The engine's link to the display: the window backend (focused window, windows shown, lock, idle) and the
screen grabber, each re-opened with backoff when it is lost (a display restarting, Xlib errors)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from deskscribe.capture.privacy import Rules, hidden_boxes
from deskscribe.capture.screen import Screen, Shot, select
from deskscribe.capture.window import NullBackend, ShownWindow, WindowBackend, WindowInfo, get_backend

if TYPE_CHECKING:
    from deskscribe.capture.activity import Aggregator
    from deskscribe.capture.keeper import FrameKeeper
    from deskscribe.capture.writer import Status
    from deskscribe.config import Config

log = logging.getLogger("deskscribe.capture.engine")
MONITORS_S = 10.0  # how often the monitor layout is re-read
MAX_BACKOFF_S = 60.0


class DisplayLink:
    """Needs from the engine: cfg, backend, screen, rules, aggregator, keeper, status, input_ok, started and
    the retry state below."""

    cfg: Config
    backend: WindowBackend
    screen: Screen | None
    rules: Rules
    aggregator: Aggregator
    keeper: FrameKeeper
    status: Status
    input_ok: bool
    started: float
    _display_retry_at: float
    _backoff: float
    _monitors_at: float

    def _set_status(self, state_name: str, message: str = "") -> None: ...

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

    def _hidden_boxes(self) -> list[tuple[int, int, int, int]]:
        return hidden_boxes(self.rules, self._shown_windows())

    def _shown_windows(self) -> list[ShownWindow]:
        try:
            return self.backend.shown_windows()
        except Exception:  # noqa: BLE001 - handled like any lost window backend
            self._backend_lost()
            return []

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
                self._backoff = 1.0
                self.keeper.reset()
            except Exception as exc:  # noqa: BLE001
                self._display_failed(now, exc, first=False)
                return None
        try:
            if now - self._monitors_at >= MONITORS_S:
                self._monitors_at = now
                if self.screen.refresh():
                    layout = [(m.index, m.width, m.height) for m in self.screen.monitors]
                    log.warning("monitors changed: now %s", layout)
                    self.keeper.reset()
            return [self.screen.grab(m) for m in self._monitors()]
        except Exception as exc:  # noqa: BLE001 - mss raises ScreenShotError, OSError, ctypes errors
            self._display_failed(now, exc, first=True)
            return None

    def _display_failed(self, now: float, exc: BaseException, first: bool) -> None:
        self.status.health.tick_failed(f"cannot grab the screen ({type(exc).__name__}: {exc})")
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

