"""What a click hit, from the pixels around its point (models/pixels.py), and how the step writer uses it
(models/evidence.item_at, models/steps.click_target): frames drawn with PIL at the dev set's 1024×768."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from deskscribe.models import evidence, pixels, steps
from deskscribe.models.facts import FrameView
from deskscribe.storage import events as ev
from deskscribe.storage.actions import ActionRecord, pair_actions
from deskscribe.storage.boxes import TextBox

SIZE = (1024, 768)
PANEL = (300, 90, 820, 165)  # a downloads panel's entry (x0, y0, x1, y1), as Firefox's in the dev set
NAME, OPEN = ("s10489-023-05235-7.pdf", 345, 100, 150, 12), ("Open File", 345, 118, 60, 11)


def _screen() -> Image.Image:
    """A browser page (white) with a toolbar whose bottom border (one grey px line across the screen) touches
    a panel of nearly the same grey; in the panel a file icon and two lines of text; a toolbar with a
    drop-down arrow; a grid of cells; a taskbar along the bottom edge."""
    image = Image.new("RGB", SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, SIZE[0], 60), fill=(246, 246, 246))
    draw.line((0, 89, SIZE[0], 89), fill=(235, 235, 235))
    draw.rectangle(PANEL, fill=(237, 237, 237))
    draw.rectangle((310, 100, 330, 125), fill=(200, 200, 200), outline=(120, 120, 120))  # the file's icon
    draw.text((NAME[1], NAME[2]), NAME[0], fill=(60, 60, 60))
    draw.text((OPEN[1], OPEN[2]), OPEN[0], fill=(140, 140, 140))
    draw.polygon([(647, 64), (655, 64), (651, 68)], fill=(0, 0, 0))  # a drop-down arrow in the toolbar
    for i in range(0, 221, 20):  # a 220 px grid: lines, no icon
        draw.line((400 + i, 300, 400 + i, 520), fill=(180, 180, 180))
        draw.line((400, 300 + i, 620, 300 + i), fill=(180, 180, 180))
    draw.rectangle((0, 728, SIZE[0], SIZE[1]), fill=(10, 20, 40))
    return image


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _patch(x: int, y: int) -> pixels.Patch:
    patch = pixels.crop(_png(_screen()), x, y)
    assert patch is not None
    return patch


def test_the_element_under_a_point_is_the_region_of_its_background_colour() -> None:
    box = pixels.region_at(_patch(600, 150), 600, 150)  # right of the text, inside the entry
    assert box is not None  # the toolbar's border line touching the panel does not join it to the screen
    corners = (box.x, box.y, box.x + box.w - 1, box.y + box.h - 1)
    assert all(abs(a - b) <= 1 for a, b in zip(corners, PANEL)), corners  # the border line beside it: 1 px
    cell = pixels.region_at(_patch(431, 331), 431, 331)
    assert cell is not None and (cell.x, cell.y, cell.w, cell.h) == (421, 321, 19, 19)  # inside its lines


def test_no_element_where_the_colour_runs_to_the_frame_or_crop_edge() -> None:
    assert pixels.region_at(_patch(666, 750), 666, 750) is None  # the taskbar: along the screen's bottom edge
    assert pixels.region_at(_patch(200, 400), 200, 400) is None  # the page itself: wider than any widget
    assert pixels.region_at(_patch(10, 10), 2000, 10) is None  # off the crop
    assert pixels.crop(_png(_screen()), 1024, 10) is None  # off the frame


def test_an_icon_is_compact_ink_at_the_point() -> None:
    arrow = pixels.icon_at(_patch(654, 62), 654, 62)  # 2 px above and right of the arrow's tip
    assert arrow is not None and (arrow.x, arrow.y, arrow.w, arrow.h) == (647, 64, 9, 5)
    file_icon = pixels.icon_at(_patch(320, 112), 320, 112)
    assert file_icon is not None and (file_icon.w, file_icon.h) == (21, 26)
    assert pixels.icon_at(_patch(600, 150), 600, 150) is None  # nothing within a few px
    assert pixels.icon_at(_patch(431, 331), 431, 331) is None  # a grid runs out of an icon's square
    assert pixels.icon_at(_patch(654, 62), 654, 62, tolerance=255) is None  # nothing differs enough: no ink


def _frame() -> FrameView:
    return FrameView(1, 1.0, "Firefox", "Springer - Mozilla Firefox", "h1", boxes=[TextBox(*NAME), TextBox(*OPEN)],
                     size=SIZE)


def test_a_point_without_text_is_named_by_the_first_line_of_its_element() -> None:
    frame = _frame()
    assert evidence.item_at(frame, 600, 150) is None  # the text alone: too far from the point
    item = evidence.item_at(frame, 600, 150, patch=_patch(600, 150))
    assert item is not None and item.text == NAME[0]
    assert evidence.item_at(frame, 654, 62, patch=_patch(654, 62)) is None  # an icon, no element with text


def _action(x: int, y: int, count: int = 1) -> evidence.Action:
    """A click on the drawn screen through the one pairing, its frame's bytes given as describe gives them."""
    frame = _frame()
    rows = [{"id": 100, "kind": "click", "details": {"x": x, "y": y, "button": "left", "count": count},
             "ts": 0.5, "frame_id": 1}]
    refs = [{"id": 1, "ts": 1.0, "monitor": 0, "app": "Firefox"}]
    data = _png(_screen())
    acts = evidence.actions(pair_actions(refs, rows, "before"), [frame], "before", lambda _hash: data)
    assert len(acts) == 1 and acts[0].patch is not None
    return acts[0]


def test_click_steps_name_the_element_or_the_icon_from_the_pixels() -> None:
    entry = _action(600, 150, count=2)
    assert steps.target_of(entry) == NAME[0]
    assert steps.click_step(entry, evidence.Change()) == f"Double-clicked '{NAME[0]}' in Firefox"
    arrow = _action(654, 62)
    assert steps.target_of(arrow) is None
    assert steps.click_step(arrow, evidence.Change()) == "Clicked the icon at the top of the screen in Firefox"
    assert steps.click_step(_action(666, 750), evidence.Change()) == "Clicked at the bottom of the screen in Firefox"
    no_pixels = ActionRecord(1, "click", 0.5, ev.Click(654, 62, "left"), 1, None, 0)
    assert steps.click_target(evidence.Action(no_pixels, _frame(), None, "Firefox")) is None


def test_a_menu_item_clicked_far_right_of_its_label_is_named_by_its_own_row() -> None:
    """Mousepad's Edit menu (a held-out session, 2026-12-05): a separator above Cut makes one region of Cut,
    Copy and Paste; a click 230 px right of 'Paste' names Paste, not the region's first line."""
    image = Image.new("RGB", SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 100, 545, 260), fill=(242, 242, 242), outline=(160, 160, 160))  # the menu
    draw.line((201, 150, 544, 150), fill=(200, 200, 200))  # the separator under Undo and Redo
    labels = [("Undo", 110), ("Redo", 130), ("Cut", 160), ("Copy", 185), ("Paste", 210)]
    for text, y in labels:
        draw.text((230, y), text, fill=(30, 30, 30))
    frame = FrameView(1, 1.0, "Mousepad", "Untitled 1 - Mousepad", "h1", size=SIZE,
                      boxes=[TextBox(text, 230, y, 8 * len(text), 11) for text, y in labels])
    patch = pixels.crop(_png(image), 500, 215)
    item = evidence.item_at(frame, 500, 215, patch=patch)
    assert item is not None and item.text == "Paste"
