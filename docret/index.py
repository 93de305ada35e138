"""The :class:`Index` facade: open an index, search it, build and update it.

Reading runs on numpy and sqlite-utils alone over one immutable
:class:`~docret.snapshot.Snapshot` of the index: a query asks the ranking registry
(:mod:`docret.rank`) for its method's ranker and turns the answer into hits
(:mod:`docret.hits`). Building and updating live in :mod:`docret.indexing`; the methods
here that write call it and then drop the snapshot, so the next read loads the new state whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from docret import explain, indexing, rank, update
from docret.corpus import ReadOptions, Skipped
from docret.errors import UnknownDocumentError
from docret.hits import Comparison, Hit, Ranking, ranking, snippet
from docret.indexing import AddReport, BuildReport
from docret.inference import NumpyEncoder
from docret.progress import Progress
from docret.rank.base import vectorize
from docret.rank.choice import FusionChoice
from docret.rank.codes import similar
from docret.rank.default import described
from docret.rank.lexical import unknown_words
from docret.snapshot import Decoded, Snapshot
from docret.store import Store, StoredDocument
from docret.text import QueryVectorizer, SparseVector
from docret.update import SyncReport

__all__ = ["AddReport", "BuildReport", "Comparison", "Hit", "Index", "Ranking", "snippet"]


class Index:
    """A docret index stored in one SQLite file."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._snapshot: Snapshot | None = None
        # What the next snapshot can take over from the one a write of this index replaced.
        self._replaced: Decoded | None = None
        self.last_build: BuildReport | None = None

    @classmethod
    def open(cls, db: str | Path = "docret.db", *, readonly: bool = False) -> Index:
        """Open an index built earlier; raises :class:`~docret.errors.DatabaseError`.

        ``readonly``: for reading only; the file is left exactly as it was (see
        :meth:`Store.open`), and a write raises :class:`~docret.errors.DatabaseError`."""
        return cls(indexing.open_store(db, readonly=readonly))

    @classmethod
    def build(
        cls,
        path: str | Path,
        db: str | Path = "docret.db",
        *,
        globs: Sequence[str] | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
        progress: Progress | None = None,
        read_options: ReadOptions | None = None,
        **settings: Any,
    ) -> Index:
        """Read ``path``, learn vocabulary and autoencoder, and write everything to ``db``.

        ``settings``: :class:`~docret.encoder.Encoder` arguments (:mod:`docret.defaults`).
        Nothing is written until training has finished, then all in one transaction: a
        failure leaves an existing ``db`` untouched; a diverged training raises
        :class:`~docret.errors.TrainingError`. Documents of ``db`` from other paths, and of
        files that could not be read again, are kept. The report is :attr:`last_build`.
        """
        options = {"on_skip": on_skip, "progress": progress, "read_options": read_options}
        store, report = indexing.build(path, db, globs=globs, **options, **settings)
        index = cls(store)
        index.last_build = report
        return index

    def retrain(self, *, progress: Progress | None = None, **settings: Any) -> BuildReport:
        """Learn a new vocabulary and model from every stored document and re-encode them all.

        Starts from the current model's settings and changes those given; one transaction.
        """
        with self._writing():
            return indexing.retrain(self.store, progress=progress, **settings)

    def settings(self) -> dict[str, Any]:
        """The :class:`~docret.encoder.Encoder` settings the current model was made with."""
        return indexing.stored_settings(self.store)

    def add(
        self,
        path: str | Path,
        *,
        globs: Sequence[str] | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
        remove_missing: bool = False,
        replace: bool = False,
        progress: Progress | None = None,
        read_options: ReadOptions | None = None,
    ) -> AddReport:
        """Encode new or changed documents under ``path`` with the stored model; skip the rest.

        A document gets exactly the code it would have had in the build; changed documents
        (same id, other text) are replaced in place; an id stored from another path raises
        :class:`~docret.errors.DocretError` unless ``replace``. One transaction.
        ``remove_missing``: documents of ``path``'s files (matching ``globs``) that are gone
        are removed, those of files that could not be read kept (:attr:`AddReport.kept`);
        removing all of ``path``'s raises. docs/usage.md has the whole story.
        """
        options = {"on_skip": on_skip, "progress": progress, "read_options": read_options}
        with self._writing():
            return indexing.add(
                self.store,
                self.snapshot,
                path,
                globs=globs,
                remove_missing=remove_missing,
                replace=replace,
                **options,
            )

    def add_texts(
        self, documents: Sequence[Mapping[str, Any]], *, replace: bool = False
    ) -> AddReport:
        """Encode records (``id``, ``text``, optional ``title``, ``labels``) as :meth:`add`
        does files; stored as from :data:`~docret.corpus.TEXTS_SOURCE` (an id given again is
        updated). A record that cannot be stored raises :class:`~docret.errors.CorpusError`
        and nothing is written; an id stored from a path raises unless ``replace``."""
        with self._writing():
            return indexing.add_texts(self.store, self.snapshot, documents, replace=replace)

    def remove(self, ids: Sequence[str]) -> int:
        """Remove documents by id; all or nothing: any unknown id raises and removes none."""
        with self._writing():
            return indexing.remove(self.store, ids)

    @classmethod
    def sync(
        cls,
        path: str | Path,
        db: str | Path = "docret.db",
        *,
        retrain: bool = False,
        **options: Any,
    ) -> SyncReport:
        """Bring the index in ``db`` in line with ``path``, as ``docret index PATH`` does: an
        update where ``db`` already indexes ``path``, a new model with ``retrain``, else a
        build. ``options``: ``globs``, ``on_skip``, ``on_plan`` (the decision, before reading),
        ``progress``, ``read_options`` and model settings (:func:`docret.update.sync`)."""
        return update.sync(path, db, retrain=retrain, **options)

    def close(self) -> None:
        """Close the database."""
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def snapshot(self) -> Snapshot:
        """Model, vocabulary and codes in memory (read on first use, again after a write)."""
        if self._snapshot is None:
            self._snapshot = Snapshot.load(self.store)
            self._snapshot.carry_decoded(self._replaced)
            self._replaced = None
        return self._snapshot

    def reload(self) -> Snapshot:
        """Read the index again (after another process wrote it) and swap the snapshot."""
        self._written()
        return self.snapshot

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Around a write: the next use reads a new snapshot, whatever the write's outcome."""
        try:
            yield
        finally:
            self._written()

    def _written(self) -> None:
        """The index was written: the next use reads a new snapshot, taking over what
        carries (:meth:`Snapshot.carry_decoded`)."""
        if self._snapshot is not None:
            self._replaced = self._snapshot.decoded_state()
        self._snapshot = None

    @property
    def ids(self) -> list[str]:
        """Document ids in storage order (the rows of the snapshot's codes)."""
        return self.snapshot.ids

    @property
    def bits(self) -> np.ndarray | None:
        """Packed binary codes (N, ceil(D / 64)) uint64 of a binary model, else None."""
        return self.snapshot.bits

    @property
    def vectorizer(self) -> QueryVectorizer:
        """Maps text onto the stored vocabulary."""
        return self.snapshot.vectorizer

    @property
    def encoder(self) -> NumpyEncoder:
        """The stored encoder, evaluated with numpy."""
        return self.snapshot.encoder

    @property
    def fusion(self) -> FusionChoice:
        """The default ranking's choice: the weights of the codes and LSA against BM25 and
        BM25's parameters, chosen at build time."""
        return self.snapshot.fusion

    def vectorize(self, text: str) -> SparseVector:
        """The query's tf-idf vector; raises :class:`QueryError` if it has no known word."""
        return vectorize(self.snapshot, text)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Codes (N, D) of arbitrary texts, encoded like the documents."""
        return self.encoder.encode([self.vectorize(t) for t in texts])

    def query(
        self,
        text: str,
        k: int = 10,
        rerank: int | None = None,
        hybrid: bool = False,
        *,
        method: str | None = None,
    ) -> Ranking:
        """The ``k`` best documents for ``text`` by ``method`` (:data:`docret.rank.METHODS`;
        None: "default") among those it lists (:func:`~docret.rank.base.matching`), counted by
        ``matched``. ``rerank``: binary codes, re-rank that many by Hamming distance;
        ``hybrid=True`` is ``method="hybrid"``. docs/ranking.md describes each method."""
        return self.query_many([text], k, rerank, hybrid, method=method)[0]

    def query_many(
        self,
        texts: Sequence[str],
        k: int = 10,
        rerank: int | None = None,
        hybrid: bool = False,
        *,
        method: str | None = None,
    ) -> list[Ranking]:
        """:meth:`query` for several texts, encoded and scored as one batch."""
        if isinstance(texts, str):
            raise TypeError("query_many expects a list of texts; use query for one")
        state = self.snapshot  # one snapshot for the whole batch, even if another is loaded
        answers = rank.run(state, texts, k, rerank, method=method, hybrid=hybrid)
        return [ranking(self.store, state, a, t) for a, t in zip(answers, texts, strict=True)]

    def compare(
        self,
        text: str,
        k: int = 10,
        rerank: int | None = None,
        *,
        method: str | None = None,
        baseline: str | None = None,
    ) -> Comparison:
        """``method``'s ranking (the default unless told) beside ``baseline``'s (BM25, or
        tf-idf when the method is BM25)."""
        name = method or "default"
        other = baseline or ("tfidf" if name == "bm25" else "bm25")
        return Comparison(
            name,
            self.query(text, k, rerank, method=name),
            other,
            self.query(text, k, rerank, method=other),
        )

    def offered(self) -> list[str]:
        """The ranking methods this index offers, the default first."""
        return rank.offered(self.snapshot)

    def default_ranking(self) -> str:
        """The default ranking in words, as this index ranks: BM25 and the scores that weigh
        in it ("BM25 + LSA" where the pseudo-queries gave the codes no weight), or the binary
        codes' Hamming distance."""
        return described(self.snapshot)

    def unknown_words(self, text: str) -> list[str]:
        """The query's words that no indexed document has (ignored by every ranking), in
        query order, each cut to its first 40 characters and ``…``
        (:func:`~docret.errors.clipped`), so that no caller echoes a word of any length."""
        return unknown_words(self.snapshot, text)

    def similar(self, doc_id: str, k: int = 10) -> list[Hit]:
        """Documents whose codes are closest to the stored document ``doc_id`` (itself left out)."""
        state = self.snapshot
        return ranking(self.store, state, similar(state, state.row(doc_id), k))

    def document(self, doc_id: str) -> StoredDocument:
        """A stored document by id."""
        doc = self.store.documents([doc_id]).get(doc_id)
        if doc is None:
            raise UnknownDocumentError(f"No document with id {doc_id!r} in the index")
        return doc

    def explain(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        """The words the query's code stands for, by weight (see :meth:`words`)."""
        return explain.query_words(self.snapshot, text, k)

    def words(self, doc_id: str, k: int = 10) -> list[tuple[str, float]]:
        """The words a stored document's code stands for: the decoder turns the code back into
        a distribution over the vocabulary, shown without the corpus-wide word frequencies."""
        state = self.snapshot
        return explain.document_words(state, state.row(doc_id), k)

    def shared_words(self, text: str, doc_id: str, k: int = 5) -> list[tuple[str, float]]:
        """Words that both the query's code and the document's code stand for (the smaller of
        the two weights, so a word must matter to both): why the document matched, even when
        it lacks the query's own words."""
        state = self.snapshot
        return explain.shared_words(state, text, state.row(doc_id), k)

    def map(self, out: str | Path, compare_lsa: bool = False) -> np.ndarray:
        """Draw every document in 2-D, coloured by label, to the PNG ``out``
        (:func:`docret.mapping.draw_index`); returns the (N, 2) code-map coordinates."""
        from docret import mapping

        return mapping.draw_index(self.store, self.snapshot, out, compare_lsa)

    def info(self) -> dict[str, Any]:
        """What the index holds: counts, vocabulary, model and training summary."""
        from docret.report import describe

        return describe(self.store, self.snapshot)
