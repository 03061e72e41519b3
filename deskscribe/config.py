"""Settings: defaults in code, the user's ``config.toml`` merged on top, validated once.

Every error names the key and the file, e.g.
``config.toml: capture.interval_s must be a number > 0 (got 'fast')``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import tomli_w

from deskscribe import choices, hotkeys, paths  # choices: the model names, without their implementations
from deskscribe.errors import ConfigError
from deskscribe.fileio import write_atomic

DEFAULT_EXCLUDE_APPS = [
    "keepassxc",
    "keepass",
    "keepass2",
    "1password",
    "bitwarden",
    "lastpass",
    "enpass",
    "gnome-keyring",
    "seahorse",
    "pinentry",
    "kwalletmanager",
    "proton pass",
]
MAX_MONITOR = 16  # more than any desk has; a larger number is a typo (capture also checks the real ones)
DEFAULT_EXCLUDE_TITLES = [r"password", r"private", r"incognito", r"secret"]


@dataclass
class CaptureConfig:
    interval_s: float = 2.0
    monitors: list[int] = field(default_factory=list)  # empty = every monitor
    image_format: str = "jpeg"  # jpeg | webp | png
    quality: int = 80
    max_side: int = 0  # 0 = keep the native size
    frame_on_click: bool = True
    debounce_s: float = 0.5
    change_threshold: float = 0.0005  # fraction of sampled pixels that must differ (≈ 5 typed characters at 1080p)
    region_max: float = 0.5  # store only the changed region when it covers at most this share of the screen (0: off)
    idle_s: float = 60.0  # no input for this long = idle; unchanged screens are then skipped
    store_typed_text: bool = False
    pause_when_locked: bool = True
    min_free_mb: int = 200  # pause capture when the data disk has less free space


@dataclass
class PrivacyConfig:
    exclude_apps: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE_APPS))
    exclude_titles: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE_TITLES))
    # A typing step's text is read from the stored screenshot (what appeared at the caret) when keystrokes are
    # not stored; never after a click on a password field. false: typing steps only count the keys.
    typed_from_screen: bool = True


@dataclass
class EpisodesConfig:
    split_on_app_switch: bool = True
    idle_gap_s: float = 120.0
    max_length_s: float = 600.0
    max_frames: int = 300


@dataclass
class RetentionConfig:
    days: int = 30  # 0 = keep forever
    max_image_mb: int = 5000  # 0 = no budget
    keep_accepted: bool = True
    every_min: float = 30.0


@dataclass
class ModelsConfig:
    captioner: str = "ocr"  # a name in deskscribe/choices.py CAPTIONERS: ocr | vlm
    ocr_engine: str = choices.DEFAULT_OCR_ENGINE  # choices.OCR_ENGINES: hybrid | rapidocr (describe and export)
    vlm_model: str = ""  # preset name or path to a GGUF
    vlm_mmproj: str = ""  # path to the mmproj GGUF (presets bring their own)
    vlm_handler: str = "auto"  # auto or a name in deskscribe/choices.py VLM_HANDLERS
    vlm_image_max_tokens: int = 1024  # images are resized to at most this many image tokens (0 = no cap)
    summarizer: str = "smollm2-135m"  # preset name or path to a GGUF
    backend: str = "llama_cpp"  # a name in deskscribe/choices.py BACKENDS: llama_cpp | openai
    server_url: str = ""  # OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1
    server_model: str = ""
    api_key_env: str = ""  # name of the environment variable holding the key
    n_gpu_layers: int = -1  # -1 = all layers when the build can offload, else CPU
    n_threads: int = 0  # 0 = llama.cpp's choice
    n_ctx: int = 4096
    seed: int = 0
    temperature: float = 0.0
    timeout_s: float = 120.0
    repeat_penalty: float = 1.1  # > 1 discourages the loops small models fall into


@dataclass
class DescribeConfig:
    idle_processing: bool = False
    idle_after_s: float = 300.0
    max_prompt_frames: int = 12
    compose: str = "auto"  # or "model" or "evidence" (deskscribe/choices.py COMPOSERS)


@dataclass
class TaskConfig:
    # Global hotkeys of the tray (pynput's form; "" = off): record starts a task, or finishes the running one;
    # note opens the quick-note box.
    hotkey_record: str = "<ctrl>+<alt>+t"
    hotkey_note: str = "<ctrl>+<alt>+n"


@dataclass
class Config:
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    episodes: EpisodesConfig = field(default_factory=EpisodesConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    describe: DescribeConfig = field(default_factory=DescribeConfig)
    task: TaskConfig = field(default_factory=TaskConfig)


_CHOICES = {
    ("capture", "image_format"): {"jpeg", "webp", "png"},
    ("models", "captioner"): set(choices.CAPTIONERS),
    ("models", "ocr_engine"): set(choices.OCR_ENGINES),
    ("models", "backend"): set(choices.BACKENDS),
    ("models", "vlm_handler"): {"auto", *choices.VLM_HANDLERS},
    ("describe", "compose"): set(choices.COMPOSERS),
}
DAY, WEEK = 86_400, 7 * 86_400
# Every number a setting takes, as (lowest, highest, lowest excluded): a value outside is a typo or a unit
# mistake (1e300, milliseconds for seconds) that would otherwise reach the scheduler or llama.cpp.
_RANGES: dict[tuple[str, str], tuple[float, float, bool]] = {
    ("capture", "interval_s"): (0, DAY, True), ("capture", "debounce_s"): (0, 60, True),
    ("capture", "idle_s"): (0, WEEK, True), ("capture", "quality"): (1, 100, False),
    ("capture", "max_side"): (0, 65_500, False), ("capture", "change_threshold"): (0, 1, False),
    ("capture", "region_max"): (0, 1, False), ("capture", "min_free_mb"): (0, 10**9, False),
    ("episodes", "idle_gap_s"): (0, WEEK, True), ("episodes", "max_length_s"): (0, WEEK, True),
    ("episodes", "max_frames"): (0, 10**6, True),
    ("retention", "days"): (0, 36_500, False), ("retention", "max_image_mb"): (0, 10**9, False),
    ("retention", "every_min"): (0, WEEK / 60, True),
    ("models", "n_gpu_layers"): (-1, 100_000, False), ("models", "n_threads"): (0, 4096, False),
    ("models", "n_ctx"): (0, 2**24, True), ("models", "vlm_image_max_tokens"): (0, 65_536, False),
    ("models", "seed"): (0, 2**32 - 1, False),
    ("models", "temperature"): (0, 100, False), ("models", "timeout_s"): (0, DAY, True),
    ("models", "repeat_penalty"): (0, 100, True),
    ("describe", "idle_after_s"): (0, WEEK, True), ("describe", "max_prompt_frames"): (0, 10_000, True),
}


def _type_ok(value: Any, tp: Any) -> bool:
    if get_origin(tp) is list:
        (inner,) = get_args(tp)
        return isinstance(value, list) and all(_type_ok(v, inner) for v in value)
    if tp is bool:
        return isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _type_name(tp: Any) -> str:
    if get_origin(tp) is list:
        return f"a list of {_type_name(get_args(tp)[0])}s"
    return {bool: "true or false", float: "a number", int: "a whole number", str: "a string"}.get(tp, str(tp))


def _check_section(name: str, cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key {name}.{key} (known: {', '.join(sorted(known))})")
        tp = hints[key]
        if not _type_ok(value, tp):
            raise ConfigError(f"{where}: {name}.{key} must be {_type_name(tp)} (got {value!r})")
        if tp is float and not math.isfinite(value):  # TOML has nan and inf; no setting means either
            raise ConfigError(f"{where}: {name}.{key} must be a finite number (got {value!r})")
        choices = _CHOICES.get((name, key))
        if choices and value not in choices:
            raise ConfigError(f"{where}: {name}.{key} must be one of {', '.join(sorted(choices))} (got {value!r})")
        if tp in (int, float):
            _check_range(f"{name}.{key}", value, _RANGES[(name, key)], where)
        values[key] = float(value) if tp is float else value
    section = cls(**values)
    _check_semantics(name, section, where)
    return section


def _check_range(key: str, value: float, bounds: tuple[float, float, bool], where: str) -> None:
    low, high, open_low = bounds
    if value < low or (open_low and value == low):
        raise ConfigError(f"{where}: {key} must be {'>' if open_low else '>='} {low:g} (got {value!r})")
    if value > high:
        raise ConfigError(f"{where}: {key} must be at most {high:g} (got {value!r})")


def _check_semantics(name: str, section: Any, where: str) -> None:
    if name == "privacy":
        for pattern in section.exclude_titles:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{where}: privacy.exclude_titles has a bad pattern {pattern!r} ({exc})") from exc
    if name == "capture":
        bad = [m for m in section.monitors if not 1 <= m <= MAX_MONITOR]
        if bad or len(set(section.monitors)) != len(section.monitors):
            raise ConfigError(f"{where}: capture.monitors must list distinct monitor numbers from 1 (the first "
                              f"monitor) to {MAX_MONITOR}, or be [] for every monitor (got {section.monitors})")
    if name == "task":
        combos = {}
        for key in ("hotkey_record", "hotkey_note"):
            value = getattr(section, key)
            if value.strip():
                combos[key] = hotkeys.parse(value, f"{where}: task.{key}")
        if len(combos) == 2 and combos["hotkey_record"] == combos["hotkey_note"]:
            raise ConfigError(f"{where}: task.hotkey_record and task.hotkey_note are the same combination")
    if name == "models" and section.backend == "openai" and not section.server_url:
        raise ConfigError(f"{where}: models.server_url must be set when models.backend is 'openai'")


def from_dict(raw: dict[str, Any], where: str = "config") -> Config:
    sections = {f.name: f for f in fields(Config)}
    values = {}
    for name, value in raw.items():
        if name not in sections:
            raise ConfigError(f"{where}: unknown section [{name}] (known: {', '.join(sorted(sections))})")
        values[name] = _check_section(name, get_type_hints(Config)[name], value, where)
    return Config(**values)


def load(path: Path | None = None) -> Config:
    """Defaults merged with the TOML file at ``path`` (default: the data folder's config.toml)."""
    path = path or paths.config_path()
    if not path.exists():
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    return from_dict(raw, str(path))


def to_dict(config: Config) -> dict[str, Any]:
    return dataclasses.asdict(config)


def save(config: Config, path: Path | None = None) -> Path:
    """Write the whole config atomically (validated first, so a bad value never lands on disk)."""
    path = path or paths.config_path()
    data = to_dict(config)
    from_dict(data, str(path))
    return write_atomic(path, tomli_w.dumps(data))
