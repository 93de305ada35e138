"""The SQLite file: schema migrations, documents, vectors, codes, vocabulary, model.

One file holds a whole index. Vectors are little-endian float32 BLOBs (term ids int32), the
model is its config as JSON plus one float32 BLOB per weight tensor, so nothing is ever
pickled. A build replaces everything inside one transaction: an error or an interrupt leaves
the previous index as it was. This module never imports torch or scikit-learn.

Several docret processes may use one file at once. Every write is one ``BEGIN IMMEDIATE``
transaction (:meth:`Store.transaction`): a second writer waits its turn (busy timeout) instead of
failing, and each commit bumps a generation number, so that a writer that read the index long
before it writes (a retrain) can tell that others committed meanwhile. A file or folder that is
not writable is read through a read-only connection; a damaged file is never written to.

A command that only reads opens the file read-only (``Store.open(path, readonly=True)``), so
that it changes nothing, not even the journal mode: the write-ahead log is switched on by the
first write. What is read is checked as it is loaded, with vectorised numpy checks: term ids
within the vocabulary, finite values, blobs of the right length, weights of the shape the
model's config gives, numbers and JSON that parse. Anything else docret never writes, so a
file holding it is damaged (:class:`~docret.errors.DamagedDatabaseError`), and ``check`` lists
each such problem.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils
from sqlite_utils import Migrations

from docret.errors import DamagedDatabaseError, DatabaseError
from docret.progress import Progress

APPLICATION = "docret"
SCHEMA_VERSION = 5  # bump together with a new migration
# How long a writer waits for another docret's write transaction before giving up (seconds). A
# retrain holds the write lock only while it writes its result, not while it trains.
BUSY_TIMEOUT = 60.0
BUSY_TIMEOUT_ENV = "DOCRET_BUSY_TIMEOUT"
# SQLite's own wait for a lock within one statement (readers during a recovery, say); a writer
# waiting for the write lock retries in Python (Store._begin_immediate), where Ctrl-C works.
_STATEMENT_WAIT = 1.0

migrations = Migrations("docret")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Tables of the first schema."""
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["documents"].create(
        {
            "id": str,
            "path": str,
            "title": str,
            "text": str,
            "labels": str,  # JSON list
            "split": str,
            "hash": str,
        },
        pk="id",
    )
    db["vectors"].create({"id": str, "indices": bytes, "weights": bytes}, pk="id")
    db["vocabulary"].create({"term_id": int, "term": str, "df": int, "idf": float}, pk="term_id")
    # Words seen at index time and the term each stems to: queries skip the stemmer for them.
    db["surface_forms"].create({"word": str, "term_id": int}, pk="word")
    db["models"].create(
        {
            "id": int,
            "created": str,
            "config": str,  # AutoencoderConfig as JSON
            "train_config": str,
            "analyzer": str,
            "history": str,
        },
        pk="id",
    )
    db["weights"].create(
        {"model_id": int, "name": str, "shape": str, "data": bytes},
        pk=("model_id", "name"),
        foreign_keys=[("model_id", "models", "id")],
    )
    db["codes"].create(
        {"id": str, "model_id": int, "code": bytes},
        pk="id",
        foreign_keys=[("model_id", "models", "id")],
    )


@migrations()
def m002_binary_codes(db: sqlite_utils.Database) -> None:
    """Packed bits of binary (semantic hashing) codes, beside their float codes."""
    db["codes"].add_column("bits", bytes)


@migrations()
def m003_document_source(db: sqlite_utils.Database) -> None:
    """The path each document was read from, so re-indexing a folder touches only its own."""
    db["documents"].add_column("source", str)


@migrations()
def m004_lexicon(db: sqlite_utils.Database) -> None:
    """BM25's inputs: every stem of the corpus (not only the model's vocabulary) and each
    document's term counts over them; and the ranking chosen at index time, per model."""
    db["lexicon"].create({"term_id": int, "term": str}, pk="term_id")
    db["term_counts"].create({"id": str, "indices": bytes, "counts": bytes}, pk="id")
    db["models"].add_column("ranking", str)  # JSON: the default ranking's fusion weight


@migrations()
def m005_document_metadata(db: sqlite_utils.Database) -> None:
    """What the format says about each document (type, author, date, ...) as a JSON object."""
    db["documents"].add_column("metadata", str)


def to_blob(array: np.ndarray, dtype: str = "<f4") -> bytes:
    """Little-endian bytes of ``array`` (float32 unless told)."""
    return np.ascontiguousarray(array, dtype=dtype).tobytes()


def from_blob(blob: bytes, dtype: str = "<f4") -> np.ndarray:
    """Inverse of :func:`to_blob` (native-endian copy)."""
    return np.frombuffer(blob, dtype=dtype).astype(dtype[1:])


@dataclass
class StoredDocument:
    """A document row as read back."""

    id: str
    title: str
    text: str
    labels: list[str]
    path: str | None
    split: str | None
    metadata: dict[str, Any] = field(default_factory=dict)  # type, author, date, ... (schema 5)


@dataclass
class CheckReport:
    """What :meth:`Store.check` found; a sound index has no ``problems``."""

    path: str
    problems: list[str] = field(default_factory=list)
    documents: int = 0
    model_id: int | None = None
    generation: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems


class CsrRows(Sequence[tuple[np.ndarray, np.ndarray]]):
    """The (column ids, values) of each row of a scipy CSR matrix, made as they are read: a
    list of them for a million documents would cost hundreds of megabytes of small objects."""

    def __init__(self, matrix: Any) -> None:
        self.matrix = matrix

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        m = self.matrix
        i = range(len(self))[i]  # negative indices count from the end; out of range raises
        a, b = m.indptr[i], m.indptr[i + 1]
        return m.indices[a:b], m.data[a:b]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        m = self.matrix
        for a, b in zip(m.indptr[:-1], m.indptr[1:], strict=True):
            yield m.indices[a:b], m.data[a:b]


