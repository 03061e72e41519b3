"""Trajectory outputs, one per format, written beside that format's pairs (see export/trajectory.py).

- ``hf``: configs ``trajectories`` (one row per step) and ``episodes`` (one row per episode, steps in order),
  Parquet with embedded images, loadable as ``load_dataset(OUT, "trajectories")``.
- ``openai``: ``trajectories_<split>.jsonl``, one multi-turn chat per episode chunk: each user turn a
  screenshot (the first also the instruction and the earlier steps), each assistant turn "Thought + Action".
- ``llama-factory``: the same chats as sharegpt ``trajectories_<split>.json`` with one ``<image>`` per image,
  registered in ``dataset_info.json`` as ``deskscribe_trajectories``.
- ``jsonl``: ``trajectories.jsonl``, the full record (OpenCUA-like): one episode per line, per step the
  before/after images, action string, pyautogui code, element, monitor and description.

Image limits: a chat holds at most ``max_images`` screenshots (``--max-images``; ≤ 10 for OpenAI). A longer
trajectory is split into consecutive chunks of that many steps; each chunk's first user turn repeats the
instruction and lists the earlier steps as text, so no step is dropped and every step keeps its screenshot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasets import Features, Image, List, Value

from deskscribe.export.formats_hf import _Part
from deskscribe.export.formats_openai import MAX_IMAGE_BYTES, MIMES, data_uri
from deskscribe.export.images import ExportImage
from deskscribe.export.trajectory import Step, Trajectory
from deskscribe.export.writer import Files, JsonArrayFile, Writer

STEP_PROMPT = "What is the next action?"
CONFIGS = ("trajectories", "episodes")
_STRS = List(Value("string"))
FEATURES = {
    "trajectories": Features({
        "episode_id": Value("int64"), "step": Value("int32"), "image": Image(), "marked_image": Image(),
        "instruction": Value("string"), "history": _STRS, "action": Value("string"),
        "action_type": Value("string"), "code": Value("string"), "description": Value("string"),
        "point": List(Value("float64")), "element_role": Value("string"), "element_name": Value("string"),
        "element_box": List(Value("float64")), "monitor": Value("int32"), "screen_width": Value("int32"),
        "screen_height": Value("int32"), "app": Value("string"),
    }),
    "episodes": Features({
        "episode_id": Value("int64"), "instruction": Value("string"), "summary": Value("string"),
        "images": List(Image()), "actions": _STRS, "codes": _STRS, "descriptions": _STRS,
        "monitors": List({"index": Value("int32"), "left": Value("int32"), "top": Value("int32"),
                          "width": Value("int32"), "height": Value("int32")}),
    }),
}

Images = dict[int, ExportImage]  # step index -> its (redacted, resized) before-frame


def first_prompt(traj: Trajectory, start: int) -> str:
    """The first user turn of a chat chunk: the task, the steps done so far, the question."""
    text = f"Task: {traj.instruction}\n"
    if start:
        text += "Previous steps:\n" + "\n".join(f"{i + 1}. {t}" for i, t in enumerate(traj.history(start))) + "\n"
    return text + STEP_PROMPT


def chunks(traj: Trajectory, max_images: int) -> list[list[Step]]:
    """Consecutive runs of at most ``max_images`` steps (one screenshot each)."""
    return [traj.steps[i:i + max_images] for i in range(0, len(traj.steps), max_images)]


class _TrajPart(_Part):
    """A step row's images are in ``image`` / ``marked_image``: count them for the row-group size (a key
    outside the schema is ignored when the table is built)."""

    def add(self, row: dict[str, Any]) -> None:
        imgs = row.get("images") or [row.get("image"), row.get("marked_image")]
        super().add({**row, "images": [i for i in imgs if i]})


def _img(img: ExportImage | None) -> dict[str, Any] | None:
    return None if img is None else {"bytes": img.path.read_bytes(), "path": None}


class HfTrajectories:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.parts: dict[tuple[str, str], _Part] = {}
        self.counts: dict[str, dict[str, int]] = {}

    def _part(self, config: str, split: str) -> _Part:
        if (config, split) not in self.parts:
            path = self.root / "data" / config / f"{split}-00000.parquet"
            self.parts[(config, split)] = _TrajPart(path, FEATURES[config])
        return self.parts[(config, split)]

    def _count(self, config: str, split: str) -> None:
        self.counts.setdefault(config, {}).setdefault(split, 0)
        self.counts[config][split] += 1

    def add(self, traj: Trajectory, split: str, images: Images, marks: Images) -> None:
        for s in traj.steps:
            el = s.element or {}
            self._part("trajectories", split).add({
                "episode_id": traj.episode_id, "step": s.index, "image": _img(images[s.index]),
                "marked_image": _img(marks.get(s.index)), "instruction": traj.instruction,
                "history": traj.history(s.index), "action": s.action.string(), "action_type": s.action.name,
                "code": s.action.code(), "description": s.text, "point": list(s.action.point or ()),
                "element_role": el.get("role"), "element_name": el.get("name"), "element_box": el.get("box"),
                "monitor": s.monitor.index, "screen_width": s.monitor.width, "screen_height": s.monitor.height,
                "app": s.before.get("app"),
            })
            self._count("trajectories", split)
        self._part("episodes", split).add({
            "episode_id": traj.episode_id, "instruction": traj.instruction, "summary": traj.summary,
            "images": [_img(images[s.index]) for s in traj.steps], "actions": [s.action.string() for s in traj.steps],
            "codes": [s.action.code() for s in traj.steps], "descriptions": [s.text for s in traj.steps],
            "monitors": traj.monitors(),
        })
        self._count("episodes", split)

    def close(self) -> None:
        for part in self.parts.values():
            part.close()
        for config in CONFIGS:  # every config loads, even an empty one
            if not any(c == config for c, _ in self.parts):
                _Part(self.root / "data" / config / "train-00000.parquet", FEATURES[config]).close()
                self.counts.setdefault(config, {"train": 0})

    def card(self) -> str:
        return """
