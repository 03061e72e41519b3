"""Export reuses the describe stage's stored OCR boxes: no OCR for clean images, canaries still blacked out."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from deskscribe.capture.importer import import_folder
from deskscribe.config import Config
from deskscribe.export.core import ExportOptions, export
from deskscribe.export.images import OcrLines, ocr_engine_version, stored_lines
from deskscribe.models import describe as pipeline
from deskscribe.models.base import ModelInfo
from deskscribe.models.ocr import OcrCaptioner
from deskscribe.storage import descriptions as D
from deskscribe.storage import export_queries as q
from deskscribe.storage.frames import episode_frames

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class CountingOcr:
    """The session's real RapidOCR engine, counting every OCR call the export makes."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls = 0

    def __call__(self, img: Image.Image) -> OcrLines:
        self.calls += 1
        return self.real(img)


class NoText:
    """Test double of models.base.TextModel: the test only captions frames, it never describes."""

    info = ModelInfo(backend="test", model="none", params={"n_ctx": 2048})

    def complete(self, messages, *, schema=None, max_tokens=256):  # type: ignore[no-untyped-def]
        raise AssertionError("not used")

    def close(self) -> None:
        pass


def _clean_screenshot(path: Path) -> None:
    """Readable text with nothing secret in it."""
    font = ImageFont.truetype(str(FONT), 26)
    img = Image.new("RGB", (1000, 300), "white")
    for i, line in enumerate(["Meeting notes for Tuesday", "Agenda: budget review", "Next steps: ship it"]):
        ImageDraw.Draw(img).text((20, 30 + 60 * i), line, fill="black", font=font)
    img.save(path, quality=92)


def _captioned_episode(db: Any, root: Path, canary: Any) -> tuple[int, dict[str, str]]:
    """One accepted episode (canary screenshot + clean screenshot) captioned by the real describe pipeline."""
    folder = root / "captioned"
    folder.mkdir(parents=True)
    canary.secret_screenshot(folder / "00.jpg")
    _clean_screenshot(folder / "01.jpg")
    frames = [{"file": "00.jpg"}, {"file": "01.jpg"}]
    (folder / "deskscribe.json").write_text(json.dumps({"app": "gedit", "window_title": "notes", "frames": frames}))
    ep = import_folder(db, folder).episode_id
    assert ep is not None
    pipeline.Describer(db, Config(), NoText(), OcrCaptioner()).frames(ep)  # OCR captions, boxes stored
    D.add_description(db, ep, "The user read notes.", ["Opened the notes"], author="person")
    D.review(db, ep, "accepted")
    hashes = [f["image_hash"] for f in episode_frames(db, ep)]
    return ep, {"secret": hashes[0], "clean": hashes[1]}


def _exported_images(out: Path) -> list[bytes]:
    return [p.read_bytes() for p in out.rglob("*") if p.suffix in (".jpg", ".png", ".webp")]


def test_stored_boxes_black_out_canary_and_skip_ocr_for_clean_images(db, tmp_path: Path, canary, ocr) -> None:
    _ep, hashes = _captioned_episode(db, tmp_path / "src", canary)
    engine = ocr_engine_version()
    assert engine
    for h in hashes.values():
        stored = q.stored_ocr_boxes(db, h, engine)
        assert stored is not None and json.loads(stored)["w"] in (1024, 1000)  # canary, clean screenshot
    assert q.stored_ocr_boxes(db, hashes["clean"], "0.0.0-another-version") is None

    for fmt, opts in (("jsonl", ExportOptions(val_fraction=0)), ("jsonl", ExportOptions(val_fraction=0, max_side=640))):
        counting = CountingOcr(ocr)
        out = tmp_path / f"{fmt}-{opts.max_side}"
        res = export(db, fmt, out, opts, ocr=counting)  # type: ignore[arg-type]
        # both images were checked from the stored boxes; only the redacted one was OCR'd (once, to verify)
        assert res.stats["ocr_reused"] == 2 and res.stats["redacted_images"] == 1, res.stats
        assert res.stats["ocr_runs"] == 1, res.stats
        # ... plus the post-export scan, which OCRs every written image once
        assert res.stats["scan_images"] == 2 and counting.calls == 1 + 2, res.stats
        report = json.loads((res.out_dir / "redaction_report.json").read_text())
        assert not report["remaining"]
        pixel_kinds = {e["kind"] for e in report["findings"] if e["where"].get("in") == "image pixels"}
        assert canary.EXPECTED_KINDS <= pixel_kinds, pixel_kinds
        assert {e["where"]["image"] for e in report["findings"] if e["where"].get("in") == "image pixels"} == {
            hashes["secret"][:12]}
        images = _exported_images(res.out_dir)
        assert len(images) == 2
        for data in images:
            seen = re.sub(r"\s+", "", " ".join(t for _b, t in ocr(Image.open(io.BytesIO(data)))))
            for secret in canary.IMAGE_CANARIES:
                assert re.sub(r"\s+", "", secret) not in seen, f"OCR still reads {secret} ({opts.max_side})"


def test_stored_lines_scale_and_refuse_other_shapes() -> None:
    blob = json.dumps({"w": 1000, "h": 500, "engine": "x", "boxes": [["hello", 100, 50, 200, 20, 0.9]]})
    [(box, text)] = stored_lines(blob, (500, 250)) or []
    assert text == "hello" and box[0] == [50.0, 25.0] and box[2] == [150.0, 35.0]
    assert stored_lines(blob, (500, 400)) is None  # another aspect ratio: not these pixels, OCR fresh
    assert stored_lines("{not json", (500, 250)) is None
    assert stored_lines(json.dumps({"w": 10}), (10, 10)) is None