@dataclass
class IndexData:
    """Everything a build writes, gathered so that one call writes it atomically."""

    documents: Sequence[Any]  # docret.corpus.Document
    vectors: Sequence[tuple[np.ndarray, np.ndarray]]  # (term ids, tf-idf weights) per document
    codes: np.ndarray  # (N, D) float32
    bits: np.ndarray | None  # (N, W) uint64 packed binary codes, for binary models
    vocabulary: Sequence[str]
    surface_forms: Mapping[str, int]  # word -> term id
    df: np.ndarray
    idf: np.ndarray
    analyzer: Mapping[str, Any]
    config: Mapping[str, Any]
    train_config: Mapping[str, Any]
    history: Sequence[Mapping[str, Any]]
    weights: Mapping[str, np.ndarray]
    source: str
    document_sources: Sequence[str] | None = None  # per document; default: ``source`` for all
    settings: Mapping[str, Any] | None = None  # what the model was made with (Encoder settings)


class Store:
    """A docret SQLite file. Use :meth:`open` for an existing index, :meth:`create` to build."""

    def __init__(self, db: sqlite_utils.Database, path: str, readonly: bool = False) -> None:
        self.db = db
        self.path = path
        self.readonly = readonly  # opened read-only: the file or its folder is not writable
        self._pinned = False  # a read transaction held by :meth:`hold_snapshot`

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> Store:
        """Open an existing index; raise :class:`DatabaseError` if it is missing or foreign.

        A file that cannot be written (or that sits in a folder that cannot be) is opened
        read-only: queries work, writes fail with a one-line :class:`DatabaseError`. With
        ``readonly``, for a command that never writes, the file is opened read-only in any
        case and stays byte for byte as it was (only an index of an older docret, which needs
        an upgrade, is opened for writing and upgraded).
        """
        p = _database_path(path)
        if not p.exists():
            where = "" if p.parent.is_dir() else f"; the folder {p.parent} does not exist"
            raise DatabaseError(
                f"Database not found: {path}{where} (build one with 'docret index PATH')"
            )
        if p.is_dir():
            raise DatabaseError(f"{path} is a folder, not a database file")
        writable = _why_not_writable(p) is None
        store = cls._connect(p, readonly=readonly or not writable)
        try:
            if not store._is_docret():
                raise DatabaseError(f"Not a docret database: {path}")
            if store.readonly and writable and store._needs_upgrade():
                store.close()
                return cls.open(path)  # an older docret's index: upgraded once, in place
            store._check_version()
        except sqlite3.DatabaseError as e:
            store.close()
            raise user_error(e, str(p)) or DatabaseError(f"Not a docret database: {path}") from e
        except DatabaseError:
            store.close()
            raise
        return store

    @classmethod
    def create(cls, path: str | Path) -> Store:
        """Open ``path`` for writing an index, creating and migrating it as needed.

        An existing file is only accepted if it is a docret database or an empty SQLite file,
        so that pointing docret at some other database never damages it.
        """
        p = cls.ensure_creatable(path)
        store = cls._connect(p)
        try:
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
        except sqlite3.DatabaseError as e:
            store.close()
            raise user_error(e, str(p)) or DatabaseError(f"Not a docret database: {path}") from e
        except DatabaseError:
            store.close()
            raise
        return store

    @staticmethod
    def ensure_creatable(path: str | Path) -> Path:
        """Raise a one-line :class:`DatabaseError` unless an index can be written at ``path``
        (checked before slow work; nothing is created)."""
        p = _database_path(path)
        if p.exists() and p.is_dir():
            raise DatabaseError(f"Database path is a folder: {path}")
        if not p.parent.is_dir():
            raise DatabaseError(f"Cannot create {path}: the folder {p.parent} does not exist")
        why = _why_not_writable(p)
        if why is not None:
            raise DatabaseError(f"Cannot write to {path}: {why}")
        return p

    @classmethod
    def _connect(cls, p: Path, readonly: bool = False) -> Store:
        """A connection to ``p`` that has read its schema, waiting up to :func:`busy_timeout`
        while another process holds a lock that keeps readers out. Nothing is written: the
        write-ahead log is switched on by the first write (:meth:`_enable_wal`)."""
        start = time.monotonic()
        deadline = start + busy_timeout()
        while True:
            conn = None
            # SQLite waits this long for a lock within a statement (up to the deadline); a
            # writer waiting for another's transaction to end retries in _begin_immediate.
            wait = max(0.0, min(_STATEMENT_WAIT, deadline - time.monotonic()))
            try:
                if readonly:
                    conn = _connect_readonly(p, wait)
                else:
                    conn = sqlite3.connect(str(p), timeout=wait)
                db = sqlite_utils.Database(conn)
                db.execute("select count(*) from sqlite_master").fetchone()
                conn.execute(f"pragma busy_timeout = {int(_STATEMENT_WAIT * 1000)}")
                return cls(db, str(p), readonly=readonly)
            except sqlite3.DatabaseError as e:
                if conn is not None:
                    conn.close()
                if _is_busy(e) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                waited = time.monotonic() - start
                error = user_error(e, str(p), waited) if _is_sqlite_file(p) else None
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
                wait = max(0.0, min(_STATEMENT_WAIT, deadline - time.monotonic()))
                self.db.execute(f"pragma busy_timeout = {int(wait * 1000)}")
                try:
                    return attempt()
                except sqlite3.DatabaseError as e:
                    if not _is_busy(e) or time.monotonic() >= deadline:
                        raise user_error(e, self.path, time.monotonic() - start) or e from None
                time.sleep(0.05)
        finally:
            self.db.execute(f"pragma busy_timeout = {int(_STATEMENT_WAIT * 1000)}")

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
            except sqlite3.OperationalError as e:
                raise DatabaseError(f"{self.path} needs an upgrade that failed: {e}") from None

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Store]:
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
            why = _why_not_writable(Path(self.path)) or "it was opened read-only"
            raise DatabaseError(f"Cannot write to {self.path}: {why}")

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
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

    def check(self) -> CheckReport:
        """SQLite's integrity check, then docret's own consistency: the current model is
        stored whole and fits its vocabulary, every document has a vector and a code of that
        model (of its size), no vector or code is left without its document, and everything a
        query reads loads: text is UTF-8, numbers and JSON parse, term ids lie within the
        vocabulary and the lexicon, values are finite."""
        report = CheckReport(self.path)
        try:
            with self.snapshot():
                rows = [r[0] for r in self.db.execute("pragma integrity_check(20)").fetchall()]
                if rows != ["ok"]:  # one line each: SQLite's lines may hold several
                    report.problems += [
                        f"SQLite: {line}"
                        for r in rows
                        for line in str(r).splitlines()
                        if line.strip() and line.strip() != "*** in database main ***"
                    ]
                else:
                    report.problems += self._text_problems()
                    if not report.problems:
                        self._check_consistency(report)
        except DamagedDatabaseError as e:
            report.problems.append(e.detail)
        except sqlite3.DatabaseError as e:
            if _is_busy(e):
                raise user_error(e, self.path) or e from None
            report.problems.append("SQLite: " + " ".join(str(e).split()))
        return report

    def _text_problems(self) -> list[str]:
        """Text values of docret's tables that are not UTF-8 (SQLite stores whatever bytes it
        is given; reading them back fails), one problem per column."""
        problems = []
        for table in self._table_names():
            if table.startswith("sqlite_"):
                continue
            columns = [r[1] for r in self.db.execute(f"pragma table_info([{table}])")]
            for column in columns:
                bad = 0
                for (raw,) in self.db.execute(
                    f"select cast([{column}] as blob) from [{table}] "
                    f"where typeof([{column}]) = 'text'"
                ):
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError:
                        bad += 1
                if bad:
                    problems.append(f"{bad:,} values of {table}.{column} are not UTF-8 text")
        return problems

    def _check_consistency(self, report: CheckReport) -> None:
        problems = report.problems

        def count(sql: str, *args: Any) -> int:
            return int(self.db.execute(sql, args).fetchone()[0])

        def loads(read: Callable[[], Any]) -> Any:
            try:
                return read()
            except DamagedDatabaseError as e:
                problems.append(e.detail)
                return None

        meta = self.meta()
        for key in ("schema_version", "added_tokens", "added_unknown_tokens"):
            loads(lambda key=key: self.meta_int(key, meta=meta))
        report.generation = loads(lambda: self.meta_int("generation", meta=meta)) or 0
        loads(self.load_settings)
        report.documents = count("select count(*) from documents")
        if "model_id" not in meta:
            problems.append("no index yet (meta has no model_id)")
            return
        model_id = report.model_id = loads(lambda: self.meta_int("model_id", meta=meta))
        if model_id is None:
            return
        if not report.documents:
            problems.append("the index holds no documents")
        for column, kind in (("labels", "array"), ("metadata", "object")):
            bad = count(
                f"select count(*) from documents where [{column}] is not null and "
                f"([{column}] = '' or not json_valid([{column}]) or "
                f"json_type([{column}]) != '{kind}')"
            )
            if bad:
                problems.append(f"{bad:,} documents' {column} are not a JSON {kind}")
        model = loads(self.load_model)
        if model is not None:
            (n_terms,) = self.db.execute("select count(*) from vocabulary").fetchone()
            found = model_problems(model[0], model[1], n_terms)
            problems += found
            model = None if found else model
        config = model[0]["config"] if model else {}
        if model is not None and not count(
            "select count(*) from weights where model_id = ?", model_id
        ):
            problems.append(f"the current model ({model_id}) has no weights")
        if model is not None:
            loads(self.load_ranking)
        for table in ("vectors", "codes"):
            missing = count(
                "select count(*) from documents d where not exists "
                f"(select 1 from [{table}] t where t.id = d.id)"
            )
            left = count(
                f"select count(*) from [{table}] t where not exists "
                "(select 1 from documents d where d.id = t.id)"
            )
            if missing:
                problems.append(f"{missing:,} documents have no {table[:-1]}")
            if left:
                problems.append(f"{left:,} {table} belong to no document")
        stale = count("select count(*) from codes where model_id != ?", model_id)
        if stale:
            problems.append(f"{stale:,} codes are of another model than the current one")
        if model is not None:
            loaded = None
            size = int(config["code_size"]) * 4
            wrong = count("select count(*) from codes where length(code) != ?", size)
            if wrong:
                problems.append(f"{wrong:,} codes are not {size // 4} numbers long")
            elif report.documents:
                loaded = loads(lambda: self.load_codes(config["code_size"]))
            if config.get("binary") and (wrong or loaded is not None):
                words = (int(config["code_size"]) + 63) // 64 * 8
                bad = count(
                    "select count(*) from codes where bits is null or length(bits) != ?", words
                )
                if bad:
                    problems.append(f"{bad:,} binary codes lack their bits")
        vocabulary = loads(self.load_vocabulary)
        if vocabulary is not None:
            loads(lambda: self.load_surface_forms(vocabulary[0]))
            loads(lambda: self.load_vectors(len(vocabulary[0])))
        lexicon = loads(self.load_lexicon)
        if lexicon is not None:
            loads(lambda: self.load_term_counts(len(lexicon)))

    def close(self) -> None:
        """Close the connection (ending a held snapshot)."""
        self._release_snapshot()
        self.db.close()

    def __enter__(self) -> Store:
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
            raise self.damaged(f"meta {key} is {_short(value)}, not a whole number") from None

    def damaged(self, detail: str) -> DamagedDatabaseError:
        """The error for a file holding something docret never writes (``detail``: what)."""
        return DamagedDatabaseError(damaged(self.path, detail), detail)

    def load_settings(self) -> dict[str, Any]:
        """The settings the current model was made with, as stored (empty if never stored)."""
        return _parsed(self, self.meta().get("settings"), "meta settings", dict, {})

    def _set_meta(self, **values: Any) -> None:
        self.db["meta"].upsert_all(
            [{"key": k, "value": str(v)} for k, v in values.items()], pk="key"
        )

    # -- writing ---------------------------------------------------------------------------
    def replace_index(self, data: IndexData, progress: Progress | None = None) -> int:
        """Replace the whole index with ``data`` in one transaction; return the new model id.

        ``progress.step("Writing", done, total)`` follows the documents as they are written.
        """
        now = _now()
        # Model ids keep counting up across rebuilds, so an id never names two models.
        model_id = self.meta_int("model_id") + 1
        sources = data.document_sources or [data.source] * len(data.documents)
        with self.transaction():
            for table in (
                "codes",
                "weights",
                "models",
                "vectors",
                "documents",
                "surface_forms",
                "vocabulary",
            ):
                self.db.execute(f"delete from [{table}]")
            self.db["vocabulary"].insert_all(
                (
                    {"term_id": j, "term": t, "df": int(data.df[j]), "idf": float(data.idf[j])}
                    for j, t in enumerate(data.vocabulary)
                ),
                batch_size=1000,
            )
            self.db["surface_forms"].insert_all(
                ({"word": w, "term_id": j} for w, j in data.surface_forms.items()),
                batch_size=5000,
            )
            self.db["models"].insert(
                {
                    "id": model_id,
                    "created": now,
                    **{
                        key: json.dumps(dict(getattr(data, key)))
                        for key in ("config", "train_config", "analyzer")
                    },
                    "history": json.dumps(list(data.history)),
                }
            )
            self.db["weights"].insert_all(
                {
                    "model_id": model_id,
                    "name": name,
                    "shape": json.dumps(list(w.shape)),
                    "data": to_blob(w),
                }
                for name, w in data.weights.items()
            )
            self._write_rows(
                data.documents,
                sources,
                data.vectors,
                data.codes,
                data.bits,
                model_id,
                insert=True,
                progress=progress,
            )
            self._set_meta(
                application=APPLICATION,
                schema_version=SCHEMA_VERSION,
                source=data.source,
                built=now,
                model_id=model_id,
                added_unknown_tokens=0,
                added_tokens=0,
                settings=json.dumps(dict(data.settings or {})),
            )
        return model_id

    def upsert_documents(
        self,
        source: str,
        documents: Sequence[Any],
        vectors: Sequence[tuple[np.ndarray, np.ndarray]],
        codes: np.ndarray,
        bits: np.ndarray | None,
        unknown_tokens: int = 0,
        known_tokens: int = 0,
    ) -> None:
        """Add or replace documents with their vectors and codes of the current model, atomically.

        A replaced document keeps its place (rowid) in the storage order; new ones go last.
        The token counts add up, until the next training, how much of the added text the
        vocabulary does not know.
        """
        meta = self.meta()
        model_id = self.current_model_id()
        with self.transaction():
            self._write_rows(
                documents, [source] * len(documents), vectors, codes, bits, model_id, insert=False
            )
            self._set_meta(
                updated=_now(),
                added_unknown_tokens=self.meta_int("added_unknown_tokens", meta=meta)
                + unknown_tokens,
                added_tokens=self.meta_int("added_tokens", meta=meta)
                + unknown_tokens
                + known_tokens,
            )

    def _write_rows(
        self,
        documents: Sequence[Any],
        sources: Sequence[str],
        vectors: Sequence[tuple[np.ndarray, np.ndarray]],
        codes: np.ndarray,
        bits: np.ndarray | None,
        model_id: int,
        *,
        insert: bool,
        progress: Progress | None = None,
    ) -> None:
        """Write the document, vector and code rows of ``documents`` (insert or upsert)."""
        packed = bits if bits is not None else [None] * len(codes)
        rows = {
            "documents": (
                _document_row(d, src)
                for d, src in _counted(
                    zip(documents, sources, strict=True), len(documents), progress
                )
            ),
            "vectors": (
                {"id": d.id, "indices": to_blob(idx, "<i4"), "weights": to_blob(val)}
                for d, (idx, val) in zip(documents, vectors, strict=True)
            ),
            "codes": (
                {
                    "id": d.id,
                    "model_id": model_id,
                    "code": to_blob(c),
                    "bits": None if b is None else to_blob(b, "<u8"),
                }
                for d, c, b in zip(documents, codes, packed, strict=True)
            ),
        }
        for table, table_rows in rows.items():
            if insert:
                self.db[table].insert_all(table_rows, batch_size=500)
            else:
                self.db[table].upsert_all(table_rows, pk="id", batch_size=500)

    def delete_documents(self, ids: Sequence[str]) -> None:
        """Remove documents with their vectors and codes, atomically."""
        with self.transaction():
            for marks, chunk in _id_chunks(ids):
                for table in ("codes", "vectors", "documents"):
                    self.db.execute(f"delete from [{table}] where id in ({marks})", chunk)
            self._set_meta(updated=_now())

    # -- reading ---------------------------------------------------------------------------
    def document_hashes(self, source: str | None = None) -> dict[str, str]:
        """Content hash of every stored document (or of those read from ``source``), by id."""
        with self._reading():
            if source is None:
                return dict(self.db.execute("select id, hash from documents").fetchall())
            rows = self.db.execute("select id, hash from documents where source = ?", [source])
            return dict(rows.fetchall())

    def document_sources(self, ids: Sequence[str]) -> dict[str, str | None]:
        """The path each stored one of ``ids`` was read from (None if not recorded), by id."""
        out: dict[str, str | None] = {}
        for marks, chunk in _id_chunks(ids):
            out.update(
                self.db.execute(f"select id, source from documents where id in ({marks})", chunk)
            )
        return out

    def all_documents(self) -> list[tuple[str, Any]]:
        """Every stored document as (source, :class:`~docret.corpus.Document`), in order."""
        return list(self.iter_documents())

    def iter_documents(self) -> Iterator[tuple[str, Any]]:
        """:meth:`all_documents`, one at a time (a retrain of a million documents spools
        them to disk rather than holding them)."""
        from docret.corpus import Document

        with self._reading():  # text that is not UTF-8: the file is damaged
            for r in self.db.query("select * from documents order by rowid"):
                yield (
                    r["source"] or "",
                    Document(
                        id=r["id"],
                        text=r["text"] or "",
                        title=r["title"] or "",
                        labels=tuple(_parsed(self, r["labels"], "document labels", list, [])),
                        path=r["path"],
                        split=r["split"],
                        metadata=_parsed(self, r["metadata"], "document metadata", dict, {}),
                    ),
                )

    def current_model_id(self) -> int:
        """Id of the model whose codes the index holds."""
        value = self.meta_int("model_id", -1)
        if value < 0:
            raise DatabaseError(f"{self.path} holds no index yet (build one with 'docret index')")
        return value

    def load_model(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The current model: its settings and history as a dict, and its weights (each as
        long as its shape says; :func:`model_problems` tells whether they fit together)."""
        model_id = self.current_model_id()
        with self._reading():
            row = self.db.execute(
                "select created, config, train_config, analyzer, history from models where id = ?",
                [model_id],
            ).fetchone()
            if row is None:
                raise self.damaged(f"the current model ({model_id}) is missing")
            info = {
                "id": model_id,
                "created": row[0],
                "config": _parsed(self, row[1], "the model's config", dict),
                "train_config": _parsed(self, row[2], "the model's train_config", dict),
                "analyzer": _parsed(self, row[3], "the model's analyzer", dict),
                "history": _parsed(self, row[4], "the model's history", list),
            }
            weights = {
                name: _weight(self, name, shape, data)
                for name, shape, data in self.db.execute(
                    "select name, shape, data from weights where model_id = ?", [model_id]
                )
            }
        return info, weights

    def load_vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Terms in id order and their idf weights."""
        terms, idf = [], []
        with self._reading():
            for term, value in self.db.execute("select term, idf from vocabulary order by term_id"):
                terms.append(term)
                idf.append(value)
            problem = self._terms_problem("vocabulary", len(terms))
            if problem is not None:
                raise self.damaged(problem)
        if not terms:
            raise self.damaged("the vocabulary is empty")
        if not set(map(type, terms)) <= {str} or not set(map(type, idf)) <= {float, int}:
            raise self.damaged("terms of the vocabulary are not text or idf weights not numbers")
        weights = np.asarray(idf, dtype=np.float32)
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise self.damaged("the vocabulary's idf weights are not all finite and positive")
        return terms, weights

    def _terms_problem(self, table: str, n: int) -> str | None:
        """What is wrong with the ``n`` term ids of ``table`` (vocabulary or lexicon): ids
        other than 0, 1, 2, ... (an integer primary key: whole and distinct, so its ends
        tell, and they are read from the index at once)."""
        low, high = self.db.execute(f"select min(term_id), max(term_id) from [{table}]").fetchone()
        if n and (low, high) != (0, n - 1):
            return f"the {table}'s term ids run from {low} to {high}, not 0 to {n - 1:,}"
        return None

    def load_surface_forms(self, vocabulary: Sequence[str]) -> dict[str, str]:
        """Known words and the vocabulary term each one stems to."""
        n, out = len(vocabulary), {}
        with self._reading():
            for word, j in self.db.execute("select word, term_id from surface_forms"):
                if type(j) is not int or not 0 <= j < n or not isinstance(word, str):
                    raise self.damaged(
                        f"the word {_short(word)} stems to term {_short(j)}, not one of the "
                        f"vocabulary's {n:,}"
                    )
                out[word] = vocabulary[j]
        return out

    def load_codes(
        self, code_size: int | None = None
    ) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        """Document ids in storage order, their codes of the current model (N, D) float32,
        and for a binary model their packed bits (N, W) uint64 (else None). Codes of another
        length than ``code_size`` (if given; else the first code's), not finite, or none at
        all raise :class:`~docret.errors.DamagedDatabaseError`."""
        ids, codes, bits = [], [], []
        model_id = self.current_model_id()
        with self._reading():
            for doc_id, code, packed in self.db.execute(
                "select d.id, c.code, c.bits from documents d join codes c on c.id = d.id "
                "where c.model_id = ? order by d.rowid",
                [model_id],
            ):
                ids.append(doc_id)
                codes.append(code)
                bits.append(packed)
        if not ids:
            raise self.damaged(f"no document has a code of the current model ({model_id})")
        lengths = _blob_lengths(codes)
        size = 4 * code_size if code_size is not None else int(lengths[0])
        wrong = int(((lengths != size) | (lengths % 4 != 0) | (lengths == 0)).sum())
        if wrong:
            raise self.damaged(f"{wrong:,} codes are not {size // 4} numbers long")
        matrix = np.frombuffer(b"".join(codes), dtype="<f4").astype(np.float32)
        if not np.isfinite(matrix).all():
            raise self.damaged("codes hold NaN or infinite numbers")
        matrix = matrix.reshape(len(ids), -1)
        if set(map(type, bits)) == {type(None)}:  # float codes (checked at C speed)
            return ids, matrix, None
        width = (matrix.shape[1] + 63) // 64 * 8
        wrong = int((_blob_lengths(bits) != width).sum())
        if wrong:
            raise self.damaged(f"{wrong:,} binary codes lack their bits")
        words = np.frombuffer(b"".join(bits), dtype="<u8").astype(np.uint64)
        return ids, matrix, words.reshape(len(ids), -1)

    def load_vectors(
        self, n_terms: int | None = None
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Bag-of-words vectors in storage order as CSR parts: ids, indptr, indices, weights.
        Term ids must lie below ``n_terms`` (default: the vocabulary's size)."""
        if n_terms is None:
            (n_terms,) = self.db.execute("select count(*) from vocabulary").fetchone()
        return self._load_sparse(
            "select d.id, v.indices, v.weights from documents d join vectors v on v.id = d.id "
            "order by d.rowid",
            n_terms,
            "vectors",
        )

    def _load_sparse(
        self, sql: str, n_terms: int, what: str, nonnegative: bool = False
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Rows of (id, int32 term ids BLOB, float32 values BLOB) as CSR parts: ids, indptr,
        indices, values; checked (vectorised) before anything indexes with them: blobs of
        whole and like lengths, term ids in [0, ``n_terms``), finite values (``nonnegative``
        too, if asked)."""
        ids, idx, val = [], [], []
        with self._reading():
            for doc_id, i_blob, v_blob in self.db.execute(sql):
                ids.append(doc_id)
                idx.append(i_blob)
                val.append(v_blob)
        lengths, value_lengths = _blob_lengths(idx), _blob_lengths(val)
        broken = int(((lengths != value_lengths) | (lengths % 4 != 0) | (lengths < 0)).sum())
        if broken:
            raise self.damaged(f"{broken:,} {what} have term ids and values of unlike lengths")
        indptr = np.concatenate([[0], np.cumsum(lengths // 4)])
        indices, values = _joined(idx, "<i4", np.int32), _joined(val, "<f4", np.float32)
        if len(indices) and (indices.min() < 0 or indices.max() >= n_terms):
            outside = int(((indices < 0) | (indices >= n_terms)).sum())
            raise self.damaged(
                f"{what} hold {outside:,} term ids outside the {n_terms:,} terms (up to "
                f"{int(indices.max()):,})"
            )
        if not np.isfinite(values).all() or (nonnegative and (values < 0).any()):
            kind = "NaN, infinite or negative" if nonnegative else "NaN or infinite"
            raise self.damaged(f"{what} hold {kind} values")
        return ids, indptr, indices, values

    def documents(self, ids: Iterable[str]) -> dict[str, StoredDocument]:
        """Stored documents by id (ids not found are absent from the result)."""
        out: dict[str, StoredDocument] = {}
        with self._reading():
            for marks, chunk in _id_chunks(list(ids)):
                self._read_documents(marks, chunk, out)
        return out

    def _read_documents(self, marks: str, chunk: list[str], out: dict[str, StoredDocument]) -> None:
        # Plain cursor rows: a dict per row (sqlite-utils' rows) costs a query dearly.
        rows = self.db.execute(
            "select id, title, text, labels, path, split, metadata from documents "
            f"where id in ({marks})",
            chunk,
        )
        for doc_id, title, text, labels, path, split, metadata in rows:
            out[doc_id] = StoredDocument(
                doc_id,
                title or "",
                text or "",
                _parsed(self, labels, "document labels", list, []),
                path,
                split,
                _parsed(self, metadata, "document metadata", dict, {}),
            )

    def first_labels(self) -> dict[str, str]:
        """The first label of every labelled document, by id."""
        out = {}
        for doc_id, labels in self.db.execute("select id, labels from documents"):
            found = _parsed(self, labels, "document labels", list, [])
            if found:
                out[doc_id] = found[0]
        return out

    def label_counts(self) -> dict[str, int]:
        """How many documents carry each label."""
        counts: dict[str, int] = {}
        for (labels,) in self.db.execute("select labels from documents"):
            for label in _parsed(self, labels, "document labels", list, []):
                counts[label] = counts.get(label, 0) + 1
        return dict(sorted(counts.items()))

    # -- lexical index (BM25) and ranking choice ---------------------------------------------
    def write_term_counts(
        self,
        new_terms: Sequence[str],
        first_id: int,
        rows: Iterable[tuple[str, np.ndarray, np.ndarray]],
        *,
        replace: bool = False,
    ) -> None:
        """Store terms new to the lexicon (ids from ``first_id`` on) and the (id, term ids,
        counts) rows of documents, atomically; ``replace`` clears both tables first (a build)."""
        with self.transaction():
            if replace:
                self.db.execute("delete from lexicon")
                self.db.execute("delete from term_counts")
            self.db["lexicon"].insert_all(
                ({"term_id": first_id + i, "term": t} for i, t in enumerate(new_terms)),
                batch_size=5000,
            )
            self.db["term_counts"].upsert_all(
                (
                    {"id": doc_id, "indices": to_blob(idx, "<i4"), "counts": to_blob(cnt)}
                    for doc_id, idx, cnt in rows
                ),
                pk="id",
                batch_size=1000,
            )

    def delete_term_counts(self, ids: Sequence[str]) -> None:
        """Remove the term counts of documents (their lexicon terms stay)."""
        with self.transaction():
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"delete from term_counts where id in ({marks})", chunk)

    def load_lexicon(self) -> list[str]:
        """Lexicon terms in id order (empty for an index built before BM25 was stored)."""
        with self._reading():
            terms = [t for (t,) in self.db.execute("select term from lexicon order by term_id")]
            problem = self._terms_problem("lexicon", len(terms))
            if problem is not None:
                raise self.damaged(problem)
        if not set(map(type, terms)) <= {str}:
            raise self.damaged("terms of the lexicon are not text")
        return terms

    def term_counts_complete(self) -> bool:
        """Whether every stored document has its term counts stored."""
        (missing,) = self.db.execute(
            "select exists (select 1 from documents d where not exists "
            "(select 1 from term_counts t where t.id = d.id))"
        ).fetchone()
        return not missing

    def load_term_counts(
        self, n_terms: int | None = None
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Term counts in storage order as CSR parts: ids, indptr, term ids, counts. Documents
        without counts (added by an older docret) are absent from ``ids``. Term ids must lie
        below ``n_terms`` (default: the lexicon's size), counts be finite and not negative."""
        if n_terms is None:
            (n_terms,) = self.db.execute("select count(*) from lexicon").fetchone()
        return self._load_sparse(
            "select d.id, t.indices, t.counts from documents d join term_counts t on t.id = d.id "
            "order by d.rowid",
            n_terms,
            "term counts",
            nonnegative=True,
        )

    def set_ranking(self, model_id: int, ranking: Mapping[str, Any]) -> None:
        """Store the default ranking chosen for a model (JSON)."""
        self.db["models"].update(model_id, {"ranking": json.dumps(dict(ranking))})

    def load_ranking(self) -> dict[str, Any] | None:
        """The current model's default ranking as stored, or None (built before it was)."""
        row = self.db.execute(
            "select ranking from models where id = ?", [self.current_model_id()]
        ).fetchone()
        return _parsed(self, row[0], "the model's ranking", dict) if row and row[0] else None

    def type_counts(self) -> dict[str, int]:
        """How many documents of each type (pdf, html, ...; "unknown" before schema 5)."""
        counts: dict[str, int] = {}
        for (metadata,) in self.db.execute("select metadata from documents"):
            kind = _parsed(self, metadata, "document metadata", dict, {}).get("type", "unknown")
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    def size_bytes(self) -> int:
        """Size of the database file (WAL included)."""
        p = Path(self.path)
        wal = p.with_name(p.name + "-wal")
        return p.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _counted(items: Iterable, total: int, progress: Progress | None) -> Iterable:
    """``items`` unchanged, reporting ("Writing", done, total) every 500 and at the end."""
    for done, item in enumerate(items, start=1):
        yield item
        if progress is not None and (done % 500 == 0 or done == total):
            progress.step("Writing", done, total)


def _joined(blobs: list[bytes], stored: str, dtype: type) -> np.ndarray:
    """One array of the ``stored`` little-endian values of ``blobs``, which it empties: the
    blobs go as soon as they are joined, so at most two copies of them are held at once."""
    joined = b"".join(blobs)
    blobs.clear()
    return np.frombuffer(joined, dtype=stored).astype(dtype)


def _id_chunks(ids: Sequence[str], size: int = 500) -> Iterable[tuple[str, list[str]]]:
    """``ids`` in chunks under SQLite's variable limit, each with its ``?,?,...`` marks."""
    for start in range(0, len(ids), size):
        chunk = list(ids[start : start + size])
        yield ",".join("?" * len(chunk)), chunk


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _document_row(d: Any, source: str) -> dict[str, Any]:
    return {
        "source": source,
        "id": d.id,
        "path": d.path,
        "title": d.title,
        "text": d.text,
        "labels": json.dumps(list(d.labels)),
        "split": d.split,
        "hash": d.content_hash,
        "metadata": json.dumps(dict(d.metadata)) if getattr(d, "metadata", None) else None,
    }


# -- what a file holds: checked as it is read ------------------------------------------------
def _short(value: Any, most: int = 40) -> str:
    """``repr(value)`` for a message, cut to ``most`` characters."""
    text = repr(value)
    return text if len(text) <= most else text[: most - 3] + "..."


def _parsed(store: Store, text: Any, what: str, kind: type, default: Any = None) -> Any:
    """The JSON ``text`` of ``what`` as a ``kind`` (dict or list); ``default`` where it is
    empty and may be. Anything else raises :class:`~docret.errors.DamagedDatabaseError`."""
    if text is None or text == "":
        if default is not None:
            return default
        raise store.damaged(f"{what} is missing")
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        raise store.damaged(f"{what} is not JSON: {_short(text)}") from None
    if not isinstance(value, kind):
        raise store.damaged(f"{what} is not a JSON {'object' if kind is dict else 'list'}")
    return value


def _whole(value: Any, least: int = 0) -> bool:
    return type(value) is int and value >= least


def _weight(store: Store, name: Any, shape_text: Any, data: Any) -> np.ndarray:
    """A stored weight tensor, its blob as long as its shape says."""
    shape = _parsed(store, shape_text, f"the shape of weight {_short(name)}", list)
    if not all(_whole(n) for n in shape):
        raise store.damaged(f"weight {_short(name)} has the shape {_short(shape)}")
    size = 4 * int(np.prod(shape, dtype=object)) if shape else 4
    if not isinstance(data, bytes) or len(data) != size:
        length = len(data) if isinstance(data, bytes) else 0
        raise store.damaged(
            f"weight {_short(name)} holds {length:,} bytes, its shape {shape} needs {size:,}"
        )
    return from_blob(data).reshape(shape)


def _blob_lengths(blobs: Sequence[Any]) -> np.ndarray:
    """The length of each blob (-1 for a value that is not one), as an int64 array."""
    if set(map(type, blobs)) <= {bytes}:  # the usual case, checked at C speed
        return np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    return np.fromiter(
        (len(b) if isinstance(b, bytes) else -1 for b in blobs), dtype=np.int64, count=len(blobs)
    )


def expected_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The shape of every weight tensor of the autoencoder ``config`` describes (what
    :class:`docret.model.Autoencoder` holds), without importing torch."""
    sizes = [config["vocab_size"], *config["hidden"], config["code_size"]]
    shapes = {"input_weight": (sizes[0], sizes[1]), "input_bias": (sizes[1],)}
    for i in range(1, len(sizes) - 1):
        shapes[f"encoder.{i - 1}.weight"] = (sizes[i + 1], sizes[i])
        shapes[f"encoder.{i - 1}.bias"] = (sizes[i + 1],)
    rev = sizes[::-1]
    for i in range(len(rev) - 1):
        shapes[f"decoder.{i}.weight"] = (rev[i + 1], rev[i])
        shapes[f"decoder.{i}.bias"] = (rev[i + 1],)
    return shapes


def model_problems(
    model: Mapping[str, Any], weights: Mapping[str, np.ndarray], n_terms: int
) -> list[str]:
    """What is wrong with a stored model (its config, analyzer and history as read, its
    weights) for a vocabulary of ``n_terms``: empty when a query can use it."""
    from docret.defaults import ACTIVATIONS
    from docret.text import STEMMERS

    config, analyzer = model["config"], model["analyzer"]
    problems = []
    hidden = config.get("hidden")
    if not (
        _whole(config.get("vocab_size"), 1)
        and _whole(config.get("code_size"), 1)
        and isinstance(hidden, list)
        and all(_whole(h, 1) for h in hidden)
    ):
        problems.append(
            "the model's config has no whole positive vocab_size, hidden and code_size: "
            + _short({k: config.get(k) for k in ("vocab_size", "hidden", "code_size")}, 120)
        )
    if config.get("activation") not in ACTIVATIONS:
        problems.append(f"the model's activation {_short(config.get('activation'))} is unknown")
    if not isinstance(config.get("binary", False), bool):
        problems.append("the model's config says neither binary true nor false")
    if analyzer.get("stemmer") not in STEMMERS:
        problems.append(f"the model's stemmer {_short(analyzer.get('stemmer'))} is unknown")
    stop_words = analyzer.get("stop_words")
    if not isinstance(stop_words, list) or not all(isinstance(w, str) for w in stop_words):
        problems.append("the model's stop words are not a list of words")
    if not all(isinstance(h, dict) for h in model["history"]):
        problems.append("the model's history is not a list of epochs")
    if problems:
        return problems
    if config["vocab_size"] != n_terms:
        problems.append(
            f"the vocabulary has {n_terms:,} terms, the model expects {config['vocab_size']:,}"
        )
    for name, shape in expected_shapes(config).items():
        found = weights.get(name)
        if found is None:
            problems.append(f"the model has no weight {name}")
        elif found.shape != shape:
            problems.append(f"weight {name} has the shape {list(found.shape)}, not {list(shape)}")
    lsa = weights.get("lsa")
    if lsa is not None and (lsa.ndim != 2 or lsa.shape[1] != config["vocab_size"]):
        problems.append(f"the LSA directions have the shape {list(lsa.shape)}")
    for name, w in weights.items():
        if not np.isfinite(w).all():
            problems.append(f"weight {name} holds NaN or infinite numbers")
    return problems


# -- opening files safely -------------------------------------------------------------------
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
    error: BaseException, path: str, waited: float = _STATEMENT_WAIT
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
        why = _why_not_writable(Path(path)) or "the file is read-only"
        return DatabaseError(f"Cannot write to {path}: {why}")
    if primary == _FULL:
        return DatabaseError(f"Cannot write to {path}: the disk is full; nothing was written")
    if primary in (_IOERR, _CANTOPEN):
        return DatabaseError(f"Cannot read or write {path}: {text}")
    return None


def _is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_BUSY, _LOCKED)
    return "database is locked" in str(error)


def _database_path(path: str | Path) -> Path:
    if isinstance(path, str) and not path.strip():
        raise DatabaseError("No database file given: -d/--database (or DOCRET_DB) is empty")
    return Path(path)


def _why_not_writable(p: Path) -> str | None:
    """Why SQLite could not write ``p`` (None if it can): the file, or its folder, where the
    write-ahead log goes, is read-only."""
    if p.exists() and not os.access(p, os.W_OK):
        return "the file is read-only"
    folder = p.parent
    if not os.access(folder, os.W_OK):
        return f"its folder {folder} is read-only (SQLite writes {p.name}-wal beside the file)"
    return None


def _is_sqlite_file(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _connect_readonly(p: Path, timeout: float = _STATEMENT_WAIT) -> sqlite3.Connection:
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
