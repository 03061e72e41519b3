"""The trajectory part of an export: per episode build the steps (inside the person's trim), redact them,
export their images (and, with --mark-actions, a copy of each before-frame with the action point drawn), hand
them to the trajectory writer the format's registry entry names (export/registry.py). Wired into the export
loop by export/core.py.

Each step the person edited in the step review (or in the description editor) is also a DPO pair, written by
the format's own writer beside its other ``dpo`` pairs (hf ``dpo`` config, openai ``dpo_<split>.jsonl``,
LLaMA-Factory ``deskscribe_dpo``): the prompt is that step's context as the chat trajectories show it (the
task, the steps before it, its before-frame), chosen = ``Thought: <the person's text>`` + its action,
rejected = the same with the step writer's or model's text the edit replaced. Steps marked wrong give none.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import sqlite_utils
from PIL import Image, ImageDraw

from deskscribe.export import registry
from deskscribe.export.images import ExportImage, ImageProcessor
from deskscribe.export.pairs import SFT_OK, Example
from deskscribe.export.redact import Redactor
from deskscribe.export.trajectory import STEP_PROMPT, Trajectory, build, redact
from deskscribe.export.writer import FormatWriter
from deskscribe.storage import export_queries as q
from deskscribe.storage.step_review import current_trim

MARK_COLOUR = (255, 0, 64)


def mark(img: ExportImage, point: tuple[float, float], tag: str) -> ExportImage:
    """A copy of an exported (already redacted) image with a circle and cross on ``point`` (0–1 fractions)."""
    with Image.open(img.path) as src:
        pic = src.convert("RGB")
    x, y = point[0] * pic.width, point[1] * pic.height
    r = max(6, round(0.015 * max(pic.size)))
    draw = ImageDraw.Draw(pic)
    draw.ellipse([x - r, y - r, x + r, y + r], outline=MARK_COLOUR, width=max(2, r // 4))
    draw.line([x - r / 2, y, x + r / 2, y], fill=MARK_COLOUR, width=2)
    draw.line([x, y - r / 2, x, y + r / 2], fill=MARK_COLOUR, width=2)
    path = img.path.with_name(f"{img.path.stem}-mark-{tag}.jpg")
    pic.save(path, "JPEG", quality=90, subsampling=0)  # 4:4:4 keeps the thin red lines red
    return ExportImage(img.hash, path, "jpeg", pic.width, pic.height, path.stat().st_size, img.source_size)


class TrajectoryExport:
    """Runs beside a format's writer, sharing its folder, image processor and redactor."""

    def __init__(self, db: sqlite_utils.Database, out: Any, options: dict[str, Any], images: ImageProcessor,
                 red: Redactor, writer: FormatWriter | None = None) -> None:
        self.db, self.images, self.red, self.options, self.writer = db, images, red, options, writer
        self.mark_actions = bool(options.get("mark_actions"))
        self.out = out
        self.skipped: Counter[str] = Counter()
        self.authors: Counter[str] = Counter()  # exported episodes by who wrote the instruction
        self.outcomes: Counter[str] = Counter()

    def _wanted(self, ep: dict[str, Any]) -> bool:
        return ep["status"] in SFT_OK or (bool(self.options.get("include_unreviewed")) and ep["status"] == "unreviewed")

    def episode(self, ep: dict[str, Any], frames: list[dict[str, Any]], history: list[dict[str, Any]],
                split: str) -> None:
        """Export one (not duplicate) episode's trajectory; episodes SFT would not use are left out."""
        if not self._wanted(ep):
            return
        eid = ep["id"]
        events = q.events_for(self.db, [eid])[eid]  # unredacted: redact() reports each field
        traj = build(ep, frames, events, history, q.instructions_for(self.db, [eid])[eid], current_trim(self.db, eid))
        traj.instruction_by = q.instruction_authors_for(self.db, [eid])[eid]
        traj.outcome = q.outcomes_for(self.db, [eid])[eid]
        self.skipped.update(traj.skipped)
        if not traj.steps or not traj.instruction:
            self.skipped["episode without actions or instruction"] += 1
            return
        redact(traj, self.red)
        where = {"episode": eid}
        imgs = {s.index: self.images.get(s.before["image_hash"], where) for s in traj.steps}
        marks = {s.index: mark(imgs[s.index], s.action.point, f"{eid}-{s.index}") for s in traj.steps
                 if self.mark_actions and s.action.point is not None}
        after = {s.index: self.images.get(s.after["image_hash"], where) for s in traj.steps
                 if s.after and self.out.after_images}
        self.out.add(traj, split, imgs, marks, after)
        self.authors[traj.instruction_by] += 1
        if traj.outcome:
            self.outcomes[traj.outcome] += 1
        self._step_pairs(traj, split, imgs)

    def _step_pairs(self, traj: Trajectory, split: str, imgs: dict[int, ExportImage]) -> None:
        """A DPO pair per step the person edited (see the module docstring)."""
        w = self.writer
        if w is None or "dpo" not in w.kinds:
            return
        for s in traj.steps:
            if s.replaced and not s.wrong and s.replaced != s.text:
                ex = Example("dpo", traj.episode_id, [s.before["image_hash"]], traj.prompt(s.index, STEP_PROMPT),
                             chosen=s.thought_action(), rejected=s.thought_action(s.replaced))
                w.add_example(ex, split, [imgs[s.index]])

    def close(self) -> None:
        self.out.close()

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return self.out.counts

    def skipped_summary(self) -> dict[str, int]:
        out = {f"trajectory step: {k}": v for k, v in self.skipped.items() if v}
        out.update(getattr(self.out, "skipped", {}))
        return out

    def card(self) -> str:
        skipped = self.skipped_summary()
        note = ("Events not exported as steps: " + ", ".join(f"{k} ({v})" for k, v in sorted(skipped.items()))
                + ".\n") if skipped else ""
        return self.out.card() + note + self._tasks_line()

    def _tasks_line(self) -> str:
        """How many exported tasks the person named (task mode, a quick note, or an edit in review)."""
        if not sum(self.authors.values()):
            return ""
        n = self.authors["person"]
        line = (f"\nTasks: {n} task{'' if n == 1 else 's'} named by the person, {self.authors['model']} written "
                f"by a model, {self.authors['steps']} written from the steps (`instruction_by`).")
        if self.outcomes:
            line += (f" Task mode outcomes (`outcome`): {self.outcomes['done']} done, "
                     f"{self.outcomes['gave_up']} gave up.")
        return line + "\n"


def trajectory_export(db: sqlite_utils.Database, fmt: str, root: Path, writer: FormatWriter, options: dict[str, Any],
                      images: ImageProcessor, red: Redactor) -> TrajectoryExport | None:
    """The trajectory part for ``fmt``, or None where its registry entry has none (llava)."""
    cls = registry.get(fmt).load_trajectories()
    if cls is None:
        return None
    return TrajectoryExport(db, cls(root, writer, options), options, images, red, writer)
