"""The VLM captioner through real llama.cpp chat handlers on a tiny random-weight model + mmproj."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from deskscribe.config import ModelsConfig
from deskscribe.errors import ModelError
from deskscribe.models.gguf_file import read_gguf
from deskscribe.models.vlm import choose_handler, image_data_uri, open_vlm_captioner


def _png(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "PNG")
    return buf.getvalue()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 30)).save(buf, "JPEG")
    return buf.getvalue()


def _cfg(model: Path, mmproj: Path, handler: str = "auto") -> ModelsConfig:
    return ModelsConfig(captioner="vlm", vlm_model=str(model), vlm_mmproj=str(mmproj), vlm_handler=handler,
                        n_ctx=1024)


@pytest.mark.model
@pytest.mark.parametrize("handler", ["llava15", "mtmd"])
def test_caption_returns_text_and_provenance(tiny_vlm: tuple[Path, Path], handler: str) -> None:
    model, mmproj = tiny_vlm
    with open_vlm_captioner(_cfg(model, mmproj, handler)) as captioner:
        text, ocr = captioner.caption(_png(), app="xterm", title="~/notes")
        again, _ = captioner.caption(_png(), app="xterm", title="~/notes")
        other, _ = captioner.caption(_jpeg())
    assert isinstance(text, str) and ocr is None
    assert captioner.last_usage["completion_tokens"] > 0  # random weights: the content is noise
    assert text == again  # same frame, same caption (state reset, temperature 0)
    assert isinstance(other, str)
    info = captioner.info
    assert info.backend == "llama_cpp" and info.model == model.name
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (model, mmproj)]
    assert info.sha256 == "+".join(digests)
    assert info.params["handler"] == handler and info.params["mmproj"] == mmproj.name
    assert "prompt_version" in info.params
    assert captioner._llm is None  # released by the with block


def test_auto_handler_from_metadata(tiny_vlm: tuple[Path, Path]) -> None:
    model, mmproj = (read_gguf(p) for p in tiny_vlm)
    assert choose_handler(model, mmproj) == "mtmd"  # the tiny model has a chat template that takes lists
    assert choose_handler(model, mmproj, "qwen25vl") == "qwen25vl"
    assert choose_handler(model, mmproj, preset="qwen2.5-vl-3b") == "qwen25vl"


def test_image_uris_carry_the_right_type() -> None:
    assert image_data_uri(_png()).startswith("data:image/png;base64,")
    assert image_data_uri(_jpeg()).startswith("data:image/jpeg;base64,")


def test_mismatched_mmproj_is_refused_before_loading(tiny_vlm_builder) -> None:  # type: ignore[no-untyped-def]
    model, mmproj = tiny_vlm_builder(text_hidden=64, mmproj_hidden=576)
    with pytest.raises(ModelError, match="does not match model") as err:
        open_vlm_captioner(_cfg(model, mmproj))
    assert "\n" not in str(err.value)


@pytest.mark.model
def test_mismatch_that_metadata_cannot_show_fails_at_first_caption(  # type: ignore[no-untyped-def]
    tiny_vlm, tiny_vlm_builder
) -> None:
    """A pair that passes the metadata check but not llama.cpp: its refusal becomes a ModelError."""
    model, good = tiny_vlm
    _, bad = tiny_vlm_builder(text_hidden=64, mmproj_hidden=576)
    captioner = open_vlm_captioner(_cfg(model, good))
    captioner.mmproj = read_gguf(bad)  # as if the projector carried no size metadata to check
    with captioner, pytest.raises(ModelError, match="could not load mmproj"):
        captioner.caption(_png())


def test_bad_mmproj_files(tiny_vlm: tuple[Path, Path], tmp_path: Path) -> None:
    model, mmproj = tiny_vlm
    text = tmp_path / "mmproj.gguf"
    text.write_text("not a model")
    with pytest.raises(ModelError, match="not a GGUF file"):
        open_vlm_captioner(_cfg(model, text))
    truncated = tmp_path / "mmproj-cut.gguf"
    truncated.write_bytes(mmproj.read_bytes()[: mmproj.stat().st_size // 2])
    with pytest.raises(ModelError, match="corrupt or incomplete"):
        open_vlm_captioner(_cfg(model, truncated))
    with pytest.raises(ModelError, match="not an mmproj"):
        open_vlm_captioner(_cfg(model, model))
    with pytest.raises(ModelError, match="mmproj file not found"):
        open_vlm_captioner(_cfg(model, tmp_path / "missing.gguf"))
    with pytest.raises(ModelError, match="vlm_mmproj is not set"):
        open_vlm_captioner(ModelsConfig(captioner="vlm", vlm_model=str(model)))


def test_vlm_preset_not_pulled_says_what_to_do() -> None:
    with pytest.raises(ModelError, match="deskscribe models pull smolvlm-256m"):
        open_vlm_captioner(ModelsConfig(captioner="vlm", vlm_model="smolvlm-256m"))


@pytest.mark.model
def test_no_log_noise_and_clean_exit(tiny_vlm: tuple[Path, Path], tmp_path: Path) -> None:
    """In a fresh process: libmtmd stays quiet on stderr and interpreter exit prints no traceback."""
    model, mmproj = tiny_vlm
    image = tmp_path / "frame.png"
    image.write_bytes(_png())
    code = (
        "import sys; from pathlib import Path; from deskscribe.config import ModelsConfig; "
        "from deskscribe.models.vlm import open_vlm_captioner; "
        f"c = open_vlm_captioner(ModelsConfig(vlm_model={str(model)!r}, vlm_mmproj={str(mmproj)!r}, n_ctx=1024)); "
        f"print(type(c.caption(Path({str(image)!r}).read_bytes())[0]).__name__); c.close()"
    )
    env = {"DESKSCRIBE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "str"
    noise = [line for line in out.stderr.splitlines() if "CPU" not in line]  # the one "running on CPU" line
    assert noise == [], out.stderr[-2000:]


def test_every_handler_setting_has_a_handler() -> None:
    import llama_cpp.llama_chat_format as chat_format

    from deskscribe.config import _CHOICES
    from deskscribe.models.vlm import HANDLERS

    assert set(HANDLERS) == _CHOICES[("models", "vlm_handler")] - {"auto"}
    for class_name in HANDLERS.values():
        assert hasattr(chat_format, class_name), class_name
