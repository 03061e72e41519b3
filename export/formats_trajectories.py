"""Trajectory outputs, one per format, written beside that format's pairs (see export/trajectory.py);
the ``hf`` one is in formats_trajectories_hf.py (it needs ``datasets``, which the others never import).

- ``hf``: configs ``trajectories`` (one row per step) and ``episodes`` (one row per episode, steps in order),
  Parquet with embedded images, loadable as ``load_dataset(OUT, "trajectories")``.
- ``openai``: ``trajectories_<split>.jsonl``, one multi-turn chat per episode chunk: each user turn a
  screenshot (the first also the instruction and the earlier steps), each assistant turn "Thought + Action".
- ``llama-factory``: the same chats as sharegpt ``trajectories_<split>.json`` with one ``<image>`` per image,
  registered in ``dataset_info.json`` as ``deskscribe_trajectories``.
- ``jsonl``: ``trajectories.jsonl``, the full record (OpenCUA-like): one episode per line, per step the
  before/after images, action string, pyautogui code, element, monitor and description.

The person's step review: a step marked *wrong* is never an assistant turn of a chat (a trainer would learn it
as a correct action): the chat ends before it and the next one starts after it, listing it among the earlier
steps (it happened: the screen shows its effect). jsonl and hf keep every step with its ``flag``; a
*redundant* step stays in the chats too (a working, needless action). A step the person edited also gives a
DPO pair (export/trajectory_export.py).

Image limits: a chat holds at most ``max_images`` screenshots (``--max-images``; ≤ 10 for OpenAI). A longer
trajectory is split into consecutive chunks of that many steps; each chunk's first user turn repeats the
instruction and lists the earlier steps as text, so no step is dropped and every step keeps its screenshot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deskscribe.export.formats_openai import MAX_IMAGE_BYTES, MIMES, data_uri
from deskscribe.export.images import ExportImage
from deskscribe.export.trajectory import STEP_PROMPT, Step, Trajectory
from deskscribe.export.writer import Files, FormatWriter, JsonArrayFile

Images = dict[int, ExportImage]  # step index -> its (redacted, resized) before-frame


def first_prompt(traj: Trajectory, start: int) -> str:
    """The first user turn of a chat chunk: the task, the steps done so far, the question."""
    return traj.prompt(start, STEP_PROMPT)


def chunks(traj: Trajectory, max_images: int) -> list[list[Step]]:
    """Consecutive runs of at most ``max_images`` steps (one screenshot each); a step marked wrong ends a run
    and is in none."""
    runs: list[list[Step]] = [[]]
    for s in traj.steps:
        if s.wrong:
            runs.append([])
        else:
            runs[-1].append(s)
    return [run[i:i + max_images] for run in runs for i in range(0, len(run), max_images)]


class ChatTrajectories:
    """OpenAI (``openai``) or LLaMA-Factory sharegpt (``llama-factory``) multi-turn chats."""

    style = ""
    after_images = False  # the chats show each step's before frame only

    def __init__(self, root: Path, writer: FormatWriter, options: dict[str, Any]) -> None:
        self.root, self.writer = root, writer
        self.max_images = int(options.get("max_images") or 10)
        style = self.style
        suffix = "jsonl" if style == "openai" else "json"
        if style == "openai":
            self.files = Files(lambda key: (root / f"trajectories_{key}.{suffix}").open("w", encoding="utf-8"))
            self.meta = Files(lambda key: (root / f"trajectories_{key}.meta.jsonl").open("w", encoding="utf-8"))
        else:
            self.files = Files(lambda key: JsonArrayFile(root / f"trajectories_{key}.{suffix}"))
        self.counts: dict[str, dict[str, int]] = {}
        self.skipped: dict[str, int] = {}

    def _user(self, text: str, img: ExportImage) -> dict[str, Any]:
        if self.style == "openai":
            return {"role": "user", "content": [{"type": "text", "text": text},
                                                {"type": "image_url", "image_url": {"url": data_uri(img)}}]}
        return {"role": "user", "content": "<image>" + text}

    def add(self, traj: Trajectory, split: str, images: Images, marks: Images, after: Images) -> None:
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
            meta = {"episode_id": traj.episode_id, "first_step": part[0].index,
                    "instruction_by": traj.instruction_by, "outcome": traj.outcome}
            if self.style == "openai":  # OpenAI's fine-tuning refuses keys beside messages: a line-aligned file
                self.files.get(split).write(json.dumps(row, ensure_ascii=False) + "\n")
                self.meta.get(split).write(json.dumps(meta) + "\n")
            else:  # LLaMA-Factory keeps the columns dataset_info.json maps and drops the rest
                row["images"] = [self.writer.rel(i) for i in imgs]
                self.files.get(split).add({**row, **meta})
            self.counts.setdefault("trajectories", {}).setdefault(split, 0)
            self.counts["trajectories"][split] += 1

    def close(self) -> None:
        self.files.close()
        if self.style == "openai":
            self.meta.close()
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
        meta = ("`trajectories_train.meta.jsonl` has, line for line (OpenAI refuses other keys in a chat line),"
                if self.style == "openai" else "Each chat also has (LLaMA-Factory ignores keys it does not map)")
        return f"""
