"""LLaVA: JSON lists of ``{id, image, conversations}`` with one image and ``<image>`` in the first human turn.

``llava_sft_<split>.json`` pairs the episode's last keyframe with "What did the user do?"; ``llava_captions_<split>
.json`` pairs each frame with its caption. Image paths are relative to ``images/`` (LLaVA's ``--image_folder``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deskscribe.export.images import ExportImage
from deskscribe.export.pairs import Example
from deskscribe.export.writer import ExportSummary, Files, FormatWriter, JsonArrayFile, summary_markdown


class LlavaWriter(FormatWriter):
    kinds = ("sft", "captions")
    media_subdir = "images"

    def __init__(self, root: Path, options: dict[str, Any]) -> None:
        super().__init__(root, options)
        self.files = Files(lambda key: JsonArrayFile(self.root / f"llava_{key[0]}_{key[1]}.json"))

    def image_hashes(self, ex: Example) -> list[str]:
        return ex.image_hashes[-1:]  # the end state of the episode: what the user did led here

    def add_example(self, ex: Example, split: str, images: list[ExportImage]) -> None:
        (img,) = images
        ident = f"frame{ex.frame_id}" if ex.kind == "captions" else f"episode{ex.episode_id}"
        row = {"id": ident, "image": img.path.relative_to(self.root / "images").as_posix(),
               "conversations": [{"from": "human", "value": "<image>\n" + ex.prompt},
                                 {"from": "gpt", "value": ex.completion}]}
        self.files.get((ex.kind, split)).add(row)
        self.count(ex.kind, split)

    def close(self) -> None:
        self.files.close()

    def card(self, summary: ExportSummary) -> str:
        return f"""# deskscribe export (LLaVA)

Files: llava_sft_train.json, llava_sft_validation.json, llava_captions_*.json; images in images/.

```bash
python llava/train/train_mem.py --data_path /path/to/this/folder/llava_sft_train.json \\
    --image_folder /path/to/this/folder/images ...
```
One image per sample (the episode's last keyframe for sft). Preference pairs are not part of this format:
export `hf` or `llama-factory` for DPO/KTO.

{summary_markdown(summary)}"""
