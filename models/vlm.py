"""The vision-language captioner: a GGUF model + its mmproj, run by a llama-cpp-python chat handler.

The projector type inside the mmproj decides what libmtmd runs; the handler only supplies the prompt
template, so "auto" picks it from the mmproj's projector type and the model's name. Both files are
checked before llama.cpp sees them (a corrupt file can abort the process) and a projector built for a
different text model is refused up front when its metadata says so, else at the first caption.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from deskscribe.config import ModelsConfig
from deskscribe.errors import ModelError
from deskscribe.models import marks
from deskscribe.models.abilities import of_gguf
from deskscribe.models.base import Captioner, ModelInfo
from deskscribe.models.gguf_file import GGUFSummary, read_gguf, sha256_file
from deskscribe.models.llama_text import gpu_layers, load_llama, n_ctx_for
from deskscribe.models.manager import PRESETS, resolve, resolve_mmproj
from deskscribe.models.registry import VLM_HANDLERS as HANDLERS

log = logging.getLogger(__name__)

PROMPT_VERSION = "vlm-caption-1"
IMAGES_PER_PROMPT = 3  # the describe prompts' images: the ringed frame, its close-up, the frame after (or the last)
TEXT_ROOM = 2048  # tokens for a prompt's text (prompt.PROMPT_BUDGET_CHARS ≈ 1,500) and its answer
CAPTION_MAX_TOKENS = 120
PROMPT = (
    "This is a screenshot of someone's computer screen. In two or three short sentences say which "
    "application is shown, what is visible (documents, web pages, dialogs, code, readable text), and what "
    "the person appears to be doing."
)

_log_callback: Any = None  # libmtmd keeps a pointer to it: it must outlive every handler


def _silence_mtmd() -> None:
    """libmtmd logs to stderr even with verbose=False; route its log to nowhere (once per process)."""
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp
    import llama_cpp.mtmd_cpp

    _log_callback = llama_cpp.llama_log_callback(lambda level, text, user: None)
    llama_cpp.mtmd_cpp.mtmd_helper_log_set(_log_callback, None)


def choose_handler(model: GGUFSummary, mmproj: GGUFSummary, setting: str = "auto", preset: str = "") -> str:
    """The handler name for a model pair: the setting, the preset's, else guessed from the metadata."""
    if setting != "auto":
        return setting
    if preset in PRESETS and PRESETS[preset].handler != "auto":
        return PRESETS[preset].handler
    projector = mmproj.projector_type.lower()
    name = f"{model.get('general.name', '')} {model.path.name}".lower()
    if "moondream" in name:
        return "moondream"
    if "nanollava" in name:
        return "nanollava"
    if projector.startswith("qwen2") or "qwen2.5-vl" in name or "qwen2_5_vl" in name:
        return "qwen25vl"
    if projector.startswith("minicpmv") or "minicpm" in name:
        return "minicpmv26"
    if projector.startswith("gemma3") or model.architecture == "gemma3":
        return "gemma3"
    if projector == "mlp" and mmproj.get("clip.vision.image_grid_pinpoints") is not None:
        return "llava16"
    if projector in ("mlp", "ldp", "ldpv2") and not model.has_chat_template:
        return "llava15"
    if model.has_chat_template:  # idefics3 (SmolVLM), pixtral, internvl, …: the model's own template
        return "mtmd"
    return "llava15"


def check_pair(model: GGUFSummary, mmproj: GGUFSummary) -> None:
    """Refuse a projector that is not an mmproj, or whose output size differs from the model's."""
    if not mmproj.is_mmproj:
        raise ModelError(f"{mmproj.path} is not an mmproj (its architecture is {mmproj.architecture!r}, not 'clip')")
    if model.is_mmproj:
        raise ModelError(f"{model.path} is an mmproj, not a language model: swap models.vlm_model and vlm_mmproj")
    dim, hidden = mmproj.projection_dim, model.embedding_length
    if dim and hidden and dim != hidden:
        raise ModelError(
            f"mmproj {mmproj.path.name} does not match model {model.path.name}: it projects to {dim} values, "
            f"the model's hidden size is {hidden}; use the mmproj made for this model"
        )


