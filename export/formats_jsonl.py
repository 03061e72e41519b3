"""A plain dump: one JSON line per episode in ``episodes.jsonl``, its frames' images in ``frames/``.

Each line (all text redacted)::

    {"id": 3, "split": "train", "status": "edited", "start_ts": 1732450000.0, "end_ts": …, "source": "import",
     "apps": ["xterm"],
     "frames": [{"id": 17, "ts": …, "monitor": 0, "width": 1024, "height": 768, "app": …, "window_title": …,
                 "image": "frames/<hash>.jpg", "image_width": …, "image_height": …,
                 "caption": … | null, "ocr_text": … | null}],
     "events": [{"frame_id": 17, "ts": …, "kind": "click", "details": {…}}],
     "descriptions": [{"revision": 1, "author": "model", "model": …, "parent_revision": null, "is_current": false,
                       "summary": …, "steps": […], "created_ts": …}, …]}

``descriptions`` holds every revision, oldest first; the current one has ``is_current: true``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deskscribe.export.images import ExportImage
from deskscribe.export.pairs import Example
from deskscribe.export.writer import ExportSummary, FormatWriter, summary_markdown

FRAME_KEYS = ("id", "ts", "monitor", "width", "height", "app", "window_title", "caption", "ocr_text")
DESC_KEYS = ("revision", "author", "model", "backend", "prompt_version", "parent_revision", "is_current",
             "summary", "steps", "created_ts")


class JsonlWriter(FormatWriter):
    kinds = ()
    media_subdir = "frames"
    dumps_episodes = True

    def __init__(self, root: Path, options: dict[str, Any]) -> None:
        super().__init__(root, options)
        self.fh = (root / "episodes.jsonl").open("w", encoding="utf-8")

    def add_example(self, ex: Example, split: str, images: list[ExportImage]) -> None:  # pragma: no cover
        raise AssertionError("the jsonl dump writes whole episodes")

    def add_episode(self, episode: dict[str, Any], split: str, images: dict[str, ExportImage]) -> None:
        frames = []
        for f in episode["frames"]:
            img = images[f["image_hash"]]
            frames.append({**{k: f.get(k) for k in FRAME_KEYS}, "image": self.rel(img),
                           "image_width": img.width, "image_height": img.height})
        row = {
            "id": episode["id"], "split": split, "status": episode["status"], "start_ts": episode["start_ts"],
            "end_ts": episode["end_ts"], "source": episode["source"], "apps": episode["apps"], "frames": frames,
            "events": [{k: e[k] for k in ("frame_id", "ts", "kind", "details")} for e in episode["events"]],
            "descriptions": [{k: d.get(k) for k in DESC_KEYS} for d in episode["descriptions"]],
        }
        self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.count("episodes", split)

    def close(self) -> None:
        self.fh.close()

    def card(self, summary: ExportSummary) -> str:
        doc = (__doc__ or "").split("\n", 2)[2]
        return f"""# deskscribe export (plain JSONL dump)

```python
import json
episodes = [json.loads(line) for line in open("episodes.jsonl")]
```
{doc}
{summary_markdown(summary)}"""
