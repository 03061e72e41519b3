"""The one way to start deskscribe again as a child process (capture, describe, export, the tray at login).

Run from a Python install, a child is ``python -m deskscribe ARGS`` with the same interpreter and install.
In a PyInstaller bundle (packaging/deskscribe.spec) ``sys.executable`` is the running program itself and
cannot run ``-m``; the two programs of the bundle sit side by side, so the console ``deskscribe`` runs the
commands and ``deskscribe-tray`` is the tray.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _exe(name: str) -> Path:
    return Path(sys.executable).with_name(f"{name}.exe" if sys.platform == "win32" else name)


def deskscribe_command(*args: str) -> list[str]:
    """The argv that runs ``deskscribe ARGS`` from this installation."""
    if getattr(sys, "frozen", False):
        return [str(_exe("deskscribe")), *args]
    return [sys.executable, "-m", "deskscribe", *args]


def tray_command() -> list[str]:
    """The argv that starts the tray: the GUI program next to this one, on PATH, else ``deskscribe tray``."""
    script = _exe("deskscribe-tray")
    if script.exists():
        return [str(script)]
    found = shutil.which("deskscribe-tray")
    if found:
        return [found]
    return deskscribe_command("tray")
