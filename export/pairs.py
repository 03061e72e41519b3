"""Training pairs from one (already redacted) episode, and removal of duplicates.

Pair kinds:
- ``sft``: the episode's keyframes (≤ max_images) + "What did the user do?" → the description (summary and
  numbered steps). Accepted/edited episodes only; unreviewed drafts only when asked for.
- ``captions``: one frame → its latest caption (frames of the episodes SFT may use, each image once).
- ``dpo``: chosen = the person's correction (the current revision), rejected = the model draft it replaced
  (found by walking ``parent_revision`` back to the nearest model revision); chosen ≠ rejected.
- ``kto``: accepted model drafts → True, the person's corrections → True, rejected episodes' drafts → False,
  drafts a correction replaced → False.

Duplicates (documented in the card): an episode whose keyframe hash sequence, or whose normalized current
description, equals an earlier episode's is dropped with all its pairs (the earlier one, by id, stays).
Captions are kept once per image hash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

SFT_PROMPT = "What did the user do?"
CAPTION_PROMPT = "Describe this screenshot."
SFT_OK = ("accepted", "edited")


@dataclass
class Example:
    kind: str  # sft | captions | dpo | kto
    episode_id: int
    image_hashes: list[str]
    prompt: str
    completion: str | None = None
    chosen: str | None = None
    rejected: str | None = None
    label: bool | None = None
    frame_id: int | None = None


def description_text(desc: dict[str, Any]) -> str:
    """Summary, then the steps numbered 1., 2., … — the answer a trained model should give."""
    steps = [str(s).strip() for s in desc.get("steps") or [] if str(s).strip()]
    text = (desc.get("summary") or "").strip()
    if steps:
        text += "\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    return text.strip()


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def keyframes(frames: list[dict[str, Any]], max_images: int) -> list[dict[str, Any]]:
    """Up to ``max_images`` frames spread evenly over the episode, first and last included.

    Consecutive frames with the same image are one frame here (an unchanged screen says nothing new).
    """
    distinct: list[dict[str, Any]] = []
    for f in frames:
        if not distinct or distinct[-1]["image_hash"] != f["image_hash"]:
            distinct.append(f)
    n = len(distinct)
    if n <= max_images:
        return distinct
    if max_images == 1:
        return [distinct[-1]]
    idx = sorted({round(i * (n - 1) / (max_images - 1)) for i in range(max_images)})
    return [distinct[i] for i in idx]


def _model_ancestor(history: list[dict[str, Any]], rev: dict[str, Any]) -> dict[str, Any] | None:
    by_rev = {d["revision"]: d for d in history}
    seen = set()
    cur = rev
    while cur.get("parent_revision") is not None and cur["parent_revision"] not in seen:
        seen.add(cur["parent_revision"])
        cur = by_rev.get(cur["parent_revision"])  # type: ignore[assignment]
        if cur is None:
            return None
        if cur["author"] == "model":
            return cur
    return None


def episode_examples(
    episode: dict[str, Any], frames: list[dict[str, Any]], history: list[dict[str, Any]],
    *, max_images: int, include_unreviewed: bool,
) -> list[Example]:
    """Every pair this episode yields (captions excluded: see :func:`caption_examples`)."""
    ep_id, status = episode["id"], episode["status"]
    hashes = [f["image_hash"] for f in keyframes(frames, max_images)]
    current = next((d for d in history if d["is_current"]), None)
    if not hashes or current is None:
        return []
    out: list[Example] = []
    cur_text = description_text(current)
    if cur_text and (status in SFT_OK or (include_unreviewed and status == "unreviewed")):
        out.append(Example("sft", ep_id, hashes, SFT_PROMPT, completion=cur_text))
    if status in SFT_OK and current["author"] == "model" and cur_text:
        out.append(Example("kto", ep_id, hashes, SFT_PROMPT, completion=cur_text, label=True))
    if status == "rejected" and current["author"] == "model" and cur_text:
        out.append(Example("kto", ep_id, hashes, SFT_PROMPT, completion=cur_text, label=False))
    if status in SFT_OK and current["author"] == "person" and cur_text:
        draft = _model_ancestor(history, current)
        draft_text = description_text(draft) if draft else ""
        if draft_text and normalize(draft_text) != normalize(cur_text):
            out.append(Example("dpo", ep_id, hashes, SFT_PROMPT, chosen=cur_text, rejected=draft_text))
            out.append(Example("kto", ep_id, hashes, SFT_PROMPT, completion=cur_text, label=True))
            out.append(Example("kto", ep_id, hashes, SFT_PROMPT, completion=draft_text, label=False))
    return out


def caption_examples(episode: dict[str, Any], frames: list[dict[str, Any]], include_unreviewed: bool) -> list[Example]:
    status = episode["status"]
    if not (status in SFT_OK or (include_unreviewed and status == "unreviewed")):
        return []
    return [
        Example("captions", episode["id"], [f["image_hash"]], CAPTION_PROMPT, completion=f["caption"].strip(),
                frame_id=f["id"])
        for f in frames if (f.get("caption") or "").strip()
    ]


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=12).digest()


@dataclass
class Deduper:
    """Remembers 12-byte digests only, so memory grows by a few bytes per episode, not per image."""

    sequences: set[bytes] = field(default_factory=set)
    texts: set[bytes] = field(default_factory=set)
    images: set[bytes] = field(default_factory=set)
    dropped_episodes: list[int] = field(default_factory=list)
    dropped_captions: int = 0

    def episode_is_duplicate(self, episode_id: int, frames: list[dict[str, Any]], history: list[dict[str, Any]],
                             max_images: int) -> bool:
        seq = _digest("|".join(f["image_hash"] for f in keyframes(frames, max_images)))
        current = next((d for d in history if d["is_current"]), None)
        text = normalize(description_text(current)) if current else ""
        key_t = _digest(text) if text else None
        if seq in self.sequences or (key_t is not None and key_t in self.texts):
            self.dropped_episodes.append(episode_id)
            return True
        self.sequences.add(seq)
        if key_t is not None:
            self.texts.add(key_t)
        return False

    def keep_caption(self, ex: Example) -> bool:
        key = _digest(ex.image_hashes[0])
        if key in self.images:
            self.dropped_captions += 1
            return False
        self.images.add(key)
        return True
