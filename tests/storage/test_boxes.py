"""The stored OCR shape (storage/boxes.py): lines with their words' boxes, and lines stored before words were."""

from __future__ import annotations

import json

from deskscribe.storage.boxes import TextBox, Word, decode, encode, words_of


def test_words_round_trip_and_old_json_without_words_reads_unchanged() -> None:
    line = TextBox("Save As", 10, 20, 60, 12, 0.9, (Word("Save", 10, 20, 34, 12), Word("As", 50, 20, 20, 12)))
    blob = encode([line, TextBox("84", 0, 40, 12, 12, 0.0)], 640, 480, "key")
    assert decode(blob) == (640, 480, [line, TextBox("84", 0, 40, 12, 12, 0.0)])
    assert json.loads(blob)["boxes"][1] == ["84", 0, 40, 12, 12, 0.0]  # a line without words: six entries
    old = '{"w":640,"h":480,"engine":"old","boxes":[["File Edit",5,6,70,14,0.93]]}'
    assert decode(old) == (640, 480, [TextBox("File Edit", 5, 6, 70, 14, 0.93)])
    assert decode(old)[2][0].words == ()  # type: ignore[index]


def test_words_of_a_line_without_word_boxes_are_placed_by_their_share_of_characters() -> None:
    assert words_of(TextBox("ab cd", 100, 10, 50, 10)) == [Word("ab", 100, 10, 20, 10), Word("cd", 130, 10, 20, 10)]
    known = TextBox("ab cd", 100, 10, 50, 10, 1.0, (Word("ab", 100, 10, 12, 10), Word("cd", 140, 10, 10, 10)))
    assert words_of(known) == list(known.words)
    assert known.moved(5, 7).words[1] == Word("cd", 145, 17, 10, 10)
