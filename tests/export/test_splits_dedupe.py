"""Splits are by episode, seeded and leak-free; duplicated episodes are removed."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from PIL import Image

from deskscribe.export.core import ExportOptions, export
from deskscribe.export.splits import validation_episodes


def _parquet_rows(out: Path, config: str, split: str) -> list[dict[str, Any]]:
    path = out / "data" / config / f"{split}-00000.parquet"
    return pq.read_table(path).to_pylist() if path.exists() else []


def test_no_split_leakage(exports: dict[str, Any]) -> None:
    out = exports["hf"].out_dir
    val_eps, train_eps, val_imgs, train_imgs = set(), set(), set(), set()
    for config in ("sft", "captions", "dpo", "kto"):
        for split, eps, imgs in (("train", train_eps, train_imgs), ("validation", val_eps, val_imgs)):
            for row in _parquet_rows(out, config, split):
                eps.add(row["episode_id"])
                imgs.update(hashlib.sha256(im["bytes"]).hexdigest() for im in row["images"])
    assert val_eps and train_eps, "the sample should fill both splits"
    assert not val_eps & train_eps
    assert not val_imgs & train_imgs, "a validation frame is in train"
    # every sample episode yields hf rows, so the same seed must give the jsonl dump the same split
    dump = [json.loads(line) for line in (exports["jsonl"].out_dir / "episodes.jsonl").read_text().splitlines()]
    assert {r["id"] for r in dump if r["split"] == "validation"} == val_eps


def test_split_is_seeded() -> None:
    ids = list(range(1, 101))
    a = validation_episodes(ids, 0.2, seed=7)
    assert a == validation_episodes(list(reversed(ids)), 0.2, seed=7)
    assert len(a) == 20 and a != validation_episodes(ids, 0.2, seed=8)
    assert validation_episodes([1, 2], 0.1, 0) and len(validation_episodes([1, 2], 0.9, 0)) == 1
    assert validation_episodes(ids, 0.0, 0) == set()


def test_dedupe_removes_duplicated_episode(db, screenagent: Path, tmp_path: Path, ocr) -> None:
    from deskscribe.capture.importer import import_folder
    from deskscribe.storage import descriptions as D

    folders = sorted(p for p in screenagent.iterdir() if p.is_dir())
    first = import_folder(db, folders[0]).episode_id
    again = import_folder(db, folders[0]).episode_id
    other = import_folder(db, folders[1]).episode_id
    same_text = import_folder(db, folders[2]).episode_id
    texts = {first: "Opened a terminal.", again: "The user ran python.", other: "Browsed the web!",
             same_text: "browsed   the WEB"}
    for ep, text in texts.items():
        D.add_description(db, ep, text, ["step one"], author="model")
        D.review(db, ep, "accepted")
    res = export(db, "hf", tmp_path / "out", ExportOptions(max_images=2, max_side=256, val_fraction=0), ocr=ocr)
    assert res.summary.duplicates_removed == [again, same_text]
    sft = _parquet_rows(res.out_dir, "sft", "train")
    assert sorted(r["episode_id"] for r in sft) == [first, other]
    assert all(max(Image.open(io.BytesIO(im["bytes"])).size) <= 256 for r in sft for im in r["images"])
    assert "2 duplicate episodes removed" in (res.out_dir / "README.md").read_text()
