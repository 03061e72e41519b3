"""GPU vs CPU for the model presets: seconds per VLM image request and text-model tokens per second.

    .venv/bin/python bench/gpu_bench.py [--vlm qwen3-vl-2b,qwen3-vl-4b] [--text qwen3-4b-2507,qwen3-1.7b,smollm2-135m]
                                        [--frames 8] [--size 1920x1080]

Needs a GPU and a GPU build of llama-cpp-python, e.g. for NVIDIA:
    CMAKE_ARGS="-DGGML_CUDA=on" .venv/bin/python -m pip install --force-reinstall --no-cache-dir llama-cpp-python
and the presets pulled once (`deskscribe models pull qwen3-vl-2b`, …; a preset not pulled is reported as such).
Each model runs through deskscribe's own loaders twice: full offload (models.n_gpu_layers = -1) and CPU
(n_gpu_layers = 0), each in a fresh process so one does not warm the other. VLM: distinct screenshot-like
frames (bench/screens.py), the first request (model load + warm-up) reported apart — the figure to set beside
the published ~1 s (laptop RTX 4070) and ~40 s (laptop CPU) per Qwen3-VL-2B image request that
`deskscribe models recommend` rests on. Text: the same describe-sized prompt several times, tokens per second
of generation from llama.cpp's usage counts.
On a machine without offload it measures nothing: it says what it would measure and writes why, so the result
file never holds a guess. Writes bench/out/gpu_bench.{json,md} and copies them to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from typing import Any

import benchlib as B
import screens

PROMPT = [{"role": "system", "content": "You summarise what a person did at their computer in one sentence."},
          {"role": "user", "content": "Frames: [xterm — shell] $ git status, modified: report.md | [xterm — shell]"
           " $ git commit -m 'Update quarterly report' | [Firefox — GitLab] merge request !42 opened. "
           "What did the person do?"}]


def gpu_state() -> dict[str, Any]:
    import llama_cpp

    smi = shutil.which("nvidia-smi")
    gpus = ""
    if smi:
        out = subprocess.run([smi, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True)
        gpus = out.stdout.strip() if out.returncode == 0 else ""
    return {"llama_cpp_version": llama_cpp.__version__, "offload": bool(llama_cpp.llama_supports_gpu_offload()),
            "nvidia_smi": bool(smi), "gpus": gpus}


def child(kind: str, name: str, mmproj: str, layers: int, frames: int, size: str) -> None:
    """One model, one offload setting, in its own process; prints JSON."""
    from deskscribe.config import ModelsConfig
    from deskscribe.models.registry import open_text_model
    from deskscribe.models.vlm import open_vlm_captioner

    if kind == "text":
        model = open_text_model(ModelsConfig(summarizer=name, n_gpu_layers=layers))
        t = time.perf_counter()
        model.complete(PROMPT, max_tokens=64)
        first = time.perf_counter() - t
        runs = []
        for _ in range(max(3, frames // 2)):
            t = time.perf_counter()
            model.complete(PROMPT, max_tokens=128)
            runs.append((time.perf_counter() - t, dict(model.last_usage)))  # type: ignore[attr-defined]
        model.close()
        gen = sum(u.get("completion_tokens", 0) for _, u in runs)
        secs = sum(s for s, _ in runs)
        print(json.dumps({"first_s": first, "runs": len(runs), "seconds": secs, "completion_tokens": gen,
                          "prompt_tokens": sum(u.get("prompt_tokens", 0) for _, u in runs),
                          "tokens_per_s": gen / secs if secs else 0.0}))
        return
    w, h = (int(v) for v in size.split("x"))
    shots = [f for ep in screens.frames(7, frames, 1, (w, h)) for f in ep]
    cap = open_vlm_captioner(ModelsConfig(captioner="vlm", vlm_model=name, vlm_mmproj=mmproj, n_gpu_layers=layers))
    t = time.perf_counter()
    cap.caption(shots[0].data, app=shots[0].app, title=shots[0].title)
    first = time.perf_counter() - t
    t = time.perf_counter()
    for f in shots[1:]:
        cap.caption(f.data, app=f.app, title=f.title)
    secs = time.perf_counter() - t
    cap.close()
    print(json.dumps({"first_s": first, "captions": len(shots) - 1, "seconds": secs,
                      "s_per_image": secs / max(1, len(shots) - 1)}))


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "_child", *args], capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["exit " + str(out.returncode)])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def plan(args: argparse.Namespace) -> list[str]:
    vlms, texts = _names(args.vlm), _names(args.text)
    return [f"VLM presets {', '.join(vlms)}: {args.frames} distinct {args.size} screenshots each, seconds per image "
            "request with all layers on the GPU and on the CPU (first request apart)",
            f"text presets {', '.join(texts)}: generated tokens per second, GPU and CPU, up to 128 tokens per call"]


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def markdown(r: dict[str, Any]) -> str:
    g = r["gpu"]
    head = ["# GPU vs CPU: seconds per VLM image request and text tokens/s, per preset", "",
            f"Conditions: {B.conditions_line(r['conditions'])}. llama-cpp-python {g['llama_cpp_version']}, "
            f"GPU offload in this build: {g['offload']}; GPUs: {g['gpus'] or 'none found (no nvidia-smi)'}.", "",
            "What it measures:", *[f"- {line}" for line in r["plan"]], ""]
    if r.get("not_measured"):
        return "\n".join(head + [f"**Not measured**: {r['not_measured']}", "",
                                 "Run `python bench/gpu_bench.py` on a machine with a GPU and a GPU build of "
                                 "llama-cpp-python (see the script's docstring) to fill this file.", ""])
    rows = []
    for kind, unit in (("vlm", "s_per_image"), ("text", "tokens_per_s")):
        for name, modes in r[kind].items():
            for mode in ("gpu", "cpu"):
                m = modes[mode]
                value = f"{m[unit]:.2f}" if "error" not in m else f"failed: {m['error']}"
                rows.append(f"| {name} ({kind}) | {mode} | {value} | {m.get('first_s', float('nan')):.2f} |")
    return "\n".join(head + [
        "| preset | offload | s per image request (VLM) or generated tokens/s (text) | first call s (load + warm-up) |",
        "|---|---|---|---|", *rows, ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vlm", default="qwen3-vl-2b,qwen3-vl-4b", help="comma-separated VLM presets (or GGUF paths)")
    ap.add_argument("--text", default="qwen3-4b-2507,qwen3-1.7b,smollm2-135m", help="comma-separated text presets")
    ap.add_argument("--mmproj", default="", help="the mmproj when --vlm is one GGUF path")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", default="1920x1080")
    args = ap.parse_args()
    res: dict[str, Any] = {"conditions": B.conditions(), "gpu": gpu_state(), "frames": args.frames,
                           "size": args.size, "plan": plan(args)}
    if not res["gpu"]["offload"]:
        res["not_measured"] = ("this llama-cpp-python build cannot offload to a GPU "
                               "(llama_supports_gpu_offload() is False)"
                               + ("" if res["gpu"]["nvidia_smi"] else " and there is no NVIDIA GPU (no nvidia-smi)")
                               + "; a CPU-against-CPU table would say nothing about GPUs.")
        print("gpu_bench: no GPU offload here, nothing measured. On a GPU machine it would measure:", file=sys.stderr)
        for line in res["plan"]:
            print(f"  - {line}", file=sys.stderr)
    else:
        for kind, names in (("vlm", _names(args.vlm)), ("text", _names(args.text))):
            res[kind] = {name: {mode: run_child(kind, name, args.mmproj, str(layers), str(args.frames), args.size)
                                for mode, layers in (("gpu", -1), ("cpu", 0))} for name in names}
    B.write("gpu_bench", res, markdown)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    else:
        main()
