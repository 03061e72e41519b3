"""The hf export loads with `datasets` as it is, images decoding after the source data is gone."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from deskscribe.export.core import ExportOptions, export
from deskscribe.storage.db import open_db

CONFIGS = ("sft", "captions", "dpo", "kto")


def _n_image_entries(messages: list[dict[str, Any]]) -> int:
    return sum(1 for m in messages for c in m["content"] if c["type"] == "image")


def test_hf_loads_after_source_is_deleted(db, sample, deskscribe_home: Path, tmp_path: Path, ocr) -> None:
    from datasets import load_dataset

    db_path = Path(db.conn.execute("PRAGMA database_list").fetchone()[2])
    ro = open_db(db_path, readonly=True)
    out = tmp_path / "dataset"
    export(ro, "hf", out, ExportOptions(max_images=3, val_fraction=0.2, seed=3), ocr=ocr)
    ro.conn.close()
    db.conn.close()
    shutil.rmtree(deskscribe_home)
    shutil.rmtree(tmp_path / "src")
    assert not deskscribe_home.exists()

    for config in CONFIGS:
        ds = load_dataset(str(out), config)
        assert "train" in ds, config
        rows = [r for split in ds.values() for r in split]
        assert rows, f"{config} is empty"
        for row in rows:
            assert row["images"] and all(isinstance(im, Image.Image) for im in row["images"])
            row["images"][0].load()
        files = sorted(str(p) for p in (out / "data" / config).glob("*.parquet"))
        direct = load_dataset("parquet", data_files=files, split="train")
        assert len(direct) == len(rows)
        assert isinstance(direct[0]["images"][0], Image.Image)


def test_hf_schema(exports: dict[str, Any]) -> None:
    from datasets import load_dataset

    out = exports["hf"].out_dir
    sft = load_dataset(str(out), "sft")
    for row in (r for split in sft.values() for r in split):
        user, assistant = row["messages"]
        assert user["role"] == "user" and assistant["role"] == "assistant"
        assert _n_image_entries(row["messages"]) == len(row["images"]) <= 3
        assert assistant["content"][0]["text"].strip()
    dpo = load_dataset(str(out), "dpo")
    rows = [r for split in dpo.values() for r in split]
    assert len(rows) == 2  # edited and edited_accepted
    for row in rows:
        assert row["chosen"][0]["content"][0]["text"] != row["rejected"][0]["content"][0]["text"]
        assert _n_image_entries(row["prompt"]) == len(row["images"])
    kto = [r for split in load_dataset(str(out), "kto").values() for r in split]
    assert {type(r["label"]) for r in kto} == {bool}
    assert {r["label"] for r in kto} == {True, False}
    captions = [r for split in load_dataset(str(out), "captions").values() for r in split]
    assert len(captions) == 4 and all(len(r["images"]) == 1 for r in captions)
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense: other") and "config_name: dpo" in card and "Redaction" in card


def test_hf_counts_follow_review_state(exports: dict[str, Any], shared_db) -> None:
    counts = exports["hf"].summary.counts
    total = {k: sum(v.values()) for k, v in counts.items()}
    # sft: accepted, edited, accepted2, edited_accepted + unreviewed (asked for); never the rejected one
    assert {k: total[k] for k in CONFIGS} == {"sft": 5, "captions": 4, "dpo": 2, "kto": 7}
    # the sample's clicks have no position, so no trajectory step (the configs exist, empty)
    assert total["trajectories"] == total["episodes"] == 0


@pytest.mark.parametrize("bad", [{"max_images": 0}, {"val_fraction": 1.0}, {"max_side": 5}])
def test_bad_options_are_one_line_errors(db, sample, tmp_path: Path, bad: dict[str, Any]) -> None:
    from deskscribe.errors import ExportError

    with pytest.raises(ExportError) as err:
        export(db, "hf", tmp_path / "o", ExportOptions(**bad))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "o").exists()


def test_corrupt_image_is_one_line_error(db, tmp_path: Path) -> None:
    from deskscribe.errors import ExportError
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.frames import EncodedImage, FrameIn, add_frame, close_episode, create_episode

    ep = create_episode(db, 1.0)
    add_frame(db, ep, FrameIn(1.0, EncodedImage(b"\xff\xd8 not a jpeg", "jpeg", 10, 10)))
    close_episode(db, ep)
    D.add_description(db, ep, "Something.", [], author="person")
    with pytest.raises(ExportError, match=f"episode {ep}.*cannot be decoded"):
        export(db, "hf", tmp_path / "o", ExportOptions())
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".o.partial-*"))
