"""The element under a point, from the platform's accessibility API, behind one interface.

Linux: AT-SPI over D-Bus (:mod:`.atspi`, pure Python via jeepney; GTK, Qt, Firefox and LibreOffice publish
there). Windows: UI Automation (:mod:`.windows`). macOS: the AX API (:mod:`.macos`). Each probe answers
``element_at(x, y)`` with a :class:`Hit` (the element and the title of its top-level window) or None when the
app under the point exposes nothing (xterm and other Xt apps). :func:`get_probe` returns a
:class:`NullProbe` that says why where none can run.

Privacy is applied here, once, for every platform (:func:`safe_element`): nothing from an excluded app or
window, and never the name of a password field.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

from deskscribe.errors import BackendUnavailable
from deskscribe.storage.events import Element

PASSWORD_ROLE = "password text"


@dataclass(frozen=True)
class Hit:
    element: Element
    window_title: str | None = None  # the top-level window (frame) the element lies in


class Probe(Protocol):
    name: str

    def element_at(self, x: int, y: int) -> Hit | None:
        """The deepest accessible at desktop point (x, y), or None when nothing is exposed there."""

    def close(self) -> None: ...


class NullProbe:
    """No accessibility API here; ``reason`` is the one line to log. Clicks are stored without an element."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def element_at(self, x: int, y: int) -> Hit | None:
        return None

    def close(self) -> None:
        pass


class ProbeMissing(BackendUnavailable):
    """Raised by a probe's constructor when it cannot run here; the message says why."""


class BusLost(BackendUnavailable):
    """Raised by a lookup when the accessibility bus or its registry went away (the lookup thread reconnects)."""


def safe_element(hit: Hit | None, excluded: object) -> Element | None:
    """The element to store, or None: ``excluded(names, title)`` is capture's privacy rule (Rules.excluded).

    Password fields keep their role (the click is still evidence) but never a name.
    """
    if hit is None:
        return None
    el = hit.element
    if excluded([el.app], hit.window_title):  # type: ignore[operator]
        return None
    if el.role == PASSWORD_ROLE:
        return Element(el.role, "", el.box, el.app)
    return el


def get_probe(platform: str | None = None) -> Probe:
    platform = platform or sys.platform
    try:
        if platform.startswith("linux") or platform.startswith("freebsd"):
            from deskscribe.capture.accessibility.atspi import AtspiProbe

            return AtspiProbe()
        if platform == "win32":
            from deskscribe.capture.accessibility.windows import UiaProbe

            return UiaProbe()
        if platform == "darwin":
            from deskscribe.capture.accessibility.macos import AxProbe

            return AxProbe()
    except ProbeMissing as exc:
        return NullProbe(f"clicked elements are not recorded: {exc}")
    return NullProbe(f"clicked elements are not recorded on this platform ({platform})")
