"""Model presets, resolution, `deskscribe models list|pull|info`, and pulling without a network."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from deskscribe.cli import main
from deskscribe.config import ModelsConfig
from deskscribe.errors import ModelError
from deskscribe.models import manager


def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in manager._PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


def test_presets_name_real_hub_files() -> None:
    vlms = {p.name for p in manager.PRESETS.values() if p.kind == "vlm"}
    texts = {p.name for p in manager.PRESETS.values() if p.kind == "text"}
    assert {"qwen3-vl-2b", "qwen3-vl-4b", "smolvlm-256m", "qwen2.5-vl-3b", "gemma-3-4b"} <= vlms
    assert {"smollm2-135m", "qwen3-4b-2507", "qwen3-1.7b", "qwen2.5-1.5b", "qwen2.5-3b"} <= texts
    for p in manager.PRESETS.values():
        assert p.file.endswith(".gguf") and p.licence and p.params_b > 0 and p.approx_mb > 0 and p.speed
        if p.kind == "vlm":
            assert p.mmproj.endswith(".gguf") and p.repo
    # research-licensed presets are marked, never silently offered as the others
    assert {p.name for p in manager.PRESETS.values() if not p.commercial} == {"qwen2.5-3b", "qwen2.5-vl-3b"}
    assert manager.PRESETS["qwen3-vl-2b"].mmproj == "mmproj-Qwen3VL-2B-Instruct-Q8_0.gguf"
    assert manager.PRESETS["qwen3-vl-4b"].mmproj == "mmproj-Qwen3VL-4B-Instruct-F16.gguf"


def test_resolve_bundled_path_and_errors(smollm2_path: Path, tmp_path: Path) -> None:
    assert manager.resolve("smollm2-135m") == smollm2_path
    assert manager.resolve("SmolLM2-135M") == smollm2_path
    assert manager.resolve(str(smollm2_path)) == smollm2_path.resolve()
    with pytest.raises(ModelError, match="file not found"):
        manager.resolve(str(tmp_path / "nope.gguf"))
    with pytest.raises(ModelError, match="deskscribe models pull gemma-3-4b"):
        manager.resolve("gemma-3-4b")
    with pytest.raises(ModelError, match="not a preset"):
        manager.resolve("gpt-17")


def test_pull_without_network_is_one_sentence(  # type: ignore[no-untyped-def]
    free_port, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real failure path: HF_ENDPOINT on a closed loopback port, a real connection refused."""
    _no_proxy(monkeypatch)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    result = CliRunner().invoke(main, ["models", "pull", "smolvlm-256m"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot download 'smolvlm-256m'")
    assert "unreachable" in lines[0] and "mmproj-SmolVLM-256M-Instruct-Q8_0.gguf" in lines[0]
    assert not manager.manifest_path().exists()


def test_pull_then_use_the_preset(local_hub, tiny_vlm: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    model, mmproj = tiny_vlm
    preset = manager.PRESETS["smolvlm-256m"]
    local_hub.add(preset.repo, {preset.file: model.read_bytes(), preset.mmproj: mmproj.read_bytes()})
    result = CliRunner().invoke(main, ["models", "pull", "smolvlm-256m"])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(model.read_bytes()).hexdigest() in result.output
    entry = json.loads(manager.manifest_path().read_text())["smolvlm-256m"]
    assert entry["files"][preset.mmproj]["sha256"] == hashlib.sha256(mmproj.read_bytes()).hexdigest()
    assert manager.is_installed(preset)

    listing = CliRunner().invoke(main, ["models", "list"])
    assert listing.exit_code == 0
    row = next(line for line in listing.output.splitlines() if line.startswith("smolvlm-256m"))
    assert " yes " in row

    info = CliRunner().invoke(main, ["models", "info", "smolvlm-256m"])
    assert info.exit_code == 0 and "projector type  mlp" in info.output and "architecture" in info.output

    from deskscribe.models.vlm import open_vlm_captioner

    captioner = open_vlm_captioner(ModelsConfig(captioner="vlm", vlm_model="smolvlm-256m"))
    assert captioner.handler == "mtmd" and captioner.info.params["mmproj"] == preset.mmproj


def test_a_broken_file_on_the_hub_is_refused(  # type: ignore[no-untyped-def]
    local_hub, tiny_vlm: tuple[Path, Path]
) -> None:
    """The hub serves a truncated GGUF whose checksum matches: the GGUF check still refuses it."""
    model, _ = tiny_vlm
    preset = manager.PRESETS["qwen2.5-1.5b"]
    local_hub.add(preset.repo, {preset.file: model.read_bytes()[:5000]})
    with pytest.raises(ModelError, match="corrupt or incomplete"):
        manager.pull("qwen2.5-1.5b")
    assert not manager.manifest_path().exists()


def test_missing_file_or_repo_on_the_hub(local_hub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match="not available"):
        manager.pull("qwen2.5-3b")  # no such repo
    local_hub.add("Qwen/Qwen3-1.7B-GGUF", {"other.gguf": b"x"})
    with pytest.raises(ModelError, match="not available"):
        manager.pull("qwen3-1.7b")  # the repo, without the file


def test_list_shows_presets_and_configured_defaults(smollm2_path: Path) -> None:
    result = CliRunner().invoke(main, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "smollm2-135m" in result.output and "[summarizer]" in result.output
    assert "qwen2.5-vl-3b" in result.output and "captioner:  ocr" in result.output


def test_info_of_a_file_and_of_a_missing_preset(smollm2_path: Path) -> None:
    result = CliRunner().invoke(main, ["models", "info", str(smollm2_path)])
    assert result.exit_code == 0, result.output
    for expected in ("architecture    llama", "quantization    Q4_1", "context length  8192", "chat template   yes",
                     "sha256          " + hashlib.sha256(smollm2_path.read_bytes()).hexdigest()):
        assert expected in result.output
    missing = CliRunner().invoke(main, ["models", "info", "gemma-3-4b"])
    assert missing.exit_code == 0 and "deskscribe models pull gemma-3-4b" in missing.output
    bad = CliRunner().invoke(main, ["models", "info", "/no/such/file.gguf"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: model file not found")


def test_pull_of_the_bundled_model_needs_nothing() -> None:
    result = CliRunner().invoke(main, ["models", "pull", "smollm2-135m"])
    assert result.exit_code == 0 and "bundled" in result.output
