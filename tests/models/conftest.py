"""Fixtures of the models stage: a real llama.cpp server on loopback and a tiny random-weight VLM."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from ..conftest import stop_process, wait_for

# The server process applies the same AMX workaround as the in-process backend (see backends.py).
_SERVER = (
    "import runpy, sys; from deskscribe.models.llama_text import apply_cpu_workarounds; "
    "apply_cpu_workarounds(); sys.argv[0] = 'llama_cpp.server'; "
    "runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)"
)


CHATML_LIST_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for p in m['content'] %}"
    "{% if p['type'] == 'text' %}{{ p['text'] }}{% else %}<image>{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _byte_tokens() -> list[str]:
    """GPT-2's byte-to-unicode alphabet: 256 tokens that make a byte-level BPE vocabulary."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs, strict=True))
    return [chr(table[b]) for b in range(256)]


def _rand(rng: np.random.Generator, *shape: int) -> np.ndarray:
    # Scale ~0.5: at 0.02 the tiny model only ever emitted whitespace (FIELD_NOTES).
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


def write_tiny_text_model(path: Path, hidden: int = 64, seed: int = 0) -> Path:
    """A 2-layer llama GGUF with a byte-level BPE vocabulary and a ChatML template that takes list content."""
    import gguf

    rng = np.random.default_rng(seed)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"]
    tokens = _byte_tokens() + specials
    ffn, heads, kv_heads = 2 * hidden, 4, 2
    head_dim = hidden // heads
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny-random-llama")
    w.add_context_length(8192)  # the describe prompts spend ~1 token per byte of text on this vocabulary
    w.add_embedding_length(hidden)
    w.add_block_count(2)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(tokens))
    w.add_file_type(0)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types([1] * 256 + [3] * len(specials))
    w.add_token_merges(["a b"])
    w.add_bos_token_id(tokens.index("<|im_start|>"))
    w.add_eos_token_id(tokens.index("<|im_end|>"))
    w.add_chat_template(CHATML_LIST_TEMPLATE)
    w.add_tensor("token_embd.weight", _rand(rng, len(tokens), hidden))
    w.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    for i in range(2):
        b = f"blk.{i}"
        w.add_tensor(f"{b}.attn_norm.weight", np.ones(hidden, np.float32))
        w.add_tensor(f"{b}.attn_q.weight", _rand(rng, hidden, hidden))
        w.add_tensor(f"{b}.attn_k.weight", _rand(rng, kv_heads * head_dim, hidden))
        w.add_tensor(f"{b}.attn_v.weight", _rand(rng, kv_heads * head_dim, hidden))
        w.add_tensor(f"{b}.attn_output.weight", _rand(rng, hidden, hidden))
        w.add_tensor(f"{b}.ffn_norm.weight", np.ones(hidden, np.float32))
        w.add_tensor(f"{b}.ffn_gate.weight", _rand(rng, ffn, hidden))
        w.add_tensor(f"{b}.ffn_up.weight", _rand(rng, ffn, hidden))
        w.add_tensor(f"{b}.ffn_down.weight", _rand(rng, hidden, ffn))
    _finish(w)
    return path


