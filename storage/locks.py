"""The one file lock: at most one holder per lock file, released by the OS however the holder ends.

Used for "one capture process per data folder" (held for the life of the process) and "one describe batch
per database" (held for one batch). The lock is an OS advisory lock on an open file (``flock`` on POSIX,
``msvcrt.locking`` on Windows), so a crashed process never leaves a stale lock behind; the holder's pid is
written into the file so the refusal can name it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from deskscribe.errors import DeskscribeError


class LockBusy(DeskscribeError):
    """Another process holds the lock; ``pid`` is what it wrote into the lock file ("?" if unknown)."""

    def __init__(self, path: Path, pid: str) -> None:
        super().__init__(f"{path} is locked by pid {pid}")
        self.path = path
        self.pid = pid


def _try_lock(fh: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fh: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class FileLock:
    """A non-blocking exclusive lock on ``path``: :meth:`acquire` raises :class:`LockBusy` when it is held.

    Also a context manager (``with FileLock(path): …``) that releases on exit.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fh: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - stays open while the lock is held
        try:
            fh.seek(0)
            _try_lock(fh)
        except OSError as exc:
            try:
                fh.seek(0)
                pid = fh.read().strip() or "?"
            except OSError:  # Windows: the holder's locked byte cannot be read
                pid = "?"
            fh.close()
            raise LockBusy(self.path, pid) from exc
        try:  # unbuffered: a failed write must not linger in a buffer that close() would flush again
            os.ftruncate(fh.fileno(), 0)
            os.lseek(fh.fileno(), 0, os.SEEK_SET)
            os.write(fh.fileno(), str(os.getpid()).encode())
        except OSError:  # a full disk: the lock holds without the pid (a refusal then names pid "?")
            pass
        self._fh = fh

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            _unlock(fh)
        finally:
            fh.close()

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
