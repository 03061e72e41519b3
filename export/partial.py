"""The folder an export is written into before it is renamed into place, and cleaning up after killed ones.

An export writes into ``.OUT.partial-XXXX`` beside OUT and holds a lock on ``.OUT.partial-XXXX.lock`` while it
runs. Killed outright (SIGKILL, power loss), it leaves both behind, screenshots inside; the next export to the
same OUT removes every such folder whose lock nobody holds. A folder without its lock file was not made by
deskscribe (or by an older one) and is left alone.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from pathlib import Path

from deskscribe.storage.locks import FileLock, LockBusy

log = logging.getLogger(__name__)
LOCK_SUFFIX = ".lock"


def _prefix(out_dir: Path) -> str:
    return f".{out_dir.name}.partial-"


def make(out_dir: Path) -> tuple[Path, FileLock]:
    """A fresh partial folder beside ``out_dir``, locked for the life of this export."""
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(out_dir), dir=out_dir.parent))
    lock = FileLock(Path(f"{tmp}{LOCK_SUFFIX}"))
    try:
        lock.acquire()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp, lock


def _drop_lock(lock: FileLock) -> None:
    lock.release()
    with contextlib.suppress(FileNotFoundError):
        lock.path.unlink()


def finish(lock: FileLock) -> None:
    """After the partial folder became OUT: its lock file goes too."""
    _drop_lock(lock)


def discard(tmp: Path, lock: FileLock) -> None:
    """A failed or refused export: nothing of it stays."""
    shutil.rmtree(tmp, ignore_errors=True)
    _drop_lock(lock)


def remove_stale(out_dir: Path) -> list[Path]:
    """Remove the partial folders of earlier exports to ``out_dir`` that were killed (their lock is free);
    returns what went. A partial folder of an export still running is left alone."""
    removed: list[Path] = []
    if not out_dir.parent.is_dir():
        return removed
    for lock_path in sorted(out_dir.parent.glob(f"{_prefix(out_dir)}*{LOCK_SUFFIX}")):
        folder = Path(str(lock_path)[: -len(LOCK_SUFFIX)])
        lock = FileLock(lock_path)
        try:
            lock.acquire()
        except LockBusy:
            continue  # another export to the same folder is running
        try:
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder)
                removed.append(folder)
                log.warning("removed %s, left by an export that was stopped before it finished", folder)
        finally:
            _drop_lock(lock)
    return removed