def write_tiny_mmproj(path: Path, text_hidden: int = 64, seed: int = 1) -> Path:
    """A LLaVA-1.5 style CLIP projector (``mlp``) whose output size is ``text_hidden``."""
    import gguf

    rng = np.random.default_rng(seed)
    e, f, proj_hidden, image, patch = 32, 64, 64, 32, 8
    w = gguf.GGUFWriter(str(path), "clip")
    w.add_string("clip.projector_type", "mlp")
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.use_gelu", True)
    for key, value in {"image_size": image, "patch_size": patch, "embedding_length": e,
                       "feed_forward_length": f, "block_count": 2, "attention.head_count": 2,
                       "projection_dim": text_hidden}.items():
        w.add_uint32(f"clip.vision.{key}", value)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6)
    w.add_array("clip.vision.image_mean", [0.5, 0.5, 0.5])
    w.add_array("clip.vision.image_std", [0.5, 0.5, 0.5])
    w.add_file_type(0)
    w.add_tensor("v.patch_embd.weight", _rand(rng, e, 3, patch, patch))
    w.add_tensor("v.patch_embd.bias", _rand(rng, e))
    w.add_tensor("v.position_embd.weight", _rand(rng, (image // patch) ** 2, e))
    w.add_tensor("v.pre_ln.weight", np.ones(e, np.float32))
    w.add_tensor("v.pre_ln.bias", np.zeros(e, np.float32))
    for i in range(2):
        b = f"v.blk.{i}"
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            w.add_tensor(f"{b}.{name}.weight", _rand(rng, e, e))
            w.add_tensor(f"{b}.{name}.bias", _rand(rng, e))
        for name in ("ln1", "ln2"):
            w.add_tensor(f"{b}.{name}.weight", np.ones(e, np.float32))
            w.add_tensor(f"{b}.{name}.bias", np.zeros(e, np.float32))
        w.add_tensor(f"{b}.ffn_up.weight", _rand(rng, f, e))
        w.add_tensor(f"{b}.ffn_up.bias", _rand(rng, f))
        w.add_tensor(f"{b}.ffn_down.weight", _rand(rng, e, f))
        w.add_tensor(f"{b}.ffn_down.bias", _rand(rng, e))
    w.add_tensor("mm.0.weight", _rand(rng, proj_hidden, e))
    w.add_tensor("mm.0.bias", _rand(rng, proj_hidden))
    w.add_tensor("mm.2.weight", _rand(rng, text_hidden, proj_hidden))
    w.add_tensor("mm.2.bias", _rand(rng, text_hidden))
    _finish(w)
    return path


def _finish(w: object) -> None:
    w.write_header_to_file()  # type: ignore[attr-defined]
    w.write_kv_data_to_file()  # type: ignore[attr-defined]
    w.write_tensors_to_file()  # type: ignore[attr-defined]
    w.close()  # type: ignore[attr-defined]


def build_tiny_vlm(folder: Path, *, text_hidden: int = 64, mmproj_hidden: int | None = None) -> tuple[Path, Path]:
    """(model GGUF, mmproj GGUF); ``mmproj_hidden`` ≠ ``text_hidden`` builds a mismatched pair."""
    model = write_tiny_text_model(folder / "tiny-llama.gguf", hidden=text_hidden)
    mmproj = write_tiny_mmproj(folder / "mmproj-tiny.gguf", text_hidden=mmproj_hidden or text_hidden)
    return model, mmproj


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: Callable[[], object], timeout: float, what: str) -> None:
    wait_for(predicate, timeout=timeout, interval=0.1, what=what)


def _models_answer(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/models", timeout=2) as r:
            return bool(json.loads(r.read()).get("data"))
    except OSError:
        return False


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    """A loopback port nothing listens on (yet)."""
    return free_port


@contextlib.contextmanager
def _run_server(model: Path, log: Path, *extra: str) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; yields its base URL (…/v1), stops it after."""
    port = free_port()
    args = [sys.executable, "-c", _SERVER, "--model", str(model), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", "2048", "--verbose", "False", *extra]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            return _models_answer(url)

        _wait(ready, 90, "llama_cpp.server")
        yield url
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def llama_server(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real llama.cpp server with SmolLM2 on 127.0.0.1, for the OpenAI-compatible backend."""
    with _run_server(smollm2_path, tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def vlm_server(tiny_vlm: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real llama.cpp server with the tiny VLM (LLaVA-1.5 handler), for captions over HTTP."""
    model, mmproj = tiny_vlm
    log = tmp_path_factory.mktemp("vlm-server") / "server.log"
    with _run_server(model, log, "--clip_model_path", str(mmproj), "--chat_format", "llava-1-5") as url:
        yield url


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A random-weight llama text GGUF + matching CLIP mmproj (~1 MB, built in ~0.1 s)."""
    folder = tmp_path_factory.mktemp("tiny-vlm")
    return build_tiny_vlm(folder)


@pytest.fixture(scope="session")
def tiny_vlm_builder(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[Path, Path]]:
    """Build variants (e.g. a projector for the wrong hidden size) into fresh folders."""

    def build(**kwargs: object) -> tuple[Path, Path]:
        return build_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm-variant"), **kwargs)  # type: ignore[arg-type]

    return build
