"""The documents of an index: their rows written with their vectors and codes, and read back
whole, by id, or as what the pages and counts show of them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from docret.progress import Progress
from docret.store.base import StoreBase
from docret.store.checked import parsed
from docret.store.rows import StoredDocument, counted, document_row, id_chunks, now, to_blob


class DocumentStore(StoreBase):
    """Documents, with the vector and code rows written beside each one."""

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
                updated=now(),
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
                document_row(d, src)
                for d, src in counted(
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
            for marks, chunk in id_chunks(ids):
                for table in ("codes", "vectors", "documents"):
                    self.db.execute(f"delete from [{table}] where id in ({marks})", chunk)
            self._set_meta(updated=now())

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
        for marks, chunk in id_chunks(ids):
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
                        labels=tuple(parsed(self, r["labels"], "document labels", list, [])),
                        path=r["path"],
                        split=r["split"],
                        metadata=parsed(self, r["metadata"], "document metadata", dict, {}),
                    ),
                )

    def documents(self, ids: Iterable[str]) -> dict[str, StoredDocument]:
        """Stored documents by id (ids not found are absent from the result)."""
        out: dict[str, StoredDocument] = {}
        with self._reading():
            for marks, chunk in id_chunks(list(ids)):
                self._read_documents(marks, chunk, out)
        return out

    def texts(self, ids: Iterable[str]) -> dict[str, str]:
        """The stored text of each of ``ids`` found, by id (a phrase is checked on it)."""
        out: dict[str, str] = {}
        with self._reading():
            for marks, chunk in id_chunks(list(ids)):
                rows = self.db.execute(
                    f"select id, text from documents where id in ({marks})", chunk
                )
                out.update((doc_id, text or "") for doc_id, text in rows)
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
                parsed(self, labels, "document labels", list, []),
                path,
                split,
                parsed(self, metadata, "document metadata", dict, {}),
            )

    def document_facts(self) -> list[tuple[str, str | None, list[str], Any, Any]]:
        """``(id, path, labels, type, date)`` of every document in storage order, the last two
        from its metadata (None where it has none): what filters and facets read of each."""
        out = []
        with self._reading():
            rows = self.db.execute(
                "select id, path, labels, metadata from documents order by rowid"
            ).fetchall()
        for doc_id, path, labels, metadata in rows:
            meta = parsed(self, metadata, "document metadata", dict, {})
            found = parsed(self, labels, "document labels", list, [])
            out.append((doc_id, path, found, meta.get("type"), meta.get("date")))
        return out

    def ids_where(self, key: str, value: str) -> list[str]:
        """Ids of the documents whose metadata field ``key`` equals ``value`` as text,
        case-insensitively (a list: one of its items; ``key`` "path": the stored path, exactly).
        ``key`` is a field's name (:func:`docret.filters.read_where` checks it)."""
        with self._reading():
            if key == "path":
                rows = self.db.execute("select id from documents where path = ?", [value])
                return [doc_id for (doc_id,) in rows]
            field = f'$."{key}"'
            rows = self.db.execute(
                "select id, json_type(metadata, ?), json_extract(metadata, ?) from documents "
                "where json_valid(metadata) and json_type(metadata, ?) is not null",
                [field, field, field],
            ).fetchall()
        wanted = value.casefold()
        return [doc_id for doc_id, kind, found in rows if wanted in _texts_of(kind, found)]

    def first_labels(self) -> dict[str, str]:
        """The first label of every labelled document, by id."""
        out = {}
        for doc_id, labels in self.db.execute("select id, labels from documents"):
            found = parsed(self, labels, "document labels", list, [])
            if found:
                out[doc_id] = found[0]
        return out

    def label_counts(self) -> dict[str, int]:
        """How many documents carry each label."""
        counts: dict[str, int] = {}
        for (labels,) in self.db.execute("select labels from documents"):
            for label in parsed(self, labels, "document labels", list, []):
                counts[label] = counts.get(label, 0) + 1
        return dict(sorted(counts.items()))

    def type_counts(self) -> dict[str, int]:
        """How many documents of each type (pdf, html, ...; "unknown" where the format said
        nothing of it)."""
        counts: dict[str, int] = {}
        for (metadata,) in self.db.execute("select metadata from documents"):
            kind = parsed(self, metadata, "document metadata", dict, {}).get("type", "unknown")
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    def titles_and_first_labels(self) -> dict[str, tuple[str, str | None]]:
        """Every document's title and first label (None if it has none), by id: what a map of
        the documents shows of each."""
        out: dict[str, tuple[str, str | None]] = {}
        with self._reading():
            for doc_id, title, labels in self.db.execute("select id, title, labels from documents"):
                found = parsed(self, labels, "document labels", list, [])
                out[doc_id] = (title or "", found[0] if found else None)
        return out


def _texts_of(kind: str, value: Any) -> list[str]:
    """A metadata value as the texts a ``where`` filter compares (case-folded): a JSON
    array's items, ``true``/``false`` for booleans, numbers and strings as written."""
    if kind == "array":
        items = json.loads(value)
        return [json.dumps(x) if not isinstance(x, str) else x.casefold() for x in items]
    if kind in ("true", "false", "null"):
        return [kind]
    return [str(value).casefold()]
