"""Export test data built with storage functions only, and a shared OCR engine.

OCR costs ~0.5-1 s per image on 2 cores, so the sample episodes use few small images and the tests share
one RapidOCR engine that remembers results per pixel content (the real engine still reads every distinct
image once; only repeated exports of the same pixels in one session are answered from memory).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from deskscribe.export.images import OcrEngine, OcrLines


class CachedOcr(OcrEngine):
    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[str, OcrLines] = {}
        self.calls = 0

    def __call__(self, img: Image.Image) -> OcrLines:
        key = hashlib.sha1(img.convert("RGB").tobytes()).hexdigest()
        if key not in self.cache:
            self.calls += 1
            self.cache[key] = super().__call__(img)
        return self.cache[key]


@pytest.fixture(scope="session")
def ocr() -> CachedOcr:
    return CachedOcr()


def make_folder(root: Path, name: str, n_frames: int, *, title: str = "Terminal", size=(320, 240),
                actions: list[list[str]] | None = None) -> Path:
    """A folder of distinct JPEG screenshots (colour blocks, no text) with a deskscribe.json sidecar."""
    folder = root / name
    folder.mkdir(parents=True)
    seed = int(hashlib.sha1(name.encode()).hexdigest()[:6], 16)
    frames = []
    for i in range(n_frames):
        img = Image.new("RGB", size, ((seed >> 16) % 256, (seed >> 8) % 256, (seed + 40 * i) % 256))
        ImageDraw.Draw(img).rectangle([10 + 30 * i, 20, 90 + 30 * i, 120], fill=(255 - 20 * i, 60, 30))
        img.save(folder / f"{i:02d}.jpg", quality=85)
        frames.append({"file": f"{i:02d}.jpg", "ts": 1_700_000_000 + seed % 1000 * 100 + 2 * i,
                       "actions": (actions or [])[i] if actions and i < len(actions) else ["mouse click left"]})
    (folder / "deskscribe.json").write_text(json.dumps({"app": "xterm", "window_title": title, "frames": frames}))
    return folder


@dataclass
class Sample:
    ids: dict[str, int]  # role -> episode id


def build_sample(db: Any, root: Path) -> Sample:
    """Six episodes covering every review state:

    accepted (model draft, captioned), edited (person corrected a draft), rejected (draft), unreviewed (draft),
    accepted2 (draft), edited_accepted (corrected, then accepted).
    """
    from deskscribe.capture.importer import import_folder
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.frames import episode_frames

    run = D.model_run_id(db, D.ModelRun("describe", "llama_cpp", "smollm2", None, "v1", {}))
    cap = D.model_run_id(db, D.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
    ids: dict[str, int] = {}
    for role in ("accepted", "edited", "rejected", "unreviewed", "accepted2", "edited_accepted"):
        ep = import_folder(db, make_folder(root, role, 2)).episode_id
        assert ep is not None
        ids[role] = ep
        D.add_description(db, ep, f"The user worked in a terminal ({role}).", [f"Opened xterm for {role}",
                          f"Typed a command for {role}"], author="model", model_run_id=run)
    for f in episode_frames(db, ids["accepted"]) + episode_frames(db, ids["accepted2"]):
        D.put_caption(db, f["image_hash"], cap, f"A terminal window, frame {f['id']}", ocr_text="$ ls")
    D.review(db, ids["accepted"], "accepted")
    D.review(db, ids["accepted2"], "accepted")
    D.review(db, ids["rejected"], "rejected")
    D.add_description(db, ids["edited"], "The user listed files in a terminal.", ["Opened xterm", "Ran ls -la"],
                      author="person")
    D.add_description(db, ids["edited_accepted"], "The user checked disk usage.", ["Opened xterm", "Ran df -h"],
                      author="person")
    D.review(db, ids["edited_accepted"], "accepted")
    return Sample(ids)


@pytest.fixture
def sample(db: Any, tmp_path: Path) -> Sample:
    """The six-episode sample in this test's own database (the DESKSCRIBE_HOME one)."""
    return build_sample(db, tmp_path / "src")


@pytest.fixture(scope="session")
def shared_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Sample]]:
    """The same sample in a session-wide database, for tests that only read exports."""
    from deskscribe.storage.db import open_db

    root = tmp_path_factory.mktemp("shared")
    db = open_db(root / "deskscribe.db")
    sample = build_sample(db, root / "src")
    db.conn.close()
    yield root / "deskscribe.db", sample


@pytest.fixture(scope="session")
def exports(shared_db: tuple[Path, Sample], ocr: CachedOcr, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every format exported once from the shared sample (unreviewed drafts included, 1 in 3 to validation)."""
    from deskscribe.export.core import ExportOptions, export
    from deskscribe.storage.db import open_db

    path, _sample = shared_db
    out = tmp_path_factory.mktemp("exports")
    db = open_db(path, readonly=True)
    results = {}
    for fmt in ("hf", "llama-factory", "openai", "llava", "jsonl"):
        opts = ExportOptions(include_unreviewed=True, max_images=3, val_fraction=0.34, seed=1)
        results[fmt] = export(db, fmt, out / fmt, opts, ocr=ocr)
    db.conn.close()
    return results


# ---- the privacy canary: fake secrets of every kind the export must redact (none of them is real) ----

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
AWS = "AKIAZ7QK3M9XW2PLR4TB"
GITHUB = "ghp_R8mK2vQx7LpN4tZs9WcY3hJd6FbG1aEo5uXi"
EMAIL = "jane.canary@example.org"
CARD = "4539 1488 0343 6467"
KEY_BODY = ["MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo", "4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0"]
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(KEY_BODY) + "\n-----END RSA PRIVATE KEY-----"
# What must not appear in any exported text (compared without whitespace).
TEXT_CANARIES = [AWS, GITHUB, EMAIL, CARD.replace(" ", ""), *KEY_BODY]
EXPECTED_KINDS = {"aws_key", "github_token", "email", "card_number", "private_key"}
IMAGE_LINES = [f"key {AWS}", f"token {GITHUB}", f"mail {EMAIL}", f"card {CARD}",
               "-----BEGIN RSA PRIVATE KEY-----", *KEY_BODY, "-----END RSA PRIVATE KEY-----", "Meeting notes"]


def secret_screenshot(path: Path) -> Path:
    """A screenshot with every canary drawn large and readable (DejaVuSans 26 px on white)."""
    font = ImageFont.truetype(str(FONT), 26)
    img = Image.new("RGB", (1000, 40 + 44 * len(IMAGE_LINES)), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(IMAGE_LINES):
        draw.text((20, 20 + 44 * i), line, fill="black", font=font)
    img.save(path, quality=92)
    return path


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


@pytest.fixture
def canary() -> Any:
    import types

    return types.SimpleNamespace(
        AWS=AWS, GITHUB=GITHUB, EMAIL=EMAIL, CARD=CARD, KEY_BODY=KEY_BODY, PRIVATE_KEY=PRIVATE_KEY,
        TEXT_CANARIES=TEXT_CANARIES, EXPECTED_KINDS=EXPECTED_KINDS, secret_screenshot=secret_screenshot,
    )
