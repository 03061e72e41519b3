"""The one event vocabulary: every kind of input event, its typed constructor, and its reader.

Capture, import, describe's facts, the review panel and export all build and read event details through this
module; nothing else writes or parses the ``events.details`` JSON. A stored row is ``(kind, details)``;
:func:`parse` turns it back into one of the dataclasses below, tolerating the older shapes that migration
``003_event_vocabulary`` rewrites (``combo`` for shortcuts, ``from``/``to`` for app switches).

Coordinates are desktop pixels (the virtual screen, as the window manager and AT-SPI report them); ``monitor``
is the index of the monitor the point lies on (0-based, as in ``frames.monitor``) where known.
Text a person typed (:class:`Text`) exists only when the person opted in (``capture.store_typed_text``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Union

# Frame triggers (``frames.trigger``): why a frame was stored.
#   interval   the periodic tick saw the screen change by itself
#   action     the screen as it was just before an action (click, shortcut, scroll, typing start, app switch)
#   settle     the screen once it settled after an action (the action's after frame)
#   typing     the end of a typing burst (a pause, or Enter): what was typed, before the app reacts to Enter
#   app_switch the new window after focus moved to another app
#   import     imported from a recorded session
TRIGGERS = ("interval", "action", "settle", "app_switch", "typing", "import")


@dataclass(frozen=True)
class Element:
    """The accessible under a point: role and name as the toolkit reports them, box = (x, y, w, h) in px."""

    role: str
    name: str
    box: tuple[int, int, int, int] | None = None
    app: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, "box": list(self.box) if self.box else None, "app": self.app}

    @classmethod
    def from_json(cls, d: Any) -> Element | None:
        if not isinstance(d, dict) or not isinstance(d.get("role"), str):
            return None
        box = d.get("box")
        ok_box = isinstance(box, (list, tuple)) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
        return cls(d["role"], str(d.get("name") or ""), tuple(int(v) for v in box) if ok_box else None,  # type: ignore[arg-type]
                   d.get("app") if isinstance(d.get("app"), str) else None)


@dataclass(frozen=True)
class Click:
    kind: ClassVar[str] = "click"
    x: int | None = None
    y: int | None = None
    button: str = "left"  # left | right | middle
    count: int = 1  # 2 = double click
    monitor: int | None = None
    element: Element | None = None  # None: nothing exposed (or not looked up)


@dataclass(frozen=True)
class Drag:
    kind: ClassVar[str] = "drag"
    x1: int
    y1: int
    x2: int
    y2: int
    button: str = "left"
    monitor: int | None = None
    element: Element | None = None  # under the start point


@dataclass(frozen=True)
class Scroll:
    kind: ClassVar[str] = "scroll"
    dx: int = 0
    dy: int = 0  # > 0 up, < 0 down (pynput's sign)
    count: int = 1
    x: int | None = None
    y: int | None = None
    monitor: int | None = None


@dataclass(frozen=True)
class Keys:
    """A burst of key presses that typed (or edited) text; its text is never here — see :class:`Text`."""

    kind: ClassVar[str] = "keys"
    count: int = 0
    special: dict[str, int] = field(default_factory=dict)  # non-character keys: {"enter": 1, "backspace": 2}
    # why the burst ended: "enter" | "pause" (no key for a while) | "focus" (app switch) | "action" (a click or
    # shortcut) | None (unknown, imported, or capture stopped)
    ended_by: str | None = None


@dataclass(frozen=True)
class Shortcut:
    kind: ClassVar[str] = "shortcut"
    keys: str = ""  # "ctrl+s", modifiers in MODIFIERS order, then the key


@dataclass(frozen=True)
class Text:
    kind: ClassVar[str] = "text"
    text: str = ""


@dataclass(frozen=True)
class AppSwitch:
    kind: ClassVar[str] = "app_switch"
    from_app: str | None = None
    to_app: str | None = None
    title: str | None = None  # the new window's title


@dataclass(frozen=True)
class Other:
    """A recorded action outside the vocabulary (imports only), kept as its original wording."""

    kind: ClassVar[str] = "other"
    action: str = ""


Event = Union[Click, Drag, Scroll, Keys, Shortcut, Text, AppSwitch, Other]
KINDS: dict[str, type] = {c.kind: c for c in (Click, Drag, Scroll, Keys, Shortcut, Text, AppSwitch, Other)}
ACTION_KINDS = frozenset({"click", "drag", "scroll", "keys", "shortcut", "text", "app_switch"})
POINTER_KINDS = frozenset({"click", "drag", "scroll"})


def to_details(event: Event) -> dict[str, Any]:
    """The JSON object stored in ``events.details`` (None-valued optional fields left out)."""
    d = asdict(event)
    if "element" in d:
        el = getattr(event, "element")
        d["element"] = el.to_json() if el is not None else None
    out = {k: v for k, v in d.items() if (v is not None and v != {}) or k == "element"}
    if isinstance(event, (Click, Drag)) and "element" in out and out["element"] is None:
        out.pop("element")  # absent = not looked up; see mark_no_element for "looked, nothing exposed"
    return out


def mark_no_element(details: dict[str, Any]) -> dict[str, Any]:
    """Say explicitly that the accessibility bus was asked and exposed nothing (``element: null``)."""
    return {**details, "element": None}


def _int(v: Any, default: int | None = None) -> int | None:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)) and v == v and abs(v) < 1e12:
        return int(v)
    return default


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def parse(kind: str, details: Any) -> Event | None:
    """Read a stored event; None for kinds outside the vocabulary. Never raises on odd details."""
    d = details if isinstance(details, dict) else {}
    if kind == "click":
        count = 2 if d.get("double") else (_int(d.get("count"), 1) or 1)
        return Click(_int(d.get("x")), _int(d.get("y")), _str(d.get("button")) or "left", count,
                     _int(d.get("monitor")), Element.from_json(d.get("element")))
    if kind == "drag":
        return Drag(_int(d.get("x1"), 0) or 0, _int(d.get("y1"), 0) or 0, _int(d.get("x2"), 0) or 0,
                    _int(d.get("y2"), 0) or 0, _str(d.get("button")) or "left", _int(d.get("monitor")),
                    Element.from_json(d.get("element")))
    if kind == "scroll":
        return Scroll(_int(d.get("dx"), 0) or 0, _int(d.get("dy"), 0) or 0, _int(d.get("count"), 1) or 1,
                      _int(d.get("x")), _int(d.get("y")), _int(d.get("monitor")))
    if kind == "keys":
        special = d.get("special") or {}
        if isinstance(special, list):  # older imports stored a list of key names
            special = {str(k): special.count(k) for k in special}
        special = {str(k): _int(v, 1) or 1 for k, v in special.items()} if isinstance(special, dict) else {}
        return Keys(_int(d.get("count"), 0) or 0, special, _str(d.get("ended_by")))
    if kind == "shortcut":
        return Shortcut(_str(d.get("keys")) or _str(d.get("combo")) or "")
    if kind == "text":
        return Text(_str(d.get("text")) or "")
    if kind == "app_switch":
        return AppSwitch(_str(d.get("from_app", d.get("from"))), _str(d.get("to_app", d.get("to", d.get("app")))),
                         _str(d.get("title")))
    if kind == "other":
        return Other(_str(d.get("action")) or "")
    return None


def normalize(kind: str, details: Any) -> dict[str, Any]:
    """``details`` in today's shape (what migration 003 and every writer store); unknown kinds kept as they are."""
    event = parse(kind, details)
    if event is None:
        return dict(details) if isinstance(details, dict) else {}
    out = to_details(event)
    if isinstance(details, dict) and "element" in details and "element" not in out:
        out = mark_no_element(out)  # keep "looked up, nothing exposed"
    return out


