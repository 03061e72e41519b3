"""Text detectors: what they catch, what they leave alone, and that the report never holds a value."""

from __future__ import annotations

import json

import pytest

from deskscribe.export.pairs import keyframes, normalize
from deskscribe.export.redact import Redactor, find_secrets, find_suspects


@pytest.mark.parametrize(("text", "kind"), [
    ("id AKIAZ7QK3M9XW2PLR4TB here", "aws_key"),
    ("ghp_R8mK2vQx7LpN4tZs9WcY3hJd6FbG1aEo5uXi", "github_token"),
    ("write to jane.doe+x@mail.example.co.uk", "email"),
    ("card 4539-1488-0343-6467.", "card_number"),
    ("git clone https://bob:hunter2pass@git.example.org/repo", "url_password"),
    ("export API_KEY=abcdef123456", "generic_secret"),
    ("password: 'correct horse'", "generic_secret"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "private_key"),
    ("xoxb-123456789012-123456789012-abcdefghijklmnopqrstuvwx", "slack_token"),
])
def test_detects(text: str, kind: str) -> None:
    assert kind in {h.kind for h in find_secrets(text)}


@pytest.mark.parametrize("text", [
    "73.7693335018003 and 86.0095071524748",  # decimals from a spreadsheet
    "build 1732450000123 took 12.5s",          # timestamps
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "The user opened the terminal and ran ls -la in /home/user/projects",
    "4111 1111 1111 1112",                     # fails the Luhn check
])
def test_leaves_ordinary_text(text: str) -> None:
    assert find_secrets(text) == [] and find_suspects(text) == []


def test_ocr_text_without_spaces_or_underscore() -> None:
    kinds = {h.kind for h in find_secrets("tokenghpR8mK2vQx7LpN4tZs9WcY3hJd6FbG1aEo5uXi BEGINRSAPRIVATEKEY", ocr=True)}
    assert {"github_token", "private_key"} <= kinds


def test_redactor_replaces_and_reports_without_values() -> None:
    red = Redactor()
    out = red.text("mail jane.doe@example.com key AKIAZ7QK3M9XW2PLR4TB", {"episode": 1, "field": "summary"})
    assert out == "mail [REDACTED:email] key [REDACTED:aws_key]"
    report = json.dumps(red.report.to_json())
    assert "jane.doe" not in report and "Z7QK3M9XW2PLR4TB" not in report
    assert red.report.found == {"email": 1, "aws_key": 1} and not red.report.remaining
    assert red.value({"text": "pw https://a:secretpw@h"}, {})["text"] == "pw https://[REDACTED:url_password]@h"


def test_suspect_tokens_are_flagged_not_replaced() -> None:
    red = Redactor()
    assert red.text("id Zx9Qm2Lp8Vr4Tn6Wb1Yc3Kd5Hf7Jg0Aq", {}) == "id Zx9Qm2Lp8Vr4Tn6Wb1Yc3Kd5Hf7Jg0Aq"
    assert [e["kind"] for e in red.report.remaining] == ["suspect_token"]


def test_keyframes_and_normalize() -> None:
    frames = [{"image_hash": h} for h in "aabcdefghij"]
    assert [f["image_hash"] for f in keyframes(frames, 3)] == ["a", "e", "j"]
    assert [f["image_hash"] for f in keyframes(frames, 20)] == list("abcdefghij")
    assert normalize("Opened  the Terminal!") == normalize("opened the terminal")


@pytest.mark.parametrize(("text", "kind"), [
    ("call (415) 555-2671 today", "phone"),
    ("mobile +44 20 7946 0958", "phone"),
    ("tel 415.555.2671", "phone"),
    ("IBAN DE89 3704 0044 0532 0130 00 EUR", "iban"),
    ("ibanGB82WEST12345698765432", "iban"),  # as OCR reads it: label and number glued together
    ("SSN 536-22-1473", "us_ssn"),
    ("ssn: 536221473", "us_ssn"),
    ("DNI 12345678Z", "national_id"),
    ("CF RSSMRA85T10A562S", "national_id"),
    ("CPF 390.533.447-05", "national_id"),
    ("AHV 756.1234.5678.97", "national_id"),
])
def test_detects_personal_data(text: str, kind: str) -> None:
    assert kind in {h.kind for h in find_secrets(text)}


@pytest.mark.parametrize("text", [
    '"start_ts": 1732450000.0, "end_ts": 1732450012.5',  # Unix times are "1" + a valid US number
    "released 2026-12-02 16:20:11, 1,234,567 rows",      # dates, times, thousands
    "SSN 123-45-678",                                   # too short
    "000-12-3456 is never issued",
    "DE89 3704 0044 0532 0130 01",                       # IBAN checksum fails
    "12345678A",                                        # DNI letter wrong
])
def test_personal_detectors_leave_lookalikes(text: str) -> None:
    kinds = {h.kind for h in find_secrets(text)} & {"phone", "us_ssn", "iban", "national_id"}
    assert kinds == set(), (text, kinds)


def test_secret_hits_take_the_whole_token() -> None:
    stripe = "sk_live_" + "51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijABCDEFGHIJ0123456789klmnopqrstuv"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.Qm9Tc2lnbmF0dXJlX3Rlc3RfMTIzNDU2Nzg5"
    red = Redactor()
    assert red.text(f"key {stripe}.", {}) == "key [REDACTED:stripe_key]."
    assert red.text(f"Authorization: Bearer {jwt}", {}) == "Authorization: Bearer [REDACTED:jwt]"
    assert red.text("export API_KEY=abcdef123456", {}) == "export API_KEY=[REDACTED:generic_secret]"
    assert not red.report.remaining
