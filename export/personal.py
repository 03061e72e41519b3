"""Personal data in text: phone numbers, IBANs, US social security numbers and national ids.

Every detector validates what its pattern finds, so ordinary numbers rarely trip it: phone numbers through
the ``phonenumbers`` library (libphonenumber's metadata; a number must be *valid*, not just well-shaped),
IBANs, SSNs and national ids through ``python-stdnum`` (checksums, and the ranges that are never issued).
Ids whose only check is a mod-10/11 digit over a bare run of digits (Dutch BSN, German tax id, …) are left
out: too many ordinary numbers pass such a check. Street addresses are not detected: no maintained library
finds them in free text.
"""

from __future__ import annotations

import locale
import re
from collections.abc import Callable, Iterator

import phonenumbers
from stdnum import iban
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.ch import ssn as ch_ssn
from stdnum.es import dni, nie
from stdnum.fi import hetu
from stdnum.fr import nir
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.se import personnummer
from stdnum.us import ssn as us_ssn

Span = tuple[str, int, int]  # kind, start, end

# (kind, pattern, validator): the pattern finds candidates, the validator (stdnum's is_valid) decides.
_IDS: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
    ("us_ssn", re.compile(r"(?<![\d-])\d{3}[- ]\d{2}[- ]\d{4}(?![\d-])"), us_ssn.is_valid),
    ("us_ssn", re.compile(r"(?i)(?<![a-z])ssn\W{0,3}(\d{9})(?!\d)"), us_ssn.is_valid),
    ("national_id", re.compile(r"(?<![\dA-Z])\d{8}-?[A-Z](?![\dA-Z])"), dni.is_valid),
    ("national_id", re.compile(r"(?<![\dA-Z])[XYZ]-?\d{7}-?[A-Z](?![\dA-Z])"), nie.is_valid),
    ("national_id", re.compile(r"(?<![\dA-Z])[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z](?![\dA-Z])"),
     codicefiscale.is_valid),
    ("national_id", re.compile(r"(?<!\d)[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?!\d)"), nir.is_valid),
    ("national_id", re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)"), cpf.is_valid),
    ("national_id", re.compile(r"(?<!\d)756\.\d{4}\.\d{4}\.\d{2}(?!\d)"), ch_ssn.is_valid),
    ("national_id", re.compile(r"(?<![\d-])[2-9]\d{3} \d{4} \d{4}(?![\d ]\d)"), aadhaar.is_valid),
    ("national_id", re.compile(r"(?<![\d-])\d{6}[-+A]\d{3}[0-9A-Y](?![\dA-Z])"), hetu.is_valid),
    ("national_id", re.compile(r"(?<![\d-])(?:\d{2})?\d{6}[-+]\d{4}(?![\d-])"), personnummer.is_valid),
    ("national_id", re.compile(r"(?<![\d-])\d{3}[- ]\d{3}[- ]\d{3}(?![\d-])"), sin.is_valid),
]
# A country code and 11-30 letters/digits, optionally in groups of four; the validator picks the longest
# prefix that is a valid IBAN (a match may run into the next word: "DE89 3704 … 00 EUR").
_IBAN = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")  # OCR glues "ibanDE89…" together


def _regions() -> tuple[str, ...]:
    """US (the default region) plus the country of the person's locale: national phone formats need one."""
    regions = ["US"]
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    country = loc.split("_")[1][:2].upper() if "_" in loc else ""
    if len(country) == 2 and country.isalpha() and country not in regions:
        regions.append(country)
    return tuple(regions)


REGIONS = _regions()


# Written like a phone number: "+…", or digit groups split by spaces, dashes, dots or brackets. A bare run
# of digits is left alone: every Unix time of 2023-2027 (17xxxxxxxx) is "1" + a valid US number.
_PHONE_SHAPE = re.compile(r"^\+|\d{2,}\)?[ \-.]+\(?\d{2,}|^\(\d{2,}\)")


def _phones(text: str) -> Iterator[Span]:
    for region in REGIONS:
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            before, after = text[max(0, m.start - 1):m.start], text[m.end:m.end + 2]
            if not _PHONE_SHAPE.search(m.raw_string) or re.fullmatch(r"[\d.]", before or "x") \
                    or re.match(r"[.,]?\d", after):
                continue
            yield "phone", m.start, m.end


def _ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        cand = m.group(0)
        for end in range(len(cand), 14, -1):
            if cand[end - 1] != " " and iban.is_valid(cand[:end]):
                yield "iban", m.start(), m.start() + end
                break


def _ids(text: str) -> Iterator[Span]:
    for kind, rx, valid in _IDS:
        for m in rx.finditer(text):
            group = m.re.groups
            value = m.group(group) if group else m.group(0)
            if valid(value):
                a, b = m.span(group) if group else m.span(0)
                yield kind, a, b


def find_personal(text: str) -> list[Span]:
    """(kind, start, end) of every phone number, IBAN, SSN and national id in ``text`` (may overlap)."""
    if not any(ch.isdigit() for ch in text):
        return []
    return [*_phones(text), *_ibans(text), *_ids(text)]


KINDS = ("phone", "iban", "us_ssn", "national_id")
