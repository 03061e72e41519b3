"""Schema checks for the llama-factory, openai, llava and jsonl exports (what each consumer requires)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_llama_factory(exports: dict[str, Any]) -> None:
    out: Path = exports["llama-factory"].out_dir
    info = _json(out / "dataset_info.json")
    assert {"deskscribe_sft", "deskscribe_captions", "deskscribe_dpo", "deskscribe_kto"} <= set(info)
    assert info["deskscribe_dpo"]["ranking"] is True
    assert info["deskscribe_kto"]["columns"]["kto_tag"] == "label"
    n_rows = 0
    for name, entry in info.items():
        assert entry["formatting"] == "sharegpt" and entry["tags"]["role_tag"] == "role"
        rows = _json(out / entry["file_name"])
        assert rows, name
        for row in rows:
            n_rows += 1
            text = "".join(m["content"] for m in row["messages"])
            if entry.get("ranking"):
                assert row["chosen"]["content"] != row["rejected"]["content"]
                text += row["chosen"]["content"] + row["rejected"]["content"]
            assert text.count("<image>") == len(row["images"]) >= 1
            assert row["messages"][0]["content"].startswith("<image>")
            for rel in row["images"]:
                assert not Path(rel).is_absolute() and (out / rel).is_file()
                Image.open(out / rel).verify()
            if "kto_tag" in entry["columns"]:
                assert isinstance(row["label"], bool)
    assert n_rows == sum(sum(v.values()) for v in exports["llama-factory"].summary.counts.values())


def test_openai(exports: dict[str, Any]) -> None:
    out: Path = exports["openai"].out_dir
    files = sorted(out.glob("*.jsonl"))
    assert {f.name.split("_")[0] for f in files} == {"sft", "captions", "dpo"}
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            messages = row["input"]["messages"] if f.name.startswith("dpo") else row["messages"]
            if f.name.startswith("dpo"):
                assert row["preferred_output"][0]["role"] == "assistant"
                assert row["preferred_output"][0]["content"] != row["non_preferred_output"][0]["content"]
            n_images = 0
            for m in messages:
                if m["role"] != "user":
                    assert isinstance(m["content"], str), "images only in user turns"
                    continue
                for part in m["content"]:
                    if part["type"] == "image_url":
                        n_images += 1
                        head, data = part["image_url"]["url"].split(",", 1)
                        assert head in ("data:image/jpeg;base64", "data:image/png;base64", "data:image/webp;base64")
                        raw = base64.b64decode(data)
                        assert len(raw) <= 10 * 1024 * 1024
                        Image.open(io.BytesIO(raw)).verify()
            assert 1 <= n_images <= 10


def test_llava(exports: dict[str, Any]) -> None:
    out: Path = exports["llava"].out_dir
    files = sorted(out.glob("llava_*.json"))
    assert any(f.name.startswith("llava_sft_") for f in files)
    for f in files:
        for row in _json(f):
            assert isinstance(row["image"], str) and (out / "images" / row["image"]).is_file()
            first, second = row["conversations"]
            assert first["from"] == "human" and first["value"].startswith("<image>\n")
            assert first["value"].count("<image>") == 1 and "<image>" not in second["value"]
            assert second["from"] == "gpt" and second["value"]


def test_jsonl_dump(exports: dict[str, Any], shared_db) -> None:
    out: Path = exports["jsonl"].out_dir
    _path, sample = shared_db
    rows = {r["id"]: r for r in map(json.loads, (out / "episodes.jsonl").read_text().splitlines())}
    assert set(rows) == set(sample.ids.values())
    edited = rows[sample.ids["edited"]]
    assert [d["author"] for d in edited["descriptions"]] == ["model", "person"]
    assert edited["descriptions"][1]["parent_revision"] == 1 and edited["descriptions"][1]["is_current"]
    assert edited["status"] == "edited" and edited["split"] in ("train", "validation")
    assert edited["events"] and edited["events"][0]["kind"] == "click"
    for frame in edited["frames"]:
        assert (out / frame["image"]).is_file() and frame["window_title"] == "Terminal"
    captioned = rows[sample.ids["accepted"]]["frames"][0]
    assert captioned["caption"].startswith("A terminal window") and captioned["ocr_text"] == "$ ls"
    assert "episodes.jsonl" in (out / "README.md").read_text()
