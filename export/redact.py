"""Find and redact secrets and personal data in text before anything leaves the machine.

Detectors: the regex plugins of detect-secrets (AWS, GitHub, GitLab, Slack, Stripe, OpenAI, JWT, private
keys, passwords in URLs, …) plus our own patterns for what it does not cover: e-mail addresses, card numbers
(Luhn-checked), whole private-key blocks, ``password=…``/``api_key: …`` assignments, and lenient variants for
OCR output (which drops spaces and misreads a character now and then); personal data (phone numbers, IBANs,
US SSNs, national ids, each validated) comes from :mod:`deskscribe.export.personal`.

A key-like hit is widened to its whole token: detector patterns often stop early (detect-secrets matches 24
characters of a Stripe key that may have 99, and a JWT without its signature), and a tail left behind is
still a live secret.

Every hit is replaced by ``[REDACTED:kind]`` and recorded in a :class:`Report` by kind, place and a salted
fingerprint (never the value). Long random-looking tokens that match no known pattern are *suspects*: they
are not replaced (they are often harmless ids) but flagged, so the export refuses until the person confirms.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from deskscribe.export.personal import find_personal

_DS_KINDS = {
    AWSKeyDetector: "aws_key", GitHubTokenDetector: "github_token", GitLabTokenDetector: "gitlab_token",
    PrivateKeyDetector: "private_key", BasicAuthDetector: "url_password", SlackDetector: "slack_token",
    StripeDetector: "stripe_key", OpenAIDetector: "openai_key", JwtTokenDetector: "jwt",
    ArtifactoryDetector: "artifactory_token", AzureStorageKeyDetector: "azure_key",
    DiscordBotTokenDetector: "discord_token", MailchimpDetector: "mailchimp_key", NpmDetector: "npm_token",
    PypiTokenDetector: "pypi_token", SendGridDetector: "sendgrid_key", SquareOAuthDetector: "square_secret",
    TelegramBotTokenDetector: "telegram_token", TwilioKeyDetector: "twilio_key",
}

_OWN: list[tuple[str, re.Pattern[str]]] = [
    ("private_key", re.compile(
        # OCR of a key on screen reads the five dashes as 2-6 of them: the block is cut out all the same.
        r"-{2,}\s*BEGIN[A-Z ]*PRIVATE\s*KEY[A-Z ]*-{2,}[\s\S]*?(?:-{2,}\s*END[A-Z ]*PRIVATE\s*KEY[A-Z ]*-{2,}|\Z)")),
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")),
    ("url_password", re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")),
    ("aws_key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9_]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("generic_secret", re.compile(
        r"(?i)(?<![A-Za-z])(?:api[_\-]?key|access[_\-]?key|secret(?:[_\-]?key)?|token|passw(?:or)?d|pwd|auth)"
        r"[\"']?\s*[:=]\s*[\"']?(?!\[REDACTED)([^\s\"',;]{6,})")),
]
# OCR reads "ghp_x" as "ghpx" or "ghp-x" and joins words: looser shapes, used on OCR text only.
_OCR_ONLY: list[tuple[str, re.Pattern[str]]] = [
    ("github_token", re.compile(r"gh[pousr][_\-.,]?[A-Za-z0-9]{30,}")),
    ("aws_key", re.compile(r"(?:AKIA|ASIA)[0-9A-Za-z]{14,18}")),
    ("private_key", re.compile(r"(?i)BEGIN[A-Z ]*PRIVATE\s*KEY")),
    ("stripe_key", re.compile(r"[rs]k[_\-.]?live[_\-.]?[A-Za-z0-9]{20,}")),
    ("jwt", re.compile(r"(?i:eyj)[A-Za-z0-9_\-]{8,}[.,][A-Za-z0-9_\-]{8,}")),
]
# Card numbers: 14-19 digits starting 2-6 (Visa, Mastercard, Amex, Discover…), not part of a decimal number.
_CARD = re.compile(r"(?<![\d.,])[2-6](?:[ \-]?\d){13,18}(?!\d|[.,]\d)")
_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{32,}")
# Kinds whose span is already exact; every other secret is widened to the token around it.
_EXACT = {"email", "card_number", "url_password", "private_key"}
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_\-+/=.~]")
_LEFT_CHAR = re.compile(r"[A-Za-z0-9_\-+/.~]")  # not "=": ``API_KEY=…`` keeps its name
_MASK_PREFIX = {"aws_key", "github_token", "gitlab_token", "slack_token", "stripe_key", "openai_key", "pypi_token"}


@dataclass(frozen=True)
class Hit:
    kind: str
    start: int
    end: int
    value: str


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def _span(m: re.Match[str]) -> tuple[int, int]:
    """The secret's span: the last group when it is long enough to be the secret, else the whole match."""
    if m.re.groups and m.group(m.re.groups) and len(m.group(m.re.groups)) >= 8:
        return m.span(m.re.groups)
    return m.span(0)


