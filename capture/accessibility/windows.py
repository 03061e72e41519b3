"""Windows UI Automation: ``IUIAutomation.ElementFromPoint`` through comtypes (only importable on Windows).

The role names are mapped to AT-SPI's, so describe and export see one vocabulary whatever the platform.
Tested here against a named stand-in of the UIA element API (tests/capture/test_accessibility.py); the real
COM path runs only on Windows.
"""

from __future__ import annotations

from typing import Any

from deskscribe.capture.accessibility import PASSWORD_ROLE, Hit, ProbeMissing
from deskscribe.storage.events import Element

# UIA_*ControlTypeId → AT-SPI role name (the common ones; others keep UIA's own name, lower-cased).
CONTROL_TYPES = {
    50000: "push button", 50002: "check box", 50003: "combo box", 50004: "text", 50005: "link",
    50006: "image", 50007: "list item", 50008: "list", 50009: "menu", 50010: "menu bar", 50011: "menu item",
    50013: "radio button", 50015: "slider", 50018: "page tab list", 50019: "page tab", 50020: "label",
    50021: "tool bar", 50023: "tree", 50024: "tree item", 50025: "unknown", 50028: "table", 50029: "table cell",
    50030: "document", 50032: "frame", 50033: "panel",
}
UIA_TREE_WALK_LIMIT = 32  # parents walked up to the top-level window


def role_of(control_type: int, is_password: bool) -> str:
    if is_password:
        return PASSWORD_ROLE
    return CONTROL_TYPES.get(control_type, f"uia {control_type}")


def hit_from_uia(element: Any, parent_of: Any, process_name: Any) -> Hit | None:
    """A Hit from a UIA element (``Current*`` properties), its parent walker and a pid → process-name lookup."""
    if element is None:
        return None
    r = element.CurrentBoundingRectangle
    box = (int(r.left), int(r.top), int(r.right - r.left), int(r.bottom - r.top))
    role = role_of(int(element.CurrentControlType), bool(element.CurrentIsPassword))
    app = process_name(int(element.CurrentProcessId))
    node = element
    for _ in range(UIA_TREE_WALK_LIMIT):  # the top-level window: the last ancestor below the desktop
        parent = parent_of(node)
        if parent is None:
            break
        node = parent
    title = str(node.CurrentName) or None
    return Hit(Element(role, str(element.CurrentName or ""), box, app), title)


class UiaProbe:
    name = "uia"

    def __init__(self) -> None:
        try:
            import comtypes.client  # type: ignore[import-not-found]

            comtypes.client.GetModule("UIAutomationCore.dll")
            from comtypes.gen import UIAutomationClient as uia  # type: ignore[import-not-found]
        except Exception as exc:  # noqa: BLE001 - not Windows, or comtypes missing
            raise ProbeMissing(f"UI Automation is not available ({exc})") from exc
        self._uia = comtypes.client.CreateObject(uia.CUIAutomation, interface=uia.IUIAutomation)
        self._walker = self._uia.ControlViewWalker
        self._root = self._uia.GetRootElement()
        self._point = uia.tagPOINT
        from deskscribe.capture.window.windows import WindowsBackend, base_name

        backend = WindowsBackend()
        self._process_name = lambda pid: (lambda p: base_name(p) if p else None)(backend._process_path(pid))

    def _parent(self, node: Any) -> Any:
        parent = self._walker.GetParentElement(node)
        return None if parent is None or self._uia.CompareElements(parent, self._root) else parent

    def element_at(self, x: int, y: int) -> Hit | None:
        return hit_from_uia(self._uia.ElementFromPoint(self._point(x, y)), self._parent, self._process_name)

    def close(self) -> None:
        pass
