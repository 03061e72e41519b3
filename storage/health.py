"""Is the database usable? Read-only files, damaged pages, newer schemas — recognised when it is opened, each
said in one line that names the file and what to do. :func:`classify` answers for a file without raising (for
``deskscribe doctor`` and the tray)."""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from deskscribe.errors import DatabaseError

# PRAGMA quick_check reads every page; on a large database that is seconds. At open it runs for at most this
# many progress steps (about 250 MB of pages, well under a second when cached); SQLITE_CORRUPT met later,
# anywhere, gives the same one line (db.translate). classify(full=True) checks the whole file.
QUICK_CHECK_STEPS = 1_000_000
_STEPS_PER_CALL = 1000


class DamagedDatabase(DatabaseError):
    pass


class ReadOnlyDatabase(DatabaseError):
    pass


def damaged_message(path: Path | str, detail: str = "database disk image is malformed") -> str:
    return (f"{path} is damaged ({detail}); nothing was changed: restore it from a backup, or save what is "
            f"readable with `sqlite3 '{path}' .recover | sqlite3 recovered.db` and put recovered.db in its place")


def readonly_message(path: Path | str) -> str:
    try:
        mode = f" (mode {stat.S_IMODE(os.stat(path).st_mode):04o})"
    except OSError:
        mode = ""
    return (f"{path} is read-only{mode}: make it and its -wal/-shm files writable (chmod u+w), or set "
            "DESKSCRIBE_HOME to a folder you can write; nothing was changed")


def readonly_problem(path: Path) -> str | None:
    """A message when this process may not write the database or its WAL files (None when it may, or when the
    file does not exist yet). Root passes: it may write anything."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists() and not os.access(p, os.W_OK):
            return readonly_message(path)
    return None


def quick_check(conn: sqlite3.Connection, steps: int | None = QUICK_CHECK_STEPS) -> str | None:
    """The first problem ``PRAGMA quick_check`` finds, or None (also when it ran out of ``steps`` first:
    the rest is checked as it is read)."""
    calls = [0]

    def budget() -> int:
        calls[0] += 1
        return int(steps is not None and calls[0] * _STEPS_PER_CALL > steps)

    conn.set_progress_handler(budget, _STEPS_PER_CALL)
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT:
            return None
        raise
    finally:
        conn.set_progress_handler(None, 0)
    first = str(rows[0][0]) if rows else "ok"
    lines = [line for line in first.splitlines() if line.strip() and not line.startswith("***")]
    return None if first == "ok" else (lines[0] if lines else first)


@dataclass(frozen=True)
class Health:
    """``kind`` is ok | missing | readonly | damaged | newer | busy | disk_full | unreadable."""

    kind: str
    message: str = ""


def classify(path: Path, full: bool = False) -> Health:
    """How the database at ``path`` is, without changing it; ``full`` checks every page (slow on big files)."""
    from deskscribe.errors import DeskscribeError, DiskFullError, SchemaTooNewError
    from deskscribe.storage.db import open_db

    if not path.exists():
        return Health("missing", f"no database at {path} yet: capture or import creates it")
    try:
        db = open_db(path, readonly=True, check_steps=None if full else QUICK_CHECK_STEPS)
    except DamagedDatabase as exc:
        return Health("damaged", str(exc))
    except SchemaTooNewError as exc:
        return Health("newer", str(exc))
    except DiskFullError as exc:
        return Health("disk_full", str(exc))
    except DeskscribeError as exc:
        return Health("busy" if "is busy" in str(exc) else "unreadable", str(exc))
    db.conn.close()
    problem = readonly_problem(path)
    return Health("readonly", problem) if problem else Health("ok")
