"""A rendered UI-text set with its truth: menus, terminal, editor and dialog text at common sizes and themes.

Each screen is 1024×640, drawn with Pillow and the DejaVu fonts (Debian fonts-dejavu-core): a menu bar, then
twelve lines mixed from the pools below, in a light or a dark theme. ``screens()`` yields (name, image, lines)
deterministically, so before/after OCR figures are measured on the same pixels.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
MENU = ["File  Edit  View  Search  Terminal  Help", "File  Edit  Search  View  Document  Help"]
POOLS = {
    "menu": ["New Tab", "Open Recent", "Save As...", "Preferences", "Keyboard Shortcuts", "Close Window",
             "Find and Replace", "Select All"],
    "terminal": ["user@desk:~$ mkdir -p demo && cd demo", "user@desk:~/demo$ echo 'quarterly report draft' > notes.txt",
                 "user@desk:~/demo$ ls -la", "-rw-r--r-- 1 user user 22 Dec 2 10:15 notes.txt",
                 "drwxr-xr-x 2 user user 4096 Dec 2 10:14 demo", "Warning: you are using a development build",
                 "total 12", "python3 manage.py runserver"],
    "editor": ["Budget review moved to Friday 10am", "Invite Dana and Luis to the planning meeting",
               "The quarterly report draft is due next week", "Please send the updated figures before noon",
               "Meeting notes for Tuesday morning", "Call the supplier about the delayed order",
               "Book a room for the team lunch", "Remember to update the project timeline"],
    "dialog": ["Save changes to meeting.txt before closing?", "Your changes will be lost if you do not save them.",
               "Close without Saving", "Cancel", "Replace the existing file?"],
}
THEMES = {"light": ((255, 255, 255), (20, 20, 20), (235, 235, 235)),
          "dark": ((30, 30, 30), (220, 220, 220), (50, 50, 50))}
SIZES = (11, 13, 15, 18)
FACES = {"sans": "DejaVuSans.ttf", "mono": "DejaVuSansMono.ttf"}


def _lines(rng: random.Random) -> list[str]:
    pool = [line for lines in POOLS.values() for line in lines]
    return rng.sample(pool, 12)


def render(lines: list[str], menu: str, size: int, face: str, theme: str) -> Image.Image:
    bg, fg, bar = THEMES[theme]
    font = ImageFont.truetype(str(FONTS / FACES[face]), size)
    img = Image.new("RGB", (1024, 640), bg)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, 1024, size * 2], fill=bar)
    draw.text((8, size // 2), menu, fill=fg, font=font)
    y = size * 3
    for line in lines:
        draw.text((24, y), line, fill=fg, font=font)
        y += int(size * 1.8)
    return img


def screens() -> Iterator[tuple[str, Image.Image, list[str]]]:
    """Every (size, face, theme) combination once: 16 screens."""
    for i, (size, face, theme) in enumerate((s, f, t) for s in SIZES for f in FACES for t in THEMES):
        rng = random.Random(i)
        lines = _lines(rng)
        menu = MENU[i % len(MENU)]
        yield f"{face}-{size}px-{theme}", render(lines, menu, size, face, theme), [menu, *lines]


def words(text: str) -> list[str]:
    """Words compared case-insensitively, without the punctuation around them."""
    out = []
    for tok in text.split():
        tok = tok.strip(".,:;!?()[]{}'\"").lower()
        if tok:
            out.append(tok)
    return out


def word_scores(truth_lines: list[str], ocr_lines: list[str]) -> dict[str, float]:
    """Word recall (share of truth words OCR produced as separate words), precision, and merged words."""
    truth = Counter(w for line in truth_lines for w in words(line))
    seen = Counter(w for line in ocr_lines for w in words(line))
    hit = sum((truth & seen).values())
    pairs = {a + b for line in truth_lines for a, b in zip(words(line), words(line)[1:])}
    merged = sum(n for w, n in seen.items() if w not in truth and any(w.startswith(p) for p in pairs))
    return {"truth_words": sum(truth.values()), "hits": hit, "ocr_words": sum(seen.values()), "merged": merged,
            "recall": hit / max(1, sum(truth.values())), "precision": hit / max(1, sum(seen.values()))}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()
