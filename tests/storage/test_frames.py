import io

import pytest
from PIL import Image

from deskscribe.storage import descriptions as d
from deskscribe.storage import frames as f


def png(color=(200, 10, 10), size=(64, 48)) -> f.EncodedImage:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return f.EncodedImage(buf.getvalue(), "png", *size)


def test_frame_with_image_and_events_round_trip(db):
    ep = f.create_episode(db, 100.0)
    fid = f.add_frame(db, ep, f.FrameIn(ts=101.0, image=png(), app="xterm", window_title="build",
                                        events=[f.EventIn(101.0, "click", {"button": "left", "x": 3, "y": 4})]))
    rows = f.episode_frames(db, ep)
    assert [r["id"] for r in rows] == [fid] and rows[0]["window_title"] == "build"
    data, fmt = f.image_bytes(db, rows[0]["image_hash"])
    assert fmt == "png" and Image.open(io.BytesIO(data)).size == (64, 48)
    assert f.frame_events(db, fid)[0]["details"] == {"button": "left", "count": 1, "x": 3, "y": 4}
    assert f.get_episode(db, ep)["apps"] == ["xterm"]


def test_identical_images_are_stored_once(db):
    ep = f.create_episode(db, 0.0)
    f.add_frame(db, ep, f.FrameIn(ts=1.0, image=png()))
    f.add_frame(db, ep, f.FrameIn(ts=2.0, image=png()))
    assert db.conn.execute("SELECT count(*) FROM images").fetchone()[0] == 1
    assert db.conn.execute("SELECT count(*) FROM frames").fetchone()[0] == 2


def test_frame_without_episode_is_rejected_and_leaves_no_image(db):
    with pytest.raises(Exception):
        f.add_frame(db, 12345, f.FrameIn(ts=1.0, image=png()))
    assert db.conn.execute("SELECT count(*) FROM images").fetchone()[0] == 0


def test_delete_episode_removes_image_bytes(db):
    ep = f.create_episode(db, 0.0)
    f.add_frame(db, ep, f.FrameIn(ts=1.0, image=png((1, 2, 3))))
    keep = f.create_episode(db, 5.0)
    f.add_frame(db, keep, f.FrameIn(ts=6.0, image=png((9, 9, 9))))
    f.delete_episode(db, ep)
    assert db.conn.execute("SELECT count(*) FROM images").fetchone()[0] == 1
    assert f.get_episode(db, ep) is None and f.get_episode(db, keep) is not None


def test_close_episode_drops_empty_ones(db):
    empty = f.create_episode(db, 0.0)
    full = f.create_episode(db, 0.0)
    f.add_frame(db, full, f.FrameIn(ts=1.0, image=png()))
    assert f.close_open_episodes(db) == 2
    assert f.get_episode(db, empty) is None
    assert f.get_episode(db, full)["closed"] == 1


def test_revisions_model_drafts_never_overwrite_the_person(db):
    ep = f.create_episode(db, 0.0)
    f.add_frame(db, ep, f.FrameIn(ts=1.0, image=png()))
    run = d.model_run_id(db, d.ModelRun("describe", "llama_cpp", "m.gguf", "abc", "v1", {"t": 0}))
    assert d.add_description(db, ep, "draft one", ["a"], author="model", model_run_id=run) == 1
    assert d.current_description(db, ep)["summary"] == "draft one"
    assert d.add_description(db, ep, "fixed by me", ["a", "b"], author="person") == 2
    assert f.get_episode(db, ep)["status"] == "edited"
    assert d.current_description(db, ep)["parent_revision"] == 1
    assert d.add_description(db, ep, "draft two", ["c"], author="model", model_run_id=run) == 3
    assert d.current_description(db, ep)["summary"] == "fixed by me"
    assert d.revert_to(db, ep, 1) == 4
    cur = d.current_description(db, ep)
    assert (cur["summary"], cur["author"], cur["parent_revision"]) == ("draft one", "person", 1)
    history = d.description_history(db, ep)
    assert [h["revision"] for h in history] == [1, 2, 3, 4]
    assert history[0]["model"] == "m.gguf" and history[1]["model"] is None


def test_model_run_ids_are_stable_per_configuration(db):
    a = d.ModelRun("caption", "ocr", "rapidocr", None, "v1", {})
    assert d.model_run_id(db, a) == d.model_run_id(db, a)
    assert d.model_run_id(db, a) != d.model_run_id(db, d.ModelRun("caption", "ocr", "rapidocr", None, "v2", {}))


def test_search_index_covers_titles_captions_and_descriptions(db):
    ep = f.create_episode(db, 0.0)
    img = png()
    f.add_frame(db, ep, f.FrameIn(ts=1.0, image=img, app="gimp", window_title="holiday.xcf"))
    f.add_frame(db, ep, f.FrameIn(ts=2.0, image=img, app="gimp", window_title="holiday.xcf"))
    run = d.model_run_id(db, d.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
    d.put_caption(db, img.sha256, run, "Brightness-Contrast dialog")
    d.add_description(db, ep, "Raised the contrast", ["open Colors menu"], author="model")

    def hits(q):
        return [r[0] for r in db.conn.execute("SELECT kind FROM search_fts WHERE search_fts MATCH ?", (q,))]

    assert hits("holiday") == ["title"]  # one row per distinct title, not per frame
    assert hits("contrast") == ["caption", "description"] or sorted(hits("contrast")) == ["caption", "description"]
    f.delete_episode(db, ep)
    assert hits("holiday") == []
