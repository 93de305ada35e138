"""The SQLite file: schema migrations, documents, vectors, codes, vocabulary, model.

One file holds a whole index. Vectors are little-endian float32 BLOBs (term ids int32), the
model is its config as JSON plus one float32 BLOB per weight tensor, so nothing is ever
pickled. A build replaces everything inside one transaction: an error or an interrupt leaves
the previous index as it was. This module never imports torch or scikit-learn.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils
from sqlite_utils import Migrations

from docret.errors import DatabaseError
from docret.progress import Progress

APPLICATION = "docret"
SCHEMA_VERSION = 4  # bump together with a new migration

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

    def __init__(self, db: sqlite_utils.Database, path: str) -> None:
        self.db = db
        self.path = path

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open an existing index; raise :class:`DatabaseError` if it is missing or foreign."""
        p = Path(path)
        if not p.exists():
            raise DatabaseError(f"Database not found: {path} (build one with 'docret index PATH')")
        store = cls._connect(p)
        if not store._is_docret():
            raise DatabaseError(f"Not a docret database: {path}")
        store._check_version()
        return store

    @classmethod
    def create(cls, path: str | Path) -> Store:
        """Open ``path`` for writing an index, creating and migrating it as needed.

        An existing file is only accepted if it is a docret database or an empty SQLite file,
        so that pointing docret at some other database never damages it.
        """
        p = Path(path)
        if p.exists() and p.is_dir():
            raise DatabaseError(f"Database path is a folder: {path}")
        store = cls._connect(p)
        if not store._is_docret() and store._table_names():
            raise DatabaseError(f"Not a docret database: {path} (it has other tables)")
        store._check_version()
        migrations.apply(store.db)
        with store.db.atomic():
            store._set_meta(application=APPLICATION, schema_version=SCHEMA_VERSION)
        return store

    @classmethod
    def _connect(cls, p: Path) -> Store:
        try:
            db = sqlite_utils.Database(p)
            db.execute("select count(*) from sqlite_master").fetchone()
            if not db.conn.in_transaction:
                db.enable_wal()
        except sqlite3.DatabaseError as e:
            raise DatabaseError(f"Not a docret database: {p} ({e})") from None
        return cls(db, str(p))

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
            try:
                migrations.apply(self.db)
            except sqlite3.OperationalError as e:
                raise DatabaseError(f"{self.path} needs an upgrade that failed: {e}") from None

    def transaction(self):
        """A context manager: the writes inside it commit together or not at all (nestable)."""
        return self.db.atomic()

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

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
        with self.db.atomic():
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
        with self.db.atomic():
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
        with self.db.atomic():
            for marks, chunk in _id_chunks(ids):
                for table in ("codes", "vectors", "documents"):
                    self.db.execute(f"delete from [{table}] where id in ({marks})", chunk)

    # -- reading ---------------------------------------------------------------------------
    def document_hashes(self, source: str | None = None) -> dict[str, str]:
        """Content hash of every stored document (or of those read from ``source``), by id."""
        if source is None:
            return dict(self.db.execute("select id, hash from documents").fetchall())
        rows = self.db.execute("select id, hash from documents where source = ?", [source])
        return dict(rows.fetchall())

    def all_documents(self) -> list[tuple[str, Any]]:
        """Every stored document as (source, :class:`~docret.corpus.Document`), in order."""
        from docret.corpus import Document

        return [
            (
                r["source"] or "",
                Document(
                    id=r["id"],
                    text=r["text"] or "",
                    title=r["title"] or "",
                    labels=tuple(json.loads(r["labels"] or "[]")),
                    path=r["path"],
                    split=r["split"],
                ),
            )
            for r in self.db.query("select * from documents order by rowid")
        ]

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
        ids, idx, val = [], [], []
        for doc_id, i_blob, w_blob in self.db.execute(
            "select d.id, v.indices, v.weights from documents d join vectors v on v.id = d.id "
            "order by d.rowid"
        ):
            ids.append(doc_id)
            idx.append(i_blob)
            val.append(w_blob)
        lengths = np.fromiter((len(b) // 4 for b in idx), dtype=np.int64, count=len(idx))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.frombuffer(b"".join(idx), dtype="<i4").astype(np.int32)
        weights = np.frombuffer(b"".join(val), dtype="<f4").astype(np.float32)
        return ids, indptr, indices, weights

    def documents(self, ids: Iterable[str]) -> dict[str, StoredDocument]:
        """Stored documents by id (ids not found are absent from the result)."""
        out: dict[str, StoredDocument] = {}
        for marks, chunk in _id_chunks(list(ids)):
            # Plain cursor rows: a dict per row (sqlite-utils' rows) costs a query dearly.
            rows = self.db.execute(
                f"select id, title, text, labels, path, split from documents where id in ({marks})",
                chunk,
            )
            for doc_id, title, text, labels, path, split in rows:
                out[doc_id] = StoredDocument(
                    doc_id, title or "", text or "", json.loads(labels or "[]"), path, split
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
        with self.db.atomic():
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
        with self.db.atomic():
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"delete from term_counts where id in ({marks})", chunk)

    def load_lexicon(self) -> list[str]:
        """Lexicon terms in id order (empty for an index built before BM25 was stored)."""
        return [t for (t,) in self.db.execute("select term from lexicon order by term_id")]

    def load_term_counts(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Term counts in storage order as CSR parts: ids, indptr, term ids, counts. Documents
        without counts (added by an older docret) are absent from ``ids``."""
        ids, idx, cnt = [], [], []
        for doc_id, i_blob, c_blob in self.db.execute(
            "select d.id, t.indices, t.counts from documents d join term_counts t on t.id = d.id "
            "order by d.rowid"
        ):
            ids.append(doc_id)
            idx.append(i_blob)
            cnt.append(c_blob)
        lengths = np.fromiter((len(b) // 4 for b in idx), dtype=np.int64, count=len(idx))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.frombuffer(b"".join(idx), dtype="<i4").astype(np.int32)
        counts = np.frombuffer(b"".join(cnt), dtype="<f4").astype(np.float32)
        return ids, indptr, indices, counts

    def set_ranking(self, model_id: int, ranking: Mapping[str, Any]) -> None:
        """Store the default ranking chosen for a model (JSON)."""
        self.db["models"].update(model_id, {"ranking": json.dumps(dict(ranking))})

    def load_ranking(self) -> dict[str, Any] | None:
        """The current model's default ranking as stored, or None (built before it was)."""
        row = self.db.execute(
            "select ranking from models where id = ?", [self.current_model_id()]
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else None

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
    }
