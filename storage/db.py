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
from deskscribe.storage import health, migrations, space

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


def open_db(path: Path | str | None = None, *, readonly: bool = False, migrate: bool = True,
            check_steps: int | None = 0) -> sqlite_utils.Database:
    """Open (and create or migrate) the deskscribe database.

    The connection is in autocommit mode; group writes with :func:`transaction`.
    ``readonly=True`` opens with ``mode=ro`` (export and read-only views never write).
    ``check_steps``: run ``PRAGMA quick_check`` for at most this many steps first (None: the whole file; 0: no
    check) — commands and the app check (:func:`open_user_db`); a damaged file is refused before anything is
    written to it. A file this process may not write is refused at once when opened for writing.
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
            problem = health.readonly_problem(path)
            if problem:
                raise health.ReadOnlyDatabase(problem)
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open {path}: {exc}") from exc
    try:
        _prepare(conn, path, readonly, migrate, check_steps)
    except sqlite3.Error as exc:
        conn.close()
        if readonly and _may_read_immutable(path, exc):  # a full disk has no room for the -shm index
            conn = _connect_readonly(path, immutable=True)
            try:
                _prepare(conn, path, readonly, migrate, check_steps)
            except BaseException:
                conn.close()
                raise
            return sqlite_utils.Database(conn)
        known = translate(exc, path)
        raise (known if known is not exc else DatabaseError(f"cannot open {path}: {exc}")) from exc
    except BaseException:
        conn.close()
        raise
    return sqlite_utils.Database(conn)


def _prepare(conn: sqlite3.Connection, path: Path, readonly: bool, migrate: bool, check_steps: int | None) -> None:
    _check_is_sqlite(conn, path)
    if check_steps != 0:
        problem = health.quick_check(conn, check_steps)
        if problem:
            raise health.DamagedDatabase(health.damaged_message(path, problem))
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


def _may_read_immutable(path: Path, exc: sqlite3.Error) -> bool:
    """On a full disk a reader cannot make the -shm file; with no changes waiting in the WAL, and so no
    writer (a writer needs the -shm too), the file can be read as it is."""
    if primary_code(exc) not in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN):
        return False
    wal = Path(f"{path}-wal")
    return space.nearly_full(path.parent) and (not wal.exists() or wal.stat().st_size == 0)


def _connect_readonly(path: Path, immutable: bool = False) -> sqlite3.Connection:
    """``mode=ro``; in a folder nobody may write (a read-only mount, a copy on a DVD, chmod a-w) SQLite cannot
    create the WAL's shared-memory file, so the database is opened ``immutable`` instead: nothing can be
    writing it there. Changes still in a leftover ``-wal`` file are then not seen (said in the log)."""
    quoted = urllib.parse.quote(str(path))

    def connect(flags: str) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{quoted}?{flags}", uri=True, isolation_level=None, check_same_thread=False)

    writable_dir = os.access(path.parent, os.W_OK)
    try:
        if writable_dir and not immutable:
            return connect("mode=ro")
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size and not immutable:
            log.warning("%s is read-only: the changes in %s are not visible until it is opened writable",
                        path.parent, wal.name)
        return connect("mode=ro&immutable=1")
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open {path}: {exc}") from exc


def open_user_db(readonly: bool = False) -> sqlite_utils.Database:
    """The database in the data folder, for commands and the app (creates the folder when writing), checked
    for damage first (a bounded quick check); opened for writing, it also keeps the space reserve."""
    if not readonly:
        paths.ensure_user_dir()
    db = open_db(paths.db_path(), readonly=readonly, check_steps=health.QUICK_CHECK_STEPS)
    if not readonly:
        space.ensure_reserve(paths.user_dir())
    return db


def db_file(db: sqlite_utils.Database) -> Path | None:
    """The file behind a connection (None in memory): other threads and locks open or name it."""
    for _, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


_ENVIRONMENT = (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY,
                sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY)


def _check_is_sqlite(conn: sqlite3.Connection, path: Path | str) -> None:
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        if primary_code(exc) in _ENVIRONMENT:
            raise  # open_db decides: a reader on a full disk may still read the file as it is
        if primary_code(exc) == sqlite3.SQLITE_CORRUPT:
            raise translate(exc, path) from exc
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
        return space.full_disk_error(path)
    if code == sqlite3.SQLITE_IOERR and space.nearly_full(Path(path).parent):
        return space.full_disk_error(path)
    if code == sqlite3.SQLITE_READONLY:
        return health.ReadOnlyDatabase(health.readonly_message(path))
    if code == sqlite3.SQLITE_CORRUPT:
        return health.DamagedDatabase(health.damaged_message(path))
    if code == sqlite3.SQLITE_NOTADB:
        return DatabaseError(f"{path} is not a deskscribe database ({exc}): point DESKSCRIBE_HOME at your data folder")
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
        raise translate(exc, db_file(db) or "the database") from exc


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, DiskFullError):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return primary_code(exc) == sqlite3.SQLITE_FULL
