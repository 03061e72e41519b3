"""The ``hf`` trajectory configs: ``trajectories`` (one row per step) and ``episodes`` (one row per episode,
steps in order), Parquet with embedded images beside the pair configs (see formats_trajectories.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasets import Features, Image, List, Value

from deskscribe.export.formats_hf import _Part
from deskscribe.export.formats_trajectories import Images
from deskscribe.export.images import ExportImage
from deskscribe.export.trajectory import Trajectory
from deskscribe.export.writer import FormatWriter

CONFIGS = ("trajectories", "episodes")
_STRS = List(Value("string"))
FEATURES = {
    "trajectories": Features({
        "episode_id": Value("int64"), "step": Value("int32"), "image": Image(), "marked_image": Image(),
        "instruction": Value("string"), "history": _STRS, "action": Value("string"),
        "action_type": Value("string"), "code": Value("string"), "description": Value("string"),
        "point": List(Value("float64")), "element_role": Value("string"), "element_name": Value("string"),
        "element_box": List(Value("float64")), "monitor": Value("int32"), "screen_width": Value("int32"),
        "screen_height": Value("int32"), "app": Value("string"), "event_id": Value("int64"),
        "description_by": Value("string"), "text_source": Value("string"),
        "instruction_by": Value("string"), "outcome": Value("string"),
        "reflection": {"changed": Value("string"), "looks_right": Value("bool"), "by": Value("string"),
                       "rejected": Value("string")},
        "flag": Value("string"), "replaced_description": Value("string"),
    }),
    "episodes": Features({
        "episode_id": Value("int64"), "instruction": Value("string"), "summary": Value("string"),
        "images": List(Image()), "actions": _STRS, "codes": _STRS, "descriptions": _STRS, "flags": _STRS,
        "monitors": List({"index": Value("int32"), "left": Value("int32"), "top": Value("int32"),
                          "width": Value("int32"), "height": Value("int32")}),
        "instruction_by": Value("string"), "outcome": Value("string"),
    }),
}


def _reflection(r: dict[str, object] | None) -> dict[str, object] | None:
    return None if not r else {k: r.get(k) for k in ("changed", "looks_right", "by", "rejected")}


class _TrajPart(_Part):
    """A step row's images are in ``image`` / ``marked_image``: count them for the row-group size (a key
    outside the schema is ignored when the table is built)."""

    def add(self, row: dict[str, Any]) -> None:
        imgs = row.get("images") or [row.get("image"), row.get("marked_image")]
        super().add({**row, "images": [i for i in imgs if i]})


def _img(img: ExportImage | None) -> dict[str, Any] | None:
    return None if img is None else {"bytes": img.path.read_bytes(), "path": None}


class HfTrajectories:
    after_images = False

    def __init__(self, root: Path, writer: FormatWriter, options: dict[str, Any]) -> None:
        self.root = root
        writer.extra_configs = CONFIGS  # type: ignore[attr-defined]  # the hf writer lists them in its card
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

    def add(self, traj: Trajectory, split: str, images: Images, marks: Images, after: Images) -> None:
        for s in traj.steps:
            el = s.element or {}
            self._part("trajectories", split).add({
                "episode_id": traj.episode_id, "step": s.index, "image": _img(images[s.index]),
                "marked_image": _img(marks.get(s.index)), "instruction": traj.instruction,
                "history": traj.history(s.index), "action": s.action.string(), "action_type": s.action.name,
                "code": s.action.code(), "description": s.text, "point": list(s.action.point or ()),
                "element_role": el.get("role"), "element_name": el.get("name"), "element_box": el.get("box"),
                "monitor": s.monitor.index, "screen_width": s.monitor.width, "screen_height": s.monitor.height,
                "app": s.before.get("app"), "event_id": s.event_id, "description_by": s.author,
                "text_source": s.text_source, "instruction_by": traj.instruction_by, "outcome": traj.outcome,
                "reflection": _reflection(s.reflection), "flag": s.flag, "replaced_description": s.replaced,
            })
            self._count("trajectories", split)
        self._part("episodes", split).add({
            "episode_id": traj.episode_id, "instruction": traj.instruction, "summary": traj.summary,
            "images": [_img(images[s.index]) for s in traj.steps], "actions": [s.action.string() for s in traj.steps],
            "codes": [s.action.code() for s in traj.steps], "descriptions": [s.text for s in traj.steps],
            "flags": [s.flag for s in traj.steps], "monitors": traj.monitors(), "instruction_by": traj.instruction_by,
            "outcome": traj.outcome,
        })
        self._count("episodes", split)

    def close(self) -> None:
        for part in self.parts.values():
            part.close()
        for config in CONFIGS:  # no file for a config without rows (the card says why it is missing)
            self.counts.setdefault(config, {"train": 0})

    def card(self) -> str:
        if not self.parts:
            return ""
        return """
## Computer-use trajectories

```python
steps = load_dataset("path/to/this/folder", "trajectories")   # one row per step: image, instruction,
                                                              # history, action, code, element_*, description
episodes = load_dataset("path/to/this/folder", "episodes")    # one row per episode, steps in order
```
Coordinates in `action`, `code`, `point` and `element_box` are fractions (0–1) of the monitor
(`screen_width` × `screen_height` pixels). `marked_image` (with --mark-actions) draws the click point.
`instruction_by`: who wrote the instruction (`person`, `model` or `steps`); `outcome`: `done` or `gave_up`
for a task the person recorded in task mode, else empty.
`flag` is the person's mark from the step review (`wrong` | `redundant` | null; filter wrong steps out
before training on actions); steps outside the person's trim are not exported. Each step the person
edited is also a `dpo` row: the step's screenshot and context → their text (chosen) over the one replaced.
"""
