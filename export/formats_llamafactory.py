"""LLaMA-Factory: sharegpt-style JSON files, ``dataset_info.json`` and a ``media/`` folder.

Point LLaMA-Factory's ``dataset_dir`` at the export folder and use the dataset names from
``dataset_info.json``: ``deskscribe_sft``, ``deskscribe_captions``, ``deskscribe_dpo`` (``"ranking": true``,
for ``stage: dpo``), ``deskscribe_kto`` (``kto_tag``), each with a ``_validation`` twin when that split has
rows. Image paths are relative to the folder (LLaMA-Factory's default ``media_dir`` is ``dataset_dir``); the
user turn holds one ``<image>`` token per image, in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deskscribe.export.images import ExportImage
from deskscribe.export.pairs import Example
from deskscribe.export.writer import ExportSummary, Files, FormatWriter, JsonArrayFile, summary_markdown

TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
        "system_tag": "system"}


def dataset_name(kind: str, split: str) -> str:
    return f"deskscribe_{kind}" + ("" if split == "train" else f"_{split}")


class LlamaFactoryWriter(FormatWriter):
    media_subdir = "media"

    def __init__(self, root: Path, options: dict[str, Any]) -> None:
        super().__init__(root, options)
        self.files = Files(lambda key: JsonArrayFile(self.root / f"{key[0]}_{key[1]}.json"))

    def add_example(self, ex: Example, split: str, images: list[ExportImage]) -> None:
        user = {"role": "user", "content": "<image>" * len(images) + ex.prompt}
        row: dict[str, Any]
        if ex.kind == "dpo":
            row = {"messages": [user], "chosen": {"role": "assistant", "content": ex.chosen},
                   "rejected": {"role": "assistant", "content": ex.rejected}}
        else:
            row = {"messages": [user, {"role": "assistant", "content": ex.completion}]}
            if ex.kind == "kto":
                row["label"] = bool(ex.label)
        row["images"] = [self.rel(i) for i in images]
        self.files.get((ex.kind, split)).add(row)
        self.count(ex.kind, split)

    def close(self) -> None:
        self.files.close()
        info: dict[str, Any] = {}
        for kind, split in sorted(self.files.open):
            columns = {"messages": "messages", "images": "images"}
            entry: dict[str, Any] = {"file_name": f"{kind}_{split}.json", "formatting": "sharegpt"}
            if kind == "dpo":
                entry["ranking"] = True
                columns.update(chosen="chosen", rejected="rejected")
            if kind == "kto":
                columns["kto_tag"] = "label"
            entry.update(columns=columns, tags=TAGS)
            info[dataset_name(kind, split)] = entry
        (self.root / "dataset_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")

    def card(self, summary: ExportSummary) -> str:
        names = ", ".join(f"`{dataset_name(k, s)}`" for k, s in sorted(self.files.open)) or "(none)"
        return f"""# deskscribe export (LLaMA-Factory)

Datasets in dataset_info.json: {names}.

```yaml
# in your LLaMA-Factory training config
dataset_dir: /path/to/this/folder
dataset: deskscribe_sft          # stage: sft  (deskscribe_dpo for stage: dpo, deskscribe_kto for stage: kto)
eval_dataset: deskscribe_sft_validation
template: qwen2_vl               # the template of your vision model
```
Images are in media/ and referenced by relative paths; each user turn holds one `<image>` per image.

{summary_markdown(summary)}"""
