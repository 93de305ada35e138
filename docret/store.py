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
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils
from sqlite_utils import Migrations

from docret.errors import DatabaseError
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
    def open(cls, path: str | Path) -> Store:
        """Open an existing index; raise :class:`DatabaseError` if it is missing or foreign.

        A file that cannot be written (or that sits in a folder that cannot be) is opened
        read-only: queries work, writes fail with a one-line :class:`DatabaseError`.
        """
        p = _database_path(path)
        if not p.exists():
            where = "" if p.parent.is_dir() else f"; the folder {p.parent} does not exist"
            raise DatabaseError(
                f"Database not found: {path}{where} (build one with 'docret index PATH')"
            )
        if p.is_dir():
            raise DatabaseError(f"{path} is a folder, not a database file")
        store = cls._connect(p, readonly=_why_not_writable(p) is not None)
        try:
            if not store._is_docret():
                raise DatabaseError(f"Not a docret database: {path}")
            store._check_version()
        except sqlite3.DatabaseError as e:
            store.close()
            raise user_error(e, str(p)) or DatabaseError(f"Not a docret database: {path}") from e
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
        try:
            if readonly:
                conn = _connect_readonly(p)
            else:
                # SQLite waits this long for a lock within a statement; a writer waiting for
                # another's transaction to end retries in _begin_immediate.
                conn = sqlite3.connect(str(p), timeout=_STATEMENT_WAIT)
            db = sqlite_utils.Database(conn)
            db.execute("select count(*) from sqlite_master").fetchone()
            if not readonly and not db.conn.in_transaction:
                db.enable_wal()
        except sqlite3.DatabaseError as e:
            error = user_error(e, str(p)) if _is_sqlite_file(p) else None
            raise error or DatabaseError(f"Not a docret database: {p} ({e})") from None
        return cls(db, str(p), readonly=readonly)

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
        version = int(self.meta().get("schema_version", 0) or 0)
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
        deadline = time.monotonic() + busy_timeout()
        while True:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.DatabaseError as e:
                if not _is_busy(e) or time.monotonic() >= deadline:
                    raise user_error(e, self.path) or e from None
            time.sleep(0.05)

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
        self.db.execute("BEGIN")
        self.db.execute("select count(*) from meta").fetchone()  # the snapshot starts here

    def _release_snapshot(self) -> None:
        if self._pinned:
            self._pinned = False
            self.db.rollback()

    def generation(self) -> int:
        """How many write transactions have committed to this file (0 before the first).

        Compare two readings to tell whether anyone wrote in between.
        """
        row = self.db.execute("select value from meta where key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def _quick_check(self) -> str | None:
        """SQLite's quick check: None when the file is sound, else the first problem."""
        try:
            rows = [r[0] for r in self.db.execute("pragma quick_check(5)").fetchall()]
        except sqlite3.DatabaseError as e:
            return str(e)
        return None if rows == ["ok"] else "; ".join(rows)

    def check(self) -> CheckReport:
        """SQLite's integrity check, then docret's own consistency: the current model is
        stored whole, every document has a vector and a code of that model (of its size), and
        no vector or code is left without its document."""
        report = CheckReport(self.path)
        try:
            with self.snapshot():
                rows = [r[0] for r in self.db.execute("pragma integrity_check(20)").fetchall()]
                if rows != ["ok"]:
                    report.problems += [f"SQLite: {r}" for r in rows]
                else:
                    self._check_consistency(report)
        except sqlite3.DatabaseError as e:
            report.problems.append(f"SQLite: {e}")
        return report

    def _check_consistency(self, report: CheckReport) -> None:
        problems = report.problems

        def count(sql: str, *args: Any) -> int:
            return int(self.db.execute(sql, args).fetchone()[0])

        meta = self.meta()
        report.generation = int(meta.get("generation", 0) or 0)
        report.documents = count("select count(*) from documents")
        if "model_id" not in meta:
            problems.append("no index yet (meta has no model_id)")
            return
        model_id = report.model_id = int(meta["model_id"])
        row = self.db.execute("select config from models where id = ?", [model_id]).fetchone()
        if row is None:
            problems.append(f"the current model ({model_id}) is missing")
            return
        config = json.loads(row[0])
        if not count("select count(*) from weights where model_id = ?", model_id):
            problems.append(f"the current model ({model_id}) has no weights")
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
        size = int(config.get("code_size", 0)) * 4
        wrong = count("select count(*) from codes where length(code) != ?", size)
        if wrong:
            problems.append(f"{wrong:,} codes are not {size // 4} numbers long")
        if config.get("binary"):
            words = (int(config["code_size"]) + 63) // 64 * 8
            bad = count("select count(*) from codes where bits is null or length(bits) != ?", words)
            if bad:
                problems.append(f"{bad:,} binary codes lack their bits")
        uneven = count("select count(*) from vectors where length(indices) != length(weights)")
        if uneven:
            problems.append(f"{uneven:,} vectors have unlike term ids and weights")
        terms, low, high = self.db.execute(
            "select count(*), min(term_id), max(term_id) from vocabulary"
        ).fetchone()
        if terms != config.get("vocab_size") or (terms and (low, high) != (0, terms - 1)):
            problems.append(
                f"the vocabulary has {terms:,} terms, the model expects {config.get('vocab_size')}"
            )

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
        model_id = int(self.meta().get("model_id", 0)) + 1
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
                added_unknown_tokens=int(meta.get("added_unknown_tokens", 0)) + unknown_tokens,
                added_tokens=int(meta.get("added_tokens", 0)) + unknown_tokens + known_tokens,
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

        for r in self.db.query("select * from documents order by rowid"):
            yield (
                r["source"] or "",
                Document(
                    id=r["id"],
                    text=r["text"] or "",
                    title=r["title"] or "",
                    labels=tuple(json.loads(r["labels"] or "[]")),
                    path=r["path"],
                    split=r["split"],
                    metadata=json.loads(r["metadata"] or "{}"),
                ),
            )

    def current_model_id(self) -> int:
        """Id of the model whose codes the index holds."""
        value = self.meta().get("model_id")
        if value is None:
            raise DatabaseError(f"{self.path} holds no index yet (build one with 'docret index')")
        return int(value)

    def load_model(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The current model: its settings and history as a dict, and its weights."""
        model_id = self.current_model_id()
        row = self.db["models"].get(model_id)
        info = {
            "id": model_id,
            "created": row["created"],
            "config": json.loads(row["config"]),
            "train_config": json.loads(row["train_config"]),
            "analyzer": json.loads(row["analyzer"]),
            "history": json.loads(row["history"]),
        }
        weights = {
            r["name"]: from_blob(r["data"]).reshape(json.loads(r["shape"]))
            for r in self.db.query(
                "select name, shape, data from weights where model_id = ?", [model_id]
            )
        }
        return info, weights

    def load_vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Terms in id order and their idf weights."""
        terms, idf = [], []
        for term, value in self.db.execute("select term, idf from vocabulary order by term_id"):
            terms.append(term)
            idf.append(value)
        return terms, np.asarray(idf, dtype=np.float32)

    def load_surface_forms(self, vocabulary: Sequence[str]) -> dict[str, str]:
        """Known words and the vocabulary term each one stems to."""
        return {
            word: vocabulary[j]
            for word, j in self.db.execute("select word, term_id from surface_forms")
        }

    def load_codes(self) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        """Document ids in storage order, their codes of the current model (N, D) float32,
        and for a binary model their packed bits (N, W) uint64 (else None)."""
        ids, codes, bits = [], [], []
        for doc_id, code, packed in self.db.execute(
            "select d.id, c.code, c.bits from documents d join codes c on c.id = d.id "
            "where c.model_id = ? order by d.rowid",
            [self.current_model_id()],
        ):
            ids.append(doc_id)
            codes.append(code)
            bits.append(packed)
        matrix = np.frombuffer(b"".join(codes), dtype="<f4").astype(np.float32)
        if not bits or bits[0] is None:
            return ids, matrix.reshape(len(ids), -1), None
        words = np.frombuffer(b"".join(bits), dtype="<u8").astype(np.uint64)
        return ids, matrix.reshape(len(ids), -1), words.reshape(len(ids), -1)

    def load_vectors(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Bag-of-words vectors in storage order as CSR parts: ids, indptr, indices, weights."""
        return self._load_sparse(
            "select d.id, v.indices, v.weights from documents d join vectors v on v.id = d.id "
            "order by d.rowid"
        )

    def _load_sparse(self, sql: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Rows of (id, int32 term ids BLOB, float32 values BLOB) as CSR parts: ids, indptr,
        indices, values."""
        ids, idx, val = [], [], []
        for doc_id, i_blob, v_blob in self.db.execute(sql):
            ids.append(doc_id)
            idx.append(i_blob)
            val.append(v_blob)
        lengths = np.fromiter((len(b) // 4 for b in idx), dtype=np.int64, count=len(idx))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        return ids, indptr, _joined(idx, "<i4", np.int32), _joined(val, "<f4", np.float32)

    def documents(self, ids: Iterable[str]) -> dict[str, StoredDocument]:
        """Stored documents by id (ids not found are absent from the result)."""
        out: dict[str, StoredDocument] = {}
        for marks, chunk in _id_chunks(list(ids)):
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
                    json.loads(labels or "[]"),
                    path,
                    split,
                    json.loads(metadata or "{}"),
                )
        return out

    def first_labels(self) -> dict[str, str]:
        """The first label of every labelled document, by id."""
        out = {}
        for doc_id, labels in self.db.execute("select id, labels from documents"):
            found = json.loads(labels or "[]")
            if found:
                out[doc_id] = found[0]
        return out

    def label_counts(self) -> dict[str, int]:
        """How many documents carry each label."""
        counts: dict[str, int] = {}
        for (labels,) in self.db.execute("select labels from documents"):
            for label in json.loads(labels or "[]"):
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
        return [t for (t,) in self.db.execute("select term from lexicon order by term_id")]

    def term_counts_complete(self) -> bool:
        """Whether every stored document has its term counts stored."""
        (missing,) = self.db.execute(
            "select exists (select 1 from documents d where not exists "
            "(select 1 from term_counts t where t.id = d.id))"
        ).fetchone()
        return not missing

    def load_term_counts(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Term counts in storage order as CSR parts: ids, indptr, term ids, counts. Documents
        without counts (added by an older docret) are absent from ``ids``."""
        return self._load_sparse(
            "select d.id, t.indices, t.counts from documents d join term_counts t on t.id = d.id "
            "order by d.rowid"
        )

    def set_ranking(self, model_id: int, ranking: Mapping[str, Any]) -> None:
        """Store the default ranking chosen for a model (JSON)."""
        self.db["models"].update(model_id, {"ranking": json.dumps(dict(ranking))})

    def load_ranking(self) -> dict[str, Any] | None:
        """The current model's default ranking as stored, or None (built before it was)."""
        row = self.db.execute(
            "select ranking from models where id = ?", [self.current_model_id()]
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def type_counts(self) -> dict[str, int]:
        """How many documents of each type (pdf, html, ...; "unknown" before schema 5)."""
        counts: dict[str, int] = {}
        for (metadata,) in self.db.execute("select metadata from documents"):
            kind = json.loads(metadata or "{}").get("type", "unknown")
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


def user_error(error: BaseException, path: str) -> DatabaseError | None:
    """The one-line :class:`DatabaseError` for a SQLite error a user can act on (damaged,
    read-only or full file, another writer holding the lock), else None."""
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error)
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return DatabaseError(damaged(path, text))
    if primary in (_BUSY, _LOCKED) or "database is locked" in text:
        return DatabaseError(
            f"Another docret is writing to {path}: still busy after {busy_timeout():g} s, "
            f"nothing was written (try again later, or wait longer with {BUSY_TIMEOUT_ENV}=SECONDS)"
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


def _connect_readonly(p: Path) -> sqlite3.Connection:
    """A read-only connection to ``p``, in a read-only folder too.

    ``mode=ro`` still needs the WAL index file (``-shm``) beside the database; in a folder
    where it cannot be created, the file alone is the whole database (as long as no
    write-ahead log was left behind) and SQLite may read it as ``immutable``.
    """
    uri = p.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=_STATEMENT_WAIT)
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
