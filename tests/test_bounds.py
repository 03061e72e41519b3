"""Times, spans and numbers from outside are checked at the door (issue 23): config, CLI spans and waits.
Each refusal is one `Error:` line, a non-zero exit, and nothing changed."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from deskscribe.cli import main

from .conftest import one_error_line, run_cli


def _result_lines(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


@pytest.mark.parametrize("value", ["1e300", "99999999999999999"])
def test_a_huge_interval_is_refused_by_config_check_and_capture(deskscribe_home: Path, value: str) -> None:
    deskscribe_home.mkdir()
    cfg = deskscribe_home / "config.toml"
    cfg.write_text(f"[capture]\ninterval_s = {value}\n")
    shown = repr(float(value)) if "e" in value else value
    want = f"Error: {cfg}: capture.interval_s must be at most 86400 (got {shown.replace('1e+300', '1e+300')})"
    for args in (["config", "check"], ["capture", "--duration", "1"]):
        line = one_error_line(run_cli(deskscribe_home, *args))
        assert line == want, line
    assert not (deskscribe_home / "deskscribe.db").exists()  # capture never started


def test_every_number_in_the_config_has_bounds() -> None:
    import dataclasses
    from typing import get_type_hints

    from deskscribe import config

    for section in dataclasses.fields(config.Config):
        cls = get_type_hints(config.Config)[section.name]
        for f in dataclasses.fields(cls):
            if get_type_hints(cls)[f.name] in (int, float):
                assert (section.name, f.name) in config._RANGES, f"{section.name}.{f.name} has no bounds"


@pytest.fixture
def imported(deskscribe_home: Path, tmp_path: Path) -> Path:
    shots = tmp_path / "shots"
    shots.mkdir()
    for i in range(3):
        Image.new("RGB", (32, 24), (40 * i, 10, 10)).save(shots / f"{i}.png")
    assert CliRunner().invoke(main, ["import", str(shots)]).exit_code == 0
    return deskscribe_home / "deskscribe.db"


def _digest(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = conn.execute("SELECT id, ts, image_hash FROM frames ORDER BY id").fetchall()
    kv = conn.execute("SELECT key, value FROM kv WHERE key LIKE 'capture.paused%'").fetchall()
    conn.close()
    return hashlib.sha256(repr((rows, kv)).encode()).hexdigest()


@pytest.mark.parametrize("args,needle", [
    (["forget", "--last", "800000d"], "Error: --last 800000d reaches back before 2000-01-01"),
    (["forget", "--last", "9" * 400 + "d"], "reaches back before 2000-01-01"),
    (["forget", "--since", "1900-01-01"], "Error: --since '1900-01-01' is before 2000-01-01"),
    (["forget", "--since", "0001-01-01 00:00"], "is before 2000-01-01"),
    (["forget", "--episode", str(10**20)], "Invalid value for '--episode'"),
    (["pause", "--minutes", "1e300"], "Invalid value for '--minutes'"),
    (["pause", "--minutes", "inf"], "Invalid value for '--minutes'"),
    (["capture", "--duration", "1e300"], "Invalid value for '--duration'"),
    (["show", str(10**20)], "Invalid value for 'EPISODE'"),
    (["describe", str(10**20)], "Invalid value for '[EPISODES]...'"),
])
def test_spans_and_waits_out_of_bounds_are_one_line(imported: Path, args: list[str], needle: str) -> None:
    before = _digest(imported)
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and result.exception is None or isinstance(result.exception, SystemExit), \
        result.output
    lines = _result_lines(result)
    assert len(lines) == 1 and needle in lines[0], result.output
    assert _digest(imported) == before
