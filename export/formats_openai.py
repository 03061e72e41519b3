"""OpenAI-style fine-tuning JSONL (also taken by other services that copy it).

- ``sft_<split>.jsonl`` and ``captions_<split>.jsonl``: ``{"messages": [user, assistant]}``; the user turn's
  content is a text part plus ``image_url`` parts holding ``data:image/jpeg;base64,…`` URIs. Images appear in
  user turns only, at most 10 per example and 10 MB each (an example over a limit is skipped and counted).
- ``dpo_<split>.jsonl``: ``{"input": {"messages": [user]}, "preferred_output": [assistant],
  "non_preferred_output": [assistant]}``.
KTO has no OpenAI form and is not written.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from deskscribe.export.images import ExportImage
from deskscribe.export.pairs import Example
from deskscribe.export.writer import ExportSummary, Files, FormatWriter, summary_markdown

MAX_IMAGES = 10
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIMES = {"jpeg", "png", "webp"}


def data_uri(img: ExportImage) -> str:
    return f"data:{img.mime};base64," + base64.b64encode(img.path.read_bytes()).decode("ascii")


class OpenAIWriter(FormatWriter):
    kinds = ("sft", "captions", "dpo")
    max_images = MAX_IMAGES

    def __init__(self, root: Path, options: dict[str, Any]) -> None:
        super().__init__(root, options)
        self.files = Files(lambda key: (self.root / f"{key[0]}_{key[1]}.jsonl").open("w", encoding="utf-8"))
        self.skipped: dict[str, int] = {}

    def _skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def add_example(self, ex: Example, split: str, images: list[ExportImage]) -> None:
        if len(images) > MAX_IMAGES:
            images = images[:MAX_IMAGES]
        if any(i.size > MAX_IMAGE_BYTES for i in images):
            return self._skip("an image over 10 MB")
        if any(i.format not in MIMES for i in images):
            return self._skip("an image not jpeg/png/webp")
        content: list[dict[str, Any]] = [{"type": "text", "text": ex.prompt}]
        content += [{"type": "image_url", "image_url": {"url": data_uri(i)}} for i in images]
        user = {"role": "user", "content": content}
        if ex.kind == "dpo":
            row: dict[str, Any] = {
                "input": {"messages": [user]},
                "preferred_output": [{"role": "assistant", "content": ex.chosen}],
                "non_preferred_output": [{"role": "assistant", "content": ex.rejected}],
            }
        else:
            row = {"messages": [user, {"role": "assistant", "content": ex.completion}]}
        self.files.get((ex.kind, split)).write(json.dumps(row, ensure_ascii=False) + "\n")
        self.count(ex.kind, split)
        return None

    def close(self) -> None:
        self.files.close()

    def card(self, summary: ExportSummary) -> str:
        return f"""# deskscribe export (OpenAI-style chat JSONL)

Files: sft_train.jsonl / sft_validation.jsonl (supervised), captions_*.jsonl, dpo_*.jsonl (preference:
input.messages / preferred_output / non_preferred_output). Images are base64 data URIs inside user turns
(≤ 10 per example, ≤ 10 MB each).

```bash
openai files create --purpose fine-tune --file sft_train.jsonl
```
Skipped examples: {json.dumps(self.skipped) if self.skipped else "none"}.

{summary_markdown(summary)}"""
