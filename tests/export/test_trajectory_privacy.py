"""The privacy canary in a window title, an element name, typed text and screen pixels never reaches a
trajectory output (any format, marked images included), and the report says where it was found."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from PIL import Image

from deskscribe.export.core import ExportOptions, export
from deskscribe.storage import descriptions as D
from deskscribe.storage import events as ev
from deskscribe.storage.actions import episode_actions
from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn, add_frame, close_episode, create_episode
from deskscribe.storage.steps import StepIn

from .test_privacy import _images, _texts


def _encoded(path: Path) -> EncodedImage:
    with Image.open(path) as im:
        return EncodedImage(path.read_bytes(), "jpeg", im.width, im.height)


def _plant(db: Any, tmp: Path, c: Any) -> int:
    shot = _encoded(c.secret_screenshot(tmp / "secret.jpg"))
    plain = Image.new("RGB", (shot.width, shot.height), (30, 120, 90))
    plain.save(tmp / "plain.jpg")
    t0 = 1_700_000_000.0
    ep = create_episode(db, t0)
    element = ev.Element("entry", f"token {c.GITHUB}", (10, 10, 900, 60), "editor")
    add_frame(db, ep, FrameIn(t0, shot, 0, "editor", f"creds {c.AWS} - {c.EMAIL}"))
    add_frame(db, ep, FrameIn(t0 + 1, _encoded(tmp / "plain.jpg"), 0, "editor", f"pay {c.CARD}", events=[
        EventIn(t0 + 0.5, "click", ev.to_details(ev.Click(400, 30, monitor=0, element=element))),
        EventIn(t0 + 0.6, "text", ev.to_details(ev.Text(f"key={c.AWS}")))]))
    close_episode(db, ep)
    click, typed = episode_actions(db, ep)  # the steps as describe stores them: one per action, with evidence
    D.add_description(db, ep, f"The user copied {c.EMAIL}.", [
        StepIn(f"Clicked {c.GITHUB}", click.event_id, "steps", {"target": f"token {c.GITHUB}"}),
        StepIn(f"Typed {c.AWS}", typed.event_id, "steps", {"typed": f"key={c.AWS}", "text_source": "keys"})],
        author="model")
    D.review(db, ep, "accepted")
    D.add_instruction(db, ep, f"Send the key to {c.EMAIL}")
    return ep


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_canary_never_reaches_a_trajectory(db, tmp_path: Path, canary, ocr) -> None:
    _plant(db, tmp_path, canary)
    for fmt in ("hf", "openai", "llama-factory", "jsonl"):
        out = export(db, fmt, tmp_path / fmt, ExportOptions(val_fraction=0, mark_actions=True), ocr=ocr).out_dir
        marker = json.loads((out / "deskscribe-export.json").read_text())
        assert marker["counts"]["trajectories"]["train"] >= 1, fmt
        for path, text in _texts(out):
            flat = _compact(text.replace("\\n", "\n"))
            for secret in canary.TEXT_CANARIES:
                assert _compact(secret) not in flat, f"{secret} leaked into {path}"
        images = _images(out)
        assert len(images) >= 2, fmt
        for name, data in images:
            seen = _compact(" ".join(t for _b, t in ocr(Image.open(io.BytesIO(data)))))
            for secret in canary.TEXT_CANARIES:
                assert _compact(secret) not in seen, f"OCR still reads {secret} in {name}"
        report = json.loads((out / "redaction_report.json").read_text())
        assert not report["remaining"]
        places = {e["where"].get("field") or e["where"].get("in") for e in report["findings"]}
        assert {"element name", "action text", "window_title", "instruction", "image pixels"} <= places, (fmt, places)
