"""Trajectory exports, each read by its real consumer's loader or checked against its consumer's rules."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from deskscribe.export.core import ExportOptions, export
from deskscribe.storage import descriptions as D
from deskscribe.storage import events as ev
from deskscribe.storage.actions import episode_actions
from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn, add_frame, close_episode, create_episode
from deskscribe.storage.steps import StepIn

W, H = 640, 400
BUTTON = ev.Element("push button", "Save", (400, 300, 80, 30), "editor")


def screenshot(i: int) -> EncodedImage:
    """A distinct screen per frame (colour blocks, no text)."""
    img = Image.new("RGB", (W, H), (20 * i % 256, 90, 160))
    ImageDraw.Draw(img).rectangle([30 + 40 * i, 40, 120 + 40 * i, 160], fill=(250, 200 - 15 * i, 40))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return EncodedImage(buf.getvalue(), "jpeg", W, H)


def put_episode(db: Any, n_clicks: int, *, t0: float = 1_700_000_000.0, title: str = "notes - editor",
                element: ev.Element | None = BUTTON, shot: Any = screenshot) -> int:
    """Frames one second apart; a click half a second after each frame (linked, as capture does, to the
    frame stored after it), then a typed text; an accepted description and the person's instruction."""
    ep = create_episode(db, t0)
    for i in range(n_clicks + 1):
        events = []
        if i:
            click = ev.Click(440, 315, monitor=0, element=element) if i == 1 else ev.Click(50 + 10 * i, 60)
            events.append(EventIn(t0 + i - 0.5, "click", ev.to_details(click)))
        add_frame(db, ep, FrameIn(t0 + i, shot(i), 0, "editor", title, events=events))
    add_frame(db, ep, FrameIn(t0 + n_clicks + 1, shot(n_clicks + 1), 0, "editor", title,
                              events=[EventIn(t0 + n_clicks + 0.5, "text", ev.to_details(ev.Text("done")))]))
    close_episode(db, ep)
    steps = [StepIn(f"Clicked the 'Save' button in the editor ({a.event_id})", a.event_id, "steps")
             for a in episode_actions(db, ep)]  # as describe stores them: one per action
    D.add_description(db, ep, f"The user saved the notes ({n_clicks} clicks).", steps, author="model")
    D.review(db, ep, "accepted")
    D.add_instruction(db, ep, "Save the notes in the editor")
    return ep


@pytest.fixture
def traj_db(db: Any) -> Any:
    put_episode(db, 2)
    put_episode(db, 12, t0=1_700_100_000.0)
    return db


def _export(db: Any, fmt: str, out: Path, ocr: Any, **kw: Any) -> Path:
    return export(db, fmt, out, ExportOptions(val_fraction=0, **kw), ocr=ocr).out_dir


def test_hf_trajectories_and_episodes_load_and_decode(traj_db, tmp_path: Path, ocr) -> None:
    from datasets import load_dataset

    out = _export(traj_db, "hf", tmp_path / "hf", ocr, mark_actions=True)
    # a cache of its own: datasets' default cache answered a rerun of this test with the earlier run's rows
    cache = str(tmp_path / "hf-cache")
    steps = load_dataset(str(out), "trajectories", split="train", cache_dir=cache)
    assert len(steps) == (2 + 1 + 1) + (12 + 1 + 1)  # clicks + write + terminate per episode
    for row in steps:
        assert isinstance(row["image"], Image.Image)
        row["image"].load()
        assert row["instruction"] == "Save the notes in the editor"
        assert len(row["history"]) == row["step"] and row["screen_width"] == W and row["screen_height"] == H
        if row["action_type"] == "click":
            x, y = row["point"]
            assert 0 <= x <= 1 and 0 <= y <= 1 and row["action"] == f"click(x={x}, y={y})"
            mark = row["marked_image"]
            mark.load()
            px = mark.getpixel((round(x * mark.width) + 2, round(y * mark.height)))  # on the drawn cross
            assert px[0] > 200 and px[1] < 90, px
        else:
            assert row["marked_image"] is None
    first = steps[0]
    assert first["element_role"] == "push button" and first["element_name"] == "Save"
    bx, by, bw, bh = first["element_box"]
    assert bx <= first["point"][0] <= bx + bw and by <= first["point"][1] <= by + bh
    assert first["point"] == [round(440 / W, 4), round(315 / H, 4)]
    assert [r["action"] for r in steps][2:4] == ['write(text="done")', 'terminate(status="success")']
    episodes = load_dataset(str(out), "episodes", split="train", cache_dir=cache)
    assert [len(r["images"]) for r in episodes] == [4, 14]
    for r in episodes:
        assert all(isinstance(im, Image.Image) for im in r["images"]) and len(r["actions"]) == len(r["codes"])
        assert r["monitors"] == [{"index": 0, "left": 0, "top": 0, "width": W, "height": H}]
    assert "train" in load_dataset(str(out), "sft", cache_dir=cache)  # the pair configs are still there
    assert "## Computer-use trajectories" in (out / "README.md").read_text()


def _decoded(url: str) -> Image.Image:
    head, data = url.split(",", 1)
    assert head == "data:image/jpeg;base64"
    img = Image.open(io.BytesIO(base64.b64decode(data)))
    img.load()
    return img


