"""Text-model backends: llama.cpp in process, or an OpenAI-compatible HTTP server.

Both load nothing until the first ``complete()`` and give everything back on ``close()``, so a tray that
describes a batch now and then stays small between batches.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from pathlib import Path
from typing import Any

from deskscribe.config import ModelsConfig
from deskscribe.errors import ModelError
from deskscribe.models.base import ModelInfo
from deskscribe.models.gguf_file import GGUFSummary, read_gguf, sha256_file

log = logging.getLogger(__name__)

_cpu_logged = False
_patch_lock = threading.Lock()
_patched = False


def _build_has_amx() -> bool:
    """Whether this llama.cpp build's CPU backend was compiled with AMX kernels (ggml_cpu_has_amx_int8)."""
    import llama_cpp

    for lib in sorted((Path(llama_cpp.__file__).parent / "lib").glob("*ggml-cpu*")):
        try:
            fn = ctypes.CDLL(str(lib)).ggml_cpu_has_amx_int8
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_int
        return bool(fn())
    return False


def apply_cpu_workarounds() -> None:
    """Keep llama.cpp off its AMX matmul, which segfaults in llama-cpp-python 0.3.36 on AMX CPUs.

    Measured here (Sapphire Rapids, pip's native build): the first decode dies in ggml_backend_amx_mul_mat
    (llama.cpp issues #20824 / PR #26954: the tile config is built on the stack and optimised away).
    AMX kernels come in as an "extra buffer type", so a build with AMX gets ``use_extra_bufts=False``
    for every model; other builds are untouched. Idempotent; also used by the test server process.
    """
    global _patched
    with _patch_lock:
        if _patched:
            return
        _patched = True
        if not _build_has_amx():
            return
        import llama_cpp.llama_cpp as lib

        original = lib.llama_model_default_params

        def params_without_extra_bufts() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        lib.llama_model_default_params = params_without_extra_bufts
        log.info("llama.cpp build has AMX kernels: disabled extra buffer types (AMX crash workaround)")


def gpu_layers(cfg: ModelsConfig) -> int:
    """Layers to offload: cfg -1 means all of them when this llama.cpp build can offload, else none (CPU).

    A CPU-only build says so once per process, so a user who expected the GPU finds out why it is slow.
    """
    global _cpu_logged
    import llama_cpp

    can_offload = bool(llama_cpp.llama_supports_gpu_offload())
    if cfg.n_gpu_layers == 0:
        return 0
    if not can_offload:
        if not _cpu_logged:
            log.warning(
                "llama.cpp was built without GPU support: running on the CPU "
                "(reinstall with CMAKE_ARGS=\"-DGGML_CUDA=on\" to use an NVIDIA GPU)"
            )
            _cpu_logged = True
        return 0
    return -1 if cfg.n_gpu_layers < 0 else cfg.n_gpu_layers


def n_ctx_for(cfg: ModelsConfig, summary: GGUFSummary) -> int:
    """The context to allocate: the configured one, but never more than the model was trained for.

    At least 256: llama.cpp rounds smaller contexts up to 256 while llama-cpp-python sizes its token
    buffer from the requested value, and the mismatch breaks the first long prompt.
    """
    trained = summary.context_length
    n_ctx = min(cfg.n_ctx, trained) if trained else cfg.n_ctx
    return max(n_ctx, 256)


def load_llama(path: Path, cfg: ModelsConfig, summary: GGUFSummary, **extra: Any) -> Any:
    """A ``llama_cpp.Llama`` for a file already checked by :func:`read_gguf`; load errors → ModelError."""
    import llama_cpp

    apply_cpu_workarounds()
    try:
        return llama_cpp.Llama(
            model_path=str(path),
            n_gpu_layers=gpu_layers(cfg),
            n_ctx=n_ctx_for(cfg, summary),
            n_threads=cfg.n_threads or None,
            n_threads_batch=cfg.n_threads or None,
            seed=cfg.seed,
            verbose=False,
            **extra,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"llama.cpp could not load {path} ({exc}); is it a model for this llama.cpp version?") from exc


def context_error(exc: Exception, n_ctx: int) -> ModelError | None:
    """llama-cpp-python's 'Requested tokens exceed context window' as a user-facing error."""
    text = str(exc)
    if "exceed context window" in text:
        return ModelError(f"the prompt is too long for models.n_ctx={n_ctx} ({text}); raise models.n_ctx")
    return None


