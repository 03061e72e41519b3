"""Free disk space, and the reserve that lets forgetting work on a full disk.

SQLite needs room to delete: a transaction goes through the WAL (and ``secure_delete`` writes every freed page
as zeros), and a reader needs the 32 KB ``-shm`` index. So deskscribe keeps a small file of its own in the data
folder (:data:`RESERVE_NAME`), made while there is room. When the disk is full, forget deletes it first, works
in small batches whose WAL is checkpointed back into the database as it goes, and makes the reserve again once
there is room for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from deskscribe.errors import DiskFullError

log = logging.getLogger(__name__)

RESERVE_NAME = "deskscribe.reserve"
RESERVE_BYTES = 8 * 2**20
WORK_MIN_FREE = 16 * 2**20  # describe and import refuse to start with less free space than this
_CHUNK = 2**20


def free_bytes(folder: Path) -> int:
    """Bytes this user may still write on the disk holding ``folder`` (its nearest existing parent)."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def _size(n: float) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def require_free(folder: Path, doing: str, need: int = WORK_MIN_FREE) -> None:
    """Refuse writing work (describe, import) on a nearly full disk with one line that says what to do."""
    free = free_bytes(folder)
    if free < need:
        raise DiskFullError(
            f"the disk holding {folder} is full ({_size(free)} free, {doing} needs {_size(need)}): free some space, "
            "then try again (`deskscribe forget` still works on a full disk)")


def reserve_path(folder: Path) -> Path:
    return Path(folder) / RESERVE_NAME


def ensure_reserve(folder: Path) -> bool:
    """Make the reserve when it is missing and the disk has room for it twice over; True when it exists."""
    path = reserve_path(folder)
    try:
        if path.exists() and path.stat().st_size >= RESERVE_BYTES:
            return True
        if free_bytes(folder) < 2 * RESERVE_BYTES:
            return False
        with open(path, "wb") as fh:
            for _ in range(RESERVE_BYTES // _CHUNK):  # real blocks: a sparse file would reserve nothing
                fh.write(b"\0" * _CHUNK)
            fh.flush()
            os.fsync(fh.fileno())
        return True
    except OSError as exc:  # the disk filled meanwhile, or the folder is read-only: no reserve, no harm
        log.debug("no reserve in %s (%s)", folder, exc)
        with contextlib.suppress(OSError):
            path.unlink()
        return False


@contextlib.contextmanager
def room_to_delete(folder: Path) -> Iterator[bool]:
    """Around a deletion: on a nearly full disk the reserve is handed back first. Yields True when the disk
    was (nearly) full, so the caller works in small, checkpointed batches; the reserve is made again after."""
    low = free_bytes(folder) < WORK_MIN_FREE
    if low:
        with contextlib.suppress(FileNotFoundError):
            reserve_path(folder).unlink()
            log.warning("the disk holding %s is full: used deskscribe's reserve to forget", folder)
    try:
        yield low
    finally:
        if low:
            ensure_reserve(folder)


def full_disk_error(path: Path | str, free: int | None = None) -> DiskFullError:
    shown = "" if free is None else f" ({_size(free)} free)"
    return DiskFullError(f"the disk holding {path} is full{shown}: free some space (capture pauses until then; "
                         "`deskscribe forget` still works)")


def nearly_full(folder: Path) -> bool:
    try:
        return free_bytes(folder) < 2**20
    except OSError:
        return False
