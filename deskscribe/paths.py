"""The one place that decides where deskscribe keeps its data."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "DESKSCRIBE_HOME"


def user_dir() -> Path:
    """The data folder: ``$DESKSCRIBE_HOME`` if set, else the platform's user data dir.

    The folder is not created here; callers that write call :func:`ensure_user_dir`.
    """
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("deskscribe", appauthor=False))


def ensure_user_dir() -> Path:
    from deskscribe.errors import DataDirError

    path = user_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataDirError(
            f"data folder {path} is not writable ({exc.strerror or exc}); "
            f"set {ENV_HOME} to a folder you can write"
        ) from exc
    return path


def db_path() -> Path:
    return user_dir() / "deskscribe.db"


def config_path() -> Path:
    return user_dir() / "config.toml"


def models_dir() -> Path:
    return user_dir() / "models"


def logs_dir() -> Path:
    return user_dir() / "logs"


def runtime_dir() -> Path:
    """Pid files and control flags of running processes."""
    return user_dir() / "run"
