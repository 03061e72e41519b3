"""Privacy canary: planted secrets never leave, in text or in pixels, and the report lists them."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from PIL import Image

from deskscribe.errors import ExportError
from deskscribe.export.core import ExportOptions, export

SUSPECT = "Zx9Qm2Lp8Vr4Tn6Wb1Yc3Kd5Hf7Jg0Aq"
IMAGE_COLS = ("images", "image", "marked_image")
DATA_URI = re.compile(r"data:image/\w+;base64,([A-Za-z0-9+/=]+)")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _plant(db: Any, root: Path, c: Any) -> int:
    from deskscribe.capture.importer import import_folder
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.frames import episode_frames

    folder = root / "secret"
    folder.mkdir(parents=True)
    c.secret_screenshot(folder / "00.jpg")
    Image.new("RGB", (320, 240), (30, 120, 90)).save(folder / "01.jpg")
    meta_files = c.metadata_images(folder, 2)
    personal = " ".join(c.PERSONAL)
    frames = [{"file": "00.jpg", "window_title": f"creds {c.AWS} - {c.EMAIL}",
               "actions": [f"type 'token={c.GITHUB}'", "mouse click left", f"type 'jwt {c.JWT} ok'"]},
              {"file": "01.jpg", "window_title": f"pay {c.CARD} {c.STRIPE_LONG}."},
              {"file": meta_files[0], "window_title": f"bank {c.IBAN} EUR"},
              {"file": meta_files[1], "window_title": f"HR record ssn {c.SSN} phone {c.PHONE}"}]
    (folder / "deskscribe.json").write_text(json.dumps({"app": "xterm", "frames": frames}))
    ep = import_folder(db, folder, keep_typed_text=True).episode_id
    run = D.model_run_id(db, D.ModelRun("describe", "llama_cpp", "smollm2", None, "v1", {}))
    cap = D.model_run_id(db, D.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
    for f in episode_frames(db, ep):
        D.put_caption(db, f["image_hash"], cap, f"Editor showing {c.GITHUB} and card {c.CARD} key {c.STRIPE}",
                      ocr_text=f"{c.PRIVATE_KEY}\n{c.AWS}\n{personal}")
    D.add_description(db, ep, f"The user pasted {c.AWS} into a file, then {c.STRIPE_LONG}.",
                      [f"Opened {c.PRIVATE_KEY}", f"Sent {c.JWT} to the API"], author="model", model_run_id=run)
    D.add_description(db, ep, f"The user mailed {c.EMAIL} and called {c.PHONE}.",
                      [f"Paid with {c.CARD}", f"Used {c.GITHUB}", f"Wired to {c.IBAN}", f"SSN {c.SSN}"],
                      author="person")
    return ep


def _texts(out: Path) -> list[tuple[Path, str]]:
    found = []
    for p in out.rglob("*"):
        if p.suffix in (".json", ".jsonl", ".md", ".txt"):
            found.append((p, DATA_URI.sub("data-uri", p.read_text(encoding="utf-8"))))
        elif p.suffix == ".parquet":
            table = pq.read_table(p)
            text_cols = [n for n in table.column_names if n not in IMAGE_COLS]
            found.append((p, json.dumps(table.select(text_cols).to_pylist(), ensure_ascii=False)))
    return found


def _images(out: Path) -> list[tuple[str, bytes]]:
    """Every exported image: files, Parquet cells and the openai format's base64 data URIs."""
    imgs = [(str(p), p.read_bytes()) for p in out.rglob("*") if p.suffix in (".jpg", ".png", ".webp")]
    for p in out.rglob("*.parquet"):
        table = pq.read_table(p)
        for col in (c for c in IMAGE_COLS if c in table.column_names):  # trajectories: image, marked_image
            for i, value in enumerate(table.column(col).to_pylist()):
                cell = value if isinstance(value, list) else [value]
                imgs += [(f"{p}:{col}:{i}", im["bytes"]) for im in cell if im]
    for p in out.rglob("*.jsonl"):  # openai: images as data URIs
        imgs += [(f"{p}:uri{i}", base64.b64decode(m)) for i, m in enumerate(DATA_URI.findall(p.read_text()))]
    return imgs


