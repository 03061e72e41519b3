"""The machine decides the default: detection on this machine (real), and the recommendation for made-up ones.

There is no GPU here, so the GPU cases use FAKED Hardware records (a made-up device list); the recommendation is
a pure function of that record, which is what makes this honest: only the detection touches the machine.
"""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from deskscribe.cli import main
from deskscribe.config import Config, ModelsConfig, from_dict, to_dict
from deskscribe.models import hardware, recommend
from deskscribe.models.hardware import Gpu, Hardware
from deskscribe.models.presets import PRESETS

LAPTOP_CPU = Hardware(cores=8, ram_mb=16 * 1024, offload=False)
# FAKED: no GPU exists on this machine; this is the device list llama.cpp would report for a CUDA laptop.
FAKE_RTX_4070 = Hardware(cores=16, ram_mb=32 * 1024, offload=True,
                         gpus=(Gpu("NVIDIA GeForce RTX 4070 Laptop GPU", 8188, "CUDA"),), source="faked")


def test_without_a_gpu_qwen3_vl_2b_on_the_cpu_with_a_token_cap() -> None:
    rec = recommend.recommend(LAPTOP_CPU)
    assert (rec.preset, rec.n_gpu_layers, rec.image_max_tokens) == ("qwen3-vl-2b", 0, 1024)
    assert rec.image_max_tokens <= 1024
    # 40 s at ~2,000 tokens, capped to 1,024; 171 episodes + 20 % of 1,142 actions per captured hour
    assert rec.seconds_per_call == pytest.approx(40 * 1024 / 2000)
    assert rec.calls_per_hour == 171 + round(1142 * 0.2)
    assert rec.describe_s_per_hour == pytest.approx(rec.seconds_per_call * rec.calls_per_hour)
    assert any("40 s per image request" in b for b in rec.basis)
    assert any("day_bench" in b for b in rec.basis)


def test_fewer_cores_cost_more_and_say_so() -> None:
    rec = recommend.recommend(Hardware(cores=2, ram_mb=16 * 1024, offload=False))
    assert rec.preset == "qwen3-vl-2b" and rec.seconds_per_call == pytest.approx(40 * 1024 / 2000 * 4)
    assert any("more than a working day leaves" in r for r in rec.reasons)


def test_with_a_faked_gpu_the_4b_fully_offloaded() -> None:
    rec = recommend.recommend(FAKE_RTX_4070)
    assert (rec.preset, rec.n_gpu_layers, rec.image_max_tokens) == ("qwen3-vl-4b", -1, 2048)
    assert rec.seconds_per_call == pytest.approx(2.0)  # the 2B's published 1 s, doubled for the 4B (stated)
    assert rec.calls_per_hour == 171 + 1142
    assert "RTX 4070" in rec.device and any("twice" in r for r in rec.reasons)


@pytest.mark.parametrize(("vram_mb", "preset", "layers"), [
    (4096, "qwen3-vl-2b", -1),  # the 2B fits whole, the 4B does not
    (2048, "qwen3-vl-2b", 18),  # part of the 2B: (2048 - 1024) / (1552 / 28) blocks
    (1024, "qwen3-vl-2b", 0),  # nothing fits: the CPU setup
])
def test_small_gpus_(vram_mb: int, preset: str, layers: int) -> None:
    hw = Hardware(cores=8, ram_mb=16 * 1024, offload=True, gpus=(Gpu("FAKED small GPU", vram_mb, "Vulkan"),))
    rec = recommend.recommend(hw)
    assert (rec.preset, rec.n_gpu_layers) == (preset, layers)
    assert rec.image_max_tokens == (1024 if layers == 0 else 2048)


def test_a_gpu_this_build_cannot_use_is_named_and_the_cpu_recommended() -> None:
    hw = Hardware(cores=8, ram_mb=16 * 1024, offload=False, gpus=(Gpu("NVIDIA FAKED", 8188, ""),))
    rec = recommend.recommend(hw)
    assert rec.n_gpu_layers == 0 and any("DGGML_CUDA=on" in r for r in rec.reasons)


def test_apple_unified_memory_and_too_little_ram() -> None:
    mac = Hardware(cores=10, ram_mb=16 * 1024, offload=True, gpus=(Gpu("FAKED Apple M2", 0, "Metal", True),))
    assert recommend.recommend(mac).preset == "qwen3-vl-4b"
    small = recommend.recommend(Hardware(cores=4, ram_mb=4 * 1024, offload=False))
    assert small.offline and small.preset == "smollm2-135m" and "too little" in small.reasons[0]


def test_apply_writes_valid_settings() -> None:
    rec = recommend.recommend(FAKE_RTX_4070)
    models = recommend.apply(rec, ModelsConfig())
    assert (models.vlm_model, models.summarizer, models.n_gpu_layers, models.vlm_image_max_tokens) == (
        "qwen3-vl-4b", "qwen3-vl-4b", -1, 2048)
    assert models.captioner == "ocr"  # captions stay OCR: a VLM per frame costs far more than the estimate
    from_dict(to_dict(Config(models=models)))  # validates
    offline = recommend.recommend(Hardware(cores=2, ram_mb=2048, offload=False))
    assert recommend.apply(offline, ModelsConfig()) == ModelsConfig()


def test_parsing_the_vendor_tool_and_device_names() -> None:
    text = "NVIDIA GeForce RTX 4070 Laptop GPU, 8188\nNVIDIA A100-SXM4-80GB, 81920\n"
    assert hardware.parse_nvidia_smi(text) == [Gpu("NVIDIA GeForce RTX 4070 Laptop GPU", 8188, ""),
                                               Gpu("NVIDIA A100-SXM4-80GB", 81920, "")]
    assert hardware.parse_nvidia_smi("") == []
    assert [hardware.backend_of(n) for n in ("CUDA0", "Vulkan1", "MTL0", "HIP0", "SYCL0")] == [
        "CUDA", "Vulkan", "Metal", "ROCm", "SYCL"]


def test_detect_on_this_machine() -> None:
    """Real detection: llama.cpp's device list through the loaded library (this build is CPU-only)."""
    hw = hardware.detect()
    assert hw.cores == os.cpu_count() and hw.ram_mb > 512
    assert hw.usable_gpu() is None and "llama.cpp device list" in hw.source
    assert recommend.recommend(hw).preset in {"qwen3-vl-2b", "smollm2-135m"}


def test_recommend_command() -> None:
    result = CliRunner().invoke(main, ["models", "recommend"])
    assert result.exit_code == 0, result.output
    for text in ("This machine:", "Recommended:  qwen3-vl-2b", "GPU layers:   0 (CPU)", "Image cap:    1,024",
                 "of describe per captured hour", "Rests on:", "40 s per image request"):
        assert text in result.output
    assert PRESETS["qwen3-vl-2b"].licence in result.output
    as_json = CliRunner().invoke(main, ["models", "recommend", "--json"])
    assert as_json.exit_code == 0 and '"preset": "qwen3-vl-2b"' in as_json.output