def test_openai_chats_follow_the_message_schema_and_image_limit(traj_db, tmp_path: Path, ocr) -> None:
    out = _export(traj_db, "openai", tmp_path / "oa", ocr)
    chats = [json.loads(line) for line in (out / "trajectories_train.jsonl").read_text().splitlines()]
    assert len(chats) == 1 + 2  # 4 steps; 14 steps split into 10 + 4
    n_steps = 0
    for chat in chats:
        msgs = chat["messages"]
        assert [m["role"] for m in msgs] == ["user", "assistant"] * (len(msgs) // 2)
        images = [c for m in msgs if m["role"] == "user" for c in m["content"] if c["type"] == "image_url"]
        assert 1 <= len(images) <= 10 and len(images) == len(msgs) // 2
        for m in msgs:
            if m["role"] == "assistant":
                assert isinstance(m["content"], str) and m["content"].startswith("Thought: ")
                assert "\nAction: " in m["content"]
            else:
                assert [c["type"] for c in m["content"]] == ["text", "image_url"]
        for img in images:
            assert _decoded(img["image_url"]["url"]).size == (W, H)
        n_steps += len(msgs) // 2
    assert n_steps == 18
    second = chats[2]["messages"][0]["content"][0]["text"]
    assert second.startswith("Task: Save the notes in the editor\nPrevious steps:\n1. ") and "\n10. " in second


def test_openai_refuses_more_than_ten_images(traj_db, tmp_path: Path, ocr) -> None:
    from deskscribe.errors import ExportError

    with pytest.raises(ExportError, match="at most 10 images"):
        _export(traj_db, "openai", tmp_path / "oa", ocr, max_images=11)


def test_llama_factory_dataset_info_and_one_image_token_per_image(traj_db, tmp_path: Path, ocr) -> None:
    out = _export(traj_db, "llama-factory", tmp_path / "lf", ocr, max_images=6)
    info = json.loads((out / "dataset_info.json").read_text())
    entry = info["deskscribe_trajectories"]
    assert entry["formatting"] == "sharegpt" and entry["columns"] == {"messages": "messages", "images": "images"}
    assert entry["tags"]["user_tag"] == "user" and entry["tags"]["assistant_tag"] == "assistant"
    assert "deskscribe_sft" in info  # the pair datasets are still registered
    rows = json.loads((out / entry["file_name"]).read_text())
    assert [len(r["images"]) for r in rows] == [4, 6, 6, 2]
    for r in rows:
        roles = [m["role"] for m in r["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        assert sum(m["content"].count("<image>") for m in r["messages"]) == len(r["images"])
        assert all(m["content"].count("<image>") == (m["role"] == "user") for m in r["messages"])
        for p in r["images"]:
            with Image.open(out / p) as im:
                assert im.size == (W, H)


def test_jsonl_full_record_with_pyautogui_code(traj_db, tmp_path: Path, ocr) -> None:
    out = _export(traj_db, "jsonl", tmp_path / "jl", ocr, mark_actions=True)
    lines = [json.loads(line) for line in (out / "trajectories.jsonl").read_text().splitlines()]
    assert [len(t["traj"]) for t in lines] == [4, 14]
    t = lines[0]
    assert t["instruction"] == "Save the notes in the editor" and t["summary"] == "The user saved the notes (2 clicks)."
    first = t["traj"][0]
    assert first["value"]["code"] == f"pyautogui.click(x={round(440 / W, 4)}, y={round(315 / H, 4)})"
    assert first["element"]["box_px"] == [400, 300, 80, 30] and first["monitor"]["width"] == W
    # the step describe stored for that action, with who wrote it
    assert first["value"]["description"] == f"Clicked the 'Save' button in the editor ({first['event_id']})"
    assert first["value"]["description_by"] == "steps"
    assert t["traj"][-2]["value"]["action"] == 'write(text="done")' and t["traj"][-2]["value"]["text_source"] == "keys"
    assert t["traj"][2]["value"]["code"] == 'pyautogui.write("done")'
    assert t["traj"][3]["value"]["code"] == "computer.terminate(status='success')"
    for step in t["traj"]:
        for key in ("image", "after_image", "marked_image"):
            if step[key]:
                assert (out / step[key]).is_file()
    assert first["marked_image"] and not t["traj"][2]["marked_image"]
    # the observation precedes the action: the click at t0+0.5 sees frame 0, its after-frame is frame 1
    assert first["ts"] == 1_700_000_000.5 and first["image"] != first["after_image"]


def test_cli_mark_actions(traj_db, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from deskscribe.cli import main

    out = tmp_path / "cli"
    res = CliRunner().invoke(main, ["export", "jsonl", str(out), "--mark-actions", "--val-fraction", "0",
                                    "--progress", "none"])
    assert res.exit_code == 0, res.output
    assert "trajectories 2" in res.output
    steps = [s for line in (out / "trajectories.jsonl").read_text().splitlines() for s in json.loads(line)["traj"]]
    marked = [s for s in steps if s["marked_image"]]
    assert len(marked) == sum(s["value"]["action"].startswith("click(") for s in steps) == 2 + 12
    assert all((out / s["marked_image"]).is_file() and s["marked_image"] != s["image"] for s in marked)
