"""The one OCR engine: same result for describe and export, words kept apart, change-only OCR."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from deskscribe.errors import ModelError
from deskscribe.export.images import OcrEngine as ExportOcr
from deskscribe.export.images import stored_lines
from deskscribe.models.ocr import OcrCaptioner
from deskscribe.models.ocr_diff import cell_regions, changed_cells, grow_regions, read_changed
from deskscribe.models.ocr_engine import (
    ENGINES,
    OcrEngine,
    TextBox,
    decode_boxes,
    encode_boxes,
    engine_key,
    split_merged,
)
from deskscribe.models.ocr_engine.lines import split_lines

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = ["Budget review moved to Friday 10am", "Invite Dana and Luis to the meeting", "File Edit View Help"]


def _screen(lines: list[str], size=(900, 300)) -> Image.Image:
    """Lines 60 px apart: further than change-only OCR's padding, so an edit re-reads only its own line."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 16)
    for i, line in enumerate(lines):
        draw.text((20, 20 + 60 * i), line, fill="black", font=font)
    return img


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> OcrEngine:
    """Each engine, real: RapidOCR's detector + Tesseract (the default), and RapidOCR."""
    return OcrEngine(request.param)


def test_split_merged_splits_prose_and_leaves_tokens_whole() -> None:
    assert split_merged("BudgetreviewmovedtoFriday10am") == "Budget review moved to Friday10am"
    assert split_merged("InviteDanaandLuis") == "Invite Dana and Luis"
    assert split_merged("Meetingnotes:quarterlyreview") == "Meeting notes:quarterly review"
    assert split_merged("FileEditViewHelp") == "File Edit View Help"  # a menu bar read as one word
    for token in ("AKIAZ7QK3M9XW2PLR4TB", "ghp_R8mK2vQx7LpN4tZs9WcY3hJd6FbG1aEo5uXi", "MIIEpAIBAAKCAQEAu1SU1LfV",
                  "getElementById", "notes.txt", "Preferences", "jane.canary@example.org", "Brightness-Contrast"):
        assert split_merged(token) == token


def test_box_encoding_round_trips_with_the_engine_key() -> None:
    boxes = [TextBox("Save As", 10, 20, 60, 14, 0.98765), TextBox("Cancel", 5, 40, 50, 14, 0.5)]
    blob = encode_boxes(boxes, 640, 480, carried=[1])
    data = json.loads(blob)
    assert data["engine"] == engine_key() and data["carried"] == [1]
    w, h, back = decode_boxes(blob) or (0, 0, [])
    assert (w, h) == (640, 480) and [b.text for b in back] == ["Save As", "Cancel"] and back[0].score == 0.9877
    assert decode_boxes("{not json") is None and decode_boxes(json.dumps({"w": 0, "h": 1, "boxes": []})) is None


@pytest.mark.model
def test_describe_and_export_see_the_same_boxes(engine: OcrEngine) -> None:
    """What describe stores (captions.ocr_boxes) is what export's fresh pass reads from the same pixels."""
    img = _screen(LINES)
    _caption, _text, blob = OcrCaptioner(engine=engine.engine).caption_with_boxes(_png(img), app="mousepad",
                                                                                   title="notes")
    assert json.loads(blob)["engine"] == engine_key(engine.engine)
    fresh = ExportOcr(engine.engine)(img)
    assert stored_lines(blob, img.size) == fresh
    assert any("Budget review moved" in text for _box, text in fresh)  # words kept apart
    assert [b.text for b in engine.read(img)] == [t for _b, t in fresh]


