"""Open the configured models: the one entry point the describe pipeline uses.

Nothing here touches the network with the default (llama.cpp) backend: model names resolve to files in
the data folder or the bundled wheel, never to a hub download.
"""

from __future__ import annotations

from deskscribe.config import ModelsConfig
from deskscribe.errors import ModelError
from deskscribe.models.base import Captioner, TextModel


def open_text_model(cfg: ModelsConfig) -> TextModel:
    """The summarizer named by ``cfg``: llama.cpp on ``cfg.summarizer`` or the server at ``cfg.server_url``.

    Cheap: the weights load at the first ``complete()``; ``close()`` (or ``with``) frees them.
    """
    if cfg.backend == "openai":
        from deskscribe.models.openai_remote import OpenAITextModel

        return OpenAITextModel(cfg)
    if cfg.backend != "llama_cpp":
        raise ModelError(f"unknown models.backend {cfg.backend!r} (use llama_cpp or openai)")
    from deskscribe.models.llama_text import LlamaCppTextModel
    from deskscribe.models.manager import resolve

    return LlamaCppTextModel(resolve(cfg.summarizer, what="summarizer"), cfg)


def open_vlm_captioner(cfg: ModelsConfig) -> Captioner:
    """The vision-language captioner named by ``cfg.vlm_model`` + ``cfg.vlm_mmproj`` (see models/vlm.py)."""
    from deskscribe.models.vlm import open_vlm_captioner as _open

    return _open(cfg)
