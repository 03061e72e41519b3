"""Import folders of screenshots as episodes (``deskscribe import PATH...``).

A folder becomes one episode; file-name order is time order. Optional metadata, first found wins:

1. ``deskscribe.json`` in the folder::

       {"app": "gimp", "window_title": "GNU Image Manipulation Program",
        "frames": [{"file": "00.jpg", "ts": 1732450000.0, "app": "gimp", "window_title": "...",
                    "actions": ["mouse click left", "press Control_L+a", "type '70'", "scroll down"]}]}

   Every key is optional; per-frame values override the folder-wide ``app``/``window_title``.
2. ``episodes.jsonl`` in the parent folder (the ScreenAgent layout), with a line whose ``episode`` is the
   folder's name and ``steps: [{"image": "00.jpg", "actions": [...]}]``.

Actions become input events. ``type '…'`` keeps its text only when typed text is allowed (config
``capture.store_typed_text`` or ``--keep-typed-text``); otherwise only the key count is stored.
Unreadable or non-image files are reported by name and skipped; the whole import is one transaction.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from PIL import Image, UnidentifiedImageError

from deskscribe.errors import ImportFailed
from deskscribe.storage.db import transaction
from deskscribe.storage import events as ev
from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn, add_frame, close_episode, create_episode

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
SIDECAR = "deskscribe.json"
DEFAULT_STEP_S = 2.0
# Names as live capture writes them (capture/activity.py MODIFIERS; pynput's Key.enter is "enter").
_MODIFIERS = {"control": "ctrl", "ctrl": "ctrl", "alt": "alt", "shift": "shift", "super": "cmd", "meta": "cmd"}
_KEYS = {"return": "enter", "kp_enter": "enter", "escape": "esc"}


@dataclass
class ImportResult:
    path: Path
    episode_id: int | None
    frames: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)


def _natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _key_name(token: str) -> str:
    base = token.split("_")[0].lower()
    return _MODIFIERS.get(base) or _KEYS.get(token.lower(), token.lower())


def parse_action(action: str, ts: float, keep_text: bool) -> list[EventIn]:
    """Turn one recorded action (xdotool/ScreenAgent wording) into input events."""
    action = action.strip()
    if m := re.match(r"type '(.*)'$", action, re.S):
        text = m.group(1)
        events = [EventIn.of(ts, ev.Keys(len(text)))]
        if keep_text:
            events.append(EventIn.of(ts, ev.Text(text)))
        return events
    if m := re.match(r"(?:mouse )?(double )?click (left|right|middle)(?: at (\d+),\s*(\d+))?", action):
        x, y = (int(m.group(3)), int(m.group(4))) if m.group(3) else (None, None)
        return [EventIn.of(ts, ev.Click(x, y, m.group(2), 2 if m.group(1) else 1))]
    if m := re.match(r"(?:mouse )?scroll (up|down|left|right)(?: (\d+))?", action):
        n = int(m.group(2) or 1)
        dy = {"up": n, "down": -n}.get(m.group(1), 0)
        dx = {"right": n, "left": -n}.get(m.group(1), 0)
        return [EventIn.of(ts, ev.Scroll(dx, dy, n))]
    if m := re.match(r"press (.+)$", action):
        parts = [_key_name(p) for p in m.group(1).split("+")]
        if len(parts) > 1 and set(parts[:-1]) <= set(_MODIFIERS.values()):
            return [EventIn.of(ts, ev.Shortcut("+".join(parts)))]
        key = _key_name(m.group(1))
        return [EventIn.of(ts, ev.Keys(1, {key: 1}, "enter" if key == "enter" else None))]
    return [EventIn.of(ts, ev.Other(action))]


def _sidecar(folder: Path) -> dict[str, Any]:
    side = folder / SIDECAR
    if side.exists():
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ImportFailed(f"{side}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise ImportFailed(f"{side}: must hold a JSON object")
        frames = {f.get("file"): f for f in data.get("frames", []) if isinstance(f, dict)}
        return {**data, "by_file": frames}
    jsonl = folder.parent / "episodes.jsonl"
    if jsonl.exists():
        for line in jsonl.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if row.get("episode") == folder.name:
                steps = {s.get("image"): {"actions": s.get("actions", [])} for s in row.get("steps", [])}
                return {"by_file": steps}
    return {"by_file": {}}


def _read_image(path: Path) -> EncodedImage:
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        fmt = (img.format or "").lower()
        width, height = img.size
        if fmt in ("jpeg", "png", "webp"):
            return EncodedImage(data, fmt, width, height)
        buf = io.BytesIO()
        img.convert("RGB").save(buf, "PNG")
        return EncodedImage(buf.getvalue(), "png", width, height)


def import_folder(
    db: sqlite_utils.Database,
    folder: Path | str,
    *,
    keep_typed_text: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportFailed(f"{folder}: not a folder")
    meta = _sidecar(folder)
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.name != SIDECAR and p.name != "episodes.jsonl"),
        key=lambda p: _natural_key(p.name),
    )
    result = ImportResult(folder, None, 0)
    images: list[tuple[Path, EncodedImage]] = []
    for i, path in enumerate(files):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            result.skipped.append((path.name, "not an image file"))
        else:
            try:
                images.append((path, _read_image(path)))
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
                result.skipped.append((path.name, f"unreadable image ({exc.__class__.__name__})"))
        if progress:
            progress(i + 1, len(files))
    if not images:
        raise ImportFailed(f"{folder}: no readable images")
    base_ts = min(p.stat().st_mtime for p, _ in images)
    with transaction(db):
        episode_id = create_episode(db, base_ts, source="import", source_ref=str(folder.resolve()))
        for i, (path, image) in enumerate(images):
            info = meta["by_file"].get(path.name, {})
            ts = float(info.get("ts", base_ts + i * DEFAULT_STEP_S))
            events = [e for a in info.get("actions", []) for e in parse_action(str(a), ts, keep_typed_text)]
            add_frame(db, episode_id, FrameIn(
                ts=ts, image=image, app=info.get("app", meta.get("app")),
                window_title=info.get("window_title", meta.get("window_title")),
                name=path.name, events=events, trigger="import",
            ))
        close_episode(db, episode_id)
    result.episode_id = episode_id
    result.frames = len(images)
    return result
