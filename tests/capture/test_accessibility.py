"""The accessibility probes: privacy on every hit, and Windows UIA / macOS AX against named stand-ins (those
APIs cannot exist on this Linux machine); the real AT-SPI path is tested live in test_actions_live.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from deskscribe.capture.accessibility import Hit, NullProbe, get_probe, safe_element
from deskscribe.capture.accessibility.macos import hit_from_ax
from deskscribe.capture.accessibility.windows import hit_from_uia
from deskscribe.capture.activity import Aggregator
from deskscribe.capture.lookup import ElementLookup
from deskscribe.capture.privacy import Rules
from deskscribe.config import PrivacyConfig
from deskscribe.storage.events import Element

RULES = Rules.from_config(PrivacyConfig(exclude_apps=["keepassxc"], exclude_titles=["bank"]))


def test_privacy_on_hits():
    button = Hit(Element("push button", "Save", (1, 2, 3, 4), "mousepad"), "notes.txt - Mousepad")
    assert safe_element(button, RULES.excluded) == button.element
    assert safe_element(Hit(Element("push button", "Unlock", None, "keepassxc"), "Vault"), RULES.excluded) is None
    assert safe_element(Hit(Element("link", "Pay", None, "firefox"), "My Bank - Firefox"), RULES.excluded) is None
    secret = Hit(Element("password text", "hunter2", (5, 5, 9, 9), "firefox"), "Login")
    assert safe_element(secret, RULES.excluded) == Element("password text", "", (5, 5, 9, 9), "firefox")
    assert safe_element(None, RULES.excluded) is None


def test_the_platform_probe_or_why_not(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("AT_SPI_BUS_ADDRESS", raising=False)
    probe = get_probe("linux")
    assert isinstance(probe, NullProbe) and "D-Bus" in probe.reason
    assert "UI Automation" in get_probe("win32").reason  # comtypes cannot load off Windows
    assert "pyobjc" in get_probe("darwin").reason
    assert "platform (sunos5)" in get_probe("sunos5").reason


@dataclass
class StandInUIAElement:
    """Named stand-in for IUIAutomationElement: only the Current* properties hit_from_uia reads."""

    CurrentName: str
    CurrentControlType: int
    CurrentIsPassword: bool = False
    CurrentProcessId: int = 42
    CurrentBoundingRectangle: object = field(default_factory=lambda: SimpleNamespace(left=10, top=20, right=110,
                                                                                     bottom=45))
    parent: StandInUIAElement | None = None


def test_uia_element_to_hit_with_the_stand_in():
    window = StandInUIAElement("Untitled - Notepad", 50032)
    pane = StandInUIAElement("", 50033, parent=window)
    button = StandInUIAElement("Save", 50000, parent=pane)
    hit = hit_from_uia(button, lambda e: e.parent, lambda pid: "notepad" if pid == 42 else None)
    assert hit == Hit(Element("push button", "Save", (10, 20, 100, 25), "notepad"), "Untitled - Notepad")
    secret = StandInUIAElement("pin", 50004, CurrentIsPassword=True, parent=window)
    assert hit_from_uia(secret, lambda e: e.parent, lambda pid: None).element.role == "password text"
    assert hit_from_uia(None, lambda e: None, lambda pid: None) is None


class StandInAX:
    """Named stand-in for the AX attribute calls (AXUIElementCopyAttributeValue) on a tiny element tree."""

    tree = {
        "win": {"AXRole": "AXWindow", "AXTitle": "Notes", "AXParent": None},
        "field": {"AXRole": "AXTextField", "AXSubrole": "AXSecureTextField", "AXTitle": "Password",
                  "AXPosition": (1, 2), "AXSize": (30, 10), "AXParent": "win"},
        "btn": {"AXRole": "AXButton", "AXTitle": "OK", "AXPosition": (5.0, 6.0), "AXSize": (40.0, 20.0),
                "AXParent": "win"},
    }

    def attr(self, element, name):
        return self.tree.get(element, {}).get(name)


def test_ax_element_to_hit_with_the_stand_in():
    ax = StandInAX()
    assert hit_from_ax("btn", ax.attr, lambda e: "TextEdit") == Hit(
        Element("push button", "OK", (5, 6, 40, 20), "TextEdit"), "Notes")
    assert hit_from_ax("field", ax.attr, lambda e: "TextEdit").element.role == "password text"


class StandInProbe:
    """A probe answering from a fixed screen layout (the lookup thread's contract, without a bus)."""

    name = "stand-in"

    def __init__(self) -> None:
        self.closed = False

    def element_at(self, x, y):
        if x < 100:
            return Hit(Element("push button", "Save", (0, 0, 100, 20), "mousepad"), "notes - Mousepad")
        if x < 200:
            return Hit(Element("text", "", (100, 0, 100, 20), "keepassxc"), "Vault")
        if x < 300:
            raise TimeoutError("a hung application")
        return None

    def close(self):
        self.closed = True


def test_lookup_thread_applies_elements_and_privacy():
    agg = Aggregator()
    probe = StandInProbe()
    lookup = ElementLookup(lambda: probe, RULES.excluded, agg)
    lookup.start()
    clicks = [agg.click(float(i), "left", x, 5) for i, x in enumerate((50, 150, 250, 350))]
    assert all(lookup.submit(c) for c in clicks)
    lookup.stop()
    assert probe.closed and lookup.probe_name == "stand-in"
    save, vault, hung, nothing = clicks
    assert save.event.element.name == "Save" and save.looked_up
    assert vault.dropped  # a click on an excluded app's window is not stored at all
    assert not hung.looked_up and hung.event.element is None  # failed: stored without element, no claim
    assert nothing.looked_up and nothing.event.element is None  # asked, nothing exposed: element null
    for c in clicks:
        c.has_before = c.has_after = True
    assert [c.event.x for c in agg.take_ready()] == [50, 250, 350]
