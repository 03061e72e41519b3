"""Start the tray at login: an XDG autostart entry (``$XDG_CONFIG_HOME/autostart/deskscribe.desktop``).

The entry is packaging/deskscribe.desktop with ``Exec`` pointing at this installation, so a virtualenv
install works without being on PATH.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from deskscribe.child import tray_command
from deskscribe.fileio import write_atomic

FILE_NAME = "deskscribe.desktop"

DESKTOP_ENTRY = """\
[Desktop Entry]
Type=Application
Name=deskscribe
GenericName=Activity recorder
Comment=Capture your desktop activity and review what you did, locally
Exec={exec}
Icon=deskscribe
Terminal=false
Categories=Utility;
Keywords=screenshot;activity;dataset;
StartupNotify=false
X-GNOME-Autostart-enabled=true
"""


def autostart_path() -> Path:
    """Where the login entry lives, honouring ``XDG_CONFIG_HOME`` (default ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / FILE_NAME


def exec_line() -> str:
    """The command that starts the tray from this installation (the GUI script next to the interpreter)."""
    return shlex.join(tray_command())


def desktop_entry(command: str | None = None) -> str:
    # The desktop-entry spec reserves % in Exec for field codes; a literal one is written %%.
    return DESKTOP_ENTRY.format(exec=(command or exec_line()).replace("%", "%%"))


def enable(command: str | None = None) -> Path:
    path = autostart_path()
    return write_atomic(path, desktop_entry(command))


def disable() -> Path | None:
    """Remove the login entry; returns its path if there was one."""
    path = autostart_path()
    if path.exists():
        path.unlink()
        return path
    return None


def is_enabled() -> bool:
    return autostart_path().exists()