## Computer-use trajectories

```python
steps = load_dataset("path/to/this/folder", "trajectories")   # one row per step: image, instruction,
                                                              # history, action, code, element_*, description
episodes = load_dataset("path/to/this/folder", "episodes")    # one row per episode, steps in order
```
Coordinates in `action`, `code`, `point` and `element_box` are fractions (0–1) of the monitor
(`screen_width` × `screen_height` pixels). `marked_image` (with --mark-actions) draws the click point.
"""


class ChatTrajectories:
    """OpenAI (``openai``) or LLaMA-Factory sharegpt (``llama-factory``) multi-turn chats."""

    def __init__(self, root: Path, writer: Writer, style: str, max_images: int) -> None:
        self.root, self.writer, self.style, self.max_images = root, writer, style, max_images
        suffix = "jsonl" if style == "openai" else "json"
        if style == "openai":
            self.files = Files(lambda key: (root / f"trajectories_{key}.{suffix}").open("w", encoding="utf-8"))
        else:
            self.files = Files(lambda key: JsonArrayFile(root / f"trajectories_{key}.{suffix}"))
        self.counts: dict[str, dict[str, int]] = {}
        self.skipped: dict[str, int] = {}

    def _user(self, text: str, img: ExportImage) -> dict[str, Any]:
        if self.style == "openai":
            return {"role": "user", "content": [{"type": "text", "text": text},
                                                {"type": "image_url", "image_url": {"url": data_uri(img)}}]}
        return {"role": "user", "content": "<image>" + text}

    def add(self, traj: Trajectory, split: str, images: Images, marks: Images) -> None:
        for part in chunks(traj, self.max_images):
            imgs = [images[s.index] for s in part]
            if self.style == "openai" and any(i.size > MAX_IMAGE_BYTES or i.format not in MIMES for i in imgs):
                self.skipped["trajectory chunk with an image over 10 MB or not jpeg/png/webp"] = \
                    self.skipped.get("trajectory chunk with an image over 10 MB or not jpeg/png/webp", 0) + 1
                continue
            messages: list[dict[str, Any]] = []
            for j, (s, img) in enumerate(zip(part, imgs)):
                messages.append(self._user(first_prompt(traj, part[0].index) if j == 0 else STEP_PROMPT, img))
                messages.append({"role": "assistant", "content": s.thought_action()})
            row: dict[str, Any] = {"messages": messages}
            if self.style == "openai":
                self.files.get(split).write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                row["images"] = [self.writer.rel(i) for i in imgs]
                self.files.get(split).add(row)
            self.counts.setdefault("trajectories", {}).setdefault(split, 0)
            self.counts["trajectories"][split] += 1

    def close(self) -> None:
        self.files.close()
        if self.style != "llama-factory":
            return
        from deskscribe.export.formats_llamafactory import TAGS, dataset_name

        info_path = self.root / "dataset_info.json"
        info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
        for split in sorted(self.files.open):
            info[dataset_name("trajectories", split)] = {
                "file_name": f"trajectories_{split}.json", "formatting": "sharegpt",
                "columns": {"messages": "messages", "images": "images"}, "tags": TAGS}
        info_path.write_text(json.dumps(info, indent=2), encoding="utf-8")

    def card(self) -> str:
        name = ("`trajectories_train.jsonl`" if self.style == "openai"
                else "`deskscribe_trajectories` (trajectories_train.json) in dataset_info.json")
        return f"""