def shared_prefix(llm: Any, messages: list[dict[str, Any]]) -> list[int] | None:
    """The tokens of the chat prompt before the last message's own text: what every prompt that differs
    only in that text shares. None when the model has no chat template or the messages are not plain text."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template or len(messages) < 2 or not all(isinstance(m.get("content"), str) for m in messages):
        return None
    model = llm._model  # noqa: SLF001 - the token texts the library itself gives its formatter
    eos, bos = llm.token_eos(), llm.token_bos()
    fmt = Jinja2ChatFormatter(template=template, eos_token=model.token_get_text(eos) if eos != -1 else "",
                              bos_token=model.token_get_text(bos) if bos != -1 else "")
    try:
        last: Any = {**messages[-1], "content": "\x1f"}
        chat: Any = messages
        real = fmt(messages=chat).prompt
        other = fmt(messages=[*chat[:-1], last]).prompt
    except Exception:  # noqa: BLE001 - a template this formatter cannot render: no prefix cache
        return None
    n = next((i for i, (a, b) in enumerate(zip(real, other)) if a != b), min(len(real), len(other)))
    tokens = llm.tokenize(real[:n].encode("utf-8"), special=True)
    # the cut may fall inside a token: drop the last one, so what is kept is a prefix of the real prompt's tokens
    tokens = tokens[:-1]
    return tokens if len(tokens) >= 16 else None


class LlamaCppTextModel:
    """A GGUF chat model run by llama.cpp in this process."""

    def __init__(self, path: Path, cfg: ModelsConfig, preset: str = "") -> None:
        from deskscribe.models.abilities import of_gguf

        self.path = Path(path)
        self.cfg = cfg
        self.summary = read_gguf(self.path)
        if self.summary.is_mmproj:
            raise ModelError(f"{self.path} is a vision projector (mmproj), not a language model")
        self.n_ctx = n_ctx_for(cfg, self.summary)
        self.info = ModelInfo(
            backend="llama_cpp",
            model=self.path.name,
            sha256=sha256_file(self.path),
            params={
                "n_ctx": self.n_ctx,
                "temperature": cfg.temperature,
                "seed": cfg.seed,
                "repeat_penalty": cfg.repeat_penalty,
                "n_gpu_layers": gpu_layers(cfg),
                "architecture": self.summary.architecture,
                "quantization": self.summary.file_type,
            },
            abilities=of_gguf(self.summary, preset),
        )
        self._llm: Any = None
        self._prefix: list[int] | None = None  # the tokens whose cache the context holds (see _start)
        self.last_usage: dict[str, int] = {}

    def _model(self) -> Any:
        if self._llm is None:
            self._llm = load_llama(self.path, self.cfg, self.summary)
        return self._llm

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model (loads the model): for fitting prompts into n_ctx."""
        return len(self._model().tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def complete(
        self, messages: list[dict[str, Any]], *, schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> str:
        """Chat completion; the same messages always give the same answer (state reset, fixed seed)."""
        llm = self._model()
        self._start(llm, messages)
        llm.set_seed(self.cfg.seed)
        kwargs: dict[str, Any] = {
            "temperature": self.cfg.temperature,
            "seed": self.cfg.seed,
            "repeat_penalty": self.cfg.repeat_penalty,
            "max_tokens": max_tokens,
        }
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        try:
            out = llm.create_chat_completion(messages=messages, **kwargs)
        except ValueError as exc:
            err = context_error(exc, self.n_ctx)
            if err:
                raise err from exc
            raise
        self.last_usage = dict(out.get("usage") or {})
        return out["choices"][0]["message"].get("content") or ""

    def _start(self, llm: Any, messages: list[dict[str, Any]]) -> None:
        """Put the context at the start of the answer to ``messages``, reusing the shared prefix's cache.

        Every describe prompt opens with the same system text and worked examples (over half its tokens).
        That prefix is evaluated alone, once, and kept; each call keeps those cached tokens and llama.cpp
        evaluates only the rest. The prefix is always evaluated the same way (alone, from a clean state), so
        the same messages give the same answer whatever was asked before — a cache reused from an arbitrary
        earlier prompt changed answers at temperature 0 (FIELD_NOTES).
        """
        prefix = shared_prefix(llm, messages)
        if prefix and prefix == self._prefix and llm.n_tokens >= len(prefix):
            llm.n_tokens = len(prefix)  # llama.cpp drops the cache after it at the next eval
            return
        llm.reset()
        self._prefix = None
        if prefix:
            llm.eval(prefix)
            self._prefix = prefix

    def close(self) -> None:
        """Free the weights and context now rather than at garbage collection."""
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        self._prefix = None

    def __enter__(self) -> LlamaCppTextModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
