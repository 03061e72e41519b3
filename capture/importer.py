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
Unreadable or non-image files, decompression bombs, file names that are not UTF-8 and symbolic links that
lead nowhere (loops) are reported by name and skipped; the rest of the folder imports. A metadata field of
the wrong shape (``frames: 5``, ``ts: "yesterday"`` or NaN, a title that is not a string) refuses the folder
with one line naming the file and the field; the CLI goes on with the next folder. Any action wording that
is not a click, scroll or key press counts as typed text. The whole import of a folder is one transaction.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from PIL import Image, UnidentifiedImageError

from deskscribe import bounds
from deskscribe.errors import ImportFailed
from deskscribe.storage import events as ev
from deskscribe.storage.db import transaction
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
        return _typed(m.group(1), ts, keep_text)
    if m := re.match(r"(?:mouse )?(double[ _])?click (left|right|middle)(?: at (\d+),\s*(\d+))?", action):
        x, y = (int(m.group(3)), int(m.group(4))) if m.group(3) else (None, None)
        return [EventIn.of(ts, ev.Click(x, y, m.group(2), 2 if m.group(1) else 1))]
    if re.fullmatch(r"mouse move(?: (?:to )?\d+,\s*\d+)?", action):
        return []  # pointer moves are not actions (capture records none either)
    if m := re.fullmatch(r"mouse drag (left|right|middle)(?: (?:from )?(\d+),\s*(\d+) to (\d+),\s*(\d+))?", action):
        if m.group(2) is None:
            return []  # a drag whose points were not recorded says nothing a step could use
        x1, y1, x2, y2 = (int(m.group(i)) for i in range(2, 6))
        return [EventIn.of(ts, ev.Drag(x1, y1, x2, y2, m.group(1)))]
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
    # Any other wording (TYPE 'x', typewrite("x"), free text) may hold what was typed: it is treated as typed
    # text, so the typed-text opt-out holds for it too.
    return _typed(action, ts, keep_text)


def _typed(text: str, ts: float, keep_text: bool) -> list[EventIn]:
    events = [EventIn.of(ts, ev.Keys(len(text)))]
    if keep_text:
        events.append(EventIn.of(ts, ev.Text(text)))
    return events


def display(name: str | Path) -> str:
    """A file name as it can be printed and stored: bytes that are not UTF-8 shown as \\xNN escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shape(where: str, field: str, value: Any, want: str) -> ImportFailed:
    shown = repr(value)
    return ImportFailed(f"{where}: {field} must be {want} (got {shown[:60]}{'…' if len(shown) > 60 else ''})")


def _text(where: str, field: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _shape(where, field, value, "a string")


def _frame_meta(where: str, field: str, raw: Any, file_key: str) -> tuple[str, dict[str, Any]]:
    """One frame's metadata, checked: (file name, {ts, app, window_title, actions} present ones)."""
    if not isinstance(raw, dict):
        raise _shape(where, field, raw, "an object")
    name = raw.get(file_key)
    if not isinstance(name, str) or not name:
        raise _shape(where, f"{field}.{file_key}", name, "a file name")
    out: dict[str, Any] = {}
    if "ts" in raw:
        ts = raw["ts"]
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
            raise _shape(where, f"{field}.ts", ts, "a finite number (Unix time in seconds)")
        problem = bounds.time_problem(ts)
        if problem:
            raise ImportFailed(f"{where}: {field}.ts {problem}; fix it or leave it out (the file order is used)")
        out["ts"] = float(ts)
    for key in ("app", "window_title"):
        if key in raw:
            out[key] = _text(where, f"{field}.{key}", raw[key])
    actions = raw.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise _shape(where, f"{field}.actions", actions, "a list of strings")
    out["actions"] = actions
    return name, out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"{path}: not valid JSON ({exc})") from exc
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _sidecar(folder: Path) -> dict[str, Any]:
    side = folder / SIDECAR
    if side.exists():
        data = _read_json(side)
        where = display(side)
        if not isinstance(data, dict):
            raise ImportFailed(f"{where}: must hold a JSON object")
        frames = data.get("frames", [])
        if not isinstance(frames, list):
            raise _shape(where, "frames", frames, "a list of objects")
        by_file = dict(_frame_meta(where, f"frames[{i}]", f, "file") for i, f in enumerate(frames))
        return {"app": _text(where, "app", data.get("app")),
                "window_title": _text(where, "window_title", data.get("window_title")), "by_file": by_file}
    jsonl = folder.parent / "episodes.jsonl"
    if jsonl.exists():
        try:
            lines = jsonl.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ImportFailed(f"{display(jsonl)}: cannot be read as UTF-8 text ({exc})") from exc
        for n, line in enumerate(lines, 1):
            try:
                row = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                continue  # a line of some other episode; the one for this folder is checked below
            if isinstance(row, dict) and row.get("episode") == folder.name:
                where = f"{display(jsonl)} line {n}"
                steps = row.get("steps", [])
                if not isinstance(steps, list):
                    raise _shape(where, "steps", steps, "a list of objects")
                by_file = dict(_frame_meta(where, f"steps[{i}]", st, "image") for i, st in enumerate(steps))
                return {"by_file": by_file}
    return {"by_file": {}}


