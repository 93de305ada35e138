"""The SQLite file: schema migrations, documents, vectors, codes, vocabulary, model.

One file holds a whole index. Vectors are little-endian float32 BLOBs (term ids int32), the
model is its config as JSON plus one float32 BLOB per weight tensor, so nothing is ever
pickled. A build replaces everything inside one transaction: an error or an interrupt leaves
the previous index as it was. This package never imports torch or scikit-learn itself.

Several docret processes may use one file at once (:mod:`docret.store.base`: transactions,
busy timeouts, read-only opening). What is read is checked as it is loaded, with vectorised
numpy checks: term ids within the vocabulary, finite values, blobs of the right length, weights
of the shape the model's config gives, numbers and JSON that parse. Anything else docret never
writes, so a file holding it is damaged (:class:`~docret.errors.DamagedDatabaseError`), and
``check`` lists each such problem (:mod:`docret.store.check`). The schema's migrations rewrite
what older docrets stored into the current form (:mod:`docret.store.schema`).

The parts, one subject each: :mod:`~docret.store.db` (connecting, SQLite's errors as one line),
:mod:`~docret.store.base` (opening, transactions, metadata), :mod:`~docret.store.documents`,
:mod:`~docret.store.vectors` (codes, tf-idf vectors), :mod:`~docret.store.model` (model,
vocabulary, settings, ranking), :mod:`~docret.store.lexicon` (BM25's lexicon and term counts),
:mod:`~docret.store.rows` (rows and blobs) and :mod:`~docret.store.checked` (values checked as
read).
"""

from __future__ import annotations

from docret.store.base import StoreBase
from docret.store.check import CheckReport, ConsistencyCheck, expected_shapes, model_problems
from docret.store.db import (
    BUSY_TIMEOUT,
    BUSY_TIMEOUT_ENV,
    busy_timeout,
    damaged,
    user_error,
)
from docret.store.documents import DocumentStore
from docret.store.lexicon import LexiconStore
from docret.store.model import ModelStore
from docret.store.rows import CsrRows, IndexData, StoredDocument, from_blob, to_blob
from docret.store.schema import APPLICATION, SCHEMA_VERSION, migrations
from docret.store.vectors import VectorStore

__all__ = [
    "APPLICATION",
    "BUSY_TIMEOUT",
    "BUSY_TIMEOUT_ENV",
    "SCHEMA_VERSION",
    "CheckReport",
    "CsrRows",
    "IndexData",
    "Store",
    "StoreBase",
    "StoredDocument",
    "busy_timeout",
    "damaged",
    "expected_shapes",
    "from_blob",
    "migrations",
    "model_problems",
    "to_blob",
    "user_error",
]


class Store(ConsistencyCheck, DocumentStore, ModelStore, VectorStore, LexiconStore):
    """A docret SQLite file. Use :meth:`open` for an existing index, :meth:`create` to build."""
