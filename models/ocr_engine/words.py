"""Text post-processing: the spaces RapidOCR's (Chinese-trained) recogniser drops between English words; a shell
prompt's home directory as a bitmap terminal draws it."""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

from deskscribe.models.ocr_engine.options import MIN_RUN

VOCAB_SIZE = 30_000  # pieces must be among the most common English words of wordninja's list
_WORD_SHAPE = re.compile(r"[A-Z]?[a-z]+(?:[A-Z][a-z]+)*")  # prose and Capitalised words, not KEYS or aBcD noise


@functools.lru_cache(maxsize=1)
def _ninja() -> tuple[Any, frozenset[str]]:
    import wordninja

    model = wordninja.DEFAULT_LANGUAGE_MODEL
    vocab = frozenset(itertools.islice(model._wordcost, VOCAB_SIZE))  # ordered by frequency
    return model, vocab


def _split_segment(segment: str) -> list[str]:
    """One Capitalised or lower-case segment as common words, or as itself when it does not read as such."""
    model, vocab = _ninja()
    parts = model.split(segment)
    if len(parts) < 2 or "".join(parts) != segment:
        return [segment]
    for part in parts:
        if len(part) < 2 and part not in ("a", "A", "I") or part.lower() not in vocab:
            return [segment]
    return parts


def _split_run(run: str) -> str:
    if not _WORD_SHAPE.fullmatch(run):
        return run
    segments = re.findall(r"[A-Z]?[a-z]+", run)  # "InviteDanaandLuis" → Invite, Danaand, Luis
    split = [_split_segment(seg) for seg in segments]
    if all(len(parts) == 1 for parts in split):
        # no segment reads as run-together words: camelCase identifiers stay whole, but three or more
        # Capitalised common words in a row are a menu bar or a title read as one ("FileEditViewHelp")
        _model, vocab = _ninja()
        if len(segments) >= 3 and all(seg[0].isupper() and seg.lower() in vocab for seg in segments):
            return " ".join(segments)
        return run
    return " ".join(p for parts in split for p in parts)


def split_merged(text: str) -> str:
    """Put back the spaces RapidOCR's (Chinese-trained) recogniser drops between English words.

    Only runs of ``MIN_RUN`` or more letters shaped like prose ("reviewmoved", "toFriday") are looked at, and
    they are split only where an English unigram model (wordninja) reads them as common words of two letters
    or more ("a" and "I" excepted). Digits, punctuation, upper-case runs and random-looking letters (keys,
    tokens: redaction must see them whole) and camelCase identifiers stay as they are; three or more
    Capitalised common words in a row ("FileEditViewHelp", a menu bar) are split at their capitals.
    "BudgetreviewmovedtoFriday10am" → "Budget review
    moved to Friday10am"; "notes.txt", "Levels" and "AKIAZ7QK3M9XW2PLR4TB" are unchanged.
    """
    return re.sub(rf"[A-Za-z]{{{MIN_RUN},}}", lambda m: _split_run(m.group(0)), text)


# A shell prompt at the start of a line: user@host:DIR$ (bash's default \u@\h:\w\$). DIR is "~" or starts with it
# or with "/"; xterm's 6×13 bitmap font draws "~" at the top of its cell and Tesseract reads it as '"' or '*'
# (bench/results/ocr_xterm.md). There a '"' or '*' can only be "~" (a quote or glob opening DIR is not a prompt).
_PROMPT_HOME = re.compile(r"^([A-Za-z_][\w.-]*@[\w.-]+:)[\"*](?=(?:/\S*)?[#$](?:\s|$))")


def prompt_home(text: str) -> str:
    """``text`` with a shell prompt's home directory read as '"' or '*' put back as "~" (the line's or its first
    word's text)."""
    return _PROMPT_HOME.sub(r"\1~", text)
