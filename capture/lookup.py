"""The element under each click, looked up on its own thread so pynput's callbacks return at once.

One thread owns the accessibility connection (D-Bus connections are not shared between threads). Lookups
are queued (bounded: when clicks come faster than the bus answers, the extra clicks go without element) and
each is bounded in time by the probe. The result is applied to the click through
:meth:`Aggregator.set_element`, with capture's privacy rules: nothing from an excluded app or window (the
click is dropped), no name for password fields.

When the accessibility bus or its registry goes away (:class:`BusLost`), the probe is closed and a fresh one
is opened with backoff (1 s, doubling to 60 s), also while no click comes; meanwhile clicks go without
element and capture's health says the accessibility bus is lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from deskscribe.capture.accessibility import BusLost, NullProbe, Probe, safe_element
from deskscribe.capture.activity import Aggregator, Pending
from deskscribe.capture.health import ACCESSIBILITY, Health
from deskscribe.storage.events import Click

log = logging.getLogger(__name__)
QUEUE_SIZE = 16
RETRY_FIRST_S, RETRY_MAX_S = 1.0, 60.0


class ElementLookup(threading.Thread):
    def __init__(self, make_probe: Callable[[], Probe], excluded: Callable[..., Any], aggregator: Aggregator,
                 health: Health | None = None) -> None:
        super().__init__(name="deskscribe-elements", daemon=True)
        self._make_probe, self._excluded, self._agg = make_probe, excluded, aggregator
        self._health = health or Health()
        self._probe: Probe | None = None  # None while the bus is lost
        self._retry_at: float | None = None
        self._backoff = RETRY_FIRST_S
        self.reconnects = 0
        self._queue: queue.Queue[Pending | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self.probe_name = "starting"
        self.lookups = 0  # answered (an element or nothing exposed)
        self.failed = 0  # timed out or the bus said no: the click went without element
        self.seconds: list[float] = []
        self.reasons: dict[str, int] = {}  # failures by exception type (TimeoutError: the app answered late)
        self.misses: dict[str, int] = {}  # answered without element, by the probe's reason

    def submit(self, p: Pending) -> bool:
        """Queue a click's lookup (listener thread: never blocks). False: it goes without element."""
        if not isinstance(p.event, Click) or p.event.x is None or not self.is_alive():
            return False
        p.lookup = True
        try:
            self._queue.put_nowait(p)
            return True
        except queue.Full:
            p.lookup = False
            return False

    def summary(self) -> str:
        times = sorted(self.seconds)
        median = f", median {1000 * times[len(times) // 2]:.1f} ms, max {1000 * times[-1]:.1f} ms" if times else ""
        why = f" ({', '.join(f'{k} {n}' for k, n in sorted(self.reasons.items()))})" if self.reasons else ""
        misses = ", ".join(f"{k} {n}" for k, n in sorted(self.misses.items()))
        miss = f"; without element: {misses}" if misses else ""
        return f"element lookups ({self.probe_name}): {self.lookups} answered{median}{miss}; {self.failed} failed{why}"

    def stop(self, timeout: float = 5.0) -> None:
        if self.is_alive():
            try:
                self._queue.put(None, timeout=timeout)
            except queue.Full:
                pass
            self.join(timeout)

    def run(self) -> None:
        self._probe = self._open()
        try:
            while True:
                wait = None if self._retry_at is None else max(0.0, self._retry_at - time.monotonic())
                try:
                    p = self._queue.get(timeout=wait)
                except queue.Empty:  # lost, and no click came: time to try again
                    self._reconnect()
                    continue
                if p is None:
                    break
                if self._retry_at is not None and time.monotonic() >= self._retry_at:
                    self._reconnect()
                self._look(p)
        finally:
            if self._probe is not None:
                self._probe.close()
            while not self._queue.empty():  # stopping: what is left goes without element
                left = self._queue.get_nowait()
                if left is not None:
                    left.lookup = False

    def _open(self) -> Probe:
        try:
            probe = self._make_probe()
        except Exception as exc:  # noqa: BLE001 - a probe that cannot start must not stop capture
            probe = NullProbe(f"clicked elements are not recorded: {exc}")
        if isinstance(probe, NullProbe):
            log.warning("%s", probe.reason)
        self.probe_name = probe.name
        return probe

    def _lost(self, probe: Probe, exc: BusLost) -> None:
        log.warning("accessibility bus lost (%s): reconnecting", exc)
        self._health.set(ACCESSIBILITY, f"the accessibility bus is lost ({exc}): clicks are stored without "
                                        "their element until it is back")
        probe.close()
        self._probe = None
        self._backoff = RETRY_FIRST_S
        self._retry_at = time.monotonic() + self._backoff

    def _reconnect(self) -> None:
        """A fresh probe (a fresh bus address and connection); its registry must answer."""
        try:
            probe = self._make_probe()
            if isinstance(probe, NullProbe):
                raise BusLost(probe.reason)
            check = getattr(probe, "check", None)
            if check is not None:
                try:
                    check()
                except BaseException:
                    probe.close()
                    raise
        except Exception as exc:  # noqa: BLE001 - still gone: try again later
            self._backoff = min(self._backoff * 2, RETRY_MAX_S)
            self._retry_at = time.monotonic() + self._backoff
            log.info("accessibility bus still unavailable (%s); next try in %.0f s", exc, self._backoff)
            return
        self._probe, self._retry_at, self._backoff = probe, None, RETRY_FIRST_S
        self.reconnects += 1
        log.warning("accessibility bus reconnected")
        self._health.clear(ACCESSIBILITY)

    def _failed(self, p: Pending, exc: BaseException) -> None:
        if type(exc).__name__ not in self.reasons:  # the first of each kind, in full: the cause to look at
            log.info("element lookup failed (%s): %s", type(exc).__name__, exc)
        else:
            log.debug("element lookup failed: %s", exc)
        self.failed += 1
        self.reasons[type(exc).__name__] = self.reasons.get(type(exc).__name__, 0) + 1
        self._agg.set_element(p, None, dropped=False, looked_up=False)

    def _look(self, p: Pending) -> None:
        click = p.event
        assert isinstance(click, Click) and click.x is not None and click.y is not None
        probe = self._probe
        if probe is None:  # the bus is lost: this click goes without element
            self._failed(p, BusLost("the accessibility bus is lost"))
            return
        start = time.monotonic()
        try:
            hit = probe.element_at(click.x, click.y)
        except Exception as exc:  # noqa: BLE001 - a hung or vanished app: this click goes without element
            self._failed(p, exc)
            if isinstance(exc, BusLost):
                self._lost(probe, exc)
            return
        self.lookups += 1
        self.seconds.append(time.monotonic() - start)
        if hit is None:
            why = getattr(probe, "last_miss", "") or "nothing exposed"
            self.misses[why] = self.misses.get(why, 0) + 1
        if isinstance(probe, NullProbe):
            self._agg.set_element(p, None, dropped=False, looked_up=False)
            return
        dropped = hit is not None and bool(self._excluded([hit.element.app], hit.window_title))
        self._agg.set_element(p, None if dropped else safe_element(hit, self._excluded), dropped)
