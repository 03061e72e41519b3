"""`deskscribe models list|pull|info`: see, fetch and inspect the GGUF models deskscribe can use."""

from __future__ import annotations

import click

from deskscribe.config import load as load_config


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
    click.echo(f"{'NAME':16} {'KIND':5} {'INSTALLED':9} {'SIZE':>8}  SOURCE")
    for r in rows:
        mark = "yes" if r["installed"] else "-"
        used = f"  [{r['used_as']}]" if r["used_as"] else ""
        click.echo(f"{r['name']:16} {r['kind']:5} {mark:9} {r['size_mb']:>5} MB  {r['source']}{used}")
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
def pull_cmd(name: str) -> None:
    """Download preset NAME (model and mmproj) from Hugging Face into the data folder.

    Interrupted downloads resume; each file is checked as a complete GGUF and its sha256 recorded.
    """
    from deskscribe.models.manager import PRESETS, pull

    entry = pull(name)
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


commands: list[click.Command] = [models_group]