def token_unit_of(mmproj: GGUFSummary) -> int:
    """Pixels per image-token side for this projector: ``clip.vision.patch_size`` times the merge factor —
    ``clip.vision.spatial_merge_size`` when the mmproj states it, 2 for Qwen-VL projectors (llama.cpp merges
    their 2×2 patches into one token), else 1 (LLaVA: one token per patch)."""
    patch = int(mmproj.get("clip.vision.patch_size") or 14)
    merge = mmproj.get("clip.vision.spatial_merge_size")
    if not merge:
        merge = 2 if mmproj.projector_type.lower().startswith("qwen") else 1
    return marks.token_unit(patch, int(merge))


def fit_images(messages: list[dict[str, Any]], max_tokens: int, unit: int) -> list[dict[str, Any]]:
    """The messages with every data: URI image scaled to at most ``max_tokens`` image tokens (marks.fit_to_tokens):
    llama-cpp-python's handlers pass images to libmtmd at full size (a 1920×1080 frame is ~2,000 tokens)."""
    if max_tokens <= 0:
        return messages
    out = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = [_fit_part(p, max_tokens, unit) for p in content]
            message = {**message, "content": content}
        out.append(message)
    return out


def _fit_part(part: dict[str, Any], max_tokens: int, unit: int) -> dict[str, Any]:
    url = (part.get("image_url") or {}).get("url", "") if part.get("type") == "image_url" else ""
    if not url.startswith("data:"):
        return part
    data = base64.b64decode(url.split(",", 1)[1])
    fitted = marks.fit_to_tokens(data, max_tokens, unit)
    return part if fitted is data else {**part, "image_url": {"url": image_data_uri(fitted)}}


def image_data_uri(image: bytes) -> str:
    """A data: URI (a bare file path does not work with the handlers); the type read from magic bytes."""
    if image.startswith(b"\x89PNG"):
        mime = "image/png"
    elif image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        mime = "image/webp"
    else:
        mime = "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(image).decode("ascii")


def caption_messages(image: bytes, app: str | None, title: str | None) -> list[dict[str, Any]]:
    """The caption request: the image first, then the question with the window as context."""
    context = " — ".join(x for x in (app, title) if x)
    text = PROMPT + (f" The window is: {context}." if context else "")
    return [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": image_data_uri(image)}},
        {"type": "text", "text": text},
    ]}]


