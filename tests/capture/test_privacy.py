import pytest

from deskscribe.capture.privacy import Rules
from deskscribe.config import PrivacyConfig


@pytest.fixture
def rules():
    return Rules.from_config(PrivacyConfig())


@pytest.mark.parametrize("names", [("keepassxc",), ("KeePassXC",), ("xterm", "KeePassXC.exe"), ("Bitwarden",)])
def test_default_apps_are_excluded_case_insensitively(rules, names):
    assert rules.excluded(names, "Some window")


@pytest.mark.parametrize("title", ["My Password Vault", "Private Browsing - Firefox", "INCOGNITO tab", "top-secret.txt"])
def test_default_titles_are_excluded(rules, title):
    assert "title matches" in rules.excluded(("firefox",), title)


@pytest.mark.parametrize("names,title", [(("xterm", "XTerm"), "deskscribe alpha"), (("keepass-notes",), "notes"), ((), None)])
def test_other_windows_are_captured(rules, names, title):
    assert rules.excluded(names, title) is None


def test_custom_rules_and_regex():
    rules = Rules.from_config(PrivacyConfig(exclude_apps=["Slack"], exclude_titles=[r"^bank\b", r"\d{4}-\d{4}"]))
    assert rules.excluded(("slack",), "general")
    assert rules.excluded(("firefox",), "Bank of Examples")
    assert not rules.excluded(("firefox",), "riverbank walk")
    assert rules.excluded(("firefox",), "card 1234-5678")
    assert rules.excluded((None, "Firefox"), None) is None


def test_an_excluded_window_shown_beside_the_focused_one_is_blacked_out() -> None:
    from deskscribe.capture.privacy import hidden_boxes
    from deskscribe.capture.screen import Shot, black_out
    from deskscribe.capture.window import ShownWindow
    from deskscribe.config import PrivacyConfig

    rules = Rules.from_config(PrivacyConfig())
    shown = [ShownWindow(("xterm", "XTerm"), "notes", (0, 0, 100, 100)),
             ShownWindow(("cat", "Vault"), "my password vault", (50, 50, 100, 100)),
             ShownWindow(("mousepad",), "todo", (120, 60, 100, 20))]  # above the vault: stays visible
    boxes = hidden_boxes(rules, shown)
    covered = {(x, y) for bx, by, bw, bh in boxes for x in range(bx, bx + bw) for y in range(by, by + bh)}
    assert (60, 60) in covered and (149, 149) in covered and (130, 70) not in covered and (10, 10) not in covered
    assert len(covered) == 100 * 100 - 30 * 20  # the vault less the part the window above hides

    from dataclasses import dataclass

    @dataclass
    class Mon:  # a second monitor at x=100 (only the fields black_out reads)
        left: int = 100
        top: int = 0

    shot = Shot(Mon(), bytearray([255] * (80 * 200 * 4)), 80, 200)  # type: ignore[arg-type]
    black_out(shot, boxes)
    px = lambda x, y: shot.raw[(y * 80 + (x - 100)) * 4: (y * 80 + (x - 100)) * 4 + 4]  # noqa: E731
    assert px(110, 60) == bytearray([0, 0, 0, 255]) and px(130, 70) == bytearray([255] * 4)
    assert px(160, 60) == bytearray([255] * 4)  # right of the vault
