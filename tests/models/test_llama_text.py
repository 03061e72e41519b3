"""llama.cpp text backend on the real SmolLM2 GGUF, file validation and hashing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path

import pytest

from deskscribe.config import ModelsConfig
from deskscribe.errors import ModelError
from deskscribe.models import llama_text as backends
from deskscribe.models.gguf_file import read_gguf, sha256_file
from deskscribe.models.registry import open_text_model

SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "steps": {"type": "array", "items": {"type": "string"}}},
    "required": ["summary", "steps"],
}
MESSAGES = [
    {"role": "system", "content": "You say what a person did on their computer, in JSON."},
    {"role": "user", "content": "Screens: 1. xterm: $ sudo apt install xeyes  2. xeyes window. What did they do?"},
]


@pytest.fixture(scope="module")
def smollm2(smollm2_path: Path):  # type: ignore[no-untyped-def]
    """One loaded SmolLM2 shared by the inference tests of this module (loading costs ~0.3 s each)."""
    model = open_text_model(ModelsConfig())
    yield model
    model.close()


@pytest.mark.model
def test_default_preset_answers_schema_json_deterministically(smollm2, smollm2_path: Path) -> None:
    first = smollm2.complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    second = smollm2.complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    assert first == second  # the state reset makes a repeat identical (prompt cache reuse did not)
    if smollm2.last_usage.get("completion_tokens", 0) < 64:  # a cut-off answer cannot be complete JSON
        data = json.loads(first)
        assert isinstance(data["summary"], str) and isinstance(data["steps"], list)
    else:
        assert first.lstrip().startswith("{")
    info = smollm2.info
    assert info.backend == "llama_cpp"
    assert info.model == smollm2_path.name
    assert info.sha256 == hashlib.sha256(smollm2_path.read_bytes()).hexdigest()
    for key in ("n_ctx", "temperature", "seed", "repeat_penalty", "n_gpu_layers"):
        assert key in info.params


@pytest.mark.model
def test_the_shared_prompt_prefix_is_evaluated_once_and_answers_stay_the_same(smollm2, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Prompts that differ only in their last message reuse the cached system text and examples; the answer to
    a prompt is the same whatever was asked before, and the same as a fresh model's."""
    from deskscribe.models import prompt as promptlib
    from deskscribe.models.facts import Facts

    def ask(steps: list[str]) -> list[dict[str, str]]:
        return promptlib.build_task_messages(Facts(apps=["Mousepad"], titles=["notes.txt - Mousepad"]), steps, [])

    a = ask(["Typed 'Invite Dana and Luis' in Mousepad", "Pressed Ctrl+S (save) in Mousepad"])
    b = ask(["Ran `ls -la` in the terminal"])
    first = smollm2.complete(a, schema=promptlib.TASK_SCHEMA, max_tokens=48)
    llm = smollm2._model()
    prefix = backends.shared_prefix(llm, a)
    assert prefix is not None and prefix == backends.shared_prefix(llm, b) and len(prefix) > 100
    assert list(llm.input_ids[: len(prefix)]) == prefix  # a prefix of the tokens llama.cpp really evaluated
    resets: list[int] = []
    reset = llm.reset
    monkeypatch.setattr(llm, "reset", lambda: (resets.append(1), reset())[1])  # a spy on the real model
    smollm2.complete(b, schema=promptlib.TASK_SCHEMA, max_tokens=48)
    assert smollm2.complete(a, schema=promptlib.TASK_SCHEMA, max_tokens=48) == first
    assert resets == [] and smollm2._prefix == prefix  # the prefix's cache was kept, not evaluated again
    with open_text_model(ModelsConfig()) as fresh:
        assert fresh.complete(a, schema=promptlib.TASK_SCHEMA, max_tokens=48) == first


@pytest.mark.model
def test_plain_completion_and_token_count(smollm2) -> None:
    text = smollm2.complete([{"role": "user", "content": "Say hello."}], max_tokens=8)
    assert isinstance(text, str) and text.strip()
    assert smollm2.last_usage["completion_tokens"] > 0
    assert smollm2.count_tokens("hello world") >= 2