def point(event: Event) -> tuple[int, int] | None:
    """Where a pointer event happened (a drag: its start), else None."""
    if isinstance(event, Drag):
        return event.x1, event.y1
    x, y = getattr(event, "x", None), getattr(event, "y", None)
    return (x, y) if x is not None and y is not None else None


def describe(event: Event) -> str:
    """One event as a short phrase for people: "left click on push button 'Save'", "ctrl+s", "12 keys"."""
    if isinstance(event, Click):
        what = {1: "", 2: "double-"}.get(event.count, f"{event.count}x ")
        where = f" at {event.x},{event.y}" if event.x is not None else ""
        el = event.element
        on = f" on {el.role} {el.name!r}" if el is not None and el.name else (f" on {el.role}" if el else "")
        return f"{what}{event.button} click{on}{where}"
    if isinstance(event, Drag):
        return f"drag {event.button} {event.x1},{event.y1} to {event.x2},{event.y2}"
    if isinstance(event, Scroll):
        way = "down" if event.dy < 0 else "up" if event.dy > 0 else ("right" if event.dx > 0 else "left")
        return f"scroll {way} x{event.count}"
    if isinstance(event, Keys):
        special = ", ".join(f"{k}" + (f" x{n}" if n > 1 else "") for k, n in event.special.items())
        return f"{event.count} keys" + (f" ({special})" if special else "")
    if isinstance(event, Shortcut):
        return event.keys or "shortcut"
    if isinstance(event, Text):
        return f"typed {event.text!r}"
    if isinstance(event, AppSwitch):
        return f"switched from {event.from_app or 'another app'} to {event.to_app or 'another app'}"
    return event.action or event.kind


def has_element_info(details: Any) -> bool:
    """True when the click/drag was looked up on the accessibility bus (an element, or an explicit null)."""
    return isinstance(details, dict) and "element" in details
