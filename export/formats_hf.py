"""Hugging Face ``datasets`` / TRL: Parquet per config and split with images embedded as bytes.

Layout::

    README.md                       dataset card; its YAML ``configs:`` make load_dataset(folder, "dpo") work
    data/<config>/<split>-00000.parquet   config in sft | captions | dpo | kto, split in train | validation

Image columns are ``List(Image)`` holding ``{"bytes": …, "path": None}``: the files need nothing beside them
(``Dataset.to_parquet`` on path-based columns would not embed them). Rows go out through a pyarrow
ParquetWriter in small row groups, so memory stays bounded however large the export.
Field names follow TRL: sft ``messages`` + ``images``; dpo ``prompt``/``chosen``/``rejected`` (+ ``images``);
kto ``prompt``/``completion``/``label`` (bool); one ``{"type": "image"}`` content entry per image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features, Image, List, Value

from deskscribe.errors import ExportError
from deskscribe.export.images import ExportImage
from deskscribe.export.pairs import Example
from deskscribe.export.writer import ExportSummary, FormatWriter, summary_markdown

_CONTENT = List({"type": Value("string"), "text": Value("string")})
_MESSAGES = List({"role": Value("string"), "content": _CONTENT})
_COMMON = {"images": List(Image()), "episode_id": Value("int64")}
FEATURES = {
    "sft": Features({"messages": _MESSAGES, **_COMMON}),
    "captions": Features({"messages": _MESSAGES, **_COMMON, "frame_id": Value("int64")}),
    "dpo": Features({"prompt": _MESSAGES, "chosen": _MESSAGES, "rejected": _MESSAGES, **_COMMON}),
    "kto": Features({"prompt": _MESSAGES, "completion": _MESSAGES, "label": Value("bool"), **_COMMON}),
}
ROWS_PER_GROUP = 64
BYTES_PER_GROUP = 32 * 1024 * 1024


def user_turn(prompt: str, n_images: int) -> dict[str, Any]:
    content = [{"type": "image", "text": None}] * n_images + [{"type": "text", "text": prompt}]
    return {"role": "user", "content": content}


def assistant_turn(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def row_for(ex: Example, images: list[ExportImage]) -> dict[str, Any]:
    user = user_turn(ex.prompt, len(images))
    row: dict[str, Any] = {
        "images": [{"bytes": img.path.read_bytes(), "path": None} for img in images],
        "episode_id": ex.episode_id,
    }
    if ex.kind in ("sft", "captions"):
        row["messages"] = [user, assistant_turn(ex.completion or "")]
        if ex.kind == "captions":
            row["frame_id"] = ex.frame_id
    elif ex.kind == "dpo":
        row.update(prompt=[user], chosen=[assistant_turn(ex.chosen or "")], rejected=[assistant_turn(ex.rejected or "")])
    else:
        row.update(prompt=[user], completion=[assistant_turn(ex.completion or "")], label=bool(ex.label))
    return row


class _Part:
    """One Parquet file, filled in row groups."""

    def __init__(self, path: Path, features: Features) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schema = features.arrow_schema
        # No dictionary encoding: it would store one copy of repeated image bytes per row group, which
        # real (distinct) screenshots never benefit from and which would make sizes look smaller than they are.
        self.writer = pq.ParquetWriter(path, self.schema, use_dictionary=False)
        self.rows: list[dict[str, Any]] = []
        self.bytes = 0
        self.total = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.bytes += sum(len(i["bytes"]) for i in row["images"])
        self.total += 1
        if len(self.rows) >= ROWS_PER_GROUP or self.bytes >= BYTES_PER_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
        self.rows, self.bytes = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


class HfWriter(FormatWriter):
    extra_configs: tuple[str, ...] = ()  # configs other modules write into data/ (trajectories, episodes)

    def __init__(self, root: Path, options: dict[str, Any]) -> None:
        super().__init__(root, options)
        self.parts: dict[tuple[str, str], _Part] = {}

    def _path(self, kind: str, split: str) -> Path:
        return self.root / "data" / kind / f"{split}-00000.parquet"

    def add_example(self, ex: Example, split: str, images: list[ExportImage]) -> None:
        key = (ex.kind, split)
        if key not in self.parts:
            self.parts[key] = _Part(self._path(*key), FEATURES[ex.kind])
        self.parts[key].add(row_for(ex, images))
        self.count(ex.kind, split)

    def close(self) -> None:
        for part in self.parts.values():
            part.close()
        for kind in self.kinds:  # no file for a config without rows: load_dataset would refuse it
            self.counts.setdefault(kind, {"train": 0})

    def _configs(self) -> list[str]:
        """The configs that hold rows (each has at least one Parquet file)."""
        return [k for k in (*self.kinds, *self.extra_configs)
                if any(self._path(k, s).exists() for s in ("train", "validation"))]

    def _configs_yaml(self, configs: list[str]) -> str:
        out = ["configs:"]
        for kind in configs:
            splits = [s for s in ("train", "validation") if self._path(kind, s).exists()]
            out.append(f"- config_name: {kind}")
            if kind == configs[0]:
                out.append("  default: true")
            out.append("  data_files:")
            for s in splits:
                out += [f"  - split: {s}", f"    path: data/{kind}/{s}-00000.parquet"]
        return "\n".join(out)

    def card(self, summary: ExportSummary) -> str:
        configs = self._configs()
        empty = [k for k in (*self.kinds, *self.extra_configs) if k not in configs]
        if not configs:
            raise ExportError("nothing to export as hf: no episode gave a single example ("
                              + "; ".join(f"{k}: {EMPTY_WHY.get(k, 'no rows')}" for k in empty) + ")")
        lic = summary.options.get("license", "other")
        total = sum(sum(c.values()) for c in summary.counts.values())
        size = "n<1K" if total < 1000 else "1K<n<10K" if total < 10_000 else "10K<n<100K" if total < 100_000 else "n>100K"
        front = (f"---\nlicense: {lic}\npretty_name: deskscribe personal screen dataset\nsize_categories:\n- {size}\n"
                 f"task_categories:\n- image-text-to-text\ntags:\n- deskscribe\n- screenshots\n- trl\n"
                 f"{self._configs_yaml(configs)}\n---\n")
        loads = "\n".join(f'{k} = load_dataset("path/to/this/folder", "{k}")'.ljust(56) + f"# {USAGE[k]}"
                          for k in configs if k in USAGE)
        usage = f"""
# deskscribe export (Hugging Face datasets / TRL)

```python
from datasets import load_dataset
{loads}
# or one file: load_dataset("parquet", data_files="data/{configs[0]}/train-00000.parquet")
```
Images are embedded in the Parquet files; the folder is self-contained.
"""
        if empty:
            usage += ("\nNot in this export (no rows, so no config to load): "
                      + "; ".join(f"`{k}`: {EMPTY_WHY.get(k, 'no rows')}" for k in empty) + ".\n")
        return front + usage + "\n" + summary_markdown(summary)


USAGE = {
    "sft": "messages + images (List(Image))",
    "captions": "one frame -> its caption",
    "dpo": "prompt / chosen / rejected + images",
    "kto": "prompt / completion / label (bool) + images",
}
EMPTY_WHY = {
    "sft": "no accepted or edited episode (review some, or export with --include-unreviewed)",
    "captions": "no captioned frame (run `deskscribe describe`)",
    "dpo": "no description you corrected (a pair is your edit against the model draft it replaced)",
    "kto": "no model draft you accepted, rejected or corrected",
    "trajectories": "no episode with actions at known points and an instruction",
    "episodes": "no episode with actions at known points and an instruction",
}
