"""`deskscribe models list|pull|info`: see, fetch and inspect the GGUF models deskscribe can use."""

from __future__ import annotations

import sys
from typing import Any

import click

from deskscribe.config import load as load_config
from deskscribe.progress import option as progress_option


@click.group("models")
def models_group() -> None:
    """List, download and inspect models (GGUF files for llama.cpp).

    A model setting in config.toml ([models] summarizer, vlm_model) takes a preset name from
    `deskscribe models list` or a path to a .gguf file.
    """


@models_group.command("list")
def list_cmd() -> None:
    """Show the presets, which are downloaded, and the models the config uses."""
    from deskscribe import paths
    from deskscribe.models.manager import list_presets

    cfg = load_config().models
    rows = list_presets(cfg)
    click.echo(f"{'NAME':16} {'KIND':5} {'PARAMS':>7} {'INSTALLED':9} {'SIZE':>8}  {'LICENCE':22} SOURCE")
    for r in rows:
        mark = "yes" if r["installed"] else "-"
        used = f"  [{r['used_as']}]" if r["used_as"] else ""
        licence = r["licence"].split(" (")[0] if r["commercial"] else "NON-COMMERCIAL only"
        click.echo(f"{r['name']:16} {r['kind']:5} {r['params']:>7} {mark:9} {r['size_mb']:>5} MB  {licence:22} "
                   f"{r['source']}{used}")
        click.echo(f"{'':16} speed: {r['speed']}" + (f"; {r['note']}" if r["note"] else ""))
    click.echo("")
    click.echo(f"summarizer: {cfg.summarizer} (backend {cfg.backend}"
               + (f", server {cfg.server_url}" if cfg.backend == "openai" else "") + ")")
    if cfg.captioner == "vlm":
        click.echo(f"captioner:  vlm {cfg.vlm_model}" + (f" + {cfg.vlm_mmproj}" if cfg.vlm_mmproj else ""))
    else:
        click.echo(f"captioner:  ocr ({cfg.ocr_engine} + window titles)")
    click.echo(f"models folder: {paths.models_dir()}")


@models_group.command("pull")
@click.argument("name")
@progress_option("Progress on stderr (bar), as JSON lines on stdout (json: done/total in kB), or none.")
def pull_cmd(name: str, progress_mode: str) -> None:
    """Download preset NAME (model and mmproj) from Hugging Face into the data folder.

    Each file is checked against the sha256 the hub reports for it; a cut or cancelled download resumes
    where it stopped the next time (a partial `.part` file stays in the preset's folder).
    """
    from deskscribe.models.manager import PRESETS

    preset = PRESETS.get(name.strip().lower())
    if preset is not None and not preset.commercial:
        click.echo(f"note: {preset.name} is under the {preset.licence}: not for commercial use", err=True)
    entry = _pull_with_progress(name, progress_mode)
    if progress_mode == "json":
        return
    if entry.get("bundled"):
        click.echo(f"{entry['name']} is bundled with deskscribe; nothing to download.")
        return
    for filename, meta in entry["files"].items():
        click.echo(f"{filename}  {meta['size'] / 1e6:,.1f} MB  sha256 {meta['sha256']}")
    preset = PRESETS[entry["name"]]
    if preset.kind == "vlm":
        hint = f'captioner = "vlm"\nvlm_model = "{preset.name}"'
    else:
        hint = f'summarizer = "{preset.name}"'
    click.echo(f"\nTo use it, put this under [models] in config.toml:\n{hint}")


def _pull_with_progress(name: str, mode: str) -> dict[str, Any]:
    from deskscribe.models.manager import pull
    from deskscribe.progress import json_line

    if mode == "none":
        return pull(name)
    if mode == "json":
        last = [-1]

        def report(done: int, total: int, filename: str) -> None:
            kb = done // 1000
            if kb - last[0] >= max(1, total // 200_000) or done == total:  # ~200 lines per download at most
                last[0] = kb
                json_line(done=kb, total=total // 1000, bytes=done, total_bytes=total,
                          message=f"{filename}: {done / 1e6:,.1f} of {total / 1e6:,.1f} MB")

        entry = pull(name, progress=report)
        json_line(done=1, total=1, message="done", files=list(entry["files"]))
        return entry
    from tqdm import tqdm

    bar: Any = None

    def draw(done: int, total: int, filename: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="B", unit_scale=True, desc=name, file=sys.stderr, dynamic_ncols=True)
        bar.set_postfix_str(filename, refresh=False)
        bar.update(done - bar.n)

    try:
        return pull(name, progress=draw)
    finally:
        if bar is not None:
            bar.close()


@models_group.command("info")
@click.argument("name_or_path")
def info_cmd(name_or_path: str) -> None:
    """Show GGUF metadata of a preset or a .gguf file: architecture, size, quantization, context, sha256."""
    from deskscribe.models.manager import info

    for i, rows in enumerate(info(name_or_path)):
        if i:
            click.echo("")
        width = max(len(k) for k in rows)
        for key, value in rows.items():
            click.echo(f"{key:{width}}  {value if value is not None else '-'}")


@models_group.command("recommend")
@click.option("--json", "as_json", is_flag=True, help="Print the hardware and the recommendation as JSON.")
def recommend_cmd(as_json: bool) -> None:
    """Check this machine (GPU, memory, cores) and say which model to use, with what settings, at what cost.

    Prints the preset, GPU layers, the image token cap and an estimated describe time per captured hour,
    with the published figures and assumptions it rests on. Changes nothing.
    """
    import json

    from deskscribe.models.hardware import detect
    from deskscribe.models.presets import PRESETS, licence_text
    from deskscribe.models.recommend import hours, recommend

    hw = detect()
    rec = recommend(hw)
    if as_json:
        click.echo(json.dumps({"hardware": {**hw.__dict__, "gpus": [g.__dict__ for g in hw.gpus]},
                               "recommendation": rec.as_dict()}, indent=1))
        return
    p = PRESETS[rec.preset]
    click.echo(f"This machine: {hw.describe()}")
    click.echo(f"Recommended:  {p.name} ({p.quant}, {p.approx_mb:,} MB, {licence_text(p)})")
    for reason in rec.reasons:
        click.echo(f"  - {reason}")
    if not rec.offline:
        layers = "all (-1)" if rec.n_gpu_layers == -1 else f"{rec.n_gpu_layers}" + (" (CPU)" if not rec.n_gpu_layers
                                                                                     else "")
        click.echo(f"GPU layers:   {layers}")
        click.echo(f"Image cap:    {rec.image_max_tokens:,} image tokens per screenshot")
        click.echo(f"Estimate:     ~{rec.seconds_per_call:.0f} s per image request × {rec.calls_per_hour:,} requests "
                   f"per captured hour = ~{hours(rec.describe_s_per_hour)} of describe per captured hour "
                   f"({rec.device})")
    click.echo("Rests on:")
    for line in rec.basis:
        click.echo(f"  - {line}")
    if not rec.offline:
        click.echo(f"\nTo use it: deskscribe models pull {p.name}, then under [models] in config.toml:\n"
                   f'vlm_model = "{p.name}"\nsummarizer = "{p.name}"\nn_gpu_layers = {rec.n_gpu_layers}\n'
                   f"vlm_image_max_tokens = {rec.image_max_tokens}")


commands: list[click.Command] = [models_group]
