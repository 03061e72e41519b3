"""The task sentence the describe stage writes from the steps (models/summary.py) is the instruction export writes:
the default describe (real OCR, the bundled model, ``describe.compose = "auto"``) on a recorded terminal episode,
then a JSONL trajectory export read back."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from deskscribe.config import Config
from deskscribe.export.core import ExportOptions, export
from deskscribe.models.describe import run_batch
from deskscribe.storage import descriptions as D
from deskscribe.storage import events as ev
from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn, add_frame, close_episode, create_episode

COMMAND = "mkdir ~/Desktop/reports"


def _screen(lines: list[str]) -> EncodedImage:
    img = Image.new("RGB", (640, 200), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((10, 10 + 34 * i), line, fill="black", font=ImageFont.load_default(size=24))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return EncodedImage(buf.getvalue(), "png", 640, 200)


def _terminal_episode(db: Any, t0: float = 1_700_000_000.0) -> int:
    """A command typed (text stored: the person opted in) and run with Enter, as capture links it."""
    ep = create_episode(db, t0)
    add_frame(db, ep, FrameIn(t0, _screen(["root@box:~#"]), 0, "xterm", "root@box: ~"))
    events = [EventIn(t0 + 0.5, "keys", ev.to_details(ev.Keys(len(COMMAND) + 1, {"enter": 1}))),
              EventIn(t0 + 0.6, "text", ev.to_details(ev.Text(COMMAND)))]
    add_frame(db, ep, FrameIn(t0 + 1, _screen([f"root@box:~# {COMMAND}", "root@box:~#"]), 0, "xterm",
                              "root@box: ~", events=events))
    close_episode(db, ep)
    return ep


def test_the_summarised_task_is_the_exported_instruction(db: Any, tmp_path: Path, ocr: Any) -> None:
    ep = _terminal_episode(db)
    res = run_batch(db, Config())
    assert res.done == [ep] and res.compose == "evidence" and res.timers.llm_calls == 0
    desc = D.current_description(db, ep)
    assert desc["steps"] == [f"Ran `{COMMAND}` in the terminal"]
    assert desc["summary"] == "Created the folder reports on the Desktop in the terminal."
    assert desc["instruction"] == "Create the folder reports on the Desktop in the terminal."
    D.review(db, ep, "accepted")
    out = export(db, "jsonl", tmp_path / "jl", ExportOptions(val_fraction=0), ocr=ocr).out_dir
    rows = [json.loads(line) for line in (out / "trajectories.jsonl").read_text().splitlines()]
    assert [(r["episode_id"], r["instruction"], r["instruction_by"]) for r in rows] == \
        [(ep, "Create the folder reports on the Desktop in the terminal.", "steps")]