class VLMCaptioner:
    """Frame captions from a vision-language GGUF; loads on the first caption, frees on close()."""

    def __init__(self, model_path: Path, mmproj_path: Path, cfg: ModelsConfig, handler: str = "auto",
                 preset: str = "") -> None:
        if cfg.vlm_image_max_tokens:  # room for a prompt's images at the cap plus its text and answer
            cfg = replace(cfg, n_ctx=max(cfg.n_ctx, IMAGES_PER_PROMPT * cfg.vlm_image_max_tokens + TEXT_ROOM))
        self.cfg = cfg
        self.model = read_gguf(model_path)
        self.mmproj = read_gguf(mmproj_path, what="mmproj file")
        check_pair(self.model, self.mmproj)
        self.handler = choose_handler(self.model, self.mmproj, handler, preset)
        self.unit = token_unit_of(self.mmproj)
        if self.handler not in HANDLERS:
            raise ModelError(f"unknown models.vlm_handler {self.handler!r} (known: auto, {', '.join(HANDLERS)})")
        self.info = ModelInfo(
            backend="llama_cpp",
            model=self.model.path.name,
            sha256=f"{sha256_file(self.model.path)}+{sha256_file(self.mmproj.path)}",
            params={
                "mmproj": self.mmproj.path.name,
                "handler": self.handler,
                "prompt_version": PROMPT_VERSION,
                "n_ctx": n_ctx_for(cfg, self.model),
                "temperature": cfg.temperature,
                "seed": cfg.seed,
                "repeat_penalty": cfg.repeat_penalty,
                "max_tokens": CAPTION_MAX_TOKENS,
                "n_gpu_layers": gpu_layers(cfg),
                "image_max_tokens": cfg.vlm_image_max_tokens,
                "image_token_px": self.unit,
            },
            abilities=of_gguf(self.model, preset, vision=True),
        )
        self._llm: Any = None
        self.last_usage: dict[str, int] = {}

    def _load(self) -> Any:
        if self._llm is None:
            import llama_cpp.llama_chat_format as chat_format

            _silence_mtmd()
            cls = getattr(chat_format, HANDLERS[self.handler])
            kwargs: dict[str, Any] = {"clip_model_path": str(self.mmproj.path), "verbose": False}
            if self.handler in ("mtmd", "gemma3", "gemma4"):
                kwargs["use_gpu"] = gpu_layers(self.cfg) != 0
            self._llm = load_llama(self.model.path, self.cfg, self.model, chat_handler=cls(**kwargs))
        return self._llm

    def caption(self, image: bytes, *, app: str | None = None, title: str | None = None) -> tuple[str, str | None]:
        """A short description of the screen; no OCR text from this captioner."""
        return self._chat(caption_messages(image, app, title), CAPTION_MAX_TOKENS).strip(), None

    def complete(self, messages: list[dict[str, Any]], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 256) -> str:
        """A chat completion whose messages may carry images (the describe task prompt with marked frames)."""
        return self._chat(messages, max_tokens, schema)

    def _chat(self, messages: list[dict[str, Any]], max_tokens: int, schema: dict[str, Any] | None = None) -> str:
        llm = self._load()
        llm.reset()
        messages = fit_images(messages, self.cfg.vlm_image_max_tokens, self.unit)
        kwargs: dict[str, Any] = {}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        try:
            out = llm.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=self.cfg.temperature,
                seed=self.cfg.seed,
                repeat_penalty=self.cfg.repeat_penalty,
                **kwargs,
            )
        except ValueError as exc:
            if "mtmd context" in str(exc) or "Vision is not supported" in str(exc):
                raise ModelError(
                    f"llama.cpp could not load mmproj {self.mmproj.path.name} for model {self.model.path.name} "
                    f"({exc}); use the mmproj made for this model"
                ) from exc
            if "exceeds n_ctx" in str(exc):
                raise ModelError(f"the images and prompt do not fit the context ({exc}): raise models.n_ctx or lower "
                                 "models.vlm_image_max_tokens") from exc
            if "bitmap" in str(exc):
                raise ModelError(f"the frame image could not be decoded for the VLM ({exc})") from exc
            raise
        except RuntimeError as exc:  # llama_decode failing: in practice the image + prompt overflow n_ctx
            raise ModelError(
                f"llama.cpp failed on a frame ({exc}); the image and prompt may not fit: raise models.n_ctx "
                f"(now {self.info.params['n_ctx']})"
            ) from exc
        self.last_usage = dict(out.get("usage") or {})
        return out["choices"][0]["message"].get("content") or ""

    def close(self) -> None:
        """Free the model and the mtmd context now: at interpreter exit the order is not safe."""
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    def __enter__(self) -> VLMCaptioner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_vlm_captioner(cfg: ModelsConfig) -> Captioner:
    """The captioner for ``cfg.vlm_model`` (preset or path) and ``cfg.vlm_mmproj`` (else the preset's).

    With ``backend = "openai"`` the frames go to the server instead (it must serve a vision model).
    """
    if cfg.backend == "openai":
        from deskscribe.models.openai_remote import OpenAICaptioner

        return OpenAICaptioner(cfg)
    model = resolve(cfg.vlm_model, what="vision model (models.vlm_model)")
    mmproj = resolve_mmproj(cfg.vlm_model, cfg.vlm_mmproj)
    return VLMCaptioner(model, mmproj, cfg, cfg.vlm_handler, preset=cfg.vlm_model.strip().lower())