def _pieces(secret: str, n: int = 12) -> list[str]:
    """The secret and every n-character piece of it: a tail left behind (a Stripe key's, a JWT signature) is
    found as well as the whole."""
    s = _compact(secret)
    return [s] + [s[i:i + n] for i in range(0, max(1, len(s) - n + 1), 3)]


def _leaks(haystack: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if any(p in haystack for p in _pieces(s))]


def _check_export(res: Any, canary: Any, ocr: Any, fmt: str) -> set[str]:
    """No canary in any text, image metadata or OCR'd pixels; returns the report's kinds."""
    texts = _texts(res.out_dir)
    assert any(p.name == "redaction_report.json" for p, _ in texts)
    for path, text in texts:
        text = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", text)
        assert not _leaks(_compact(text.replace("\\n", "\n")), canary.TEXT_CANARIES), path
    images = _images(res.out_dir)
    assert len(images) >= 3, fmt
    for name, data in images:
        raw = data.decode("latin-1")
        assert not _leaks(_compact(raw), canary.TEXT_CANARIES + canary.PERSONAL), f"canary in the bytes of {name}"
        img = Image.open(io.BytesIO(data))
        assert not {"exif", "comment", "xmp", "icc_profile"} & set(img.info), (name, sorted(img.info))
        assert not getattr(img, "text", None), (name, img.text)
        seen = _compact(" ".join(t for _b, t in ocr(img)))
        assert not _leaks(seen, canary.IMAGE_CANARIES), f"OCR still reads a canary in {name}"
    report = json.loads((res.out_dir / "redaction_report.json").read_text())
    assert not report["remaining"]
    return set(report["counts"])


def test_canary_never_leaves(db, tmp_path: Path, canary, ocr) -> None:
    _plant(db, tmp_path / "src", canary)
    outs = {}
    for fmt in ("hf", "jsonl", "llama-factory", "openai", "llava"):
        outs[fmt] = export(db, fmt, tmp_path / fmt, ExportOptions(val_fraction=0), ocr=ocr)
        kinds = _check_export(outs[fmt], canary, ocr, fmt)
        assert canary.EXPECTED_KINDS <= kinds, (fmt, kinds)
        report = json.loads((outs[fmt].out_dir / "redaction_report.json").read_text())
        places = {e["where"].get("field") or e["where"].get("in") for e in report["findings"]}
        assert {"caption", "summary", "steps", "image pixels"} <= places, places
        pixel_kinds = {e["kind"] for e in report["findings"] if e["where"].get("in") == "image pixels"}
        assert {"us_ssn", "iban", "phone", "stripe_key", "jwt"} <= pixel_kinds, (fmt, pixel_kinds)
        assert outs[fmt].stats["scan_images"] >= 3, outs[fmt].stats
    jsonl_places = {e["where"].get("field") for e in json.loads(
        (outs["jsonl"].out_dir / "redaction_report.json").read_text())["findings"]}
    assert {"window_title", "ocr_text", "event text"} <= jsonl_places, jsonl_places
    # the secret-bearing screenshot is blacked out, the plain ones pass with their pixels unchanged
    assert outs["hf"].stats["redacted_images"] == 1


def test_flagged_item_refuses_export(db, sample, tmp_path: Path, ocr) -> None:
    from deskscribe.storage import descriptions as D

    D.add_description(db, sample.ids["accepted"], f"The user pasted {SUSPECT} into the config.", ["Saved it"],
                      author="person")
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="--allow-flagged") as err:
        export(db, "hf", out, ExportOptions(), ocr=ocr)
    assert "suspect_token" in str(err.value) and SUSPECT not in str(err.value)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "temp files left behind"

    res = export(db, "hf", out, ExportOptions(allow_flagged=True), ocr=ocr)
    report = json.loads((res.out_dir / "redaction_report.json").read_text())
    assert [e["kind"] for e in report["remaining"]] == ["suspect_token"]
    assert SUSPECT not in (res.out_dir / "redaction_report.json").read_text()
    assert "NOT redacted" in (res.out_dir / "README.md").read_text()
