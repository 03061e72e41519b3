"""Input activity turned into actions (pure logic, no I/O): clicks, scroll bursts, typing bursts, shortcuts,
app switches, each waiting for the frames around it.

The pynput listeners translate keys and buttons into plain names and call an :class:`Aggregator`; the capture
engine attaches a *before* frame to each action as it starts and an *after* frame once it ended and the screen
settled (see capture/engine.py), then takes the finished actions with :meth:`Aggregator.take_ready`.
Typed characters are kept only when the aggregator is built with ``keep_text=True`` (config
``capture.store_typed_text``); otherwise a key press only adds to a count.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from deskscribe.storage import events as ev

MODIFIERS = ("ctrl", "alt", "shift", "cmd")  # order used in shortcut names
SHORTCUT_MODIFIERS = frozenset({"ctrl", "alt", "cmd"})  # shift alone is typing, not a shortcut
ALTGR = "altgr"  # held while typing a layout's third-level characters (@, {, € …): that is typing, not Alt
SCROLL_GAP_S = 1.0  # scrolls closer together than this are one burst
KEY_PAUSE_S = 1.0  # a typing burst ends after this long without a key
DOUBLE_CLICK_S, DOUBLE_CLICK_PX = 0.5, 4
TYPING_KEYS = frozenset({"backspace", "enter", "tab", "space", "delete"})


def modifier_of(name: str) -> str | None:
    """'ctrl_l' / 'ctrl_r' / 'ctrl' → 'ctrl'; 'alt_gr' → 'altgr'; 'super'/'cmd_l' → 'cmd'; else None."""
    low = name.lower()
    if low in ("alt_gr", "altgr", "iso_level3_shift"):
        return ALTGR
    base = low.split("_", 1)[0]
    base = {"control": "ctrl", "super": "cmd", "win": "cmd", "meta": "cmd", "option": "alt"}.get(base, base)
    return base if base in MODIFIERS else None


def shortcut_name(held: set[str] | frozenset[str], key: str) -> str | None:
    """'ctrl+shift+t' when a shortcut modifier is held while ``key`` is pressed, else None.

    With AltGr held, Ctrl and Alt do not count (Windows reports AltGr as Ctrl+Alt): the key types a character.
    """
    mods = set(held) - ({"ctrl", "alt"} if ALTGR in held else set())
    if not mods & SHORTCUT_MODIFIERS or modifier_of(key):
        return None
    return "+".join([m for m in MODIFIERS if m in mods] + [key.lower()])


@dataclass
class Pending:
    """One action on its way to the database: the event, and the frames around it (engine tokens)."""

    ts: float
    event: ev.Event
    monitor: int | None = None  # the monitor it happened on, where known
    before: int | None = None  # token of the frame on screen just before it
    after: int | None = None  # token of the frame once it ended and the screen settled
    has_before: bool = False  # before was decided (a frame, or None: there was none to take)
    has_after: bool = False
    open: bool = False  # a burst still going on (keys, scroll)
    last_ts: float = 0.0  # the burst's latest input
    lookup: bool = False  # an element lookup is in flight
    looked_up: bool = False  # the accessibility bus was asked (element None = nothing exposed)
    dropped: bool = False  # privacy: the click hit an excluded window
    text: list[str] = field(default_factory=list)  # opted-in typed text of a keys burst
    where: object = None  # the focused window a keys burst is typed into
    # A typing burst ended by a click or shortcut shows its text on the screen just before that action: its
    # after frame is that action's before frame (``closes`` is on the action, ``awaits_closer`` on the burst).
    closes: Pending | None = None
    awaits_closer: bool = False

    def events(self) -> list[ev.Event]:
        out: list[ev.Event] = [self.event]
        if self.text:
            out.append(ev.Text("".join(self.text)))
        return out


@dataclass
class Aggregator:
    """Collects actions; thread-safe (the listener threads, the capture thread and the element lookup)."""

    keep_text: bool = False
    ignored: frozenset[str] = frozenset()  # shortcuts that are deskscribe's own hotkeys, not the person's work
    scroll_gap_s: float = SCROLL_GAP_S
    key_pause_s: float = KEY_PAUSE_S
    last_input_ts: float = 0.0
    _pending: list[Pending] = field(default_factory=list)
    _held: set[str] = field(default_factory=set)
    _keys: Pending | None = None
    _scroll: Pending | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # --- input (listener threads) -------------------------------------------------------------------
    def click(self, ts: float, button: str, x: int, y: int, monitor: int | None = None) -> Pending | None:
        """A new click action, or None when it made the previous click a double click."""
        with self._lock:
            self.last_input_ts = max(self.last_input_ts, ts)
            burst = self._end_keys(ts, "action")
            prev = self._pending[-1] if self._pending else None
            if prev is not None and isinstance(prev.event, ev.Click) and prev.event.button == button \
                    and ts - prev.last_ts <= DOUBLE_CLICK_S and prev.event.x is not None \
                    and abs(prev.event.x - x) <= DOUBLE_CLICK_PX and abs((prev.event.y or 0) - y) <= DOUBLE_CLICK_PX:
                prev.event = replace(prev.event, count=prev.event.count + 1)
                prev.last_ts = ts
                return None
            p = Pending(ts, ev.Click(int(x), int(y), button, monitor=monitor), monitor, last_ts=ts)
            self._pending.append(_closing(p, burst))
            return p

    def scroll(self, ts: float, x: int, y: int, dx: int, dy: int, monitor: int | None = None) -> Pending | None:
        """Adds to the scroll burst; returns the new burst when this scroll started one."""
        with self._lock:
            self.last_input_ts = max(self.last_input_ts, ts)
            burst, started = self._scroll, None
            if burst is None or ts - burst.last_ts > self.scroll_gap_s:
                self._end_scroll()
                burst = started = self._scroll = Pending(ts, ev.Scroll(0, 0, 0, int(x), int(y), monitor), monitor,
                                                         open=True, last_ts=ts)
                self._pending.append(burst)
            s = burst.event
            assert isinstance(s, ev.Scroll)
            burst.event = replace(s, dx=s.dx + int(dx), dy=s.dy + int(dy), count=s.count + 1)
            burst.last_ts = ts
            return started

    def key_down(self, ts: float, key: str, char: str | None = None,
                 where: object = None) -> Pending | None:
        """Record a key press. Returns the action it started or ended, for the engine's frames (which it tells
        apart by the event's kind): the shortcut, the keys burst this key started, or the keys burst Enter
        ended (its event's ``ended_by`` is then "enter"); None when it only added to a burst.

        ``where`` names the focused window: a burst ends ("focus") when a key lands in another window."""
        with self._lock:
            self.last_input_ts = max(self.last_input_ts, ts)
            mod = modifier_of(key)
            if mod:
                self._held.add(mod)
                return None
            shortcut = shortcut_name(self._held, key)
            if shortcut in self.ignored:
                return None
            if shortcut:
                burst = self._end_keys(ts, "action")
                p = Pending(ts, ev.Shortcut(shortcut), last_ts=ts)
                self._pending.append(_closing(p, burst))
                return p
            if self._keys is not None and _moved(self._keys.where, where):
                self._end_keys(ts, "focus")
            started = self._keys is None
            if started:
                self._keys = Pending(ts, ev.Keys(0), open=True, last_ts=ts, where=where)
                self._pending.append(self._keys)
            burst = self._keys
            assert burst is not None
            k = burst.event
            assert isinstance(k, ev.Keys)
            special = dict(k.special)
            if char is None or len(char) != 1 or not char.isprintable():
                special[key] = special.get(key, 0) + 1
            burst.event = replace(k, count=k.count + 1, special=dict(sorted(special.items())))
            burst.last_ts = ts
            if self.keep_text:
                _type(burst.text, key, char)
            if key == "enter":
                self._end_keys(ts, "enter")
                return burst
            return burst if started else None

    def key_up(self, ts: float, key: str) -> None:
        with self._lock:
            mod = modifier_of(key)
            if mod:
                self._held.discard(mod)

    def app_switch(self, ts: float, from_app: str | None, to_app: str | None, title: str | None) -> Pending:
        with self._lock:
            self._end_keys(ts, "focus")
            p = Pending(ts, ev.AppSwitch(from_app, to_app, title), last_ts=ts)
            self._pending.append(p)
            return p

    # --- the capture thread -------------------------------------------------------------------------
    def end_bursts(self, now: float) -> list[Pending]:
        """Close a typing burst after a pause and a scroll burst after its gap; returns the closed ones."""
        with self._lock:
            closed = []
            if self._keys is not None and now - self._keys.last_ts >= self.key_pause_s:
                closed.append(self._keys)
                self._end_keys(now, "pause")
            if self._scroll is not None and now - self._scroll.last_ts > self.scroll_gap_s:
                closed.append(self._scroll)
                self._end_scroll()
            return closed

    def needing_before(self, upto: float) -> list[Pending]:
        with self._lock:
            return [p for p in self._pending if not p.has_before and p.ts <= upto]

    def needing_after(self) -> list[Pending]:
        """Ended actions that still wait for their after frame (a burst ended by an action gets that action's
        before frame instead: see :meth:`closed`)."""
        with self._lock:
            return [p for p in self._pending
                    if not p.open and p.has_before and not p.has_after and not p.awaits_closer]

    def closed(self, p: Pending) -> None:
        """``p`` got its before frame: a typing burst it ended gets the same frame as its after frame."""
        with self._lock:
            burst = p.closes
            if burst is not None and burst.awaits_closer and p.has_before:
                burst.after, burst.has_after, burst.awaits_closer = p.before, True, False

    def take_ready(self, force: bool = False) -> list[Pending]:
        """Finished actions (frames decided, element looked up), in time order; ``force`` takes all (stop)."""
        with self._lock:
            if force:
                self._end_keys(self.last_input_ts, None)
                self._end_scroll()
            ready = [p for p in self._pending
                     if force or (not p.open and p.has_before and p.has_after and not p.lookup)]
            ids = {id(p) for p in ready}
            self._pending = [p for p in self._pending if id(p) not in ids]
            return sorted((p for p in ready if not p.dropped), key=lambda p: p.ts)

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    def discard(self) -> None:
        """Forget everything pending (pause, lock, full disk): nothing of it may be stored."""
        with self._lock:
            self._pending, self._keys, self._scroll = [], None, None

    def set_element(self, p: Pending, element: ev.Element | None, dropped: bool, looked_up: bool = True) -> None:
        with self._lock:
            if isinstance(p.event, ev.Click):
                p.event = replace(p.event, element=element)
            p.lookup, p.looked_up, p.dropped = False, looked_up and not dropped, dropped

    def _end_keys(self, ts: float, why: str | None) -> Pending | None:
        k = self._keys
        if k is not None:
            assert isinstance(k.event, ev.Keys)
            k.event = replace(k.event, ended_by=why)
            k.open, self._keys = False, None
        return k

    def _end_scroll(self) -> None:
        if self._scroll is not None:
            self._scroll.open, self._scroll = False, None


def _closing(action: Pending, burst: Pending | None) -> Pending:
    """Link a typing burst to the click or shortcut that ended it."""
    if burst is not None and not burst.has_after:
        action.closes, burst.awaits_closer = burst, True
    return action


def _moved(a: object, b: object) -> bool:
    """Focus moved between two keys' windows; an unknown window (no app: a focus change in flight) is not."""
    known = [w for w in (a, b) if isinstance(w, tuple) and w[0] is not None]
    return len(known) == 2 and a != b


def _type(text: list[str], key: str, char: str | None) -> None:
    if key == "backspace":
        if text:
            text.pop()
    elif key in ("enter", "tab", "space"):
        text.append({"enter": "\n", "tab": "\t", "space": " "}[key])
    elif char is not None and len(char) == 1 and char.isprintable():
        text.append(char)
