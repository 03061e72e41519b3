"""Region frames: a frame stored as the changed region over a whole image reads back as the whole frame; the
base's deletion (review, forget, retention's sweep) hands its region frames on without losing a pixel and
without leaving the base's bytes behind."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image

from deskscribe.storage import forget
from deskscribe.storage import frames as store
from deskscribe.storage.db import db_file
from deskscribe.storage.frames import EncodedImage, FrameIn
from deskscribe.storage.patches import ALIGN, Box, changed_box


def _png(image: Image.Image, fmt: str = "png") -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt.upper(), **({"quality": 90} if fmt == "jpeg" else {}))
    return buf.getvalue()


def _noise(w: int, h: int, seed: int) -> Image.Image:
    rnd = random.Random(seed)
    return Image.frombytes("RGB", (w, h), bytes(rnd.randrange(256) for _ in range(w * h * 3)))


def _screens() -> tuple[Image.Image, list[Image.Image]]:
    """A 128×96 'screen' and three later screens, each with one small area changed."""
    base = _noise(128, 96, 1)
    later = []
    for i, (x, y) in enumerate([(10, 10), (40, 10), (70, 10)]):
        img = base.copy()
        img.paste(_noise(20, 12, 10 + i), (x, y))
        later.append(img)
    return base, later


def _store(db, base: Image.Image, later: list[Image.Image], fmt: str = "png") -> tuple[list[int], list[str]]:  # type: ignore[no-untyped-def]
    """The base whole, the later screens as region frames over it (as capture stores them); frame ids and hashes."""
    episode = store.create_episode(db, 1000.0)
    whole = EncodedImage(_png(base, fmt), fmt, base.width, base.height)
    images = [whole]
    for img in later:
        box = changed_box(np.asarray(base), np.asarray(img))
        assert box is not None and box.area < img.width * img.height / 2
        images.append(EncodedImage(_png(img.crop(box), fmt), fmt, img.width, img.height, whole.sha256, box.x0, box.y0))
    ids = [store.add_frame(db, episode, FrameIn(1000.0 + i, im)) for i, im in enumerate(images)]
    return ids, [im.sha256 for im in images]


def _pixels(db, digest: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    data, _fmt = store.image_bytes(db, digest)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_changed_box_pads_and_aligns_inside_the_image() -> None:
    a = np.zeros((100, 120), np.uint32)
    b = a.copy()
    assert changed_box(a, b) is None
    b[40, 50] = 1
    box = changed_box(a, b)
    assert box is not None and box.x0 <= 50 - 8 and box.x1 >= 51 + 8 and box.y0 <= 40 - 8 and box.y1 >= 41 + 8
    assert box.x0 % ALIGN == 0 and box.y0 % ALIGN == 0
    b[99, 119] = 1
    assert changed_box(a, b) == Box(box.x0, box.y0, 120, 100)  # clipped to the image


def test_a_region_frame_reads_back_as_the_whole_frame_and_stores_only_its_region(db) -> None:  # type: ignore[no-untyped-def]
    base, later = _screens()
    _ids, hashes = _store(db, base, later)
    for img, digest in zip(later, hashes[1:], strict=True):
        assert np.array_equal(_pixels(db, digest), np.asarray(img))
    sizes = dict(db.conn.execute("SELECT hash, bytes FROM images"))
    assert all(sizes[h] < sizes[hashes[0]] / 4 for h in hashes[1:])


def test_deleting_the_base_hands_its_region_frames_on_and_scrubs_its_bytes(db) -> None:  # type: ignore[no-untyped-def]
    base, later = _screens()
    ids, hashes = _store(db, base, later, "jpeg")  # JPEG: a PNG of noise repeats its rows' bytes in any PNG of them
    before = {h: _pixels(db, h).astype(int) for h in hashes[1:]}
    base_bytes = bytes(db.conn.execute("SELECT data FROM images WHERE hash = ?", (hashes[0],)).fetchone()[0])
    piece = base_bytes[len(base_bytes) // 2:len(base_bytes) // 2 + 48]
    done = forget.forget_frames(db, [ids[0]])
    assert done.images == 1
    rows = dict(db.conn.execute("SELECT hash, base_hash FROM images"))
    assert hashes[0] not in rows and rows[hashes[1]] is None and rows[hashes[2]] == rows[hashes[3]] == hashes[1]
    for digest in hashes[1:]:  # handed on, re-encoded once: the same picture within JPEG's rounding
        assert np.abs(_pixels(db, digest).astype(int) - before[digest]).mean() < 8  # noise: JPEG's worst case
    path = Path(db_file(db))
    for suffix in ("", "-wal"):
        f = Path(f"{path}{suffix}")
        assert not f.exists() or piece not in f.read_bytes()


def test_deleting_frames_and_the_sweep_keep_every_shown_frame_whole(db) -> None:  # type: ignore[no-untyped-def]
    base, later = _screens()
    ids, hashes = _store(db, base, later)
    store.delete_frames(db, [ids[0], ids[2]])  # the base and one region frame
    assert np.array_equal(_pixels(db, hashes[1]), np.asarray(later[0]))
    assert np.array_equal(_pixels(db, hashes[3]), np.asarray(later[2]))
    db.conn.execute("DELETE FROM frames WHERE id = ?", (ids[1],))  # the new base, not through storage
    assert store.gc_images(db) == 1
    assert np.array_equal(_pixels(db, hashes[3]), np.asarray(later[2]))
    assert db.conn.execute("SELECT base_hash FROM images WHERE hash = ?", (hashes[3],)).fetchone()[0] is None


def test_a_region_frame_whose_base_is_gone_is_stored_whole(db) -> None:  # type: ignore[no-untyped-def]
    base, later = _screens()
    whole_later = EncodedImage(_png(later[0]), "png", 128, 96)
    orphan = EncodedImage(b"not stored", "png", 128, 96, "0" * 64, 16, 16, whole=lambda: whole_later)
    episode = store.create_episode(db, 1.0)
    frame = store.add_frame(db, episode, FrameIn(1.0, orphan))
    digest = db.conn.execute("SELECT image_hash FROM frames WHERE id = ?", (frame,)).fetchone()[0]
    assert digest == whole_later.sha256
    assert np.array_equal(_pixels(db, digest), np.asarray(later[0]))
