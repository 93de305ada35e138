"""What every part of the store stands on: opening a file, its transactions and its metadata.

Every write is one ``BEGIN IMMEDIATE`` transaction (:meth:`StoreBase.transaction`): a second
writer waits its turn (busy timeout) instead of failing, and each commit bumps a generation
number, so that a writer that read the index long before it writes (a retrain) can tell that
others committed meanwhile. A file or folder that is not writable is read through a read-only
connection; a damaged file is never written to. A command that only reads opens the file
read-only, so that it changes nothing, not even the journal mode: the write-ahead log is
switched on by the first write. A file of an older docret is upgraded when it is opened
(:mod:`docret.store.schema`), which needs write access once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from docret.errors import DamagedDatabaseError, DatabaseError
from docret.store.checked import short
from docret.store.db import (
    STATEMENT_WAIT,
    busy_timeout,
    connect_readonly,
    damaged,
    database_path,
    is_busy,
    is_sqlite_file,
    user_error,
    why_not_writable,
)
from docret.store.schema import APPLICATION, SCHEMA_VERSION, migrations

_S = TypeVar("_S", bound="StoreBase")


class StoreBase:
    """A docret SQLite file: opening, transactions and metadata (:class:`~docret.store.Store`
    adds what is read and written)."""

    def __init__(self, db: sqlite_utils.Database, path: str, readonly: bool = False) -> None:
        self.db = db
        self.path = path
        self.readonly = readonly  # opened read-only: the file or its folder is not writable
        self._pinned = False  # a read transaction held by :meth:`hold_snapshot`

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls: type[_S], path: str | Path, *, readonly: bool = False) -> _S:
        """Open an existing index; raise :class:`DatabaseError` if it is missing or foreign.

        A file that cannot be written (or that sits in a folder that cannot be) is opened
        read-only: queries work, writes fail with a one-line :class:`DatabaseError`. With
        ``readonly``, for a command that never writes, the file is opened read-only in any
        case and stays byte for byte as it was (only an index of an older docret, which needs
        an upgrade, is opened for writing and upgraded).
        """
        p = database_path(path)
        if not p.exists():
            where = "" if p.parent.is_dir() else f"; the folder {p.parent} does not exist"
            raise DatabaseError(
                f"Database not found: {path}{where} (build one with 'docret index PATH')"
            )
        if p.is_dir():
            raise DatabaseError(f"{path} is a folder, not a database file")
        writable = why_not_writable(p) is None
        store = cls._connect(p, readonly=readonly or not writable)
        with store._closed_on_error(p, path):
            if not store._is_docret():
                raise DatabaseError(f"Not a docret database: {path}")
            if store.readonly and writable and store._needs_upgrade():
                store.close()
                return cls.open(path)  # an older docret's index: upgraded once, in place
            store._check_version()
        return store

    @classmethod
    def create(cls: type[_S], path: str | Path) -> _S:
        """Open ``path`` for writing an index, creating and migrating it as needed.

        An existing file is only accepted if it is a docret database or an empty SQLite file,
        so that pointing docret at some other database never damages it.
        """
        p = cls.ensure_creatable(path)
        store = cls._connect(p)
        with store._closed_on_error(p, path):
            if not store._is_docret() and store._table_names():
                raise DatabaseError(f"Not a docret database: {path} (it has other tables)")
            store._check_version()
            store._enable_wal()
            if migrations.pending(store.db):
                with store.transaction():
                    migrations.apply(store.db)
            meta = store.meta()
            if (meta.get("application"), meta.get("schema_version")) != (
                APPLICATION,
                str(SCHEMA_VERSION),
            ):
                with store.transaction():
                    store._set_meta(application=APPLICATION, schema_version=SCHEMA_VERSION)
        return store

    @contextmanager
    def _closed_on_error(self, p: Path, path: str | Path) -> Iterator[None]:
        """Around opening the file ``p`` (given as ``path``): a failure closes the connection,
        and SQLite's own error becomes a one-line :class:`DatabaseError`."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            self.close()
            raise user_error(e, str(p)) or DatabaseError(f"Not a docret database: {path}") from e
        except DatabaseError:
            self.close()
            raise

    @staticmethod
    def ensure_creatable(path: str | Path) -> Path:
        """Raise a one-line :class:`DatabaseError` unless an index can be written at ``path``
        (checked before slow work; nothing is created)."""
        p = database_path(path)
        if p.exists() and p.is_dir():
            raise DatabaseError(f"Database path is a folder: {path}")
        if not p.parent.is_dir():
            raise DatabaseError(f"Cannot create {path}: the folder {p.parent} does not exist")
        why = why_not_writable(p)
        if why is not None:
            raise DatabaseError(f"Cannot write to {path}: {why}")
        return p

    @classmethod
    def _connect(cls: type[_S], p: Path, readonly: bool = False) -> _S:
        """A connection to ``p`` that has read its schema, waiting up to :func:`busy_timeout`
        while another process holds a lock that keeps readers out. Nothing is written: the
        write-ahead log is switched on by the first write (:meth:`_enable_wal`)."""
        start = time.monotonic()
        deadline = start + busy_timeout()
        while True:
            conn = None
            # SQLite waits this long for a lock within a statement (up to the deadline); a
            # writer waiting for another's transaction to end retries in _begin_immediate.
            wait = max(0.0, min(STATEMENT_WAIT, deadline - time.monotonic()))
            try:
                if readonly:
                    conn = connect_readonly(p, wait)
                else:
                    conn = sqlite3.connect(str(p), timeout=wait)
                db = sqlite_utils.Database(conn)
                db.execute("select count(*) from sqlite_master").fetchone()
                conn.execute(f"pragma busy_timeout = {int(STATEMENT_WAIT * 1000)}")
                return cls(db, str(p), readonly=readonly)
            except sqlite3.DatabaseError as e:
                if conn is not None:
                    conn.close()
                if is_busy(e) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                waited = time.monotonic() - start
                error = user_error(e, str(p), waited) if is_sqlite_file(p) else None
                raise error or DatabaseError(f"Not a docret database: {p} ({e})") from None

    def _enable_wal(self) -> None:
        """Switch the file to write-ahead logging (readers then never wait for a writer);
        done by the first write, never by a reader."""
        if self.db.conn.in_transaction:
            return
        self._retry_busy(
            lambda: (
                self.db.execute("pragma journal_mode").fetchone()[0] == "wal"
                or self.db.enable_wal()
            )
        )

    def _retry_busy(self, attempt: Callable[[], Any]) -> Any:
        """``attempt()``, tried again until :func:`busy_timeout` while the file is locked;
        then the one-line error that says for how long it waited."""
        start = time.monotonic()
        deadline = start + busy_timeout()
        try:
            while True:
                # SQLite's own wait within the statement ends at the deadline too.
                wait = max(0.0, min(STATEMENT_WAIT, deadline - time.monotonic()))
                self.db.execute(f"pragma busy_timeout = {int(wait * 1000)}")
                try:
                    return attempt()
                except sqlite3.DatabaseError as e:
                    if not is_busy(e) or time.monotonic() >= deadline:
                        raise user_error(e, self.path, time.monotonic() - start) or e from None
                time.sleep(0.05)
        finally:
            self.db.execute(f"pragma busy_timeout = {int(STATEMENT_WAIT * 1000)}")

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Reads whose SQLite errors a user can act on (a damaged page, text that is not
        UTF-8, a lock held too long) become one-line :class:`DatabaseError`."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            error = user_error(e, self.path)
            if error is None:
                raise
            raise error from None

    def _needs_upgrade(self) -> bool:
        """Whether this docret index was written by an older docret (migrations pending)."""
        return "meta" in self._table_names() and bool(migrations.pending(self.db))

    def _table_names(self) -> list[str]:
        return self.db.table_names()

    def _is_docret(self) -> bool:
        if "meta" not in self._table_names():
            return False
        row = self.db.execute("select value from meta where key = 'application'").fetchone()
        return row is not None and row[0] == APPLICATION

    def _check_version(self) -> None:
        """Refuse a file of a newer docret; upgrade one of an older docret (its migrations,
        which rewrite old rows into the current form, and its schema version, in one write
        transaction), or say it needs write access for that."""
        if "meta" not in self._table_names():
            return
        version = self.meta_int("schema_version")
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"{self.path} was written by a newer docret (schema version {version}; "
                f"this docret reads up to {SCHEMA_VERSION}). Upgrade docret to use it."
            )
        if migrations.pending(self.db):
            if self.readonly:
                raise DatabaseError(
                    f"{self.path} was written by an older docret and needs an upgrade, which "
                    "needs write access: open it once where the file and its folder are writable"
                )
            try:
                with self.transaction():
                    migrations.apply(self.db)
                    self._set_meta(schema_version=SCHEMA_VERSION)
            except sqlite3.OperationalError as e:
                raise DatabaseError(f"{self.path} needs an upgrade that failed: {e}") from None

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def transaction(self: _S) -> Iterator[_S]:
        """A write transaction: the writes inside it commit together or not at all.

        The outermost one starts with ``BEGIN IMMEDIATE``, so it holds the write lock from
        the start: what it reads inside is what it overwrites, and another writer waits (up to
        :func:`busy_timeout`) rather than failing half-way. Before writing it runs SQLite's
        quick check, so a damaged file is never written to; at commit it bumps the generation
        (:meth:`generation`). Nested calls are savepoints of the outer transaction.
        """
        if self.db.conn.in_transaction and not self._pinned:
            with self.db.atomic():
                yield self
            return
        self.ensure_writable()
        self._release_snapshot()
        self._enable_wal()
        self._begin_immediate()
        try:
            problem = self._quick_check()
            if problem is not None:
                raise DatabaseError(damaged(self.path, problem))
            yield self
            self.db.execute(
                "insert into meta (key, value) values ('generation', '1') on conflict(key) "
                "do update set value = cast(value as integer) + 1"
            )
            self.db.execute("COMMIT")
        except BaseException as e:
            self.db.rollback()
            error = user_error(e, self.path) if isinstance(e, sqlite3.DatabaseError) else None
            if error is None:
                raise
            raise error from e

    def _begin_immediate(self) -> None:
        """``BEGIN IMMEDIATE``, retried until :func:`busy_timeout` while another writer holds
        the lock. The waiting is done here rather than in SQLite's busy handler, which would
        not let Ctrl-C through until it gave up."""
        self._retry_busy(lambda: self.db.execute("BEGIN IMMEDIATE"))

    def ensure_writable(self) -> None:
        """Raise a one-line :class:`DatabaseError` if this file cannot be written.

        Called before slow work (training) so that it is not wasted on a read-only file.
        """
        if self.readonly:
            why = why_not_writable(Path(self.path)) or "it was opened read-only"
            raise DatabaseError(f"Cannot write to {self.path}: {why}")

    @contextmanager
    def snapshot(self: _S) -> Iterator[_S]:
        """A read transaction: every read inside it sees the same committed state, whatever
        other processes commit meanwhile (nestable; a no-op inside any other transaction)."""
        if self.db.conn.in_transaction:
            yield self
            return
        self._begin_read()
        try:
            yield self
        finally:
            self.db.rollback()

    def hold_snapshot(self) -> None:
        """Read one committed state until :meth:`close` or the next write transaction.

        For a short-lived command: model, codes and documents it reads stay consistent while
        other processes add, remove or retrain. Long-lived users should not hold it, since
        they would never see later commits.
        """
        if not self.db.conn.in_transaction:
            self._begin_read()
            self._pinned = True

    def _begin_read(self) -> None:
        def begin() -> None:
            self.db.execute("BEGIN")
            try:
                self.db.execute("select count(*) from meta").fetchone()  # the snapshot starts
            except BaseException:
                self.db.rollback()
                raise

        self._retry_busy(begin)

    def _release_snapshot(self) -> None:
        if self._pinned:
            self._pinned = False
            self.db.rollback()

    def generation(self) -> int:
        """How many write transactions have committed to this file (0 before the first).

        Compare two readings to tell whether anyone wrote in between.
        """
        return self.meta_int("generation")

    def _quick_check(self) -> str | None:
        """SQLite's quick check: None when the file is sound, else the first problem."""
        try:
            rows = [r[0] for r in self.db.execute("pragma quick_check(5)").fetchall()]
        except sqlite3.DatabaseError as e:
            return str(e)
        return None if rows == ["ok"] else "; ".join(rows)

    def close(self) -> None:
        """Close the connection (ending a held snapshot)."""
        self._release_snapshot()
        self.db.close()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- metadata --------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """All metadata as strings."""
        return {r["key"]: r["value"] for r in self.db["meta"].rows}

    def meta_int(self, key: str, default: int = 0, meta: Mapping[str, Any] | None = None) -> int:
        """A whole number of the metadata (``default`` if absent); one that is not a number
        raises :class:`~docret.errors.DamagedDatabaseError`. ``meta``: already read."""
        value = (self.meta() if meta is None else meta).get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise self.damaged(f"meta {key} is {short(value)}, not a whole number") from None

    def damaged(self, detail: str) -> DamagedDatabaseError:
        """The error for a file holding something docret never writes (``detail``: what)."""
        return DamagedDatabaseError(damaged(self.path, detail), detail)

    def commit_mark(self) -> int:
        """A number that changes whenever another connection commits to the file (SQLite's
        ``data_version``; this connection's own commits leave it as it is). Cheap enough to
        ask before every request."""
        return int(self.db.execute("pragma data_version").fetchone()[0])

    def size_bytes(self) -> int:
        """Size of the database file (WAL included)."""
        p = Path(self.path)
        wal = p.with_name(p.name + "-wal")
        return p.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def _set_meta(self, **values: Any) -> None:
        self.db["meta"].upsert_all(
            [{"key": k, "value": str(v)} for k, v in values.items()], pk="key"
        )
