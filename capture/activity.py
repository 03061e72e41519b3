"""Input activity between two frames, aggregated into a few small events (pure logic, no I/O).

The pynput listeners translate their keys and buttons into plain names and call an :class:`Aggregator`;
each stored frame drains the events of its interval. Typed characters are kept only when the aggregator is
built with ``keep_text=True`` (config ``capture.store_typed_text``); otherwise a key press only adds to a count.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from deskscribe.storage import events as ev
from deskscribe.storage.frames import EventIn

MODIFIERS = ("ctrl", "alt", "shift", "cmd")  # order used in shortcut names
SHORTCUT_MODIFIERS = frozenset({"ctrl", "alt", "cmd"})  # shift alone is typing, not a shortcut
SCROLL_GAP_S = 1.0  # scrolls closer together than this are one burst


def modifier_of(name: str) -> str | None:
    """'ctrl_l' / 'ctrl_r' / 'ctrl' → 'ctrl'; 'alt_gr' → 'alt'; 'super'/'cmd_l' → 'cmd'; else None."""
    base = name.lower().split("_", 1)[0]
    base = {"control": "ctrl", "super": "cmd", "win": "cmd", "meta": "cmd", "option": "alt"}.get(base, base)
    return base if base in MODIFIERS else None


def shortcut_name(held: set[str] | frozenset[str], key: str) -> str | None:
    """'ctrl+shift+t' when a shortcut modifier is held while ``key`` is pressed, else None."""
    if not held & SHORTCUT_MODIFIERS or modifier_of(key):
        return None
    return "+".join([m for m in MODIFIERS if m in held] + [key.lower()])


@dataclass
class _Scroll:
    ts: float
    last_ts: float
    x: int
    y: int
    dx: int = 0
    dy: int = 0
    count: int = 0


@dataclass
class Aggregator:
    """Collects clicks, scroll bursts, key counts, shortcuts, app switches (and, opted in, text).

    Thread-safe: the keyboard and mouse listener threads and the capture thread call it concurrently.
    """

    keep_text: bool = False
    scroll_gap_s: float = SCROLL_GAP_S
    last_input_ts: float = 0.0
    _events: list[EventIn] = field(default_factory=list)
    _held: set[str] = field(default_factory=set)
    _keys: dict[str, Any] | None = None
    _scroll: _Scroll | None = None
    _text: list[str] = field(default_factory=list)
    _text_ts: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def click(self, ts: float, button: str, x: int, y: int) -> None:
        with self._lock:
            self.last_input_ts = max(self.last_input_ts, ts)
            self._events.append(EventIn.of(ts, ev.Click(int(x), int(y), button)))

    def scroll(self, ts: float, x: int, y: int, dx: int, dy: int) -> None:
        with self._lock:
            self.last_input_ts = max(self.last_input_ts, ts)
            burst = self._scroll
            if burst is None or ts - burst.last_ts > self.scroll_gap_s:
                self._flush_scroll()
                burst = self._scroll = _Scroll(ts, ts, int(x), int(y))
            burst.dx += int(dx)
            burst.dy += int(dy)
            burst.count += 1
            burst.last_ts = ts

    def key_down(self, ts: float, key: str, char: str | None = None, text_allowed: bool = True) -> str | None:
        """Record a key press; returns the shortcut name when it was one.

        ``key`` is a plain name ('a', 'enter', 'ctrl_l'); ``char`` the character it types, if any.
        """
        with self._lock:
            self.last_input_ts = max(self.last_input_ts, ts)
            mod = modifier_of(key)
            if mod:
                self._held.add(mod)
                return None
            shortcut = shortcut_name(self._held, key)
            if shortcut:
                self._events.append(EventIn.of(ts, ev.Shortcut(shortcut)))
                return shortcut
            keys = self._keys or {"ts": ts, "count": 0, "special": {}}
            keys["count"] += 1
            if char is None or len(char) != 1 or not char.isprintable():
                keys["special"][key] = keys["special"].get(key, 0) + 1
            self._keys = keys
            if self.keep_text and text_allowed:
                self._type(ts, key, char)
            return None

    def key_up(self, ts: float, key: str) -> None:
        with self._lock:
            mod = modifier_of(key)
            if mod:
                self._held.discard(mod)

    def app_switch(self, ts: float, from_app: str | None, to_app: str | None, title: str | None) -> None:
        with self._lock:
            self._events.append(EventIn.of(ts, ev.AppSwitch(from_app, to_app, title)))

    def drain(self) -> list[EventIn]:
        """Every event since the last drain, in time order; open bursts are closed."""
        with self._lock:
            self._flush_scroll()
            if self._keys:
                k = self._keys
                self._events.append(EventIn.of(k["ts"], ev.Keys(k["count"], dict(sorted(k["special"].items())))))
                self._keys = None
            if self._text:
                self._events.append(EventIn.of(self._text_ts, ev.Text("".join(self._text))))
                self._text = []
            events = sorted(self._events, key=lambda e: e.ts)
            self._events = []
            return events

    def pending_since(self) -> float | None:
        """Time of the oldest event not yet drained (None = nothing pending)."""
        with self._lock:
            times = [e.ts for e in self._events]
            times += [x for x in (self._keys and self._keys["ts"], self._scroll and self._scroll.ts) if x]
            if self._text:
                times.append(self._text_ts)
            return min(times) if times else None

    def discard(self) -> None:
        """Forget everything pending (pause, excluded window): nothing of it may be stored."""
        with self._lock:
            self._events, self._keys, self._scroll, self._text = [], None, None, []

    def restore(self, events: list[EventIn]) -> None:
        """Put drained events back (their frame could not be queued) so the next frame carries them."""
        with self._lock:
            self._events = list(events) + self._events

    def _flush_scroll(self) -> None:
        s = self._scroll
        if s is not None:
            self._events.append(EventIn.of(s.ts, ev.Scroll(s.dx, s.dy, s.count, s.x, s.y)))
            self._scroll = None

    def _type(self, ts: float, key: str, char: str | None) -> None:
        if not self._text:
            self._text_ts = ts
        if key == "backspace":
            if self._text:
                self._text.pop()
        elif key == "enter":
            self._text.append("\n")
        elif key == "tab":
            self._text.append("\t")
        elif key == "space":
            self._text.append(" ")
        elif char is not None and len(char) == 1 and char.isprintable():
            self._text.append(char)
