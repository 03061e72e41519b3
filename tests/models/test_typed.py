"""Typed text read from the screen: the text cursor OCR reads beside the last letter is not typed text."""

from __future__ import annotations

import pytest

from deskscribe.models.typed import uncaret


@pytest.mark.parametrize(("read", "typed"), [
    ("|Shopping list", "Shopping list"),
    ("apples, bread and milk|", "apples, bread and milk"),
    ("agenda.txt]", "agenda.txt"),  # a GTK name field's caret, read as a bracket
    ("[notes.md", "notes.md"),
    ("x[0]", "x[0]"),  # brackets that pair are text
    ("[draft]", "[draft]"),
    ("|", "|"),  # nothing but a bar: left as read
])
def test_the_caret_is_not_a_letter(read: str, typed: str) -> None:
    assert uncaret(read) == typed
