"""Which model this machine should run, with what settings, and what it costs per captured hour.

:func:`recommend` is a pure function of a :class:`~deskscribe.models.hardware.Hardware` record, so every branch
is unit-tested with made-up machines. The estimate rests on published figures and on this project's own
measurements of a working hour, each listed in ``Recommendation.basis``; nothing here was timed on a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from deskscribe.models.hardware import Hardware
from deskscribe.models.presets import BUNDLED, PRESETS, QWEN3_VL_2B_CPU_S, QWEN3_VL_2B_GPU_S, SPEED_SOURCE

# A working hour as bench/results/day_bench.md measured it (7 scripted minutes, scaled to an hour):
EPISODES_PER_HOUR = 171
ACTIONS_PER_HOUR = round(132 / 416 * 3600)  # 132 recorded actions in 416 s of capture → 1,142
FRAMES_PER_HOUR = 917
FULL_FRAME_TOKENS = 2000  # a 1920×1080 screenshot through Qwen3-VL's encoder, uncapped
REFERENCE_CORES = 8  # assumed performance cores of the laptop Core i9 the CPU figure comes from
UNNAMED_SHARE = 0.2  # assumed share of steps whose evidence names nothing (the only ones a VLM reads on CPU)
CPU_TOKEN_CAP = 1024
GPU_TOKEN_CAP = 2048
MIN_RAM_MB = 6 * 1024  # the 2B (1.6 GB of files) + a 4k context + the rest of the desktop
DAY_BUDGET_S = 2 * 3600  # 8 captured hours described in the 16 that are left of a day
OVERHEAD_MB = 1024  # KV cache (4k context) + compute buffers, beyond the files, on the GPU


@dataclass(frozen=True)
class Recommendation:
    preset: str
    n_gpu_layers: int  # -1 = all layers, 0 = CPU
    image_max_tokens: int  # 0 = no image model
    device: str
    seconds_per_call: float
    calls_per_hour: int
    describe_s_per_hour: float
    reasons: list[str] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)

    @property
    def offline(self) -> bool:
        return self.preset == BUNDLED

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "offline": self.offline}


def _basis() -> list[str]:
    return [
        f"published: Qwen3-VL-2B Q4_K_M ~{QWEN3_VL_2B_CPU_S:.0f} s per image request on a laptop Core i9 CPU, "
        f"~{QWEN3_VL_2B_GPU_S:.0f} s on a laptop RTX 4070 ({SPEED_SOURCE})",
        f"a 1920×1080 screenshot is ~{FULL_FRAME_TOKENS:,} image tokens uncapped; time is scaled by the image "
        "token cap (assumption: the image encoder and prompt dominate a request)",
        f"a captured hour (bench/results/day_bench.md): {FRAMES_PER_HOUR} frames, {EPISODES_PER_HOUR} episodes, "
        f"{ACTIONS_PER_HOUR:,} actions",
        f"model calls per hour: one per episode (the task; counted as an image request, an upper bound) plus "
        f"one per step read by the VLM — every step on a GPU, on a CPU only the steps the evidence could not "
        f"name (assumed {UNNAMED_SHARE:.0%})",
    ]


def recommend(hw: Hardware) -> Recommendation:
    gpu = hw.usable_gpu()
    if gpu is not None:
        memory = gpu.memory_mb if not gpu.integrated else hw.ram_mb * 2 // 3  # unified memory: ~2/3 usable
        rec = _gpu_setup(hw, memory, f"{gpu.name} ({gpu.backend}, {memory / 1024:.1f} GB usable)")
        if rec is not None:
            return rec
    if hw.ram_mb and hw.ram_mb < MIN_RAM_MB:
        return Recommendation(BUNDLED, 0, 0, f"CPU ({hw.cores} cores)", 0.0, 0, 0.0, reasons=[
            f"{hw.ram_mb / 1024:.1f} GB of RAM is too little for Qwen3-VL-2B beside the desktop (needs "
            f"~{MIN_RAM_MB / 1024:.0f} GB): stay with the offline default (OCR + the steps)"], basis=_basis())
    return _cpu_setup(hw)


def _cpu_setup(hw: Hardware) -> Recommendation:
    slower = max(1.0, REFERENCE_CORES / max(1, hw.cores))
    per_call = QWEN3_VL_2B_CPU_S * CPU_TOKEN_CAP / FULL_FRAME_TOKENS * slower
    calls = EPISODES_PER_HOUR + round(ACTIONS_PER_HOUR * UNNAMED_SHARE)
    reasons = ["no GPU llama.cpp can offload to: Qwen3-VL-2B on the CPU, images capped at "
               f"{CPU_TOKEN_CAP:,} tokens"]
    if any(not g.backend for g in hw.gpus):
        reasons.append("a GPU is present but this llama-cpp-python build cannot use it: reinstall it with "
                       'CMAKE_ARGS="-DGGML_CUDA=on" (NVIDIA) to offload')
    if slower > 1:
        reasons.append(f"{hw.cores} cores: about {slower:.0f}× the reference laptop's time per request "
                       f"(assumed {REFERENCE_CORES} cores there)")
    if per_call * calls > DAY_BUDGET_S:
        reasons.append(f"~{hours(per_call * calls)} of describe per captured hour is more than a working day leaves "
                       f"({hours(DAY_BUDGET_S)}): describe chosen episodes only, or stay offline")
    return Recommendation("qwen3-vl-2b", 0, CPU_TOKEN_CAP, f"CPU ({hw.cores} cores)", per_call, calls,
                          per_call * calls, reasons=reasons, basis=_basis())


def _gpu_setup(hw: Hardware, memory_mb: int, device: str) -> Recommendation | None:
    calls = EPISODES_PER_HOUR + ACTIONS_PER_HOUR
    for name, factor in (("qwen3-vl-4b", 2.0), ("qwen3-vl-2b", 1.0)):
        p = PRESETS[name]
        layers = _layers_that_fit(p.approx_mb, p.layers, memory_mb)
        if layers == -1 or (name == "qwen3-vl-2b" and layers > 0):
            per_call = QWEN3_VL_2B_GPU_S * factor * (1.0 if layers == -1 else 4.0)
            why = [f"{device}: {p.name} with {'all layers' if layers == -1 else f'{layers} of {p.layers} layers'}"
                   f" offloaded, images capped at {GPU_TOKEN_CAP:,} tokens"]
            if factor > 1:
                why.append("the 4B's time per request is taken as twice the 2B's published GPU figure (assumption)")
            if layers != -1:
                why.append("partial offload: taken as 4× the full-offload time (assumption)")
            return Recommendation(name, layers, GPU_TOKEN_CAP, device, per_call, calls, per_call * calls,
                                  reasons=why, basis=_basis())
    return None


def _layers_that_fit(files_mb: int, layers: int, memory_mb: int) -> int:
    """-1 when the whole model fits with room for its cache, else how many blocks do (0 = none)."""
    if files_mb + OVERHEAD_MB <= memory_mb:
        return -1
    per_layer = files_mb / max(1, layers)
    return max(0, min(layers - 1, int((memory_mb - OVERHEAD_MB) / per_layer)))


def apply(rec: Recommendation, models_cfg: Any) -> Any:
    """The [models] settings for a downloaded recommendation (``models_cfg``: ModelsConfig, returned changed).

    Captions stay OCR (a VLM per frame would cost far more than the estimate); the model is set as the
    configured VLM and as the task writer, with the offload and image cap chosen here.
    """
    if rec.offline:
        return models_cfg
    return replace(models_cfg, vlm_model=rec.preset, summarizer=rec.preset, n_gpu_layers=rec.n_gpu_layers,
                   vlm_image_max_tokens=rec.image_max_tokens)


def hours(seconds: float) -> str:
    return f"{seconds / 60:,.0f} min" if seconds < 3600 else f"{seconds / 3600:,.1f} h"
