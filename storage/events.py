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
    ended_by: str | None = None  # "enter" | "pause" | "focus" | None (unknown / imported)


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


Event = Union[Click, Drag, Scroll, Keys, Shortcut, Text, AppSwitch]
KINDS: dict[str, type] = {c.kind: c for c in (Click, Drag, Scroll, Keys, Shortcut, Text, AppSwitch)}
ACTION_KINDS = frozenset({"click", "drag", "scroll", "keys", "shortcut", "text", "app_switch"})


def to_details(event: Event) -> dict[str, Any]:
    """The JSON object stored in ``events.details`` (None-valued optional fields left out)."""
    d = asdict(event)
    if "element" in d:
        el = getattr(event, "element")
        d["element"] = el.to_json() if el is not None else None
    out = {k: v for k, v in d.items() if v is not None or k == "element"}
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
    return None


def has_element_info(details: Any) -> bool:
    """True when the click/drag was looked up on the accessibility bus (an element, or an explicit null)."""
    return isinstance(details, dict) and "element" in details
