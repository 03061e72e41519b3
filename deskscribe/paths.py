"""The one place that decides where deskscribe keeps its data."""

from __future__ import annotations

import logging
import os
import stat
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


PRIVATE_UMASK = 0o077  # new folders 0700, new files 0600
_tightened: set[Path] = set()


def private_umask() -> None:
    """From now on this process creates folders 0700 and files 0600, whatever the login umask: the database,
    its WAL and SHM (SQLite gives them the database's mode), logs, locks, config, models, exports."""
    os.umask(PRIVATE_UMASK)


def tighten(root: Path) -> list[Path]:
    """Make ``root`` and everything under it private (folders 0700, files 0600); returns what changed.
    Symbolic links are neither followed nor changed."""
    changed = []
    for dirpath, dirnames, filenames in os.walk(root):
        for p in [Path(dirpath)] + [Path(dirpath, n) for n in dirnames + filenames]:
            try:
                st = os.lstat(p)
            except OSError:
                continue  # gone meanwhile
            if stat.S_ISLNK(st.st_mode):
                continue
            want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            if stat.S_IMODE(st.st_mode) & ~want:
                os.chmod(p, stat.S_IMODE(st.st_mode) & want)
                changed.append(p)
    return changed


def ensure_user_dir() -> Path:
    """The data folder, created private or made private (once per process, said once when it changed)."""
    from deskscribe.errors import DataDirError

    path = user_dir()
    private_umask()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
        if path not in _tightened:
            _tightened.add(path)
            changed = tighten(path)
            if changed:
                logging.getLogger("deskscribe").warning(
                    "the data folder %s was readable by others: made %d paths private (folders 0700, files 0600)",
                    path, len(changed))
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
