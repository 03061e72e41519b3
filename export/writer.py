"""What every format writer offers the export loop, and the text every dataset card shares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskscribe.export.images import ExportImage
from deskscribe.export.pairs import Example

KINDS = ("sft", "captions", "dpo", "kto")


@dataclass
class ExportSummary:
    """Facts for the dataset card and deskscribe-export.json."""

    fmt: str
    options: dict[str, Any]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    episodes: int = 0
    duplicates_removed: list[int] = field(default_factory=list)
    captions_deduped: int = 0
    redaction_counts: dict[str, int] = field(default_factory=dict)
    remaining: int = 0
    images: int = 0
    image_bytes: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


class FormatWriter:
    """Base writer: formats override what they support. Files are written under ``root`` (a temp folder)."""

    kinds: tuple[str, ...] = KINDS
    media_subdir: str | None = None  # images stay in the export here; None = staged and removed at the end
    dumps_episodes = False
    max_images: int | None = None  # most images one example may carry in this format (None: no limit)

    def __init__(self, root: Path, options: dict[str, Any]) -> None:
        self.root = root
        self.options = options
        self.counts: dict[str, dict[str, int]] = {}

    def count(self, kind: str, split: str) -> None:
        self.counts.setdefault(kind, {}).setdefault(split, 0)
        self.counts[kind][split] += 1

    def image_hashes(self, ex: Example) -> list[str]:
        """The images of ``ex`` this format carries (LLaVA keeps one)."""
        return ex.image_hashes

    def add_example(self, ex: Example, split: str, images: list[ExportImage]) -> None:
        raise NotImplementedError

    def add_episode(self, episode: dict[str, Any], split: str, images: dict[str, ExportImage]) -> None:
        """Only the jsonl dump uses whole episodes."""

    def close(self) -> None:
        """Flush and close every open file."""

    def card(self, summary: ExportSummary) -> str:
        """The README.md text (formats add their own loading instructions)."""
        return summary_markdown(summary)

    def rel(self, img: ExportImage) -> str:
        return img.path.relative_to(self.root).as_posix()


def redaction_table(summary: ExportSummary) -> str:
    if not summary.redaction_counts:
        return "No secrets or personal data were found.\n"
    rows = "\n".join(f"| {k} | {n} |" for k, n in sorted(summary.redaction_counts.items()))
    extra = ""
    if summary.remaining:
        extra = (f"\n**{summary.remaining} flagged item(s) were NOT redacted** and were exported because the "
                 "person confirmed with --allow-flagged; see redaction_report.json.\n")
    return f"| found | count |\n|---|---|\n{rows}\n{extra}"


def summary_markdown(s: ExportSummary) -> str:
    counts = "\n".join(
        f"| {kind} | {c.get('train', 0)} | {c.get('validation', 0)} |" for kind, c in sorted(s.counts.items())
    ) or "| (none) | 0 | 0 |"
    opts = json.dumps(s.options, sort_keys=True)
    return f"""## What is inside

Screen sessions recorded and described with deskscribe, reviewed by the person who recorded them.
{s.episodes} episodes were exported ({len(s.duplicates_removed)} duplicate episodes removed: same keyframe
sequence or same normalized description as an earlier episode; {s.captions_deduped} repeated caption images
removed). Splits are by episode (seeded), so no frame of a validation episode is in train.
{s.images} images ({s.image_bytes / 1e6:.1f} MB), resized to at most {s.options.get('max_side')} px on the
longer side.

| pairs | train | validation |
|---|---|---|
{counts}

- **sft**: keyframes + "What did the user do?" → summary and numbered steps (the person's accepted or
  edited description{'; unreviewed model drafts included' if s.options.get('include_unreviewed') else ''}).
- **captions**: one screenshot → its caption.
- **dpo**: chosen = the person's correction, rejected = the model draft it replaced; and one pair per step
  the person edited: that step's screenshot, task and earlier steps → their text over the one replaced.
- **kto**: accepted drafts and corrections → true; rejected and replaced drafts → false.

## Redaction

Text (window titles, captions, OCR text, descriptions, events) was scanned with detect-secrets' plugins
and deskscribe's own patterns (e-mail, card numbers, private keys, passwords in URLs, key=value secrets)
and for personal data (phone numbers, IBANs, US SSNs, national ids with checksums); each hit was replaced
by `[REDACTED:kind]`, key-like hits as whole tokens. Every exported image was OCR'd (the describe stage's engine), lines
matching the same detectors were blacked out, and it was written as a new file without metadata. The
finished output was read back (text, Parquet cells, image metadata, OCR of every image) and found clean.
redaction_report.json lists what was found where (never the values). Street addresses and names are not
detected.

{redaction_table(s)}
## Privacy

This is personal data of the person who recorded it. Automatic redaction misses things: look through it
before sharing it with anyone.

Options: `{opts}`
"""


class JsonArrayFile:
    """A JSON array written one element at a time (valid JSON once closed; nothing held in memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = path.open("w", encoding="utf-8")
        self.fh.write("[\n")
        self.n = 0

    def add(self, obj: Any) -> None:
        self.fh.write((",\n" if self.n else "") + json.dumps(obj, ensure_ascii=False))
        self.n += 1

    def close(self) -> None:
        self.fh.write("\n]\n")
        self.fh.close()


class Files:
    """Output files opened on first use, one per key."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.open: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        if key not in self.open:
            self.open[key] = self.factory(key)
        return self.open[key]

    def close(self) -> None:
        for f in self.open.values():
            f.close()
