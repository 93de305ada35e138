"""Opening a docret file safely, and the one-line errors of what SQLite says about it.

What a user can act on (a damaged or read-only file, a full disk, another process holding a
lock too long) becomes a one-line :class:`~docret.errors.DatabaseError`; a damaged file a
:class:`~docret.errors.DamagedDatabaseError` that says how to recover. A file in a folder that
cannot be written is read read-only, or as immutable where SQLite cannot create its WAL index.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from docret.errors import DamagedDatabaseError, DatabaseError

# How long a writer waits for another docret's write transaction before giving up (seconds). A
# retrain holds the write lock only while it writes its result, not while it trains.
BUSY_TIMEOUT = 60.0
BUSY_TIMEOUT_ENV = "DOCRET_BUSY_TIMEOUT"
# SQLite's own wait for a lock within one statement (readers during a recovery, say); a writer
# waiting for the write lock retries in Python (StoreBase._begin_immediate), where Ctrl-C works.
STATEMENT_WAIT = 1.0

# SQLite's primary result codes (sqlite3.SQLITE_* constants exist only from Python 3.11).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


def busy_timeout() -> float:
    """Seconds a writer waits for another's transaction: :data:`BUSY_TIMEOUT`, or the
    ``DOCRET_BUSY_TIMEOUT`` environment variable."""
    value = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not value:
        return BUSY_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise DatabaseError(f"{BUSY_TIMEOUT_ENV} must be a number of seconds, not {value!r}")
    return seconds


def damaged(path: str, detail: str) -> str:
    """The one-line message for a damaged database file."""
    detail = " ".join(detail.replace("*** in database main ***", "").split())
    detail = detail if len(detail) <= 120 else detail[:117] + "..."
    return (
        f"The file is damaged: {path} ({detail}); nothing was written to it. Rebuild the index "
        "into a new file (docret -d NEW.db index PATH) or restore a copy; 'docret check' "
        "lists what is wrong"
    )


def user_error(
    error: BaseException, path: str, waited: float = STATEMENT_WAIT
) -> DatabaseError | None:
    """The one-line :class:`DatabaseError` for a SQLite error a user can act on (damaged,
    read-only or full file, another process holding a lock for ``waited`` seconds), else None.
    A damaged file (a page, or text that is not UTF-8) gives a
    :class:`~docret.errors.DamagedDatabaseError`."""
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error)
    if (
        primary in (_CORRUPT, _NOTADB)
        or "malformed" in text
        or "not a database" in text
        or "Could not decode to UTF-8" in text
    ):
        detail = text
        if "decode to UTF-8" in text:
            column = text.split("column '", 1)[-1].split("'", 1)[0] if "column '" in text else ""
            detail = f"text that is not UTF-8 (column {column})" if column else "text not UTF-8"
        return DamagedDatabaseError(damaged(path, detail), detail)
    if primary in (_BUSY, _LOCKED) or "database is locked" in text:
        return DatabaseError(
            f"{path} is locked by another process (a docret or another program writing to "
            f"it): still busy after {waited:.1f} s, nothing was written (try again later, or "
            f"wait longer with {BUSY_TIMEOUT_ENV}=SECONDS)"
        )
    if primary == _READONLY or "readonly database" in text:
        why = why_not_writable(Path(path)) or "the file is read-only"
        return DatabaseError(f"Cannot write to {path}: {why}")
    if primary == _FULL:
        return DatabaseError(f"Cannot write to {path}: the disk is full; nothing was written")
    if primary in (_IOERR, _CANTOPEN):
        return DatabaseError(f"Cannot read or write {path}: {text}")
    return None


def is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_BUSY, _LOCKED)
    return "database is locked" in str(error)


def database_path(path: str | Path) -> Path:
    if isinstance(path, str) and not path.strip():
        raise DatabaseError("No database file given: -d/--database (or DOCRET_DB) is empty")
    return Path(path)


def why_not_writable(p: Path) -> str | None:
    """Why SQLite could not write ``p`` (None if it can): the file, or its folder, where the
    write-ahead log goes, is read-only."""
    if p.exists() and not os.access(p, os.W_OK):
        return "the file is read-only"
    folder = p.parent
    if not os.access(folder, os.W_OK):
        return f"its folder {folder} is read-only (SQLite writes {p.name}-wal beside the file)"
    return None


def is_sqlite_file(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def connect_readonly(p: Path, timeout: float = STATEMENT_WAIT) -> sqlite3.Connection:
    """A read-only connection to ``p``, in a read-only folder too.

    ``mode=ro`` still needs the WAL index file (``-shm``) beside the database; in a folder
    where it cannot be created, the file alone is the whole database (as long as no
    write-ahead log was left behind) and SQLite may read it as ``immutable``.
    """
    uri = p.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout)
    try:
        conn.execute("select count(*) from sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as e:
        conn.close()
        if getattr(e, "sqlite_errorcode", _CANTOPEN) & 0xFF != _CANTOPEN:
            raise
    wal = p.with_name(p.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise DatabaseError(
            f"Cannot read {p}: its folder is read-only and {wal.name} holds changes not yet "
            "in the file; open it once where the folder is writable"
        )
    return sqlite3.connect(f"{uri}?immutable=1", uri=True)
