"""What is wrong with capture right now, with the reason: the problems the tray and `deskscribe status` show.

Capture keeps running through every one of these (it retries), so a problem is not a state of its own but a
list beside the state: ticks that keep failing (the display is gone, a read of the database fails), frames
grabbed but not stored (a write fails, the writer falls behind), a full disk, a lost accessibility bus.
Each problem is logged once when it appears and once when it is gone; the writer reports the list with the
heartbeat (``storage.state.report_capture``). Shared by the capture thread, the writer and the element
lookup thread.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)
FAILED_TICKS = 3  # ticks failed in a row before capture counts as failing (one bad tick is not a problem)
FAILED_STORES = 3  # frame writes failed (or dropped) in a row

TICKS, STORING, DISK_FULL, ACCESSIBILITY = "ticks", "storing", "disk_full", "accessibility"


class Health:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problems: dict[str, str] = {}
        self._failed_ticks = 0
        self._failed_stores = 0

    def problems(self) -> dict[str, str]:
        with self._lock:
            return dict(self._problems)

    def set(self, kind: str, message: str) -> None:
        with self._lock:
            new = kind not in self._problems
            self._problems[kind] = message
        if new:
            log.warning("capture is unhealthy: %s", message)

    def clear(self, kind: str) -> None:
        with self._lock:
            gone = self._problems.pop(kind, None)
        if gone is not None:
            log.warning("capture recovered: no longer %s", gone)

    def tick_failed(self, why: str) -> None:
        with self._lock:
            self._failed_ticks += 1
            count = self._failed_ticks
        if count >= FAILED_TICKS:
            self.set(TICKS, f"capture ticks keep failing: {why}")

    def tick_ok(self) -> None:
        with self._lock:
            self._failed_ticks = 0
        self.clear(TICKS)

    def store_failed(self, why: str) -> None:
        with self._lock:
            self._failed_stores += 1
            count = self._failed_stores
        if count >= FAILED_STORES:
            self.set(STORING, f"frames are grabbed but not stored: {why}")

    def stored(self) -> None:
        with self._lock:
            self._failed_stores = 0
        self.clear(STORING)