class _Unreadable(ImportFailed):
    """A file to report and skip."""


def _read_image(path: Path) -> EncodedImage:
    data = path.read_bytes()
    try:
        with warnings.catch_warnings():
            # Past MAX_IMAGE_PIXELS Pillow only warns (and raises at twice that): both are refused here, so a
            # decompression bomb costs a header read, not gigabytes of memory.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                fmt = (img.format or "").lower()
                width, height = img.size
                if fmt in ("jpeg", "png", "webp"):
                    return EncodedImage(data, fmt, width, height)
                buf = io.BytesIO()
                img.convert("RGB").save(buf, "PNG")
                return EncodedImage(buf.getvalue(), "png", width, height)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _Unreadable(f"too many pixels to import safely (over {Image.MAX_IMAGE_PIXELS:,}: "
                          "a decompression bomb?)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _Unreadable(f"unreadable image ({exc.__class__.__name__})") from exc


def _entries(folder: Path, result: ImportResult) -> list[Path]:
    """The folder's image files in name order; everything else is reported in ``result.skipped``."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: _natural_key(p.name))
    except OSError as exc:
        raise ImportFailed(f"{display(folder)}: cannot be listed ({exc.strerror or exc})") from exc
    files = []
    for path in entries:
        name = display(path.name)
        if path.name in (SIDECAR, "episodes.jsonl"):
            continue
        if not _utf8(path.name):
            result.skipped.append((name, "the file name is not valid UTF-8: rename it to import it"))
        elif path.is_symlink() and not path.exists():
            result.skipped.append((name, "a symbolic link that leads nowhere (a loop, or a missing target)"))
        elif path.is_dir():
            result.skipped.append((name, "a folder: import it on its own"))
        elif not path.is_file():
            result.skipped.append((name, "not a regular file"))
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            result.skipped.append((name, "not an image file"))
        else:
            files.append(path)
    return files


def import_folder(
    db: sqlite_utils.Database,
    folder: Path | str,
    *,
    keep_typed_text: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportFailed(f"{display(folder)}: not a folder")
    meta = _sidecar(folder)
    result = ImportResult(folder, None, 0)
    files = _entries(folder, result)
    images: list[tuple[Path, EncodedImage]] = []
    for i, path in enumerate(files):
        try:
            images.append((path, _read_image(path)))
        except _Unreadable as exc:
            result.skipped.append((display(path.name), str(exc)))
        except OSError as exc:
            result.skipped.append((display(path.name), f"cannot be read ({exc.strerror or exc})"))
        if progress:
            progress(i + 1, len(files))
    if not images:
        why = "; ".join(f"{name}: {reason}" for name, reason in result.skipped[:3])
        more = f" and {len(result.skipped) - 3} more" if len(result.skipped) > 3 else ""
        raise ImportFailed(f"{display(folder)}: no readable images" + (f" ({why}{more})" if why else " (it is empty)"))
    base_ts = min(p.stat().st_mtime for p, _ in images)
    with transaction(db):
        episode_id = create_episode(db, base_ts, source="import", source_ref=display(folder.resolve()))
        for i, (path, image) in enumerate(images):
            info = meta["by_file"].get(path.name, {})
            ts = info.get("ts", base_ts + i * DEFAULT_STEP_S)
            events = [e for a in info.get("actions", []) for e in parse_action(a, ts, keep_typed_text)]
            add_frame(db, episode_id, FrameIn(
                ts=ts, image=image, app=info.get("app", meta.get("app")),
                window_title=info.get("window_title", meta.get("window_title")),
                name=path.name, events=events, trigger="import",
            ))
        close_episode(db, episode_id)
    result.episode_id = episode_id
    result.frames = len(images)
    return result
