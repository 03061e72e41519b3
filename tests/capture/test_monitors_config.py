"""capture.monitors that match no monitor of the display stop capture with one line (it used to capture
nothing and exit 0); impossible numbers are already refused by the config check."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import write_config

pytestmark = pytest.mark.x11


def _capture(home) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deskscribe", "capture", "--duration", "5"], capture_output=True,
                          text=True, timeout=120, env=os.environ)


@pytest.mark.parametrize(("monitors", "line"), [
    ([9], "Error: capture.monitors = [9], but this display has monitors [1]: use those numbers, or [] for every "
          "monitor"),
    ([99], "capture.monitors must list distinct monitor numbers from 1 (the first monitor) to 16, or be [] for "
           "every monitor (got [99])"),
])
def test_monitors_out_of_range(xdisplay, deskscribe_home, monitors, line) -> None:
    write_config(deskscribe_home, {"capture": {"monitors": monitors}})
    proc = _capture(deskscribe_home)
    lines = [ln for ln in (proc.stdout + proc.stderr).strip().splitlines() if "readable by others" not in ln]
    assert proc.returncode == 1 and len(lines) == 1 and line in lines[0], lines
