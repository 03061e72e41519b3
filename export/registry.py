"""The export formats: name → writer + help, the one list the CLI, the export loop, the app and the tests read.

Adding a format is one ``Format`` entry below plus its own ``formats_<name>.py`` module holding a
``FormatWriter`` subclass. Writers are imported only when an export runs, so reading this list stays cheap
(the tray and ``deskscribe --help`` import it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskscribe.errors import ExportError

if TYPE_CHECKING:
    from deskscribe.export.writer import FormatWriter


def _load(ref: str) -> Any:
    module, _, cls = ref.partition(":")
    return getattr(importlib.import_module(f"deskscribe.export.{module}"), cls)


@dataclass(frozen=True)
class Format:
    name: str
    writer: str  # "module:Class" inside deskscribe.export
    help: str  # one or two lines for `deskscribe export --help` (wrapped by the help text itself)
    # "module:Class" of the format's computer-use trajectories (export/formats_trajectories*.py), written beside
    # its pairs from the same records; None: the format has no trajectory form (llava: one image per sample)
    trajectories: str | None = None

    def load(self) -> type[FormatWriter]:
        writer: type[FormatWriter] = _load(self.writer)
        return writer

    def load_trajectories(self) -> Any:
        return _load(self.trajectories) if self.trajectories else None


FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format("hf", "formats_hf:HfWriter",
               "Parquet per config (sft, captions, dpo, kto, trajectories, episodes) with\n"
               "embedded images + a dataset card: load_dataset(OUT_DIR, \"sft\")",
               "formats_trajectories_hf:HfTrajectories"),
        Format("llama-factory", "formats_llamafactory:LlamaFactoryWriter",
               "sharegpt JSON + dataset_info.json + media/ (dataset_dir: OUT_DIR),\n"
               "trajectories as multi-turn chats", "formats_trajectories:LlamaFactoryTrajectories"),
        Format("openai", "formats_openai:OpenAIWriter",
               "chat JSONL with data-URI images; preference JSONL for DPO;\n"
               "trajectories as multi-turn chats", "formats_trajectories:OpenAITrajectories"),
        Format("llava", "formats_llava:LlavaWriter", "LLaVA JSON, one image per sample, images/ folder"),
        Format("jsonl", "formats_jsonl:JsonlWriter",
               "plain dump of episodes, frames, captions, events, all description revisions;\n"
               "trajectories.jsonl with every step's record", "formats_trajectories:JsonlTrajectories"),
    ]
}


def names() -> list[str]:
    return list(FORMATS)


def get(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ExportError(f"unknown format {name!r}: choose one of {', '.join(FORMATS)}") from None


def make_writer(name: str, root: Path, options: dict[str, Any]) -> FormatWriter:
    return get(name).load()(root, options)


def help_table(indent: str = "  ") -> str:
    """The FORMAT list of ``deskscribe export --help``: name, then its help, continuation lines aligned."""
    width = max(len(n) for n in FORMATS) + 2
    rows = []
    for f in FORMATS.values():
        first, *rest = f.help.splitlines()
        rows.append(f"{indent}{f.name:<{width}}{first}")
        rows.extend(f"{indent}{'':<{width}}{line}" for line in rest)
    return "\n".join(rows)
