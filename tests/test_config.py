import re

import pytest

from deskscribe import config
from deskscribe.errors import ConfigError


def write(path, text):
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path):
    cfg = config.load(tmp_path / "missing.toml")
    assert cfg.capture.interval_s == 2.0 and not cfg.capture.store_typed_text
    assert "password" in cfg.privacy.exclude_titles and "keepassxc" in cfg.privacy.exclude_apps
    assert cfg.models.captioner == "ocr" and cfg.models.summarizer == "smollm2-135m"


def test_user_values_merge_over_defaults(tmp_path):
    cfg = config.load(write(tmp_path / "c.toml", "[capture]\ninterval_s = 5\n[models]\nn_ctx = 2048\n"))
    assert cfg.capture.interval_s == 5.0 and cfg.capture.quality == 80 and cfg.models.n_ctx == 2048


@pytest.mark.parametrize("text,needle", [
    ("[capture\ninterval_s = 1", "not valid TOML"),
    ("[capture]\ninterval_s = 'fast'", "capture.interval_s must be a number"),
    ("[capture]\ninterval_s = 0", "capture.interval_s must be > 0"),
    ("[capture]\nintervall = 2", "unknown key capture.intervall"),
    ("[captur]\ninterval_s = 2", "unknown section [captur]"),
    ("[privacy]\nexclude_titles = ['(unclosed']", "privacy.exclude_titles has a bad pattern"),
    ("[models]\nbackend = 'openai'", "models.server_url must be set"),
    ("[models]\ncaptioner = 'magic'", "models.captioner must be one of"),
    ("[describe]\ncompose = 'llm'", "describe.compose must be one of"),
    ("[capture]\nstore_typed_text = 1", "capture.store_typed_text must be true or false"),
    ("[capture]\ninterval_s = nan", "capture.interval_s must be a finite number (got nan)"),
    ("[capture]\ninterval_s = inf", "capture.interval_s must be a finite number (got inf)"),
    ("[episodes]\nidle_gap_s = -inf", "episodes.idle_gap_s must be a finite number (got -inf)"),
    ("[models]\ntemperature = nan", "models.temperature must be a finite number"),
    ("[capture]\nmonitors = [99]", "capture.monitors must list distinct monitor numbers from 1"),
    ("[capture]\nmonitors = [0]", "capture.monitors must list distinct monitor numbers from 1"),
    ("[capture]\nmonitors = [1, 1]", "capture.monitors must list distinct monitor numbers from 1"),
])
def test_malformed_config_names_key_and_file(tmp_path, text, needle):
    path = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert needle in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value).strip()


def test_save_round_trips_and_is_validated(tmp_path):
    cfg = config.Config()
    cfg.capture.interval_s = 3.5
    cfg.privacy.exclude_apps.append("signal")
    path = config.save(cfg, tmp_path / "c.toml")
    assert config.load(path) == cfg
    cfg.capture.quality = 0
    with pytest.raises(ConfigError):
        config.save(cfg, path)
    assert config.load(path).capture.quality == 80  # the bad value never reached the disk


def test_config_check_refuses_nan_interval_in_one_line(tmp_path):
    """`deskscribe config check` is what a person runs: NaN used to pass it and crash capture."""
    import subprocess
    import sys

    path = write(tmp_path / "c.toml", "[capture]\ninterval_s = nan\n")
    proc = subprocess.run([sys.executable, "-m", "deskscribe", "config", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert proc.returncode == 1 and lines == [f"Error: {path}: capture.interval_s must be a finite number (got nan)"]


@pytest.mark.parametrize("setting,needle", [
    ('summarizer = "{tmp}/missing.gguf"', "models.summarizer file not found: {tmp}/missing.gguf"),
    ('summarizer = "{tmp}/notes.gguf"', "models.summarizer {tmp}/notes.gguf is not a GGUF file"),
    ('captioner = "vlm"\nvlm_model = "{tmp}/notes.gguf"', "models.vlm_model {tmp}/notes.gguf is not a GGUF file"),
])
def test_config_check_looks_at_the_model_files(deskscribe_home, tmp_path, setting, needle):
    """`config check` said ok for a model path that is missing or not a GGUF; describe then failed."""
    from .conftest import one_error_line, run_cli

    (tmp_path / "notes.gguf").write_text("these are notes, not a model")
    deskscribe_home.mkdir()
    cfg = write(deskscribe_home / "config.toml", "[models]\n" + setting.replace("{tmp}", str(tmp_path)) + "\n")
    line = one_error_line(run_cli(deskscribe_home, "config", "check"))
    assert line.startswith(f"Error: {cfg}: {needle.replace('{tmp}', str(tmp_path))}"), line
    assert run_cli(deskscribe_home, "config", "check", str(tmp_path / "none.toml")).stdout.strip() == "ok"


@pytest.mark.parametrize(("values", "message"), [
    ({"hotkey_record": "t"}, "task.hotkey_record: 't' must be one or more modifiers and one key"),
    ({"hotkey_note": "<ctrl>+<hyper>+n"}, "task.hotkey_note: '<hyper>' in '<ctrl>+<hyper>+n' is not a key"),
    ({"hotkey_note": "<ctrl>+<alt>+t"}, "task.hotkey_record and task.hotkey_note are the same combination"),
])
def test_task_hotkeys_are_checked(values, message) -> None:
    from deskscribe.config import from_dict

    with pytest.raises(ConfigError, match=re.escape(message)):
        from_dict({"task": values})


def test_task_hotkeys_parse_and_turn_off() -> None:
    from deskscribe import hotkeys
    from deskscribe.config import from_dict

    assert from_dict({"task": {"hotkey_note": ""}}).task.hotkey_note == ""
    assert hotkeys.parse("<Ctrl>+<Shift>+<F8>").x_keys() == (["ControlMask", "ShiftMask"], "F8")
    assert hotkeys.parse("<cmd>+,").x_keys() == (["Mod4Mask"], "comma")
