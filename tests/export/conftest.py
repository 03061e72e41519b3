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
# Personal data: valid by the checks a real one passes (SSN ranges, IBAN mod 97, a dialable US number).
SSN = "536-22-1473"
IBAN = "DE89 3704 0044 0532 0130 00"
PHONE = "(415) 555-2671"
# Whole tokens: detect-secrets' Stripe pattern covers 32 characters and its JWT pattern stops before the
# signature; the redaction must take the whole token. The long key is 107 characters (text only: a line
# that long does not fit a readable screenshot).
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcTYooMQauvdEDq54NiTphI7jx"
STRIPE_LONG = "sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijABCDEFGHIJ0123456789klmnopqrstuvwxyzQRSTU"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.Qm9Tc2lnbmF0dXJlX3Rlc3RfMTIzNDU2Nzg5"
PERSONAL = [SSN, IBAN, PHONE]
# What must not appear in any exported text (compared without whitespace, also as 12-character pieces).
TEXT_CANARIES = [AWS, GITHUB, EMAIL, CARD.replace(" ", ""), *KEY_BODY, SSN, IBAN.replace(" ", ""),
                 PHONE.replace(" ", ""), STRIPE, STRIPE_LONG, JWT, JWT.split(".")[2]]
EXPECTED_KINDS = {"aws_key", "github_token", "email", "card_number", "private_key", "us_ssn", "iban", "phone",
                  "stripe_key", "jwt"}
IMAGE_LINES = [f"key {AWS}", f"token {GITHUB}", f"mail {EMAIL}", f"card {CARD}",
               "-----BEGIN RSA PRIVATE KEY-----", *KEY_BODY, "-----END RSA PRIVATE KEY-----",
               f"ssn {SSN}", f"iban {IBAN}", f"phone {PHONE}", f"stripe {STRIPE}", f"jwt {JWT}", "Meeting notes"]
# Pixels: the same canaries except the 107-character key.
IMAGE_CANARIES = [c for c in TEXT_CANARIES if c != STRIPE_LONG]


def secret_screenshot(path: Path) -> Path:
    """A screenshot with every canary drawn readable (DejaVuSans 21 px on white, 1024 px wide: not resized).

    The size is chosen so RapidOCR reads every line, the 80-character JWT included: it misses that line
    entirely at 22 or 26 px, or after JPEG at quality 92 (a limit of OCR-based pixel redaction that the README states).
    """
    font = ImageFont.truetype(str(FONT), 21)
    img = Image.new("RGB", (1024, 40 + 44 * len(IMAGE_LINES)), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(IMAGE_LINES):
        draw.text((12, 20 + 44 * i), line, fill="black", font=font)
    img.save(path, quality=95)
    return path


def metadata_images(folder: Path, start: int) -> list[str]:
    """Plain pictures whose files carry canaries in metadata only: PNG tEXt/iTXt chunks, JPEG EXIF and comment."""
    from PIL import PngImagePlugin

    png, jpg = f"{start:02d}.png", f"{start + 1:02d}.jpg"
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"owner {SSN} {IBAN}")
    info.add_itxt("Author", f"{EMAIL} {STRIPE}")
    Image.new("RGB", (300, 200), (200, 40, 90)).save(folder / png, pnginfo=info)
    exif = Image.Exif()
    exif[0x010E] = f"call {PHONE} {JWT}"  # ImageDescription
    Image.new("RGB", (300, 200), (20, 140, 190)).save(folder / jpg, exif=exif, comment=f"ssn {SSN}".encode())
    return [png, jpg]


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
        SSN=SSN, IBAN=IBAN, PHONE=PHONE, STRIPE=STRIPE, STRIPE_LONG=STRIPE_LONG, JWT=JWT, PERSONAL=PERSONAL,
        TEXT_CANARIES=TEXT_CANARIES, IMAGE_CANARIES=IMAGE_CANARIES, EXPECTED_KINDS=EXPECTED_KINDS,
        secret_screenshot=secret_screenshot, metadata_images=metadata_images,
    )
