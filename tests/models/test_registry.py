"""One list of captioners and backends: config validation and the describe pipeline read the registry."""

from __future__ import annotations

import pytest

from deskscribe import config
from deskscribe.config import ModelsConfig
from deskscribe.errors import ConfigError, ModelError
from deskscribe.models import registry
from deskscribe.models.ocr import OcrCaptioner
from deskscribe.models.ocr_engine import ENGINES


@pytest.mark.parametrize(("key", "table"), [("captioner", registry.CAPTIONERS), ("backend", registry.BACKENDS),
                                            ("vlm_handler", {"auto": None, **registry.VLM_HANDLERS}),
                                            ("ocr_engine", ENGINES)])
def test_config_accepts_every_registered_name_and_only_those(key, table):
    for name in table:
        extra = {"server_url": "http://127.0.0.1:1/v1"} if name == "openai" else {}
        assert getattr(config.from_dict({"models": {key: name, **extra}}).models, key) == name
    with pytest.raises(ConfigError, match=f"models.{key} must be one of"):
        config.from_dict({"models": {key: "nope"}})


def test_every_entry_has_help():
    for table in (registry.CAPTIONERS, registry.BACKENDS):
        for name, entry in table.items():
            assert entry.name == name and entry.help.strip()


def test_a_name_without_an_opener_or_an_opener_without_a_name_stops_the_registry():
    """The names live in deskscribe/choices.py (config reads them there), the openers here: they must agree."""
    opener = registry.CAPTIONERS["ocr"].open
    assert set(registry._entries({"ocr": "help"}, {"ocr": opener})) == {"ocr"}
    with pytest.raises(LookupError, match="choices.py names"):
        registry._entries({"ocr": "help", "new": "help"}, {"ocr": opener})
    with pytest.raises(LookupError, match="choices.py names"):
        registry._entries({}, {"ocr": opener})


def test_the_default_captioner_opens_from_the_registry():
    captioner = registry.open_captioner(ModelsConfig())
    try:
        assert isinstance(captioner, OcrCaptioner) and captioner.info.backend == "ocr"
    finally:
        captioner.close()


def test_an_unknown_name_is_a_model_error_listing_the_known_ones():
    with pytest.raises(ModelError, match=r"unknown models.backend 'gguf' \(use llama_cpp or openai\)"):
        registry.open_text_model(ModelsConfig(backend="gguf"))