def test_local_path_is_lazy_and_released(smollm2_path: Path) -> None:
    with open_text_model(ModelsConfig(summarizer=str(smollm2_path), n_ctx=512)) as model:
        assert model.info.model == smollm2_path.name
        assert model.info.params["n_ctx"] == 512
        assert model._llm is None  # nothing loaded until the first completion
        model._model()
        assert model._llm is not None
    assert model._llm is None


@pytest.mark.model
def test_prompt_longer_than_context_is_a_model_error(smollm2_path: Path) -> None:
    with open_text_model(ModelsConfig(summarizer=str(smollm2_path), n_ctx=256)) as model:
        with pytest.raises(ModelError, match="n_ctx=256"):
            model.complete([{"role": "user", "content": "word " * 400}], max_tokens=4)


def test_gpu_layers_follow_the_build(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    monkeypatch.setattr(backends, "_cpu_logged", False)
    can_offload = llama_cpp.llama_supports_gpu_offload()
    with caplog.at_level(logging.WARNING, logger="deskscribe.models.llama_text"):
        assert backends.gpu_layers(ModelsConfig()) == (-1 if can_offload else 0)
        assert backends.gpu_layers(ModelsConfig()) == (-1 if can_offload else 0)
    assert backends.gpu_layers(ModelsConfig(n_gpu_layers=0)) == 0
    assert backends.gpu_layers(ModelsConfig(n_gpu_layers=12)) == (12 if can_offload else 0)
    cpu_lines = [r for r in caplog.records if "CPU" in r.getMessage()]
    assert len(cpu_lines) == (0 if can_offload else 1)  # said once, not per model


def test_sha256_is_cached_by_size_and_mtime(tmp_path: Path, deskscribe_home: Path) -> None:
    f = tmp_path / "m.bin"
    f.write_bytes(b"abc")
    assert sha256_file(f) == hashlib.sha256(b"abc").hexdigest()
    cache = json.loads((deskscribe_home / "models" / "sha256-cache.json").read_text())
    assert cache[str(f.resolve())]["sha256"] == hashlib.sha256(b"abc").hexdigest()
    f.write_bytes(b"abcd")
    os.utime(f, ns=(1, 1))
    assert sha256_file(f) == hashlib.sha256(b"abcd").hexdigest()


def test_gguf_summary_of_smollm2(smollm2_path: Path) -> None:
    s = read_gguf(smollm2_path)
    assert (s.architecture, s.file_type, s.context_length, s.embedding_length) == ("llama", "Q4_1", 8192, 576)
    assert s.has_chat_template and not s.is_mmproj
    assert 130e6 < s.n_params < 140e6


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, src: p.write_bytes(src.read_bytes()[: 4 << 20]), "corrupt or incomplete"),
        (lambda p, src: p.write_bytes(src.read_bytes()[:2000]), "corrupt or incomplete"),
        (lambda p, src: p.write_text("just some notes, not a model\n"), "not a GGUF file"),
        (lambda p, src: p.write_bytes(b""), "not a GGUF file"),
        (lambda p, src: None, "not found"),
        (lambda p, src: p.mkdir(), "not a file"),
    ],
    ids=["truncated-data", "truncated-header", "text-file", "empty", "missing", "directory"],
)
def test_bad_model_files_are_one_line_errors(  # type: ignore[no-untyped-def]
    tmp_path: Path, smollm2_path: Path, make, message: str
) -> None:
    bad = tmp_path / "model.gguf"
    make(bad, smollm2_path)
    with pytest.raises(ModelError, match=message) as err:
        open_text_model(ModelsConfig(summarizer=str(bad)))
    assert "\n" not in str(err.value) and str(bad) in str(err.value)


def test_unknown_and_missing_presets_say_what_to_do() -> None:
    with pytest.raises(ModelError, match="not a preset"):
        open_text_model(ModelsConfig(summarizer="no-such-model"))
    with pytest.raises(ModelError, match="deskscribe models pull qwen2.5-1.5b"):
        open_text_model(ModelsConfig(summarizer="qwen2.5-1.5b"))


def test_config_keys_exist_for_every_param() -> None:
    names = {f.name for f in dataclasses.fields(ModelsConfig)}
    assert {"repeat_penalty", "n_gpu_layers", "n_threads", "n_ctx", "seed", "temperature"} <= names
