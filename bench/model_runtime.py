"""Model runtime benchmark: what the backends cost around the model itself.

    /tmp/venv/bin/python bench/model_runtime.py [--repeats N]

Measures on the bundled SmolLM2-135M: GGUF validation (ours vs gguf.GGUFReader), sha256 first and cached,
model load, a schema-constrained completion in process, the same through `python -m llama_cpp.server`
on loopback (HTTP overhead), and a caption from the tiny random-weight VLM (handler + mtmd overhead only;
the tiny model says nothing useful). Writes bench/out/model_runtime.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "steps": {"type": "array", "items": {"type": "string"}}},
    "required": ["summary", "steps"],
}
MESSAGES = [
    {"role": "system", "content": "You say what a person did on their computer. Answer in JSON."},
    {"role": "user", "content": "Frames: 1. xterm: $ sudo apt install xeyes  2. xterm: xeyes is running. "
                                "What did the user do?"},
]


def timed(fn, repeats: int = 1) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _conftest():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("models_conftest", REPO / "tests" / "models" / "conftest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_files(results: dict, smollm2: Path, repeats: int) -> None:
    import gguf

    from deskscribe.models.gguf_file import read_gguf, sha256_file

    results["read_gguf_ms"] = timed(lambda: read_gguf(smollm2), repeats)[0] * 1e3
    results["gguf_reader_ms"] = timed(lambda: gguf.GGUFReader(str(smollm2)), 1)[0] * 1e3
    results["sha256_first_ms"] = timed(lambda: sha256_file(smollm2), 1)[0] * 1e3
    results["sha256_cached_ms"] = timed(lambda: sha256_file(smollm2), repeats)[0] * 1e3


def bench_in_process(results: dict, repeats: int) -> None:
    from deskscribe.config import ModelsConfig
    from deskscribe.models.registry import open_text_model

    model = open_text_model(ModelsConfig())
    results["load_s"] = timed(model._model)[0]
    results["complete_schema_s"], _ = timed(lambda: model.complete(MESSAGES, schema=SCHEMA, max_tokens=96), repeats)
    results["complete_schema_tokens"] = model.last_usage.get("completion_tokens")
    results["complete_plain_s"], _ = timed(lambda: model.complete(MESSAGES, max_tokens=96), repeats)
    results["complete_plain_tokens"] = model.last_usage.get("completion_tokens")
    model.close()


def bench_server(results: dict, smollm2: Path, repeats: int, conftest) -> None:  # type: ignore[no-untyped-def]
    from deskscribe.config import ModelsConfig
    from deskscribe.models.registry import open_text_model

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with conftest._run_server(smollm2, Path(tmp) / "server.log") as url:
            results["server_start_s"] = time.perf_counter() - start
            model = open_text_model(ModelsConfig(backend="openai", server_url=url, server_model="smollm2"))
            results["server_complete_schema_s"], _ = timed(
                lambda: model.complete(MESSAGES, schema=SCHEMA, max_tokens=96), repeats)
            results["server_complete_schema_tokens"] = model.last_usage.get("completion_tokens")


def bench_vlm(results: dict, repeats: int, conftest) -> None:  # type: ignore[no-untyped-def]
    import io

    from PIL import Image

    from deskscribe.config import ModelsConfig
    from deskscribe.models.vlm import open_vlm_captioner

    with tempfile.TemporaryDirectory() as tmp:
        model, mmproj = conftest.build_tiny_vlm(Path(tmp))
        buf = io.BytesIO()
        Image.new("RGB", (1280, 800), (240, 240, 240)).save(buf, "JPEG")
        for handler in ("llava15", "mtmd"):
            cfg = ModelsConfig(captioner="vlm", vlm_model=str(model), vlm_mmproj=str(mmproj), vlm_handler=handler,
                               n_ctx=1024)
            with open_vlm_captioner(cfg) as captioner:
                results[f"tiny_vlm_first_caption_s_{handler}"] = timed(lambda: captioner.caption(buf.getvalue()))[0]
                results[f"tiny_vlm_caption_s_{handler}"] = timed(lambda: captioner.caption(buf.getvalue()), repeats)[0]


def write(results: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "model_runtime.json").write_text(json.dumps(results, indent=2))
    lines = ["# Model runtime benchmark", "",
             f"{results['machine']}; llama-cpp-python {results['llama_cpp']}; GPU offload: {results['gpu_offload']}; "
             f"median of {results['repeats']} runs", "", "| measure | value |", "|---|---|"]
    for key, value in results.items():
        if key in ("machine", "llama_cpp", "gpu_offload", "repeats"):
            continue
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    (OUT / "model_runtime.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per timed step (median reported)")
    args = parser.parse_args()
    os.environ["DESKSCRIBE_HOME"] = tempfile.mkdtemp(prefix="deskscribe-bench-")
    sys.path.insert(0, str(REPO))
    import llama_cpp

    from deskscribe.models.manager import bundled_path

    smollm2 = bundled_path()
    conftest = _conftest()
    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "llama_cpp": llama_cpp.__version__,
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
        "repeats": args.repeats,
    }
    bench_files(results, smollm2, args.repeats)
    bench_in_process(results, args.repeats)
    with contextlib.suppress(KeyboardInterrupt):
        bench_server(results, smollm2, args.repeats, conftest)
    bench_vlm(results, args.repeats, conftest)
    write(results)


if __name__ == "__main__":
    main()
