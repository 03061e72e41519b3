"""Opening the database: WAL, foreign keys, secure delete, migrations, and refusing newer schemas."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from deskscribe import paths
from deskscribe.errors import DatabaseError, DiskFullError, SchemaTooNewError
from deskscribe.storage import migrations

BUSY_TIMEOUT_MS = 10_000
log = logging.getLogger(__name__)


def _configure(conn: sqlite3.Connection, readonly: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted rows (a frame the person removed for privacy) are overwritten, not left in free pages.
    conn.execute("PRAGMA secure_delete = ON")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")


def open_db(path: Path | str | None = None, *, readonly: bool = False, migrate: bool = True) -> sqlite_utils.Database:
    """Open (and create or migrate) the deskscribe database.

    The connection is in autocommit mode; group writes with :func:`transaction`.
    ``readonly=True`` opens with ``mode=ro`` (export and read-only views never write).
    """
    path = Path(path) if path is not None else paths.db_path()
    if readonly:
        if not path.exists():
            raise DatabaseError(f"no database at {path}: run `deskscribe capture` or `deskscribe import` first")
        conn = _connect_readonly(path)
    else:
        if str(path) != ":memory:":
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the data folder {path.parent}: {exc.strerror or exc}") from exc
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open {path}: {exc}") from exc
    try:
        _check_is_sqlite(conn, path)
        _configure(conn, readonly)
        newer = migrations.unknown(conn)
        if newer:
            raise SchemaTooNewError(
                f"{path} was written by a newer deskscribe (schema {', '.join(newer)}); "
                "upgrade deskscribe to open it — the database was not changed"
            )
        if migrate and not readonly:
            migrations.migrate(conn)
        elif not _has_schema(conn):
            raise DatabaseError(f"{path} holds no deskscribe data")
    except sqlite3.OperationalError as exc:
        conn.close()
        raise translate(exc, path) from exc
    except BaseException:
        conn.close()
        raise
    return sqlite_utils.Database(conn)


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """``mode=ro``; in a folder nobody may write (a read-only mount, a copy on a DVD, chmod a-w) SQLite cannot
    create the WAL's shared-memory file, so the database is opened ``immutable`` instead: nothing can be
    writing it there. Changes still in a leftover ``-wal`` file are then not seen (said in the log)."""
    quoted = urllib.parse.quote(str(path))

    def connect(flags: str) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{quoted}?{flags}", uri=True, isolation_level=None, check_same_thread=False)

    writable_dir = os.access(path.parent, os.W_OK)
    try:
        if writable_dir:
            return connect("mode=ro")
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size:
            log.warning("%s is read-only: the changes in %s are not visible until it is opened writable",
                        path.parent, wal.name)
        return connect("mode=ro&immutable=1")
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open {path}: {exc}") from exc


def open_user_db(readonly: bool = False) -> sqlite_utils.Database:
    """The database in the data folder, for commands and the app (creates the folder when writing)."""
    if not readonly:
        paths.ensure_user_dir()
    return open_db(paths.db_path(), readonly=readonly)


def db_file(db: sqlite_utils.Database) -> Path | None:
    """The file behind a connection (None in memory): other threads and locks open or name it."""
    for _, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


def _check_is_sqlite(conn: sqlite3.Connection, path: Path | str) -> None:
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} is not a deskscribe database ({exc})") from exc


def _has_schema(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'frames'").fetchone()
    return row is not None


def primary_code(exc: BaseException) -> int | None:
    """SQLite's primary result code of ``exc`` (``SQLITE_FULL``, ``SQLITE_BUSY``…), None if it carries none.

    ``sqlite_errorcode`` may hold an extended code (e.g. ``SQLITE_READONLY_DBMOVED``); its low byte is the
    primary one.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None or not isinstance(exc, sqlite3.Error) else int(code) & 0xFF


def translate(exc: sqlite3.Error, path: Path | str = "the database") -> Exception:
    """Turn SQLite's environment errors into known errors with a sentence a person can act on."""
    code = primary_code(exc)
    if code == sqlite3.SQLITE_FULL:
        return DiskFullError(f"the disk holding {path} is full: free some space (capture pauses until then)")
    if code == sqlite3.SQLITE_READONLY:
        return DatabaseError(f"{path} is read-only: check the folder's permissions")
    if code == sqlite3.SQLITE_CANTOPEN:
        return DatabaseError(f"cannot open {path}: check that the folder exists and is writable")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseError(f"{path} is busy (another deskscribe process holds a write lock); try again")
    return exc


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One atomic write: BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
    conn = db.conn
    if conn.in_transaction:  # nested: the outer transaction owns the commit
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # SQLite already rolled back on some errors (SQLITE_FULL, SQLITE_IOERR)
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise translate(exc) from exc


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, DiskFullError):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return primary_code(exc) == sqlite3.SQLITE_FULL
