import time

from deskscribe.config import RetentionConfig
from deskscribe.storage import frames as store
from deskscribe.storage import retention
from deskscribe.storage.frames import EncodedImage, FrameIn
from deskscribe.storage.retention import FrameRow, select

DAY = 86_400.0
NOW = 1_800_000_000.0


def row(i, ts, status="unreviewed", source="capture", image=None):
    return FrameRow(i, ts, image or f"h{i}", status, source)


def test_age_cutoff_spares_accepted_and_imported():
    rows = [row(1, NOW - 40 * DAY), row(2, NOW - 40 * DAY, "accepted"), row(3, NOW - 40 * DAY, source="import"),
            row(4, NOW - 1 * DAY), row(5, NOW - 40 * DAY, "edited")]
    sizes = {f"h{i}": 10 for i in range(1, 6)}
    assert select(rows, sizes, now=NOW, days=30, max_image_bytes=0) == [1]
    assert sorted(select(rows, sizes, now=NOW, days=30, max_image_bytes=0, keep_accepted=False)) == [1, 2, 5]
    assert select(rows, sizes, now=NOW, days=0, max_image_bytes=0) == []


def test_budget_deletes_rejected_then_unreviewed_oldest_first():
    rows = [row(1, 100, "unreviewed"), row(2, 200, "rejected"), row(3, 50, "accepted"), row(4, 300, "unreviewed")]
    sizes = {"h1": 100, "h2": 100, "h3": 100, "h4": 100}
    assert select(rows, sizes, now=NOW, days=0, max_image_bytes=250) == [2, 1]
    assert select(rows, sizes, now=NOW, days=0, max_image_bytes=50) == [2, 1, 4]  # accepted kept
    assert select(rows, sizes, now=NOW, days=0, max_image_bytes=50, keep_accepted=False) == [2, 1, 4, 3]
    assert select(rows, sizes, now=NOW, days=0, max_image_bytes=0) == []


def test_shared_images_free_bytes_only_with_their_last_frame():
    rows = [row(1, 1, image="same"), row(2, 2, image="same"), row(3, 3, image="other")]
    sizes = {"same": 100, "other": 100}
    # deleting frame 1 frees nothing; frame 2 frees 'same'
    assert select(rows, sizes, now=NOW, days=0, max_image_bytes=100) == [1, 2]


def _image(seed: int, size: int = 1000) -> EncodedImage:
    return EncodedImage(bytes([seed % 256]) * size, "png", 10, 10)


def test_run_on_a_real_database(db):
    now = time.time()
    old = store.create_episode(db, now - 40 * DAY)
    store.add_frame(db, old, FrameIn(now - 40 * DAY, _image(1)))
    store.add_frame(db, old, FrameIn(now - 40 * DAY + 1, _image(2)))
    store.close_episode(db, old)
    kept = store.create_episode(db, now - 50 * DAY)
    store.add_frame(db, kept, FrameIn(now - 50 * DAY, _image(3)))
    store.close_episode(db, kept)
    store.set_status(db, kept, "accepted")
    recent = store.create_episode(db, now - 60)
    for i in range(4):
        store.add_frame(db, recent, FrameIn(now - 60 + i, _image(10 + i, 400_000)))
    store.add_frame(db, recent, FrameIn(now - 55, _image(10, 400_000)))  # shares frame 0's image
    imported = store.create_episode(db, now - 90 * DAY, source="import")
    store.add_frame(db, imported, FrameIn(now - 90 * DAY, _image(4)))
    store.close_episode(db, imported)

    result = retention.run(db, RetentionConfig(days=30, max_image_mb=1, keep_accepted=True), now)

    assert store.get_episode(db, old) is None  # emptied and closed: removed
    assert len(store.episode_frames(db, kept)) == 1
    assert len(store.episode_frames(db, imported)) == 1
    left = store.episode_frames(db, recent)
    assert store.get_episode(db, recent) is not None  # still open: kept even when it empties
    image_bytes = db.conn.execute("SELECT sum(bytes) FROM images").fetchone()[0]
    assert image_bytes <= 2**20
    # oldest first; deleting the first frame freed nothing (the last frame shares its image)
    assert [f["ts"] for f in left] == [now - 57, now - 55]
    assert result.frames == 2 + 3 and result.episodes == 1 and result.images == 2 + 2
    orphans = db.conn.execute("SELECT count(*) FROM frames f LEFT JOIN images i ON i.hash = f.image_hash"
                              " WHERE i.hash IS NULL").fetchone()[0]
    assert orphans == 0
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