def find_secrets(text: str, ocr: bool = False) -> list[Hit]:
    """Every secret or personal datum in ``text`` (overlaps merged, longest first wins)."""
    hits: list[Hit] = []
    patterns = [(kind, rx) for cls, kind in _DS_KINDS.items() for rx in cls.denylist] + _OWN
    if ocr:
        patterns += _OCR_ONLY
    for kind, rx in patterns:
        for m in rx.finditer(text):
            a, b = _span(m)
            if kind not in _EXACT:
                a, b = _whole_token(text, a, b)
            if b > a:
                hits.append(Hit(kind, a, b, text[a:b]))
    hits += [Hit(kind, a, b, text[a:b]) for kind, a, b in find_personal(text)]
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 14 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            hits.append(Hit("card_number", m.start(), m.end(), m.group(0)))
    return _merge(hits)


def _whole_token(text: str, a: int, b: int) -> tuple[int, int]:
    """Widen [a, b) over the token characters on both sides (a trailing full stop ends a sentence)."""
    while a > 0 and _LEFT_CHAR.match(text[a - 1]):
        a -= 1
    while b < len(text) and _TOKEN_CHAR.match(text[b]):
        b += 1
    while b > a and text[b - 1] == ".":
        b -= 1
    return a, b


def find_suspects(text: str) -> list[Hit]:
    """Long, high-entropy tokens with upper, lower case and digits: maybe a key of an unknown kind."""
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if "[REDACTED" in text[max(0, m.start() - 10):m.start()]:
            continue
        classes = sum(bool(re.search(p, tok)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
        if classes == 3 and _entropy(tok) >= 4.5:
            out.append(Hit("suspect_token", m.start(), m.end(), tok))
    return out


def _merge(hits: list[Hit]) -> list[Hit]:
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    merged: list[Hit] = []
    for h in hits:
        if merged and h.start < merged[-1].end:
            last = merged[-1]
            if h.end > last.end:
                merged[-1] = Hit(last.kind, last.start, h.end, last.value + h.value[last.end - h.start:])
            continue
        merged.append(h)
    return merged


@dataclass
class Report:
    """What was found where; holds salted fingerprints and masks, never a secret."""

    max_entries: int = 5000
    found: Counter[str] = field(default_factory=Counter)
    entries: list[dict[str, Any]] = field(default_factory=list)
    remaining: list[dict[str, Any]] = field(default_factory=list)
    _salt: bytes = field(default_factory=lambda: os.urandom(16), repr=False)

    def fingerprint(self, value: str) -> str:
        return hmac.new(self._salt, value.encode(), hashlib.sha256).hexdigest()[:12]

    def mask(self, kind: str, value: str) -> str:
        head = value[:4] + "…" if kind in _MASK_PREFIX else ""
        return f"{head}({len(value)} chars)"

    def add(self, kind: str, value: str, where: dict[str, Any], *, action: str = "redacted") -> None:
        entry = {"kind": kind, "where": where, "fingerprint": self.fingerprint(value),
                 "masked": self.mask(kind, value), "action": action}
        self.found[kind] += 1
        if action != "redacted":
            self.remaining.append(entry)
        if len(self.entries) < self.max_entries:
            self.entries.append(entry)

    def to_json(self) -> dict[str, Any]:
        return {
            "about": "Secrets and personal data found during export. Values are never stored: 'fingerprint' is"
                     " a salted hash that tells findings apart within this report only.",
            "counts": dict(sorted(self.found.items())),
            "remaining": self.remaining,
            "findings": self.entries,
            "findings_truncated": sum(self.found.values()) > len(self.entries),
        }


class Redactor:
    """Redacts text fields and records each finding; ``flag_suspects`` marks unknown high-entropy tokens."""

    def __init__(self, report: Report | None = None, flag_suspects: bool = True) -> None:
        self.report = report or Report()
        self.flag_suspects = flag_suspects

    def text(self, text: str | None, where: dict[str, Any]) -> str | None:
        if not text:
            return text
        out = text
        for h in reversed(find_secrets(text)):
            self.report.add(h.kind, h.value, where)
            out = out[:h.start] + f"[REDACTED:{h.kind}]" + out[h.end:]
        for h in find_secrets(out):  # a second pass must find nothing; anything left blocks the export
            self.report.add(h.kind, h.value, where, action="remains")
        if self.flag_suspects:
            for h in find_suspects(out):
                self.report.add(h.kind, h.value, where, action="flagged, kept")
        return out

    def value(self, obj: Any, where: dict[str, Any]) -> Any:
        """Redact every string inside a JSON-like value (event details)."""
        if isinstance(obj, str):
            return self.text(obj, where)
        if isinstance(obj, list):
            return [self.value(v, where) for v in obj]
        if isinstance(obj, dict):
            return {k: self.value(v, where) for k, v in obj.items()}
        return obj
