"""The rows a build writes and a reader gets back, and the blobs inside them.

Vectors are little-endian float32 BLOBs (term ids int32), the model one float32 BLOB per weight
tensor, so nothing is ever pickled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from docret.progress import Progress


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


def counted(items: Iterable, total: int, progress: Progress | None) -> Iterable:
    """``items`` unchanged, reporting ("Writing", done, total) every 500 and at the end."""
    for done, item in enumerate(items, start=1):
        yield item
        if progress is not None and (done % 500 == 0 or done == total):
            progress.step("Writing", done, total)


def id_chunks(ids: Sequence[str], size: int = 500) -> Iterable[tuple[str, list[str]]]:
    """``ids`` in chunks under SQLite's variable limit, each with its ``?,?,...`` marks."""
    for start in range(0, len(ids), size):
        chunk = list(ids[start : start + size])
        yield ",".join("?" * len(chunk)), chunk


def now() -> str:
    """The time now, in UTC, as ISO 8601 to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def document_row(d: Any, source: str) -> dict[str, Any]:
    """The ``documents`` row of a :class:`~docret.corpus.Document` read from ``source``."""
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
