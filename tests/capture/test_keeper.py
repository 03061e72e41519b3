"""The frame keeper stores a small change as a region frame over a recent whole frame, a screen it has seen as
that frame's image, and a large change (or region frames switched off) whole; every stored frame reads back
from a real database as the screen that was grabbed."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from deskscribe.capture.keeper import FrameKeeper, Grab
from deskscribe.capture.screen import Monitor, Shot
from deskscribe.capture.writer import Captured
from deskscribe.config import CaptureConfig
from deskscribe.storage import frames as store
from deskscribe.storage.frames import FrameIn

W, H = 320, 200
MONITOR = Monitor(1, 0, 0, W, H)


class Collecting:
    """The writer thread's queue, without the thread: keeps what the keeper submits."""

    def __init__(self) -> None:
        self.items: list[Captured] = []

    def submit(self, item: Captured) -> bool:
        self.items.append(item)
        return True


def _screen(seed: int) -> np.ndarray:
    rnd = np.random.default_rng(seed)
    return rnd.integers(0, 2**24, size=(H, W), dtype=np.uint32) | np.uint32(0xFF000000)


def _grab(pixels: np.ndarray, ts: float) -> Grab:
    return Grab(Shot(MONITOR, bytearray(pixels.tobytes()), W, H), ts, "xterm", "shell")


def _rgb(pixels: np.ndarray) -> np.ndarray:
    b = pixels.view(np.uint8).reshape(H, W, 4)
    return b[:, :, [2, 1, 0]]


def _keep(cfg: CaptureConfig, screens: list[np.ndarray]) -> list[store.EncodedImage]:
    writer = Collecting()
    keeper = FrameKeeper(cfg, writer)  # type: ignore[arg-type]
    for i, pixels in enumerate(screens):
        keeper.store([_grab(pixels, float(i))], "interval")
    return [f.image for item in writer.items for f in item.frames]


def _screens() -> list[np.ndarray]:
    first = _screen(1)
    typed = first.copy()
    typed[100:116, 40:120] = 0xFF00FF00  # a typed line
    other = _screen(2)  # another app in front
    return [first, typed, other, first.copy(), typed.copy()]


def test_small_changes_are_region_frames_and_read_back_whole(db) -> None:  # type: ignore[no-untyped-def]
    screens = _screens()
    images = _keep(CaptureConfig(image_format="png"), screens)
    assert len(images) == 5
    first, typed, other, again, typed_again = images
    assert first.base is None and other.base is None
    assert typed.base == first.sha256 and typed.x <= 40 and typed.y <= 100
    assert len(typed.data) < len(first.data) / 10
    assert again == first  # back in the first app: the first frame's image, not a new one
    assert typed_again.base == first.sha256  # the closest key, not the last one stored
    episode = store.create_episode(db, 0.0)
    for i, image in enumerate(images):
        store.add_frame(db, episode, FrameIn(float(i), image))
    for image, pixels in zip(images, screens, strict=True):
        data, _fmt = store.image_bytes(db, image.sha256)
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), _rgb(pixels))
    assert db.conn.execute("SELECT count(*) FROM images").fetchone()[0] == 3  # first, typed, other


def test_region_frames_off_or_scaled_frames_are_stored_whole() -> None:
    for cfg in (CaptureConfig(image_format="png", region_max=0), CaptureConfig(image_format="png", max_side=160)):
        images = _keep(cfg, _screens())
        assert all(im.base is None for im in images), cfg


def test_a_change_over_most_of_the_screen_is_a_new_whole_frame() -> None:
    first = _screen(3)
    changed = first.copy()
    changed[: H * 3 // 4] = _screen(4)[: H * 3 // 4]
    images = _keep(CaptureConfig(image_format="jpeg"), [first, changed])
    assert [im.base for im in images] == [None, None]


def test_a_failing_region_frame_falls_back_on_the_whole_frame(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import deskscribe.capture.keeper as keeper

    def broken(a: np.ndarray, b: np.ndarray) -> None:
        raise MemoryError("fault injected by the test")

    monkeypatch.setattr(keeper, "changed_box", broken)
    images = _keep(CaptureConfig(image_format="png"), _screens())
    assert len(images) == 5 and all(im.base is None for im in images)