## Computer-use trajectories

{name}: one multi-turn chat per episode (Qwen2.5-VL / UI-TARS style). Each user turn is a screenshot
before an action; the first also holds the task and the steps done so far. Each assistant turn is
`Thought: <step>` + `Action: <action>` with coordinates as fractions (0–1) of the screen. Episodes with
more than {self.max_images} steps are split into consecutive chats of {self.max_images} steps (no step is dropped).
"""


class JsonlTrajectories:
    def __init__(self, root: Path, writer: Writer) -> None:
        self.root, self.writer = root, writer
        self.fh = (root / "trajectories.jsonl").open("w", encoding="utf-8")
        self.counts: dict[str, dict[str, int]] = {}

    def add(self, traj: Trajectory, split: str, images: Images, marks: Images, after: Images,
            skipped: dict[str, int]) -> None:
        rel = lambda i: self.writer.rel(i) if i is not None else None  # noqa: E731
        steps = []
        for s in traj.steps:
            img = images[s.index]
            steps.append({
                "index": s.index, "ts": s.ts, "image": rel(img), "image_size": [img.width, img.height],
                "after_image": rel(after.get(s.index)), "marked_image": rel(marks.get(s.index)),
                "monitor": s.monitor.to_json(), "app": s.before.get("app"),
                "window_title": s.before.get("window_title"),
                "event": s.event_kind, "element": s.element,
                "value": {"action": s.action.string(), "code": s.action.code(), "description": s.text},
            })
        row = {"task_id": f"deskscribe-{traj.episode_id}", "episode_id": traj.episode_id, "split": split,
               "instruction": traj.instruction, "summary": traj.summary, "monitors": traj.monitors(),
               "skipped_events": skipped, "traj": steps}
        self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.counts.setdefault("trajectories", {}).setdefault(split, 0)
        self.counts["trajectories"][split] += 1

    def close(self) -> None:
        self.fh.close()

    def card(self) -> str:
        return """
## Computer-use trajectories (trajectories.jsonl)

One episode per line: `instruction`, `summary`, `monitors`, and `traj`, the steps in order; each step has
`image` (before the action), `after_image`, `monitor`, `element` (role, name, box as 0–1 fractions and
`box_px`), and `value.action` / `value.code` (pyautogui with coordinates as 0–1 fractions of the monitor:
multiply by its width and height) / `value.description`.
"""
