"""Text a person reads, told from icon noise by its characters (not by the recogniser's score).

OCR reads icons, borders and bitmaps as short strings: 'bd', 'x', 'Oo', '=] (5) [|', 'Bog)', 'gt tS 351IB',
'TK sa ae ~S w', or an icon glyph before a label ('@ New Tab'). Real text can be as short and scores as low
(xterm's default font: ``84`` at 0.0, a command line at 0.44), so the recogniser's score cannot tell them
apart; what the characters are can. A token reads when it is a word (an English word of wordninja's
vocabulary for two or three letters — the short ones icons produce —, any regular-looking word of four letters
or more, so names survive), a number (with its unit), a spreadsheet cell, a file name, a path, a domain, a
shell prompt, a command option, or a compound of those ('Sweet-Juciy-Fruit', 'demo/notes.txt'). A text reads
when its first and last tokens read, the tokens that read hold most of its letters and digits, and it is not
mostly symbols; a formula ('=SUMIF(C:C,"category A",G:G)') reads as a whole.

Used by models/ocr.py (which lines a caption and the OCR text keep) and by the step writer before it quotes
anything (models/steps.py).
"""

from __future__ import annotations

import functools
import itertools
import re

# Two-letter words and abbreviations a screen shows ('OK', 'ls'); other two-letter reads are icons ('bd', 'Oo').
TWO_LETTERS = frozenset(
    "am an as at be by do go he hi if in is it me my no of oh ok on or so to up us we "
    "id tv pc ui os ip db ai uk eu pm gb mb kb tb px cd ls cp mv rm vi du df ps wc su ln mr ms dr st".split())
THREE_LETTER_RANK = 12_000  # three-letter words must be among wordninja's this many most common ('aga', 'bog': not)
EDGE = "\"'`.,:;!?…“”‘’()[]{}<>*"  # punctuation around a token that does not change what it is
UNITS = r"(?:am|pm|px|pt|kb|mb|gb|tb|k|m|h|s|ms|min|st|nd|rd|th|x|%)"
SHAPES = re.compile("|".join([
    r"[-+]?[$€£]?\d[\d.,:/+\-*=x]*%?",  # 84, 10.0, 12+30=, 800x800, 2026-12-05, 10:30
    rf"\d[\d.,]*\s?{UNITS}",  # 10am, 2h, 351MB
    r"\$?[A-Z]{1,3}\$?\d{1,6}(?::\$?[A-Z]{1,3}\$?\d{1,6})?|[A-Z]{1,3}:[A-Z]{1,3}",  # A3, C12:D40, C:C
    r"[\w][\w.-]*\.[A-Za-z][A-Za-z0-9]{0,4}",  # notes.txt
    r"~?\.{0,2}/?[\w.-]*(?:/[\w.-]+)+/?|~/?",  # ~/Desktop, /usr/bin, demo/notes.txt
    r"(?:https?://)?[\w-]+(?:\.[\w-]+)+(?:/\S*)?",  # www.bing.com/search
    r"[\w.-]+@[\w.-]+(?::\S*)?[$#]?",  # root@vm:~#, a@b.org
    r"--?[A-Za-z][\w-]*",  # -la, --help
]), re.I)
# word, NAME, CamelCase, camelCase, sRGB
WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+|[A-Z][a-z]+(?:[A-Z][a-z]+)+|[a-z]+(?:[A-Z][a-z]+)+|[a-z][A-Z]{2,}")
ALNUM_WORD = re.compile(r"([A-Za-z]{3,})\d{1,4}")  # python3, Untitled1
FORMULA = re.compile(r"=\s*(?:[A-Z]+\(|\$?[A-Z]{1,3}\$?\d)[^\n]*")  # =SUMIF(…), =A1+B2
OPEN, CLOSE = "([{", ")]}"


@functools.lru_cache(maxsize=1)
def _ranks() -> dict[str, int]:
    import wordninja

    words = wordninja.DEFAULT_LANGUAGE_MODEL._wordcost  # ordered by frequency
    return {w: i for i, w in enumerate(itertools.islice(words, THREE_LETTER_RANK))}


def _word(part: str) -> bool:
    """Letters only: a word a person reads (see the module's docstring)."""
    if not WORD.fullmatch(part):
        return False
    n, low = len(part), part.lower()
    if n == 1:
        return part in ("a", "A", "I")
    if n == 2:
        return low in TWO_LETTERS
    if n == 3:
        return low in _ranks()
    if re.search(r"[a-z][A-Z][a-z]", part) and min(map(len, re.findall(r"[A-Z]?[a-z]+", part))) < 3:
        return False  # camelCase of short pieces: 'yiInoe'
    return re.search(r"[aeiouyAEIOUY]", part) is not None or sum(c.isupper() for c in part) >= 2  # HTTP, sRGB


def token_reads(token: str) -> bool:
    """One space-separated token reads as text (a word, number, file name, path, … or a compound of them)."""
    core = token.strip(EDGE)
    if not core:
        return False
    if core.isalpha():
        return _word(core)
    if SHAPES.fullmatch(core) and re.search(r"[A-Za-z0-9]", core):
        return True
    m = ALNUM_WORD.fullmatch(core)
    if m:
        return _word(m.group(1))
    runs = re.findall(r"[A-Za-z]+|\d+", core)  # a compound: 'Sweet-Juciy-Fruit', 'print(12*7)'
    good = [r for r in runs if r.isdigit() or _word(r)]
    total = sum(len(r) for r in runs)
    longest = max((len(r) for r in good if r.isalpha()), default=0)
    return bool(total) and sum(len(r) for r in good) >= 0.6 * total and longest >= 3


def _balanced(text: str) -> bool:
    return all(text.count(o) == text.count(c) for o, c in zip(OPEN, CLOSE))


def reads_as_text(text: str) -> bool:
    """Text a person reads, not icon noise (see the module's docstring)."""
    text = " ".join(text.split())
    alnum = len(re.findall(r"[A-Za-z0-9]", text))
    if not alnum:
        return False
    if FORMULA.fullmatch(text):
        return True
    if not _balanced(text) and alnum < 4:  # 'Bog)', '1)': an icon's edge read as a bracket
        return False
    symbols = len(re.findall(r"[^\w\s.,'\-]", text))
    tokens = text.split()
    if symbols > alnum or not token_reads(tokens[0]) or not token_reads(tokens[-1]):
        return False
    good = sum(len(re.findall(r"[A-Za-z0-9]", t)) for t in tokens if token_reads(t))
    return good >= 0.6 * alnum


def reading_part(text: str) -> str:
    """The text without the tokens at its ends that do not read ('@ New Tab' → 'New Tab', 'Normal vy £) v' →
    'Normal'); "" when nothing in it reads."""
    text = " ".join(text.split())
    if reads_as_text(text):
        return text
    tokens = text.split()
    while tokens and not token_reads(tokens[0]):
        tokens.pop(0)
    while tokens and not token_reads(tokens[-1]):
        tokens.pop()
    part = " ".join(tokens)
    return part if part and reads_as_text(part) else ""