@pytest.mark.model
def test_the_default_engine_reads_light_text_on_a_wallpaper_and_a_dark_terminal() -> None:
    """What Tesseract's own page layout could not: light text on a blue gradient (a desktop's icon labels and
    watermark: it found no text at all) and a terminal's light-on-dark monospace, words kept apart."""
    wall = Image.new("RGB", (900, 300))
    draw = ImageDraw.Draw(wall)
    for x in range(900):
        draw.line([(x, 0), (x, 300)], fill=(0, 90 + x // 12, 200 + x // 30))
    draw.text((520, 200), "Activate Windows", fill=(230, 240, 255), font=ImageFont.truetype(FONT, 20))
    draw.text((30, 60), "Recycle Bin", fill="white", font=ImageFont.truetype(FONT, 13))
    term = Image.new("RGB", (900, 120), (30, 10, 36))
    mono = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 14)
    ImageDraw.Draw(term).text((8, 40), "root@vm:~/demo# echo 'quarterly report draft' > notes.txt", fill=(238, 238, 236),
                              font=mono)
    engine = OcrEngine("hybrid")
    texts = [b.text for b in engine.read(wall)]
    assert any("Activate Windows" in t for t in texts) and any("Recycle Bin" in t for t in texts), texts
    line = " ".join(b.text for b in engine.read(term))  # the detector may cut the row at the quote
    assert "quarterly report draft" in line and "notes.txt" in line and "echo" in line.split(), line


def test_a_window_border_at_a_box_edge_is_cut_off_and_glyphs_are_not() -> None:
    """A detected box around text touching a window border takes the border in ("[Invite Dana"): a column dark
    from top to bottom is a line and is left out; a letter's stroke (shorter than the box) is kept."""
    from deskscribe.models.ocr_engine.lines import without_borders

    rows = np.full((30, 200), 250, np.uint8)
    rows[:, 1] = 40  # the border: every row
    rows[6:24, 8:10] = 20  # the first letter's stem: 60 % of the rows
    rows[6:24, 150:152] = 20
    assert without_borders(rows, 0, 200) == (2, 200)
    rows[:, 197:199] = 60  # a frame line at the right as well
    assert without_borders(rows, 0, 200) == (2, 197)
    assert without_borders(rows[:, :12], 0, 12) == (0, 12)  # too narrow to tell


def test_boxes_of_one_row_are_one_line_and_columns_stay_apart() -> None:
    from deskscribe.models.ocr_engine.lines import merge_rows

    menu = [(200, 10, 250, 30), (10, 10, 50, 30), (62, 11, 110, 29), (125, 10, 180, 30)]  # gaps under a line height
    table = [(10, 50, 90, 70), (300, 50, 380, 70)]  # columns far apart
    below = [(10, 72, 200, 92)]  # the next row: not merged with the one above
    assert merge_rows(menu + table + below) == [(10, 10, 250, 30), (10, 50, 90, 70), (300, 50, 380, 70),
                                                  (10, 72, 200, 92)]


def test_a_line_is_cut_to_its_ink_whatever_box_the_detector_drew() -> None:
    """The detector's box around the same line moves by a pixel or two with what surrounds it; the ink does not,
    and a neighbouring line's ink inside a loose box is left out."""
    from deskscribe.models.ocr_engine.lines import ink_of

    grey = np.full((60, 200), 255, np.uint8)
    grey[20:32, 15:120:4] = 0  # the line: strokes from x 15 to 119, rows 20 to 31
    grey[20:32, 119] = 0
    grey[36:48, 15:90:3] = 0  # the next line, 4 px below
    for box in ((12, 17, 124, 34), (10, 15, 130, 35.5), (14.5, 18, 122, 37)):
        assert ink_of(grey, box) == (15, 20, 120, 32)
    assert ink_of(grey, (150, 5, 190, 15)) is None  # nothing there


def test_a_block_caret_is_no_part_of_the_line_it_follows_nor_of_the_line_above() -> None:
    """xterm's block caret fills its 6×13 cell: it touched the line above (the two read as one, garbled), made
    the prompt taller than its letters (read at the wrong scale) and read as "If". A glyph's stem is narrower."""
    from deskscribe.models.ocr_engine.lines import ink_of

    grey = np.full((60, 200), 255, np.uint8)
    grey[8:18, 10:150:3] = 0  # the line above: rows 8 to 17
    grey[21:31, 10:90:3] = 0  # the prompt: rows 21 to 30, x 10 to 88
    grey[21:31, 60:62] = 0  # a 2 px stem as tall as the line stays
    grey[17:31, 100:106] = 0  # the caret: 6×14, touching the line above
    assert ink_of(grey, (8, 19, 110, 33)) == (10, 21, 89, 31)
    grey[17:31, 100:106] = 255
    grey[21:31, 100:106] = 0  # a caret inside the line's rows: cut off its end too
    assert ink_of(grey, (8, 19, 110, 33)) == (10, 21, 89, 31)


def test_a_prompts_home_read_as_a_quote_is_put_back_and_nothing_else() -> None:
    from deskscribe.models.ocr_engine.words import prompt_home

    assert prompt_home('dana@desk:"# ls') == "dana@desk:~# ls"
    assert prompt_home('dana@desk:"/demo# wc -c notes.txt') == "dana@desk:~/demo# wc -c notes.txt"
    assert prompt_home("dana@desk:*/demo$") == "dana@desk:~/demo$"
    for text in ('scp dana@desk:"/tmp/a b" .', 'dana@desk:"hello"', 'bob@x.com:"/a b" x', "dana@desk:/demo#",
                 'echo dana@desk:"# x'):
        assert prompt_home(text) == text


def test_a_border_is_cut_from_the_window_tesseract_reads_and_the_text_is_kept() -> None:
    """Live Mousepad: the text area's border runs down the window 4 px before the text; a detector box that
    takes it in makes the line's ink start at the border, and Tesseract read it as '[' ("[Invite Dana"). The
    border runs on above and below the line, a letter does not: the window starts after it."""
    from deskscribe.models.ocr_engine.lines import ink_of
    from deskscribe.models.ocr_engine.options import TESS_SCALE

    grey = np.full((90, 300), 255, np.uint8)
    grey[:, 15] = 88  # the border, all the way down
    grey[30:42, 20:200:3] = 0  # the line's letters from x 20
    grey[30:42, 20] = 0  # a stem as tall as the line ("I")
    big = np.repeat(np.repeat(grey, 3, axis=0), 3, axis=1)[::2, ::2]  # at the read scale (1.5×)
    assert TESS_SCALE == 1.5
    ink = ink_of(grey, (14, 26, 205, 46))
    assert ink is not None and ink[0] == 15  # the border is the box's first ink
    x0, _y0, x1, _y1 = OcrEngine._window(big, ink)
    assert 15 * 1.5 < x0 <= 20 * 1.5 and x1 >= 198 * 1.5  # the border is out, the first letter in
    x0, _y0, _x1, _y1 = OcrEngine._window(big, ink_of(grey, (17, 26, 205, 46)))  # a box without the border
    assert 15 * 1.5 < x0 <= 20 * 1.5


@pytest.mark.model
def test_a_line_read_before_is_not_read_again_and_reads_the_same() -> None:
    engine = OcrEngine("hybrid")
    first = engine.read(_screen(LINES))
    misses = engine.misses
    assert misses >= len(LINES) and engine.hits == 0
    moved = engine.read(_screen(["Something new on top", *LINES]))  # the same lines, 60 px lower
    assert engine.misses == misses + 1 and engine.hits == len(LINES)
    assert [b.text for b in moved[1:]] == [b.text for b in first]
    uncached = OcrEngine("hybrid", line_cache=0)
    assert [b.text for b in uncached.read(_screen(["Something new on top", *LINES]))] == [b.text for b in moved]
    assert uncached.hits == 0


def test_engines_have_their_own_keys_and_say_what_is_missing(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from deskscribe.models.ocr_engine import options

    assert engine_key("hybrid") != engine_key("rapidocr") and engine_key() == engine_key("hybrid")
    with pytest.raises(ModelError, match="unknown models.ocr_engine 'easyocr'"):
        OcrEngine("easyocr")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    monkeypatch.setattr(options, "TESSDATA_DIRS", ())
    assert engine_key("hybrid") is None
    with pytest.raises(ModelError, match="apt install tesseract-ocr-eng"):
        OcrEngine("hybrid").read(_screen(["Hello"]))
    (tmp_path / "eng.traineddata").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        OcrEngine("hybrid").read(_screen(["Hello"]))


def test_changed_cells_and_regions_find_the_edit() -> None:
    prev = np.full((160, 320, 3), 255, np.uint8)
    cur = prev.copy()
    cur[70:85, 100:180] = 0  # a new word on one line
    grid = changed_cells(prev, cur)
    assert grid.sum() > 0 and not grid[:4].any()
    assert cell_regions(grid) == [(96, 64, 192, 96)]
    line = TextBox("an old line", 20, 66, 100, 14, 0.9)  # the line the change touches is read whole
    far = TextBox("the title", 20, 4, 60, 14, 0.9)
    assert grow_regions(cell_regions(grid), [line, far], (320, 160)) == [(20, 62, 194, 98)]


@pytest.mark.model
def test_change_only_ocr_reads_the_new_line_and_carries_the_rest(engine: OcrEngine) -> None:
    before = _screen(LINES)
    after = _screen([*LINES, "Book a room for the team lunch"])
    prev_lines = engine.read(before)
    res = read_changed(engine, np.asarray(before), prev_lines, np.asarray(after))
    assert not res.full and len(res.regions) == 1
    texts = [b.text for b in res.boxes]
    assert any("Book a room for the team lunch" in t for t in texts)
    assert len(res.carried) == len(prev_lines) and texts[: len(prev_lines)] == [b.text for b in prev_lines]
    full = [b.text for b in engine.read(after)]
    assert sorted(texts) == sorted(full)
    # most of the screen changed: a full pass
    other = read_changed(engine, np.asarray(before), prev_lines, 255 - np.asarray(before))
    assert other.full and other.carried == []


LS_ROWS = ["root@vm:~# mkdir -p demo && cd demo", "root@vm:~/demo# echo 'quarterly report draft' > notes.txt",
           "root@vm:~/demo# ls -la", "total 12", "drwxr-xr-x  2 root root 4096 Dec  4 18:27 .",
           "drwx------ 14 root root 4096 Dec  4 18:27 ..", "-rw-r--r--  1 root root   23 Dec  4 18:27 notes.txt",
           "root@vm:~/demo# cat notes.txt"]


def _terminal(rows: list[str]) -> np.ndarray:
    img = Image.new("RGB", (1280, 800), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 14)
    for i, row in enumerate(rows):
        draw.text((2, 2 + 17 * i), row, fill="black", font=font)
    return np.asarray(img)


@pytest.mark.model
@pytest.mark.parametrize("shown", [4, 7])
def test_a_new_terminal_row_reads_on_its_crop_as_on_the_whole_screen(shown: int) -> None:
    """With 8 px of context the detector found the trailing '.' of an `ls -la` row (and the dashes of
    `-rw-r--r--`) on the crop but not on the whole screen; with a stride of context it reads them alike."""
    engine = OcrEngine("hybrid", line_cache=0)
    before, after = _terminal(LS_ROWS[:shown]), _terminal(LS_ROWS[:shown + 1])
    res = read_changed(engine, before, engine.read(before), after)
    assert not res.full and res.regions
    assert sorted(b.text for b in res.boxes) == sorted(b.text for b in engine.read(after))


@pytest.mark.model
def test_describe_stores_which_lines_were_carried_over(db) -> None:  # type: ignore[no-untyped-def]
    from deskscribe.config import Config
    from deskscribe.models import describe as pipeline
    from deskscribe.storage.frames import (
        EncodedImage,
        FrameIn,
        add_frame,
        close_episode,
        create_episode,
        episode_frames,
    )

    ep = create_episode(db, 1.0)
    for i, lines in enumerate([LINES, [*LINES, "Book a room for the team lunch"]]):
        add_frame(db, ep, FrameIn(1.0 + i, EncodedImage(_png(_screen(lines)), "png", 900, 300), app="mousepad"))
    close_episode(db, ep)

    views = pipeline.Describer(db, Config(), _NoText(), OcrCaptioner()).frames(ep)  # type: ignore[arg-type]
    assert "Book a room" in views[1].ocr_text
    blobs = [db.conn.execute("SELECT ocr_boxes FROM captions WHERE image_hash = ?", (f["image_hash"],)).fetchone()[0]
             for f in episode_frames(db, ep)]
    first, second = (json.loads(b) for b in blobs)
    assert "carried" not in first and len(second["carried"]) == len(first["boxes"])


class _NoText:
    """Test double of models.base.TextModel: these tests caption frames only."""

    from deskscribe.models.base import ModelInfo

    info = ModelInfo(backend="test", model="none", params={"n_ctx": 2048})

    def complete(self, messages, *, schema=None, max_tokens=256):  # type: ignore[no-untyped-def]
        raise AssertionError("not used")

    def close(self) -> None:
        pass


def test_the_hybrid_engine_gives_each_word_its_box_in_the_frame() -> None:
    """Tesseract's word boxes, placed back in the frame: each word's box holds the ink drawn for it."""
    img = Image.new("RGB", (700, 120), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 15)
    drawn = {}
    x = 40
    for word in ("File", "Edit", "Search", "Save", "As"):
        draw.text((x, 50), word, fill="black", font=font)
        left, _top, right, _bottom = draw.textbbox((x, 50), word, font=font)
        drawn[word] = (left, right)
        x = right + (6 if word == "Save" else 14)  # a space; a gap between menu items
    lines = OcrEngine("hybrid").read(img)
    assert [b.text for b in lines] == ["File Edit Search Save As"], lines
    words = lines[0].words
    assert [w.text for w in words] == ["File", "Edit", "Search", "Save", "As"]
    for w in words:
        left, right = drawn[w.text]
        # within 3 px: a small line is read enlarged and smoothed (options.read_scale), its word boxes scaled back
        assert abs(w.x - left) <= 3 and abs(w.x + w.w - right) <= 3, (w, drawn[w.text])
        assert 45 <= w.y <= 56 and 8 <= w.h <= 16, w
    assert "words" in engine_key("hybrid")  # boxes stored without words are read again
    from deskscribe.models.evidence import items

    assert [i.text for i in items(lines[0])] == ["File", "Edit", "Search", "Save As"]  # by the gaps


def _rows(*spans: tuple[int, int, float]) -> np.ndarray:
    """A white 60×24 band with black ink: each (first row, last row + 1, share of the row's width inked)."""
    grey = np.full((24, 60), 255, np.uint8)
    for top, bottom, share in spans:
        grey[top:bottom, : max(1, int(60 * share))] = 0
    return grey


def test_a_box_holding_two_lines_with_no_blank_row_between_them_is_cut_between_them() -> None:
    # xterm's default font: a body, then only a caret column (little ink) joining it to the next line's body
    two = _rows((2, 9, 0.8), (9, 13, 0.05), (13, 20, 0.6))
    assert split_lines(two, (0, 0, 59, 23)) == [(0, 0, 59, 11.0), (0, 11.0, 59, 23)]
    one = _rows((4, 12, 0.8), (12, 15, 0.1))  # a line and its descenders
    assert split_lines(one, (0, 0, 59, 23)) == [(0, 0, 59, 23)]
    sliver = _rows((3, 11, 0.8), (11, 17, 0.03), (17, 24, 0.7))  # the next line's body, cut by the box's edge
    assert split_lines(sliver, (0, 0, 59, 23)) == [(0, 0, 59, 14.0)]
