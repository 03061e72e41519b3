"""The OCR captioner on real screenshots, its condensation, and the caption cache."""

from __future__ import annotations

import re

import pytest

from deskscribe.config import Config
from deskscribe.models import describe as pipeline
from deskscribe.models.ocr import OcrCaptioner, TextBox, condense, reading_order
from deskscribe.models.ocr_engine import engine_key
from deskscribe.storage.frames import EncodedImage, FrameIn, add_frame, close_episode, create_episode

GIMP_MENU = "048c56fa99ef42c0976064e7b5598962/03.jpg"  # GIMP with the Colors menu open


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()  # RapidOCR drops some spaces (FIELD_NOTES)


class CountingCaptioner:
    """Wraps the real OCR captioner and counts how often a frame is actually captioned."""

    def __init__(self) -> None:
        self.real = OcrCaptioner()
        self.info = self.real.info
        self.calls = 0

    def caption(self, image, *, app=None, title=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.real.caption(image, app=app, title=title)

    def close(self) -> None:
        self.real.close()


@pytest.mark.model
def test_real_frame_caption_holds_visible_text(screenagent):
    cap = OcrCaptioner()
    caption, ocr_text = cap.caption((screenagent / GIMP_MENU).read_bytes(), app="gimp", title="photo.xcf")
    assert caption.startswith("[gimp — photo.xcf]")
    assert "hue-saturation" in _squash(caption)  # a Colors menu entry; the caption is capped at 320 chars
    assert "brightness-contrast" in _squash(ocr_text) and "gimp" in _squash(ocr_text)
    assert len(caption) <= cap.max_chars
    assert cap.info.backend == "ocr" and "detector + tesseract-5." in cap.info.model


def test_condense_orders_dedupes_and_caps():
    boxes = [
        TextBox("Levels...", 300, 260, 80, 20, 0.9),
        TextBox("File Edit Colors", 4, 2, 200, 18, 0.95),
        TextBox("Curves...", 300, 290, 80, 20, 0.9),
        TextBox("Levels", 600, 262, 60, 20, 0.9),  # same words as an earlier line: dropped
        TextBox("口", 10, 400, 10, 10, 0.99),  # an icon read as a glyph: dropped
        TextBox("blurry", 10, 500, 10, 10, 0.2),  # low confidence, but a word: kept
        TextBox("Oo", 10, 530, 10, 10, 0.98),  # an icon read as letters, however sure: dropped
    ]
    assert [b.text for b in reading_order(boxes)][:2] == ["File Edit Colors", "Levels..."]
    text = condense(boxes, 768, app="gimp", title=None)
    assert text == "[gimp] top: File Edit Colors visible text: Levels..., Curves..., blurry"
    many = [TextBox(f"item number {i}", 10, 100 + 20 * i, 100, 18, 0.9) for i in range(100)]
    capped = condense(many, 4000, app=None, title=None, limit=120)
    assert len(capped) <= 120 and capped.endswith("…")
    assert condense([], 768, app=None, title=None) == "(no text visible)"


@pytest.mark.model
def test_identical_frames_are_captioned_once(db, screenagent):
    data = (screenagent / GIMP_MENU).read_bytes()
    ep = create_episode(db, 1.0)
    for i in range(3):
        add_frame(db, ep, FrameIn(ts=1.0 + i, image=EncodedImage(data, "jpeg", 1024, 768)))
    close_episode(db, ep)
    counting = CountingCaptioner()
    describer = pipeline.Describer(db, Config(), _NoText(), counting)
    frames = describer.frames(ep)
    assert counting.calls == 1 and len({f.caption for f in frames}) == 1
    describer.frames(ep)  # a second pass (a later batch) hits the stored cache
    assert counting.calls == 1 and describer.timers.cache_hits == 5


class _NoText:
    """Test double: the caption cache never reaches the text model."""

    from deskscribe.models.base import ModelInfo

    info = ModelInfo(backend="test", model="none")

    def complete(self, messages, *, schema=None, max_tokens=256):  # type: ignore[no-untyped-def]
        raise AssertionError("not called")

    def close(self) -> None:
        pass


def test_describe_stores_every_ocr_box_once(db):
    import io
    import json

    from PIL import Image, ImageDraw, ImageFont

    from deskscribe.storage import descriptions as store
    from deskscribe.storage.frames import episode_frames

    img = Image.new("RGB", (480, 120), "white")
    ImageDraw.Draw(img).text((20, 40), "Quarterly report", fill="black", font=ImageFont.load_default(size=28))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    ep = create_episode(db, 1000.0)
    add_frame(db, ep, FrameIn(1000.0, EncodedImage(buf.getvalue(), "png", 480, 120), app="gedit", window_title="r"))
    close_episode(db, ep)
    describer = pipeline.Describer(db, Config(), _NoText(), OcrCaptioner())
    [view] = describer.frames(ep)
    h = episode_frames(db, ep)[0]["image_hash"]
    row = db.conn.execute("SELECT text, ocr_text, ocr_boxes FROM captions WHERE image_hash = ?", (h,)).fetchone()
    boxes = json.loads(row[2])
    assert (boxes["w"], boxes["h"]) == (480, 120)
    assert boxes["engine"] == engine_key() and engine_key().startswith("det=rapidocr-")
    assert any("quarterly" in _squash(b[0]) for b in boxes["boxes"]) and all(len(b) == 7 for b in boxes["boxes"])  # with words
    assert (row[0], row[1]) == (view.caption, view.ocr_text)
    assert (view.caption, view.ocr_text) == OcrCaptioner().caption(buf.getvalue(), app="gedit", title="r")
    assert store.caption_row(db, h, describer.cap_run_id) == {"text": row[0], "ocr_text": row[1]}
    # a captioner without boxes (a VLM) leaves the column NULL
    pipeline.Describer(db, Config(), _NoText(), _PlainCaptioner()).frames(ep)
    rows = db.conn.execute("SELECT ocr_boxes FROM captions WHERE image_hash = ? ORDER BY id", (h,)).fetchall()
    assert len(rows) == 2 and rows[1][0] is None


class _PlainCaptioner:
    """Test double of a captioner that has no OCR boxes (as the VLM captioner)."""

    from deskscribe.models.base import ModelInfo

    info = ModelInfo(backend="test", model="plain", params={})

    def caption(self, image, *, app=None, title=None):  # type: ignore[no-untyped-def]
        return "a text editor", None


class _NoText:
    """Test double of models.base.TextModel: these tests caption frames only."""

    from deskscribe.models.base import ModelInfo

    info = ModelInfo(backend="test", model="none", params={"n_ctx": 2048})

    def complete(self, messages, *, schema=None, max_tokens=256):  # type: ignore[no-untyped-def]
        raise AssertionError("not used")


def test_grow_regions_stops_at_the_image_edge():
    """A line at the frame's edge; growing must end (it looped forever once) and take in only the lines the
    region crosses, not the neighbour it merely grazes."""
    from deskscribe.models.ocr_diff import grow_regions
    from deskscribe.models.ocr_engine import TextBox

    lines = [TextBox("edge", 0, 0, 50, 12, 0.9), TextBox("below", 0, 14, 80, 12, 0.9)]
    out = grow_regions([(0, 0, 16, 16)], lines, (100, 40), pad=4)
    assert out == [(0, 0, 80, 26)]
    lines.append(TextBox("third", 0, 24, 60, 12, 0.9))  # boxes overlap their neighbours by a pixel or two
    assert grow_regions([(0, 14, 16, 26)], lines, (100, 40), pad=0) == [(0, 14, 80, 26)]


def test_a_line_that_reads_as_words_is_kept_whatever_its_score():
    from deskscribe.models.ocr import kept

    assert kept(TextBox("root@box:~/work# cat notes.txt", 0, 0, 10, 10, 0.31))  # xterm's default font
    assert kept(TextBox("84", 0, 0, 10, 10, 0.0))
    for noise in ("Bog)", "gt tS 351IB", "TK sa ae ~S w", "=] (5) [|"):
        assert not kept(TextBox(noise, 0, 0, 10, 10, 0.3)), noise
