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