## Computer-use trajectories

{name}: one multi-turn chat per episode (Qwen2.5-VL / UI-TARS style). Each user turn is a screenshot
before an action; the first also holds the task and the steps done so far. Each assistant turn is
`Thought: <step>` + `Action: <action>` with coordinates as fractions (0–1) of the screen. Episodes with
more than {self.max_images} steps are split into consecutive chats of {self.max_images} steps. A step the person marked
wrong is no assistant turn: the chat ends before it and the next starts after it, listing it among the
earlier steps; steps marked redundant stay. Steps outside the person's trim are not exported.
{meta} `episode_id`, `first_step`, `instruction_by` (who wrote the task: `person`, `model` or `steps`) and
`outcome` (`done` or `gave_up` for a task recorded in task mode, else null).
"""


class OpenAITrajectories(ChatTrajectories):
    style = "openai"


class LlamaFactoryTrajectories(ChatTrajectories):
    style = "llama-factory"


class JsonlTrajectories:
    after_images = True

    def __init__(self, root: Path, writer: FormatWriter, options: dict[str, Any]) -> None:
        self.root, self.writer = root, writer
        self.fh = (root / "trajectories.jsonl").open("w", encoding="utf-8")
        self.counts: dict[str, dict[str, int]] = {}

    def add(self, traj: Trajectory, split: str, images: Images, marks: Images, after: Images) -> None:
        rel = lambda i: self.writer.rel(i) if i is not None else None  # noqa: E731
        steps = []
        for s in traj.steps:
            img = images[s.index]
            steps.append({
                "index": s.index, "ts": s.ts, "image": rel(img), "image_size": [img.width, img.height],
                "after_image": rel(after.get(s.index)), "marked_image": rel(marks.get(s.index)),
                "monitor": s.monitor.to_json(), "app": s.before.get("app"),
                "window_title": s.before.get("window_title"),
                "event": s.event_kind, "event_id": s.event_id, "element": s.element,
                "value": {"action": s.action.string(), "code": s.action.code(), "description": s.text,
                          "description_by": s.author, "text_source": s.text_source, "reflection": s.reflection,
                          "flag": s.flag, "replaced_description": s.replaced},
            })
        row = {"task_id": f"deskscribe-{traj.episode_id}", "episode_id": traj.episode_id, "split": split,
               "instruction": traj.instruction, "instruction_by": traj.instruction_by, "outcome": traj.outcome,
               "summary": traj.summary, "monitors": traj.monitors(),
               "skipped_events": dict(traj.skipped), "traj": steps,
               "trim": {"start_event_id": traj.trim.start_event_id, "end_event_id": traj.trim.end_event_id}
               if traj.trim else None}
        self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.counts.setdefault("trajectories", {}).setdefault(split, 0)
        self.counts["trajectories"][split] += 1

    def close(self) -> None:
        self.fh.close()

    def card(self) -> str:
        return """
## Computer-use trajectories (trajectories.jsonl)

One episode per line: `instruction`, `instruction_by` (`person`, `model` or `steps`), `outcome` (`done` or
`gave_up` for a task recorded in task mode, else null), `summary`, `monitors`, and `traj`, the steps in
order; each step has
`image` (before the action), `after_image`, `monitor`, `element` (role, name, box as 0–1 fractions and
`box_px`), and `value.action` / `value.code` (pyautogui with coordinates as 0–1 fractions of the monitor:
multiply by its width and height) / `value.description` (the step stored for that action, keyed by
`event_id`; `value.description_by`: `steps`, `model:<file>` or `person`). A `write()` carries what was typed:
`value.text_source` is `keys` where typed text was stored (opt-in), `screen` where it was read from the
screenshot at the caret. `value.reflection` (null unless a vision model was configured) is a VLM's look at the
step: `changed` (what changed on the screen), `looks_right`, `by` (`model:<file>`) — or `by` and `rejected` (why
its answer was not kept: the check found it named what the frames do not show, or said nothing).
`value.flag` is the person's mark from the step review: `wrong` (kept here, left out of the chat formats) or
`redundant`; `value.replaced_description` is the text a person's edit replaced. `trim` names the first and
last action the person kept (`event_id`s; null: untrimmed on that side): steps outside it are not exported.
"""
