"""macOS accessibility (AX): ``AXUIElementCopyElementAtPosition`` on the system-wide element, via pyobjc.

Needs the Accessibility permission (System Settings → Privacy & Security → Accessibility) for the terminal
or app running capture. AX roles are mapped to AT-SPI's role names. Tested here against a named stand-in of
the AX calls (tests/capture/test_accessibility.py); the real path runs only on macOS.
"""

from __future__ import annotations

from typing import Any

from deskscribe.capture.accessibility import PASSWORD_ROLE, Hit, ProbeMissing
from deskscribe.storage.events import Element

AX_ROLES = {
    "AXButton": "push button", "AXCheckBox": "check box", "AXComboBox": "combo box", "AXTextField": "text",
    "AXTextArea": "text", "AXSecureTextField": PASSWORD_ROLE, "AXLink": "link", "AXImage": "image",
    "AXMenu": "menu", "AXMenuBar": "menu bar", "AXMenuItem": "menu item", "AXMenuBarItem": "menu",
    "AXRadioButton": "radio button", "AXSlider": "slider", "AXTabGroup": "page tab list", "AXStaticText": "label",
    "AXToolbar": "tool bar", "AXOutline": "tree", "AXRow": "table row", "AXTable": "table", "AXCell": "table cell",
    "AXWindow": "frame", "AXGroup": "panel", "AXList": "list", "AXWebArea": "document web",
}
AX_WALK_LIMIT = 32


def role_of(ax_role: str | None, subrole: str | None = None) -> str:
    if subrole == "AXSecureTextField":
        return PASSWORD_ROLE
    return AX_ROLES.get(ax_role or "", (ax_role or "unknown").removeprefix("AX").lower())


def hit_from_ax(element: Any, attr: Any, app_name: Any) -> Hit | None:
    """A Hit from an AX element, given ``attr(element, name)`` (AXUIElementCopyAttributeValue) and a pid lookup."""
    if element is None:
        return None
    role = role_of(attr(element, "AXRole"), attr(element, "AXSubrole"))
    name = attr(element, "AXTitle") or attr(element, "AXDescription") or ""
    pos, size = attr(element, "AXPosition"), attr(element, "AXSize")
    box = (int(pos[0]), int(pos[1]), int(size[0]), int(size[1])) if pos and size else None
    window, node = None, element
    for _ in range(AX_WALK_LIMIT):
        if attr(node, "AXRole") == "AXWindow":
            window = node
            break
        node = attr(node, "AXParent")
        if node is None:
            break
    title = attr(window, "AXTitle") if window is not None else None
    return Hit(Element(role, str(name), box, app_name(element)), title)


class AxProbe:
    name = "ax"

    def __init__(self) -> None:
        try:
            import ApplicationServices as ax  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ProbeMissing("pyobjc-framework-ApplicationServices is not installed") from exc
        if not ax.AXIsProcessTrusted():
            raise ProbeMissing("this process lacks the macOS Accessibility permission")
        self._ax = ax
        self._system = ax.AXUIElementCreateSystemWide()

    def _attr(self, element: Any, name: str) -> Any:
        err, value = self._ax.AXUIElementCopyAttributeValue(element, name, None)
        if err or value is None:
            return None
        if name in ("AXPosition", "AXSize"):
            kind = self._ax.kAXValueCGPointType if name == "AXPosition" else self._ax.kAXValueCGSizeType
            ok, v = self._ax.AXValueGetValue(value, kind, None)
            return (v.x, v.y) if ok and name == "AXPosition" else (v.width, v.height) if ok else None
        return value

    def _app(self, element: Any) -> str | None:
        import AppKit  # type: ignore[import-not-found]

        err, pid = self._ax.AXUIElementGetPid(element, None)
        app = None if err else AppKit.NSRunningApplication.runningApplicationWithProcessIdentifier_(pid)
        return str(app.localizedName()) if app is not None else None

    def element_at(self, x: int, y: int) -> Hit | None:
        err, element = self._ax.AXUIElementCopyElementAtPosition(self._system, float(x), float(y), None)
        return None if err else hit_from_ax(element, self._attr, self._app)

    def close(self) -> None:
        pass
