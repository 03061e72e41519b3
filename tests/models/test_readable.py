"""Text a person reads told from icon noise by its characters (models/readable.py), with strings seen on real
screens: the noise in describe's steps and captions (issue 22), and short real text that must survive."""

from __future__ import annotations

import pytest

from deskscribe.models.ocr import kept
from deskscribe.models.readable import reading_part, reads_as_text
from deskscribe.storage.boxes import TextBox

NOISE = ["bd", "x", "=] (5) [|", "Oo", "gt tS 351IB", "TK sa ae ~S w", "Bog)", "@ New Tab", "ee", "Ee |", "1)",
         "7PHS Ee", "ch", "&", "yiInoe"]
REAL = ["84", "ls", "OK", "A3", "Save", "12+30=", "notes.txt", '=SUMIF(C:C,"category A",G:G)', "cd ~/Desktop",
        "root@vm:~# python3 -c 'print(12*7)'", "cat demo/notes,txt.", "Hardness 050 (51 x 51)", "Save As",
        "Open Recent…", "File Edit Search View Document Help", "Brightness-Contrast...", "10am", "Lxterminal",
        "[Sweet-Juciy-Fruit-Red-Apple] (imported)-1.0 (RGB color 8-bit gamma integer, GIMP built-in sRGB)",
        "-rw-r--r-- 1 root root 23 notes.txt", "www.bing.com", "Size: A4"]


@pytest.mark.parametrize("text", NOISE)
def test_icon_noise_does_not_read_as_text(text: str) -> None:
    assert not reads_as_text(text)


@pytest.mark.parametrize("text", REAL)
def test_short_and_odd_real_text_reads(text: str) -> None:
    assert reads_as_text(text) and reading_part(text) == " ".join(text.split())


def test_the_readable_part_drops_an_icon_beside_a_label_and_kept_lines_are_judged_by_it() -> None:
    assert reading_part("@ New Tab") == "New Tab" and reading_part("Normal vy £) v") == "Normal"
    assert reading_part("gt tS 351IB") == "" and reading_part("=] (5) [|") == ""
    assert kept(TextBox("84", 0, 0, 10, 10, 0.0)) and kept(TextBox("@ New Tab", 0, 0, 10, 10, 0.9))
    assert not kept(TextBox("Oo", 0, 0, 10, 10, 0.97))  # a sure recogniser does not make an icon text
