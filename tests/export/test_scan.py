"""The post-export scan: reads back every written file, finds a planted leak anywhere, and refuses."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from deskscribe.errors import ExportError
from deskscribe.export.core import ExportOptions, export
from deskscribe.export.images import ocr_engine_version
from deskscribe.export.scan import scan_output

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _text_png(text: str) -> bytes:
    img = Image.new("RGB", (700, 90), "white")
    ImageDraw.Draw(img).text((20, 30), text, fill="black", font=ImageFont.truetype(str(FONT), 26))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _png_with_chunk(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def test_clean_export_scans_clean_and_planted_leaks_are_found(exports: dict[str, Any], canary: Any, ocr: Any,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "hf"
    shutil.copytree(exports["hf"].out_dir, out)
    findings, stats = scan_output(out, ocr)
    assert findings == [] and stats["images"] > 0 and stats["files"] > 3, (findings, stats)

    # plant one leak of a different kind in each kind of place
    (out / "notes.md").write_text(f"call me at {canary.PHONE}\n")
    (out / "extra.json").write_text(json.dumps({"person": {"iban": canary.IBAN}}))
    (out / "extra.jsonl").write_text('{"a": 1}\n' + json.dumps({"msg": f"key {canary.STRIPE_LONG}"}) + "\n")
    uri = "data:image/png;base64," + base64.b64encode(_png_with_chunk("x")).decode()
    (out / "uri.jsonl").write_text(json.dumps({"content": [{"image_url": uri}]}) + "\n")
    table = pa.table({"text": ["fine", f"ssn {canary.SSN}"],
                      "images": [[{"bytes": _png_with_chunk("hi"), "path": None}], []]})
    pq.write_table(table, out / "data" / "leak.parquet")
    (out / "shot.png").write_bytes(_text_png(f"jwt {canary.JWT[:44]}"))
    findings, _stats = scan_output(out, ocr)
    got = {(f.kind, f.place) for f in findings}
    assert ("phone", "notes.md") in got
    assert ("iban", "extra.json.person.iban") in got
    assert ("stripe_key", "extra.jsonl line 2.msg") in got
    assert ("metadata", "uri.jsonl line 1.content[0].image_url (data URI) (metadata)") in got
    assert ("us_ssn", "data/leak.parquet row 1.text") in got
    assert ("metadata", "data/leak.parquet row 0.images[0].bytes (metadata)") in got
    assert ("jwt", "shot.png (pixels)") in got, got
    assert len(findings) == len(got) == 7, findings
    assert not any(canary.SSN in str(f) or canary.IBAN in str(f) for f in findings)


def test_leak_that_redaction_missed_is_refused(db: Any, tmp_path: Path, canary: Any, ocr: Any) -> None:
    """Stale stored OCR boxes say the canary screenshot is clean, so redaction skips its pixels; the scan
    reads the written image, finds the secrets and refuses the export, leaving nothing behind."""
    from deskscribe.capture.importer import import_folder
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.frames import episode_frames

    folder = tmp_path / "src" / "stale"
    folder.mkdir(parents=True)
    canary.secret_screenshot(folder / "00.jpg")
    ep = import_folder(db, folder).episode_id
    [frame] = episode_frames(db, ep)
    cap = D.model_run_id(db, D.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
    stale = {"w": frame["width"], "h": frame["height"], "engine": ocr_engine_version(),
             "boxes": [["Meeting notes", 10, 10, 150, 24, 0.99]]}
    D.put_caption(db, frame["image_hash"], cap, "Meeting notes", ocr_text="Meeting notes", ocr_boxes=json.dumps(stale))
    D.add_description(db, ep, "The user read notes.", ["Opened the notes"], author="person")
    D.review(db, ep, "accepted")
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="reading back the written files") as err:
        export(db, "llava", out, ExportOptions(val_fraction=0, allow_flagged=True), ocr=ocr)
    msg = str(err.value)
    assert "images/" in msg and "(pixels): aws_key, github_token" in msg, msg
    assert "us_ssn" in msg and "iban" in msg and "phone" in msg, msg
    assert canary.SSN not in msg and canary.AWS not in msg
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
