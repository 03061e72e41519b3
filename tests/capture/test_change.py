import io

import numpy as np
from PIL import Image

from deskscribe.capture.change import STEP, ChangeDetector, changed_fraction, grid_hash, thumbnail
from deskscribe.capture.encode import encode_raw, scaled

W, H = 320, 200


def frame(seed=0):
    rng = np.random.default_rng(seed)
    return bytearray(rng.integers(0, 255, (H, W, 4), dtype=np.uint8).tobytes())


def test_unchanged_frame_is_not_changed_and_any_change_is_measured():
    det = ChangeDetector()
    first = frame()
    verdict = det.check(first, W, H, 0.002)
    assert verdict.changed and verdict.fraction == 1.0  # nothing stored yet
    det.commit(verdict)
    assert not det.check(bytearray(first), W, H, 0.002).changed
    small = bytearray(first)
    small[0:4] = b"\x00\x00\x00\x00"  # one pixel on the grid
    v = det.check(small, W, H, 0.002)
    assert not v.changed and 0 < v.fraction < 0.002
    assert det.check(small, W, H, 0.0).changed  # threshold 0 (after a click): any difference counts


def test_large_change_passes_threshold_and_compares_with_last_stored():
    det = ChangeDetector()
    det.commit(det.check(frame(0), W, H, 0.01))
    assert det.check(frame(1), W, H, 0.01).changed
    # not committed: still compared with frame 0
    assert not det.check(frame(0), W, H, 0.01).changed


def test_grid_and_hash():
    grid = thumbnail(frame(), W, H)
    assert grid.shape == (H // STEP, W // STEP)
    assert changed_fraction(None, grid) == 1.0
    assert changed_fraction(grid, grid.copy()) == 0.0
    assert grid_hash(grid) == grid_hash(grid.copy()) != grid_hash(thumbnail(frame(2), W, H))


def test_encode_formats_and_max_side():
    raw = bytearray(np.full((H, W, 4), (10, 20, 200, 0), dtype=np.uint8).tobytes())  # BGRX: red-ish
    for fmt in ("jpeg", "webp", "png"):
        img = encode_raw(raw, W, H, fmt, 80)
        decoded = Image.open(io.BytesIO(img.data))
        assert decoded.format.lower() == fmt and decoded.size == (W, H) == (img.width, img.height)
        r, g, b = decoded.convert("RGB").getpixel((5, 5))
        assert r > 150 and b < 60  # BGRX was read as RGB correctly
    small = encode_raw(raw, W, H, "jpeg", 80, max_side=160)
    assert (small.width, small.height) == (160, 100)
    assert scaled(Image.new("RGB", (100, 50)), 0).size == (100, 50)


def test_monitor_selection_and_hit_test():
    from deskscribe.capture.screen import Monitor, select

    mons = [Monitor(1, 0, 0, 1920, 1080), Monitor(2, 1920, 0, 1280, 1024)]
    assert select(mons, []) == mons
    assert select(mons, [2]) == [mons[1]]
    assert select(mons, [7]) == []
    assert mons[1].contains(1920, 0) and not mons[0].contains(1920, 0) and not mons[1].contains(3200, 10)
